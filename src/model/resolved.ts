// One resolved view of a ModelService: every value that follows from its spec and the operator
// config once defaults are applied (replicas, autoscaler, startup budget, GPU resource, Service
// port, container names). Render builds the children from it and status reports against it, so
// the two can never disagree about a default. Pure, and it never throws: status needs it for a
// spec that render refuses, too.
import type { ModelService, ModelServiceSpec } from "../api/types.ts";
import type { OperatorConfig } from "../config/operator-config.ts";
import { NAME_LABEL } from "./labels.ts";

/** Name of the container running the engine; status reports its failures as "container engine". */
export const ENGINE_CONTAINER = "engine";
/** Name of the init container that fetches s3://, gs:// and ollama:// models. */
export const DOWNLOAD_CONTAINER = "model-download";
/** Prefix of the init containers that fetch LoRA adapters (adapter-download-hf, -s3, -gs). */
export const ADAPTER_DOWNLOAD_CONTAINER = "adapter-download";

/** none: a fixed replica count; hpa: a HorizontalPodAutoscaler; keda: a KEDA ScaledObject (engine metrics, GPU utilisation, scale to zero). */
export type AutoscalerKind = "none" | "hpa" | "keda";

export type ResolvedModelService = {
  name: string;
  namespace: string | undefined;
  /** The replicas the user asked for: spec.replicas (default 1), or with autoscaling its floor (minReplicas). */
  desiredReplicas: number;
  /**
   * With autoscaling, the replicas that must serve for Ready (minReplicas, at least 1): an
   * autoscaler scaling up is work in progress on a model that serves. Undefined without autoscaling.
   */
  autoscalingFloor: number | undefined;
  autoscaler: AutoscalerKind;
  /** How the model is woken from zero (autoscaling.wake); undefined without a wake path. */
  wake: ScaleToZero | undefined;
  /** How long a replica may take from start to ready (the startup probe's whole budget). */
  startupBudgetSeconds: number;
  /** GPUs per pod. */
  gpuCount: number;
  /** Pods per replica: spec.multiNode.nodes, else 1. A replica of more than one pod is a LeaderWorkerSet group. */
  podsPerReplica: number;
  /** The extended resource GPUs are requested as, e.g. nvidia.com/gpu. */
  gpuResource: string;
  servicePort: number;
  /** Label selector of the pods, as `kubectl get pods -l` takes it. */
  selector: string;
};

/** Scale to zero: how the model wakes, how long a request is held, how long an idle replica stays. */
export type ScaleToZero = {
  mode: "Request" | "Metric";
  /** Request mode: the interceptor's readiness wait (autoscaling.wake.timeoutSeconds, default the startup budget). */
  holdSeconds: number;
  /** KEDA's cooldownPeriod: autoscaling.cooldownSeconds, default the startup budget. */
  cooldownSeconds: number;
};

export const startupBudgetSeconds = (spec: ModelServiceSpec, config: OperatorConfig): number =>
  spec.startup?.timeoutSeconds ?? config.defaults.startupTimeoutSeconds;

export const gpuResourceName = (spec: ModelServiceSpec, config: OperatorConfig): string => spec.gpu?.resourceName ?? config.gpu.resourceName;

/** KEDA when scaling needs the engine's own metrics or GPU utilisation; a plain HPA for CPU or raw metrics. */
export function autoscalerKind(spec: ModelServiceSpec): AutoscalerKind {
  const a = spec.autoscaling;
  if (!a) return "none";
  // Only KEDA scales a Deployment to zero and back (an HPA's minReplicas is at least 1).
  if (a.wake) return "keda";
  const target = a.target ?? {};
  return target.inFlightRequests !== undefined || target.gpuUtilization !== undefined ? "keda" : "hpa";
}

/**
 * The default cooldown is the startup budget: KEDA removes the last replica only after that long
 * without requests, so a replica woken by a request is never removed while it may still be loading,
 * and an idle model is kept at least as long as it takes to load it again.
 */
export function scaleToZero(spec: ModelServiceSpec, config: OperatorConfig): ScaleToZero | undefined {
  const a = spec.autoscaling;
  if (!a?.wake) return undefined;
  const budget = startupBudgetSeconds(spec, config);
  return { mode: a.wake.mode, holdSeconds: a.wake.timeoutSeconds ?? budget, cooldownSeconds: a.cooldownSeconds ?? budget };
}

export function resolve(ms: ModelService, config: OperatorConfig): ResolvedModelService {
  const spec = ms.spec;
  const name = ms.metadata.name ?? "";
  const a = spec.autoscaling;
  return {
    name,
    namespace: ms.metadata.namespace,
    desiredReplicas: a ? a.minReplicas : (spec.replicas ?? 1),
    autoscalingFloor: a ? Math.max(1, a.minReplicas) : undefined,
    autoscaler: autoscalerKind(spec),
    wake: scaleToZero(spec, config),
    startupBudgetSeconds: startupBudgetSeconds(spec, config),
    gpuCount: spec.gpu?.count ?? 0,
    podsPerReplica: spec.multiNode?.nodes ?? 1,
    gpuResource: gpuResourceName(spec, config),
    servicePort: spec.service?.port ?? config.defaults.servicePort,
    selector: `${NAME_LABEL}=${name}`,
  };
}
