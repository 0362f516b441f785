// What the operator keeps of pods, ReplicaSets and StatefulSets in its caches, and which of them status counts.
//
// Anyone who may create pods can give them our name label; a label selector alone would let them
// fill the operator's memory. So the caches keep only objects a controller created the way ours
// are created (a pod controlled by a ReplicaSet or a StatefulSet, a ReplicaSet controlled by a
// Deployment, a StatefulSet controlled by a LeaderWorkerSet or a leader pod), trimmed to the fields
// status reads; and status counts only what hangs off the ModelService's own workload by uid:
//   Deployment → ReplicaSets → pods, or
//   LeaderWorkerSet → leader StatefulSet → leader pods → one worker StatefulSet each → worker pods
// (the LeaderWorkerSet controller makes each group's worker StatefulSet a child of its leader pod).
import type {
  KubernetesObject,
  V1ContainerState,
  V1ContainerStatus,
  V1Deployment,
  V1ObjectMeta,
  V1OwnerReference,
  V1Pod,
  V1PodCondition,
  V1ReplicaSet,
  V1StatefulSet,
} from "@kubernetes/client-node";
import { NAME_LABEL } from "../model/labels.ts";

const REVISION_ANNOTATION = "deployment.kubernetes.io/revision";
const TEMPLATE_HASH_LABEL = "pod-template-hash";
const LWS_API_VERSION = "leaderworkerset.x-k8s.io/v1";
/** The LeaderWorkerSet labels status reads: which group a pod is in, and its index in it (the leader is 0). */
export const LWS_NAME_LABEL = "leaderworkerset.sigs.k8s.io/name";
export const LWS_GROUP_INDEX_LABEL = "leaderworkerset.sigs.k8s.io/group-index";
export const LWS_WORKER_INDEX_LABEL = "leaderworkerset.sigs.k8s.io/worker-index";

export const controllerRef = (obj: KubernetesObject | undefined): V1OwnerReference | undefined =>
  obj?.metadata?.ownerReferences?.find((r) => r.controller === true);

const isControlledBy = (obj: KubernetesObject, apiVersion: string, kind: string): V1OwnerReference | undefined => {
  const ref = controllerRef(obj);
  return ref && ref.apiVersion === apiVersion && ref.kind === kind ? ref : undefined;
};

/** Copies only the keys that are set (no `undefined` properties in the cache). */
function pick<T extends object, K extends keyof T>(obj: T | undefined, keys: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  if (!obj) return out;
  for (const k of keys) if (obj[k] !== undefined && obj[k] !== null) out[k] = obj[k];
  return out;
}

function pickMap(m: Record<string, string> | undefined, keys: string[]): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const k of keys) if (m?.[k] !== undefined) out[k] = m[k];
  return Object.keys(out).length ? out : undefined;
}

function meta(m: V1ObjectMeta | undefined, ref: V1OwnerReference, o: { labels: string[]; annotations: string[] }): V1ObjectMeta {
  const labels = pickMap(m?.labels, o.labels);
  const annotations = pickMap(m?.annotations, o.annotations);
  return {
    ...pick(m, ["name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp"] as const),
    ...(labels ? { labels } : {}),
    ...(annotations ? { annotations } : {}),
    ownerReferences: [pick(ref, ["apiVersion", "kind", "name", "uid", "controller"] as const) as V1OwnerReference],
  };
}

const conditions = <C extends { type: string }>(cs: C[] | undefined): C[] | undefined =>
  cs?.map((c) => pick(c as C & V1PodCondition, ["type", "status", "reason", "message", "lastTransitionTime"] as const) as unknown as C);

function state(s: V1ContainerState | undefined): V1ContainerState | undefined {
  if (!s) return undefined;
  const out: V1ContainerState = {};
  if (s.waiting) out.waiting = pick(s.waiting, ["reason", "message"] as const);
  if (s.running) out.running = pick(s.running, ["startedAt"] as const);
  if (s.terminated) out.terminated = pick(s.terminated, ["exitCode", "reason", "message", "startedAt", "finishedAt"] as const);
  return out;
}

function containerStatus(cs: V1ContainerStatus): V1ContainerStatus {
  const st = state(cs.state);
  const last = state(cs.lastState);
  return {
    ...pick(cs, ["name", "image", "imageID", "ready", "started", "restartCount"] as const),
    ...(st ? { state: st } : {}),
    ...(last ? { lastState: last } : {}),
  } as V1ContainerStatus;
}

/**
 * A pod as the operator caches it: only pods controlled by a ReplicaSet (undefined otherwise),
 * with the fields status reads (src/status/pods.ts, compute.ts).
 */
export function trimPod(obj: KubernetesObject): V1Pod | undefined {
  const ref = isControlledBy(obj, "apps/v1", "ReplicaSet") ?? isControlledBy(obj, "apps/v1", "StatefulSet");
  if (!ref) return undefined;
  const pod = obj as V1Pod;
  const s = pod.status;
  const statuses = (list: V1ContainerStatus[] | undefined) => list?.map(containerStatus);
  const status = {
    ...pick(s, ["phase", "startTime"] as const),
    ...(s?.conditions ? { conditions: conditions(s.conditions) } : {}),
    ...(s?.initContainerStatuses ? { initContainerStatuses: statuses(s.initContainerStatuses) } : {}),
    ...(s?.containerStatuses ? { containerStatuses: statuses(s.containerStatuses) } : {}),
  };
  return {
    apiVersion: pod.apiVersion ?? "v1",
    kind: pod.kind ?? "Pod",
    metadata: meta(pod.metadata, ref, { labels: [NAME_LABEL, TEMPLATE_HASH_LABEL, LWS_GROUP_INDEX_LABEL, LWS_WORKER_INDEX_LABEL], annotations: [] }),
    // spec.containers is required by the type, not read by status.
    spec: (pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}) as V1Pod["spec"],
    status,
  };
}

/** A ReplicaSet as the operator caches it: only ReplicaSets controlled by a Deployment (undefined otherwise). */
export function trimReplicaSet(obj: KubernetesObject): V1ReplicaSet | undefined {
  const ref = isControlledBy(obj, "apps/v1", "Deployment");
  if (!ref) return undefined;
  const rs = obj as V1ReplicaSet;
  const s = rs.status;
  return {
    apiVersion: rs.apiVersion ?? "apps/v1",
    kind: rs.kind ?? "ReplicaSet",
    metadata: meta(rs.metadata, ref, { labels: [NAME_LABEL, TEMPLATE_HASH_LABEL], annotations: [REVISION_ANNOTATION] }),
    ...(rs.spec?.replicas !== undefined ? { spec: { replicas: rs.spec.replicas } as V1ReplicaSet["spec"] } : {}),
    status: {
      ...pick(s, ["replicas", "readyReplicas", "availableReplicas", "observedGeneration"] as const),
      ...(s?.conditions ? { conditions: conditions(s.conditions) } : {}),
    } as NonNullable<V1ReplicaSet["status"]>,
  };
}

/**
 * The ReplicaSets controlled by this Deployment and the pods controlled by those ReplicaSets, by
 * uid: a user's own Deployment, ReplicaSet or pods that carry our labels never count.
 */
export function ownedByDeployment(dep: V1Deployment | undefined, rss: V1ReplicaSet[], pods: V1Pod[]): { replicaSets: V1ReplicaSet[]; pods: V1Pod[] } {
  const depUid = dep?.metadata?.uid;
  if (!depUid) return { replicaSets: [], pods: [] };
  const replicaSets = rss.filter((rs) => {
    const ref = isControlledBy(rs, "apps/v1", "Deployment");
    return ref?.uid === depUid;
  });
  const rsUids = new Set(replicaSets.map((rs) => rs.metadata?.uid).filter((u): u is string => !!u));
  return { replicaSets, pods: pods.filter((p) => rsUids.has(isControlledBy(p, "apps/v1", "ReplicaSet")?.uid ?? "")) };
}

/**
 * A StatefulSet as the operator caches it: only those a LeaderWorkerSet controls (its leaders) or a
 * pod controls (a group's workers), with their owner and name only.
 */
export function trimStatefulSet(obj: KubernetesObject): V1StatefulSet | undefined {
  const ref = isControlledBy(obj, LWS_API_VERSION, "LeaderWorkerSet") ?? isControlledBy(obj, "v1", "Pod");
  if (!ref) return undefined;
  const sts = obj as V1StatefulSet;
  return {
    apiVersion: sts.apiVersion ?? "apps/v1",
    kind: sts.kind ?? "StatefulSet",
    metadata: meta(sts.metadata, ref, { labels: [LWS_NAME_LABEL], annotations: [] }),
  } as V1StatefulSet;
}

/**
 * The pods of a LeaderWorkerSet, by group (group index → pods, leader first), following the
 * controller references by uid from the LeaderWorkerSet down; anything else is ignored.
 */
export function ownedByLeaderWorkerSet(lws: KubernetesObject | undefined, statefulSets: V1StatefulSet[], pods: V1Pod[]): Map<number, V1Pod[]> {
  const groups = new Map<number, V1Pod[]>();
  const lwsUid = lws?.metadata?.uid;
  if (!lwsUid) return groups;
  const controlledBy = (uids: Set<string>, apiVersion: string, kind: string) => (o: KubernetesObject) =>
    uids.has(isControlledBy(o, apiVersion, kind)?.uid ?? "");
  const uids = (objs: KubernetesObject[]) => new Set(objs.map((o) => o.metadata?.uid).filter((u): u is string => !!u));
  const leaderSets = statefulSets.filter(controlledBy(new Set([lwsUid]), LWS_API_VERSION, "LeaderWorkerSet"));
  const leaders = pods.filter(controlledBy(uids(leaderSets), "apps/v1", "StatefulSet"));
  const workerSets = statefulSets.filter(controlledBy(uids(leaders), "v1", "Pod"));
  const workers = pods.filter(controlledBy(uids(workerSets), "apps/v1", "StatefulSet"));
  for (const pod of [...leaders, ...workers]) {
    const index = Number(pod.metadata?.labels?.[LWS_GROUP_INDEX_LABEL]);
    if (!Number.isInteger(index)) continue;
    groups.set(index, [...(groups.get(index) ?? []), pod]);
  }
  return groups;
}
