// Status of a ModelService whose replicas are LeaderWorkerSet groups: a replica is a group, and a
// group serves only when every one of its pods runs (the leader ready). Each group is reduced to
// one diagnosis (its most telling pod's), so the verdict counts and words groups as it counts
// replicas of a Deployment.
import type { V1Deployment, V1Pod } from "@kubernetes/client-node";
import { SPEC_GENERATION_ANNOTATION } from "../model/labels.ts";
import { LWS_WORKER_INDEX_LABEL } from "./cached.ts";
import type { Bucket, PodDiagnosis } from "./pods.ts";
import { REASONS } from "./reasons.ts";

/** What status reads of a LeaderWorkerSet. */
export type LeaderWorkerSetView = {
  metadata?: { name?: string; uid?: string; generation?: number; annotations?: Record<string, string> };
  spec?: { replicas?: number; leaderWorkerTemplate?: { size?: number } };
  status?: { replicas?: number; readyReplicas?: number; updatedReplicas?: number };
};

/**
 * The LeaderWorkerSet as the verdict reads a Deployment: its replica count and the generation it
 * was rendered from. It has no observedGeneration, so "behind" is judged by that annotation alone;
 * nor a progress deadline: the startup budget on each leader is the only clock.
 */
export function asDeployment(lws: LeaderWorkerSetView): V1Deployment {
  const annotations = lws.metadata?.annotations?.[SPEC_GENERATION_ANNOTATION];
  return {
    metadata: {
      name: lws.metadata?.name,
      uid: lws.metadata?.uid,
      ...(annotations !== undefined ? { annotations: { [SPEC_GENERATION_ANNOTATION]: annotations } } : {}),
    },
    spec: { replicas: lws.spec?.replicas ?? 1, selector: {}, template: {} },
    status: { replicas: lws.status?.replicas ?? 0, updatedReplicas: lws.status?.updatedReplicas ?? 0, readyReplicas: lws.status?.readyReplicas ?? 0 },
  };
}

const workerIndex = (p: V1Pod) => Number(p.metadata?.labels?.[LWS_WORKER_INDEX_LABEL] ?? 0);

/** Leader first, then the workers by index. */
export const sortGroup = (pods: V1Pod[]): V1Pod[] => [...pods].sort((a, b) => workerIndex(a) - workerIndex(b));

// Which pod speaks for its group: a failure first, then a pod that cannot be scheduled, then one loading.
const RANK: Record<Bucket, number> = { failing: 0, scheduling: 1, loading: 2, ready: 3 };

/**
 * One diagnosis per group, from its pods' (leader first). A group missing some of its `size` pods
 * is still starting; one whose pods all run and whose leader is ready serves.
 */
export function groupDiagnosis(pods: V1Pod[], diags: PodDiagnosis[], size: number): PodDiagnosis {
  const ranked = diags.map((d, i) => ({ d, i })).sort((a, b) => RANK[a.d.bucket] - RANK[b.d.bucket] || a.i - b.i);
  const worst = ranked[0]?.d;
  const leader = diags[0];
  if (!worst || !leader) return { pod: "", bucket: "loading", reason: REASONS.Loading, stalled: false, stage: "start" };
  if (worst.bucket !== "ready") return worst;
  if (pods.length < size) return { ...leader, bucket: "loading", reason: REASONS.Loading, stalled: false, stage: "start" };
  return leader;
}
