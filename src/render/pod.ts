// The pod template of the Deployment (or of a LeaderWorkerSet's leader and workers): the engine
// container, GPU scheduling, probes, volumes.
import type {
  V1Affinity,
  V1Container,
  V1EnvVar,
  V1NodeSelectorRequirement,
  V1PodAffinityTerm,
  V1PodTemplateSpec,
  V1Probe,
  V1Toleration,
  V1Volume,
  V1VolumeMount,
} from "@kubernetes/client-node";
import type { ModelServiceSpec } from "../api/types.ts";
import type { OperatorConfig } from "../config/operator-config.ts";
import { commonLabels, selectorLabels } from "../model/labels.ts";
import { ENGINE_CONTAINER } from "../model/resolved.ts";
import type { RenderContext } from "./context.ts";
import { engineSecurity } from "./engine-security.ts";
import { ephemeralStorageLimit, podSecurity } from "./pod-security.ts";

export const HTTP_PORT_NAME = "http";

/** single: the one pod of a replica (a Deployment's); leader and worker: the pods of a LeaderWorkerSet group. */
export type PodRole = "single" | "leader" | "worker";

/** Set by the LeaderWorkerSet controller on every pod of a group, one value per group. */
export const LWS_GROUP_KEY_LABEL = "leaderworkerset.sigs.k8s.io/group-key";
export const STARTUP_PROBE_PERIOD_SECONDS = 10;
/** Grace for in-flight requests to finish when a replica stops. */
const TERMINATION_GRACE_SECONDS = 60;

/** spec.sharedMemory, or the operator default for multi-GPU replicas (NCCL needs a large /dev/shm). */
export function sharedMemorySize(spec: ModelServiceSpec, config: OperatorConfig): string | undefined {
  if (spec.sharedMemory !== undefined) return String(spec.sharedMemory);
  return (spec.gpu?.count ?? 0) > 1 ? config.defaults.sharedMemory : undefined;
}

const quantities = (m: Record<string, string | number> | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(m ?? {}).map(([k, v]) => [k, String(v)]));

/** Later lists override earlier ones by name; the first position of a name is kept. */
function mergeEnv(...lists: V1EnvVar[][]): V1EnvVar[] {
  const byName = new Map<string, V1EnvVar>();
  for (const list of lists) for (const e of list) byName.set(e.name, e);
  return [...byName.values()];
}

/**
 * Adds the GPU requirements to every required node selector term (terms are ORed, expressions
 * ANDed), and the group's pod affinity terms to the user's (all must hold).
 */
function mergeAffinity(
  user: Record<string, unknown> | undefined,
  gpuExprs: V1NodeSelectorRequirement[],
  groupTerms: V1PodAffinityTerm[],
): V1Affinity | undefined {
  const affinity = structuredClone(user ?? {}) as V1Affinity;
  if (groupTerms.length > 0) {
    const podAffinity = affinity.podAffinity ?? {};
    podAffinity.requiredDuringSchedulingIgnoredDuringExecution = [...(podAffinity.requiredDuringSchedulingIgnoredDuringExecution ?? []), ...groupTerms];
    affinity.podAffinity = podAffinity;
  }
  if (gpuExprs.length > 0) {
    const nodeAffinity = affinity.nodeAffinity ?? {};
    const required = nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution;
    const terms = required?.nodeSelectorTerms?.length ? required.nodeSelectorTerms : [{}];
    nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = {
      ...required,
      nodeSelectorTerms: terms.map((t) => ({ ...t, matchExpressions: [...(t.matchExpressions ?? []), ...gpuExprs] })),
    };
    affinity.nodeAffinity = nodeAffinity;
  }
  return Object.keys(affinity).length > 0 ? affinity : undefined;
}

function gpuNodeRequirements(rc: RenderContext): V1NodeSelectorRequirement[] {
  const gpu = rc.spec.gpu;
  if (!gpu || rc.gpuCount === 0) return [];
  const exprs: V1NodeSelectorRequirement[] = [];
  if (gpu.products?.length) exprs.push({ key: rc.config.gpu.productLabel, operator: "In", values: [...gpu.products] });
  if (gpu.minMemoryMiB !== undefined) exprs.push({ key: rc.config.gpu.memoryLabel, operator: "Gt", values: [String(gpu.minMemoryMiB - 1)] });
  return exprs;
}

function probes(rc: RenderContext): Pick<V1Container, "startupProbe" | "readinessProbe" | "livenessProbe"> {
  const scheme = engineSecurity(rc).https ? { scheme: "HTTPS" } : {};
  const handler = (path: string | undefined): V1Probe =>
    path === undefined ? { tcpSocket: { port: HTTP_PORT_NAME } } : { httpGet: { path, port: HTTP_PORT_NAME, ...scheme } };
  const { healthPath, livenessPath } = rc.engine;
  return {
    // The whole startup budget: loading a large model is not a failure until the budget is spent.
    startupProbe: {
      ...handler(healthPath),
      periodSeconds: STARTUP_PROBE_PERIOD_SECONDS,
      timeoutSeconds: 5,
      failureThreshold: Math.ceil(rc.startupBudgetSeconds / STARTUP_PROBE_PERIOD_SECONDS),
    },
    readinessProbe: { ...handler(healthPath), periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
    // Lenient: a busy engine may answer health checks slowly, and a restart costs a full reload.
    livenessProbe: { ...handler(livenessPath ?? healthPath), periodSeconds: 30, timeoutSeconds: 10, failureThreshold: 5 },
  };
}

/** The engine's command and arguments for a pod of this role, and whether it answers the health path. */
function launch(rc: RenderContext, role: PodRole): { command: string[] | undefined; args: string[]; serves: boolean } {
  const { engine, engineCtx } = rc;
  const args = [...engine.args(engineCtx), ...engineSecurity(rc).args];
  const command = engine.command?.(engineCtx);
  if (role === "single" || !engine.multiNode) return { command, args, serves: true };
  const l = role === "leader" ? { ...engine.multiNode.leader(engineCtx, args), serves: true } : engine.multiNode.worker(engineCtx, args);
  return { command: l.command ?? command, args: l.args, serves: l.serves };
}

/**
 * Pods of one group on nodes with the same GPU product (and spec.multiNode.topologyKey): NCCL
 * between different GPUs is slow or fails. The group key is the LeaderWorkerSet's per-group label;
 * matchLabelKeys adds its value to the selector, so each group is placed on its own.
 */
function groupAffinity(rc: RenderContext): V1PodAffinityTerm[] {
  const keys = [...(rc.gpuCount > 0 ? [rc.config.gpu.productLabel] : []), ...(rc.spec.multiNode?.topologyKey ? [rc.spec.multiNode.topologyKey] : [])];
  return keys.map((topologyKey) => ({
    labelSelector: { matchLabels: selectorLabels(rc.name) },
    matchLabelKeys: [LWS_GROUP_KEY_LABEL],
    topologyKey,
  }));
}

function engineContainer(rc: RenderContext, shm: boolean, role: PodRole): V1Container {
  const { spec, engine, engineCtx, parts } = rc;
  const requests = quantities(spec.resources?.requests);
  const limits = quantities(spec.resources?.limits);
  if (rc.gpuCount > 0) {
    requests[rc.gpuResource] = String(rc.gpuCount);
    limits[rc.gpuResource] = String(rc.gpuCount);
  }
  const ephemeral = ephemeralStorageLimit(rc);
  if (ephemeral !== undefined) {
    limits["ephemeral-storage"] = ephemeral;
    // A limit alone makes Kubernetes request as much, reserving 200Gi of node disk per replica and
    // leaving pods unschedulable on smaller disks; the default is a cap, not a reservation.
    requests["ephemeral-storage"] ??= "0";
  }
  const resources = {
    ...(Object.keys(requests).length ? { requests } : {}),
    ...(Object.keys(limits).length ? { limits } : {}),
  };
  const security = engineSecurity(rc);
  const env = mergeEnv(podSecurity(rc).env, engine.env(engineCtx), parts.engineEnv, security.env, (spec.engine.env ?? []) as V1EnvVar[]);
  const mounts: V1VolumeMount[] = [...parts.engineMounts, ...rc.adapterParts.engineMounts, ...security.mounts];
  if (shm) mounts.push({ name: "shm", mountPath: "/dev/shm" });
  const ports = [{ name: HTTP_PORT_NAME, containerPort: engineCtx.port, protocol: "TCP" }];
  if (engine.metricsPort !== undefined && engine.metricsPort !== engineCtx.port)
    ports.push({ name: "metrics", containerPort: engine.metricsPort, protocol: "TCP" });
  const { command, args, serves } = launch(rc, role);
  return {
    name: ENGINE_CONTAINER,
    image: rc.image,
    ...(command ? { command } : {}),
    args,
    ...(serves ? { ports } : {}),
    ...(env.length ? { env } : {}),
    ...(parts.engineEnvFrom.length ? { envFrom: parts.engineEnvFrom } : {}),
    ...(Object.keys(resources).length ? { resources } : {}),
    ...(mounts.length ? { volumeMounts: mounts } : {}),
    // A worker that serves nothing has nothing to probe: if it dies, the group is recreated.
    ...(serves ? probes(rc) : {}),
  };
}

export function podTemplate(rc: RenderContext, role: PodRole = "single"): V1PodTemplateSpec {
  const { spec, config } = rc;
  const scheduling = spec.scheduling ?? {};
  const shmSize = sharedMemorySize(spec, config);
  const ps = podSecurity(rc);
  const volumes: V1Volume[] = [...rc.parts.volumes, ...rc.adapterParts.volumes, ...engineSecurity(rc).volumes, ...ps.volumes];
  if (shmSize !== undefined) volumes.push({ name: "shm", emptyDir: { medium: "Memory", sizeLimit: shmSize } });
  const tolerations: V1Toleration[] = [];
  if (rc.gpuCount > 0) tolerations.push({ key: config.gpu.taintKey, operator: "Exists", effect: "NoSchedule" });
  tolerations.push(...((scheduling.tolerations ?? []) as V1Toleration[]));
  const affinity = mergeAffinity(scheduling.affinity, gpuNodeRequirements(rc), role === "single" ? [] : groupAffinity(rc));
  const annotations = spec.podMetadata?.annotations;
  const initContainers = [...rc.parts.initContainers, ...rc.adapterParts.initContainers];
  return {
    metadata: {
      // Ours last: the selector labels must be on every pod whatever the user adds.
      labels: { ...spec.podMetadata?.labels, ...commonLabels(rc.name, spec.engine.type) },
      ...(annotations && Object.keys(annotations).length ? { annotations: { ...annotations } } : {}),
    },
    spec: {
      // Service links inject env like VLLM_PORT for a Service named "vllm", which breaks vLLM.
      enableServiceLinks: false,
      // Engines run model code (custom architectures, pickles): no API credentials, no privileges.
      automountServiceAccountToken: false,
      securityContext: ps.podContext,
      ...(scheduling.priorityClassName ? { priorityClassName: scheduling.priorityClassName } : {}),
      ...(scheduling.runtimeClassName ? { runtimeClassName: scheduling.runtimeClassName } : {}),
      ...(scheduling.nodeSelector && Object.keys(scheduling.nodeSelector).length ? { nodeSelector: { ...scheduling.nodeSelector } } : {}),
      ...(affinity ? { affinity } : {}),
      ...(tolerations.length ? { tolerations } : {}),
      terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
      ...(initContainers.length ? { initContainers: initContainers.map(ps.harden) } : {}),
      containers: [ps.harden(engineContainer(rc, shmSize !== undefined, role))],
      ...(volumes.length ? { volumes } : {}),
    },
  };
}
