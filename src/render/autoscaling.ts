// Autoscaling: a plain HPA when the metric is CPU or raw metrics; a KEDA ScaledObject when scaling
// needs the engine's own metrics or GPU utilisation, or to zero (only when KEDA is enabled). KEDA
// is then the only writer of the Deployment's replicas: the Deployment is rendered without them.
// To zero only with a wake path (admission refuses minReplicas 0 without one): the HTTP add-on's
// interceptor (external-push trigger, src/render/interceptor-route.ts) or a Prometheus query.
import type { KubernetesObject, V2HorizontalPodAutoscaler, V2HorizontalPodAutoscalerBehavior, V2MetricSpec } from "@kubernetes/client-node";
import type { ModelServiceSpec } from "../api/types.ts";
import type { OperatorConfig } from "../config/operator-config.ts";
import { startupBudgetSeconds } from "../model/resolved.ts";
import type { RenderContext } from "./context.ts";
import type { EngineDef } from "./engines/index.ts";
import type { Problem } from "./errors.ts";
import { childMeta } from "./meta.ts";

export type ScaledObject = KubernetesObject & {
  spec: {
    scaleTargetRef: { apiVersion: string; kind: string; name: string };
    minReplicaCount: number;
    maxReplicaCount: number;
    pollingInterval: number;
    cooldownPeriod?: number;
    initialCooldownPeriod?: number;
    advanced?: { horizontalPodAutoscalerConfig: { behavior: V2HorizontalPodAutoscalerBehavior } };
    triggers: { type: string; metricType?: string; metadata: Record<string, string> }[];
  };
};

/** DCGM exporter's per-GPU utilisation in percent. */
const GPU_UTIL_METRIC = "DCGM_FI_DEV_GPU_UTIL";

/** Why the autoscaling the spec asks for cannot work with this engine and config (which autoscaler: resolved.ts). */
export function autoscalingProblems(spec: ModelServiceSpec, config: OperatorConfig, engine: EngineDef): Problem[] {
  const a = spec.autoscaling;
  if (!a) return [];
  const problems: Problem[] = [];
  const target = a.target ?? {};
  const kedaMissing = " KEDA is not enabled in the operator's config (keda.enabled)";
  if (target.inFlightRequests !== undefined) {
    if (!config.keda.enabled)
      problems.push({
        path: "spec.autoscaling.target.inFlightRequests",
        message: `scaling on in-flight requests needs KEDA and Prometheus;${kedaMissing}: use cpuUtilization instead`,
      });
    if (!engine.inFlightQuery)
      problems.push({
        path: "spec.autoscaling.target.inFlightRequests",
        message: `${engine.type} exports no in-flight request metric: use cpuUtilization or metrics`,
      });
  }
  if (a.wake) {
    if (!config.keda.enabled) problems.push({ path: "spec.autoscaling.wake", message: `scale to zero needs KEDA;${kedaMissing}` });
    // Admission checks this against an explicit startup.timeoutSeconds; here against the default.
    const budget = startupBudgetSeconds(spec, config);
    if (a.cooldownSeconds !== undefined && a.cooldownSeconds < budget)
      problems.push({
        path: "spec.autoscaling.cooldownSeconds",
        message: `must be at least the startup budget (${budget}s, the operator's default; set startup.timeoutSeconds to change it), so a replica that is still loading is never removed`,
      });
  }
  if (target.gpuUtilization !== undefined) {
    if (!config.keda.enabled)
      problems.push({
        path: "spec.autoscaling.target.gpuUtilization",
        message: `scaling on GPU utilisation needs KEDA and Prometheus (DCGM exporter);${kedaMissing}: use cpuUtilization instead`,
      });
  }
  return problems;
}

const scaleTargetRef = (rc: RenderContext) => ({ apiVersion: "apps/v1", kind: "Deployment", name: rc.names.deployment });

export function horizontalPodAutoscaler(rc: RenderContext): V2HorizontalPodAutoscaler {
  const a = rc.spec.autoscaling;
  if (!a) throw new Error("horizontalPodAutoscaler needs spec.autoscaling");
  const metrics: V2MetricSpec[] =
    a.target?.cpuUtilization !== undefined
      ? [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: a.target.cpuUtilization } } }]
      : ((a.metrics ?? []) as unknown as V2MetricSpec[]);
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: childMeta(rc, rc.names.hpa),
    spec: {
      scaleTargetRef: scaleTargetRef(rc),
      minReplicas: a.minReplicas,
      maxReplicas: a.maxReplicas,
      metrics,
      ...(a.behavior ? { behavior: a.behavior as V2HorizontalPodAutoscalerBehavior } : {}),
    },
  };
}

/** Prometheus label matchers selecting this Deployment's pods (`<deployment>-<rs hash>-<suffix>`). */
const podSelector = (rc: RenderContext): string =>
  [...(rc.namespace ? [`namespace="${rc.namespace}"`] : []), `pod=~"${rc.names.deployment}-[a-z0-9]+-[a-z0-9]+"`].join(",");

/** The HPA's longest stabilisation window (autoscaling/v2 caps it at one hour). */
const MAX_STABILIZATION_SECONDS = 3600;

/**
 * With a wake path and no behavior of the user's: the HPA scales down only to the highest count it
 * wanted over the cooldown, so a replica added for a burst is not removed while it may still load.
 */
const scaleDownAfterLoad = (cooldownSeconds: number): V2HorizontalPodAutoscalerBehavior => ({
  scaleDown: { stabilizationWindowSeconds: Math.min(cooldownSeconds, MAX_STABILIZATION_SECONDS) },
});

export function scaledObject(rc: RenderContext): ScaledObject {
  const a = rc.spec.autoscaling;
  if (!a) throw new Error("scaledObject needs spec.autoscaling");
  const sel = podSelector(rc);
  const serverAddress = rc.config.keda.prometheusAddress;
  const triggers: ScaledObject["spec"]["triggers"] = [];
  const wake = a.wake;
  if (wake?.mode === "Request") {
    // The add-on's scaler reads the InterceptorRoute's in-flight count from the interceptors and
    // pushes "active" to KEDA the moment a request waits (no polling delay on the wake path).
    triggers.push({ type: "external-push", metadata: { scalerAddress: rc.config.keda.httpAddOn.scalerAddress, interceptorRoute: rc.names.interceptorRoute } });
  }
  if (wake?.mode === "Metric" && wake.query) {
    // Read outside the model's pods (e.g. a gateway's queue), so it exists at zero replicas.
    triggers.push({ type: "prometheus", metadata: { serverAddress, query: wake.query, threshold: String(wake.threshold ?? 1) } });
  }
  // In Request mode the interceptor counts in-flight requests itself (its concurrency target).
  const interceptorCounts = wake?.mode === "Request" && a.target?.inFlightRequests !== undefined;
  if (a.target?.cpuUtilization !== undefined) {
    triggers.push({ type: "cpu", metricType: "Utilization", metadata: { value: String(a.target.cpuUtilization) } });
  }
  if (a.target?.inFlightRequests !== undefined && rc.engine.inFlightQuery && !interceptorCounts) {
    // AverageValue: KEDA divides the total by the replica count.
    triggers.push({ type: "prometheus", metadata: { serverAddress, query: rc.engine.inFlightQuery(sel), threshold: String(a.target.inFlightRequests) } });
  }
  if (a.target?.gpuUtilization !== undefined) {
    // Value on an average: desired = ceil(replicas * current / target), like an HPA utilisation target.
    triggers.push({
      type: "prometheus",
      metricType: "Value",
      metadata: { serverAddress, query: `avg(${GPU_UTIL_METRIC}{${sel}}) or vector(0)`, threshold: String(a.target.gpuUtilization) },
    });
  }
  const behavior = (a.behavior as V2HorizontalPodAutoscalerBehavior | undefined) ?? (rc.wake ? scaleDownAfterLoad(rc.wake.cooldownSeconds) : undefined);
  return {
    apiVersion: "keda.sh/v1alpha1",
    kind: "ScaledObject",
    metadata: childMeta(rc, rc.names.scaledObject),
    spec: {
      scaleTargetRef: scaleTargetRef(rc),
      minReplicaCount: a.minReplicas,
      maxReplicaCount: a.maxReplicas,
      pollingInterval: 15,
      // initialCooldownPeriod too: without it KEDA removes a new model's first replica at once,
      // while it is still loading (seen on the local cluster).
      ...(rc.wake && a.minReplicas === 0 ? { cooldownPeriod: rc.wake.cooldownSeconds, initialCooldownPeriod: rc.wake.cooldownSeconds } : {}),
      ...(behavior ? { advanced: { horizontalPodAutoscalerConfig: { behavior } } } : {}),
      triggers,
    },
  };
}
