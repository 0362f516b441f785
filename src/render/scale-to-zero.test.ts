// Scale to zero: what KEDA, the HTTP add-on and the NetworkPolicy get from autoscaling.wake.
import { describe, expect, it } from "vitest";
import { modelService, parsed, type SpecPatch, withSpec } from "../../test/support/model-service.ts";
import type { ModelService } from "../api/types.ts";
import { defaultOperatorConfig, type OperatorConfig } from "../config/operator-config.ts";
import { InvalidSpecError, render } from "./index.ts";
import { WAKE_ONLY_CONCURRENCY } from "./interceptor-route.ts";

const ms = (spec: SpecPatch = {}, name = "idle"): ModelService => parsed(modelService(name, withSpec(spec)));
const kedaConfig: OperatorConfig = { ...defaultOperatorConfig, keda: { ...defaultOperatorConfig.keda, enabled: true } };
const TO_ZERO = { minReplicas: 0, maxReplicas: 3, target: { inFlightRequests: 8 } };
const BUDGET = defaultOperatorConfig.defaults.startupTimeoutSeconds;

const problemsOf = (fn: () => unknown): { path: string; message: string }[] => {
  try {
    fn();
  } catch (e) {
    if (e instanceof InvalidSpecError) return e.problems;
    throw e;
  }
  return [];
};

describe("scale to zero woken by requests (KEDA HTTP add-on)", () => {
  const out = render(ms({ autoscaling: { ...TO_ZERO, wake: { mode: "Request" } } }), kedaConfig);

  it("leaves the Deployment's replicas to KEDA and renders no HPA of its own", () => {
    expect(out.deployment?.spec).not.toHaveProperty("replicas");
    expect(out.hpa).toBeUndefined();
  });

  it("scales to 0 after the cooldown (default: the startup budget) on the add-on's push trigger", () => {
    const so = out.scaledObject;
    expect(so?.spec.minReplicaCount).toBe(0);
    expect(so?.spec.cooldownPeriod).toBe(BUDGET);
    // Nor is a new model's first replica removed while it loads.
    expect(so?.spec.initialCooldownPeriod).toBe(BUDGET);
    expect(so?.spec.triggers).toEqual([
      { type: "external-push", metadata: { scalerAddress: kedaConfig.keda.httpAddOn.scalerAddress, interceptorRoute: "idle" } },
    ]);
    // A replica added for a burst stays while it may still be loading.
    expect(so?.spec.advanced?.horizontalPodAutoscalerConfig.behavior.scaleDown?.stabilizationWindowSeconds).toBe(Math.min(BUDGET, 3600));
  });

  it("routes the Service's in-cluster names through the interceptor, holding requests for the startup budget", () => {
    const ir = out.interceptorRoute;
    expect(ir?.apiVersion).toBe("http.keda.sh/v1beta1");
    expect(ir?.spec.target).toEqual({ service: "idle", port: defaultOperatorConfig.defaults.servicePort });
    expect(ir?.spec.rules).toEqual([{ hosts: ["idle.ml", "idle.ml.svc", "idle.ml.svc.cluster.local"] }]);
    expect(ir?.spec.timeouts).toEqual({ readiness: `${BUDGET}s` });
    expect(ir?.spec.scalingMetric).toEqual({ concurrency: { targetValue: 8 } });
  });

  it("lets the interceptor through the NetworkPolicy to the serving port, whatever spec.access says", () => {
    const gatewayOnly = render(ms({ access: { allowFrom: [] }, autoscaling: { ...TO_ZERO, wake: { mode: "Request" } } }), kedaConfig);
    for (const np of [out.networkPolicy, gatewayOnly.networkPolicy]) {
      const rule = np?.spec.ingress.find((r) => r.ports?.[0]?.port === 8000);
      expect(rule?.from).toContainEqual({
        namespaceSelector: kedaConfig.keda.httpAddOn.interceptorNamespaceSelector,
        podSelector: kedaConfig.keda.httpAddOn.interceptorPodSelector,
      });
    }
  });

  it("takes where the interceptor runs from the operator config", () => {
    const config: OperatorConfig = {
      ...kedaConfig,
      keda: {
        ...kedaConfig.keda,
        httpAddOn: {
          scalerAddress: "scaler.ingress:9090",
          interceptorNamespaceSelector: { matchLabels: { team: "edge" } },
          interceptorPodSelector: { matchLabels: { app: "interceptor" } },
        },
      },
    };
    const r = render(ms({ autoscaling: { ...TO_ZERO, wake: { mode: "Request" } } }), config);
    expect(r.scaledObject?.spec.triggers[0]?.metadata.scalerAddress).toBe("scaler.ingress:9090");
    expect(r.networkPolicy?.spec.ingress[0]?.from).toContainEqual({
      namespaceSelector: { matchLabels: { team: "edge" } },
      podSelector: { matchLabels: { app: "interceptor" } },
    });
  });

  it("uses the user's hosts, hold time and cooldown", () => {
    const r = render(
      ms({
        startup: { timeoutSeconds: 300 },
        autoscaling: { ...TO_ZERO, cooldownSeconds: 900, wake: { mode: "Request", hosts: ["llm.ml.svc", "llm.ml"], timeoutSeconds: 120 } },
      }),
      kedaConfig,
    );
    expect(r.interceptorRoute?.spec.rules).toEqual([{ hosts: ["llm.ml.svc", "llm.ml"] }]);
    expect(r.interceptorRoute?.spec.timeouts.readiness).toBe("120s");
    expect(r.scaledObject?.spec.cooldownPeriod).toBe(900);
  });

  it("wakes only (never scales out) on the interceptor's count when scaling on GPU utilisation", () => {
    const r = render(
      ms({ gpu: { count: 1 }, autoscaling: { minReplicas: 0, maxReplicas: 3, target: { gpuUtilization: 70 }, wake: { mode: "Request" } } }),
      kedaConfig,
    );
    expect(r.interceptorRoute?.spec.scalingMetric.concurrency.targetValue).toBe(WAKE_ONLY_CONCURRENCY);
    expect(r.scaledObject?.spec.triggers.map((t) => t.type)).toEqual(["external-push", "prometheus"]);
  });
});

describe("scale to zero woken by a gateway metric", () => {
  it("adds the user's query as a Prometheus trigger and renders no InterceptorRoute", () => {
    const query = 'sum(inference_pool_average_queue_size{name="idle"})';
    const r = render(ms({ autoscaling: { ...TO_ZERO, wake: { mode: "Metric", query, threshold: 4 } } }), kedaConfig);
    expect(r.interceptorRoute).toBeUndefined();
    expect(r.scaledObject?.spec.triggers[0]).toEqual({
      type: "prometheus",
      metadata: { serverAddress: kedaConfig.keda.prometheusAddress, query, threshold: "4" },
    });
    // The engine's own in-flight metric still scales replicas once some serve.
    expect(r.scaledObject?.spec.triggers).toHaveLength(2);
    expect(r.networkPolicy?.spec.ingress[0]?.from).toEqual([{ podSelector: {} }]);
  });
});

describe("scale to zero refused when rendering", () => {
  it("without KEDA in the operator config", () => {
    expect(problemsOf(() => render(ms({ autoscaling: { ...TO_ZERO, wake: { mode: "Request" } } }), defaultOperatorConfig))).toContainEqual({
      path: "spec.autoscaling.wake",
      message: expect.stringMatching(/scale to zero needs KEDA/),
    });
  });

  it("with a cooldown shorter than the operator's default startup budget", () => {
    const problems = problemsOf(() => render(ms({ autoscaling: { ...TO_ZERO, cooldownSeconds: 600, wake: { mode: "Request" } } }), kedaConfig));
    expect(problems).toEqual([{ path: "spec.autoscaling.cooldownSeconds", message: expect.stringMatching(/at least the startup budget \(1800s/) }]);
  });

  it("without a wake path (what admission refuses)", () => {
    const problems = problemsOf(() => render(ms({ autoscaling: TO_ZERO }), kedaConfig));
    expect(problems).toContainEqual({ path: "spec.autoscaling.minReplicas", message: expect.stringMatching(/needs autoscaling.wake/) });
  });
});
