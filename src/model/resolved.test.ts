import { describe, expect, it } from "vitest";
import { modelService, type SpecPatch, withSpec, withUid } from "../../test/support/model-service.ts";
import type { ModelService } from "../api/types.ts";
import { defaultOperatorConfig, type OperatorConfig } from "../config/operator-config.ts";
import { render } from "../render/index.ts";
import { resolve } from "./resolved.ts";

const ms = (spec: SpecPatch = {}): ModelService =>
  modelService("m", withUid("u"), withSpec({ model: { uri: "hf://Qwen/Qwen2.5-0.5B-Instruct" }, gpu: { count: 1 } }), withSpec(spec));
const keda: OperatorConfig = { ...defaultOperatorConfig, keda: { ...defaultOperatorConfig.keda, enabled: true } };

describe("resolve", () => {
  it("applies the operator's defaults", () => {
    expect(resolve(ms(), defaultOperatorConfig)).toEqual({
      name: "m",
      namespace: "ml",
      desiredReplicas: 1,
      autoscalingFloor: undefined,
      autoscaler: "none",
      startupBudgetSeconds: defaultOperatorConfig.defaults.startupTimeoutSeconds,
      gpuCount: 1,
      podsPerReplica: 1,
      gpuResource: defaultOperatorConfig.gpu.resourceName,
      servicePort: defaultOperatorConfig.defaults.servicePort,
      selector: "modelservice.dev/name=m",
    });
  });

  it("takes the spec's own values over the defaults", () => {
    const r = resolve(
      ms({ replicas: 0, startup: { timeoutSeconds: 600 }, gpu: { count: 2, resourceName: "amd.com/gpu" }, service: { port: 8000 } }),
      defaultOperatorConfig,
    );
    expect(r).toMatchObject({ desiredReplicas: 0, startupBudgetSeconds: 600, gpuCount: 2, gpuResource: "amd.com/gpu", servicePort: 8000 });
  });

  it("with autoscaling: the floor is desired, an HPA for CPU, KEDA for engine metrics or GPU utilisation", () => {
    const cpu = resolve(ms({ resources: { requests: { cpu: "2" } }, autoscaling: { minReplicas: 2, maxReplicas: 5, target: { cpuUtilization: 80 } } }), keda);
    expect(cpu).toMatchObject({ desiredReplicas: 2, autoscalingFloor: 2, autoscaler: "hpa" });
    expect(resolve(ms({ autoscaling: { minReplicas: 1, maxReplicas: 3, target: { inFlightRequests: 8 } } }), keda).autoscaler).toBe("keda");
    expect(resolve(ms({ autoscaling: { minReplicas: 1, maxReplicas: 3, target: { gpuUtilization: 70 } } }), keda).autoscaler).toBe("keda");
  });

  it("is what render builds from: replicas, budget, GPU resource and port in the children match", () => {
    const m = ms({ replicas: 3, startup: { timeoutSeconds: 900 }, gpu: { count: 2, resourceName: "amd.com/gpu" }, service: { port: 8080 } });
    const r = resolve(m, defaultOperatorConfig);
    const out = render(m, defaultOperatorConfig);
    const engine = out.deployment?.spec?.template.spec?.containers[0];
    expect(out.deployment?.spec?.replicas).toBe(r.desiredReplicas);
    expect(engine?.resources?.limits?.[r.gpuResource]).toBe(String(r.gpuCount));
    expect((engine?.startupProbe?.failureThreshold ?? 0) * (engine?.startupProbe?.periodSeconds ?? 0)).toBe(r.startupBudgetSeconds);
    expect(out.service.spec?.ports?.[0]?.port).toBe(r.servicePort);
    expect(out.pdb).toBeDefined();
    const hpa = render(ms({ resources: { requests: { cpu: "2" } }, autoscaling: { minReplicas: 2, maxReplicas: 5, target: { cpuUtilization: 80 } } }), keda);
    expect(hpa.deployment?.spec?.replicas).toBeUndefined();
    expect(hpa.hpa).toBeDefined();
    expect(hpa.scaledObject).toBeUndefined();
  });
});
