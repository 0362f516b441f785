// The ModelService status as a pure function of what is observed: the Deployment, its
// ReplicaSets, the pods, optionally their Events, and what the controller knows (invalid spec,
// apply error, URL). No I/O; the time is passed in. Defaults (replicas, budget, GPU resource) come
// from the resolved view (model/resolved.ts) that render uses too. Per-pod diagnosis is in pods.ts,
// the verdict (phase and conditions, a chain of small checks) in verdict.ts, the reason precedence
// in reasons.ts, the change test and Events in events.ts.
//
// Stability (no hot loops): lastTransitionTime changes only when a condition's status flips;
// elapsed times in messages have minute resolution; lastFailure times come from the pods (a
// termination's finishedAt, the budget's end, when the containers stopped being ready), never
// from `now` unless the pod gives none; pods are sorted by name so ties resolve the same way.
//
// Conditions (kstatus): always Ready, Reconciling, Stalled, in this order.
//   Ready       True when the required replicas of the CURRENT spec serve (or the model is scaled to
//               zero): all desired replicas of the Deployment, or with autoscaling its floor
//               (minReplicas, at least 1) — replicas the autoscaler adds beyond it show in
//               Reconciling and the phase, so Ready does not flap on every scale-up. Exception: a
//               rollout whose new replicas cannot get a node while the previous revision still
//               serves every desired replica keeps Ready True, reason RolloutBlocked. While Ready
//               is True, Stalled stays False (problems of extra replicas show in Reconciling and
//               in phase Degraded).
//   Reconciling True while work is in progress (pods being created, scheduled, loaded, rolled
//               out); its reason says which. False when settled, and False when Stalled is True
//               (nothing progresses until someone changes something).
//   Stalled     True only when waiting cannot fix it: InvalidSpec, NameConflict (an object with a
//               child's name exists and is not ours), ApplyFailed (the controller
//               passes only permanent errors such as an admission rejection), StartupTimeout,
//               ProgressDeadlineExceeded, a CrashLoop or OOMKilled replica after
//               STALL_AFTER_RESTARTS (5) restarts, an image that does not exist or may not be pulled,
//               pod creation forbidden by admission. Not stalled: InsufficientGPU, NoMatchingNode,
//               TaintNotTolerated (GPUs free up, nodes get added), QuotaExceeded (other workloads
//               shrink), CredentialsMissing (the Secret may be created next), transient pull errors.
//
// Replica phases count the pods of the current revision (the Deployment's newest ReplicaSet).
// Pods of older revisions count only while they are ready (they still serve, in `ready`); their
// other states are ignored, because they describe a spec that is being replaced. Pods being
// deleted and finished pods (evicted, completed) are ignored.
//
// With spec.multiNode a replica is a LeaderWorkerSet group (groups.ts): the LeaderWorkerSet is read
// as the Deployment, each group is one diagnosis (its most telling pod's), and groups are not split
// by revision (the LeaderWorkerSet replaces each in place).
//
// requeueAfterMs: while a replica is Loading, the time until the earliest startup budget runs out
// plus a second, so StartupTimeout is reported on time, capped at one minute so the elapsed time in
// the message (minute resolution) stays true. In every other state the watches on the Deployment,
// ReplicaSets and pods wake the controller, so no requeue is asked for.
import type { CoreV1Event, V1Deployment, V1Pod, V1ReplicaSet, V1StatefulSet } from "@kubernetes/client-node";
import type { Condition, Failure, ModelService, ModelServiceStatus } from "../api/types.ts";
import type { OperatorConfig } from "../config/operator-config.ts";
import { resolve } from "../model/resolved.ts";
import { ownedByDeployment, ownedByLeaderWorkerSet } from "./cached.ts";
import type { Exposure } from "./exposure.ts";
import { formatDuration, rfc3339, truncate } from "./format.ts";
import { asDeployment, groupDiagnosis, type LeaderWorkerSetView, sortGroup } from "./groups.ts";
import { containerLabel, diagnosePod, type FailureCandidate, failureCandidates, isLivePod, isPodReady, type PodContext, type PodDiagnosis } from "./pods.ts";
import { REASONS } from "./reasons.ts";
import { type ClassProblem, type Cond, verdict } from "./verdict.ts";

export interface ObservedState {
  /** The ModelService, with metadata.generation and the previous status (for lastTransitionTime and lastFailure). */
  ms: ModelService;
  config: OperatorConfig;
  now: Date;
  /** undefined: not created yet. */
  deployment?: V1Deployment;
  /** Candidates (e.g. label modelservice.dev/name=<name>); only those the Deployment controls (by uid) count. */
  replicaSets: V1ReplicaSet[];
  /** Candidates, same namespace; only those controlled by one of those ReplicaSets (by uid) count. */
  pods: V1Pod[];
  /**
   * With spec.multiNode: the LeaderWorkerSet (undefined: not created yet) and the StatefulSets
   * that may be its own; a replica is then a group of pods. The Deployment fields are unused.
   */
  leaderWorkerSet?: LeaderWorkerSetView;
  statefulSets?: V1StatefulSet[];
  /** Optional extra signal (probe kills, cluster autoscaler scale-ups); may be empty. */
  events?: CoreV1Event[];
  /** Render refused the spec. */
  invalidSpec?: { path: string; message: string }[];
  /** The ModelServiceClass forbids the spec, or does not exist. */
  classProblem?: ClassProblem;
  /**
   * Children that cannot be created because an object of that kind and name exists and is not
   * controlled by this ModelService, e.g. "Service ml/foo" (the controller applies nothing then).
   */
  conflicts?: string[];
  /** Applying children failed permanently (e.g. an admission error); a message without secrets. */
  applyError?: string;
  /** applyError is transient and still retried. */
  applyRetrying?: boolean;
  /** In-cluster URL (status.internalURL; status.url too unless the route gives an external one). */
  url?: string;
  /** With spec.expose: the Exposed condition and the external URL (status/exposure.ts). */
  exposure?: Exposure;
}

export interface StatusResult {
  status: ModelServiceStatus;
  requeueAfterMs?: number;
}

/**
 * Optional annotation on the Deployment: the ModelService metadata.generation it was rendered
 * from. When present and older than the ModelService's generation, the Deployment in the cache
 * predates the latest spec and the status says Progressing instead of trusting it.
 */
export { SPEC_GENERATION_ANNOTATION } from "../model/labels.ts";

const REVISION_ANNOTATION = "deployment.kubernetes.io/revision";

/** Longest requeue while a replica loads: the elapsed time in the message has minute resolution. */
export const LOADING_REFRESH_MS = 60_000;

export const CONDITION_TYPES = ["Ready", "Reconciling", "Stalled"] as const;

/** The Deployment's newest ReplicaSet and the split of pods into its pods and older ones. */
function splitByRevision(dep: V1Deployment | undefined, rss: V1ReplicaSet[], pods: V1Pod[]) {
  const rev = dep?.metadata?.annotations?.[REVISION_ANNOTATION];
  const newRs = rev ? rss.find((rs) => rs.metadata?.annotations?.[REVISION_ANNOTATION] === rev) : undefined;
  if (!newRs) return { newRs, current: pods, old: [] as V1Pod[] };
  const rsName = newRs.metadata?.name;
  const hash = newRs.metadata?.labels?.["pod-template-hash"];
  const isCurrent = (p: V1Pod) => {
    const owner = p.metadata?.ownerReferences?.find((r) => r.kind === "ReplicaSet");
    if (owner) return owner.name === rsName;
    return hash !== undefined && p.metadata?.labels?.["pod-template-hash"] === hash;
  };
  return { newRs, current: pods.filter(isCurrent), old: pods.filter((p) => !isCurrent(p)) };
}

/** One pod's failure, for status.lastFailure.message. */
export function describeFailure(d: PodDiagnosis, budgetMs: number): string {
  const c = containerLabel(d.container);
  switch (d.reason) {
    case REASONS.OOMKilled:
      return `${c} ran out of memory (${d.detail}); raise spec.resources.limits.memory`;
    case REASONS.CrashLoop:
      return `${c} keeps crashing (${d.detail})`;
    case REASONS.StartupTimeout:
      return `${c} not ready within the startup budget of ${formatDuration(budgetMs)}${d.detail ? ` (${d.detail})` : ""}`;
    default:
      return `${c}: ${d.detail ?? d.reason}`;
  }
}

/** The newest container failure; the previous one when nothing newer happened. */
function pickLastFailure(candidates: FailureCandidate[], prev: Failure | undefined, now: number): Failure | undefined {
  const same = (c: FailureCandidate) => prev !== undefined && prev.reason === c.reason && prev.pod === c.pod && prev.container === c.container;
  const dated = candidates.map((c) => ({ c, time: c.time ?? (same(c) ? Date.parse(prev?.time ?? "") || now : now) }));
  dated.sort((a, b) => b.time - a.time || a.c.pod.localeCompare(b.c.pod) || a.c.container.localeCompare(b.c.container) || a.c.reason.localeCompare(b.c.reason));
  const newest = dated[0];
  const prevTime = Date.parse(prev?.time ?? "");
  if (!newest || (prev && Number.isFinite(prevTime) && newest.time < prevTime)) return prev;
  const f: Failure = { reason: newest.c.reason, message: truncate(newest.c.message), pod: newest.c.pod, container: newest.c.container };
  if (newest.c.exitCode !== undefined) f.exitCode = newest.c.exitCode;
  f.time = rfc3339(newest.time);
  return f;
}

/** A condition, keeping the previous lastTransitionTime unless the status flips. */
function condition(type: string, c: Cond, prev: ModelServiceStatus | undefined, generation: number | undefined, now: number): Condition {
  const before = prev?.conditions?.find((p) => p.type === type);
  const out: Condition = {
    type,
    status: c.status,
    reason: c.reason,
    message: truncate(c.message),
    lastTransitionTime: before && before.status === c.status && before.lastTransitionTime ? before.lastTransitionTime : rfc3339(now),
  };
  if (generation !== undefined) out.observedGeneration = generation;
  return out;
}

export function computeStatus(o: ObservedState): StatusResult {
  const now = o.now.getTime();
  const spec = o.ms.spec;
  const r = resolve(o.ms, o.config);
  const generation = o.ms.metadata.generation;
  const prev = o.ms.status;
  const grouped = r.podsPerReplica > 1;
  const dep = grouped ? (o.leaderWorkerSet ? asDeployment(o.leaderWorkerSet) : undefined) : o.deployment;
  // The Deployment's own count once it exists (an autoscaler may have changed it); before that, what render asks for.
  const desired = dep ? (dep.spec?.replicas ?? 1) : r.desiredReplicas;
  const budgetMs = r.startupBudgetSeconds * 1000;

  const byName = (a: V1Pod, b: V1Pod) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? "");
  // Groups are not split by revision: each is replaced whole, in place, during a rollout.
  const groups = grouped ? [...ownedByLeaderWorkerSet(o.leaderWorkerSet, o.statefulSets ?? [], o.pods).entries()].sort(([a], [b]) => a - b) : [];
  const owned = grouped ? { replicaSets: [], pods: groups.flatMap(([, pods]) => pods) } : ownedByDeployment(dep, o.replicaSets, o.pods);
  const live = owned.pods.filter(isLivePod).sort(byName);
  const { newRs, current, old } = grouped ? { newRs: undefined, current: live, old: [] as V1Pod[] } : splitByRevision(dep, owned.replicaSets, live);
  const events = o.events ?? [];
  const podCtx = (pod: V1Pod): PodContext => ({
    now,
    budgetMs,
    gpuResource: r.gpuResource,
    gpuCount: r.gpuCount,
    ...(o.ms.metadata.namespace ? { namespace: o.ms.metadata.namespace } : {}),
    ...(spec.model.credentialsSecret ? { credentialsSecret: spec.model.credentialsSecret } : {}),
    events: events.filter((e) => e.involvedObject?.kind === "Pod" && e.involvedObject.name === pod.metadata?.name),
  });
  const podDiags = current.map((p) => diagnosePod(p, podCtx(p)));
  const diags = grouped
    ? groups.flatMap(([, pods]) => {
        const alive = sortGroup(pods.filter(isLivePod));
        return alive.length
          ? [
              groupDiagnosis(
                alive,
                alive.map((p) => podDiags[current.indexOf(p)] as PodDiagnosis),
                r.podsPerReplica,
              ),
            ]
          : [];
      })
    : podDiags;
  const currentReady = diags.filter((d) => d.bucket === "ready").length;
  const oldReady = old.filter(isPodReady).length;

  const v = verdict({
    ...(grouped ? { workloadKind: "LeaderWorkerSet" as const } : {}),
    spec,
    resolved: r,
    generation,
    now,
    desired,
    deployment: dep,
    newRs,
    diags,
    currentReady,
    oldReady,
    oldLive: old.length,
    invalidSpec: o.invalidSpec,
    ...(o.classProblem ? { classProblem: o.classProblem } : {}),
    conflicts: o.conflicts,
    applyError: o.applyError,
    ...(o.applyRetrying ? { applyRetrying: true } : {}),
  });

  const describe = (d: PodDiagnosis) => describeFailure(d, budgetMs);
  const candidates = live.flatMap((p) => {
    const i = current.indexOf(p);
    return failureCandidates(p, i >= 0 ? podDiags[i] : undefined, podCtx(p), describe);
  });
  const lastFailure = pickLastFailure(candidates, prev?.lastFailure, now);

  const count = (b: PodDiagnosis["bucket"]) => diags.filter((d) => d.bucket === b).length;
  // From the pods, like the Ready condition's message: the Deployment's own count lags them by one
  // update of its controller, which showed 0/1 next to "1/1 replicas ready".
  const readyReplicas = currentReady + oldReady;
  const status: ModelServiceStatus = {
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    phase: v.phase,
    replicas: dep?.status?.replicas ?? 0,
    readyReplicas,
    updatedReplicas: dep?.status?.updatedReplicas ?? 0,
    replicaSummary: `${readyReplicas}/${desired}`,
    selector: r.selector,
    ...(o.exposure?.url || o.url ? { url: o.exposure?.url ?? o.url } : {}),
    ...(o.url ? { internalURL: o.url } : {}),
    replicaPhases: { scheduling: count("scheduling"), loading: count("loading"), ready: currentReady + oldReady, failing: count("failing") },
    conditions: [
      condition("Ready", v.ready, prev, generation, now),
      condition("Reconciling", v.reconciling, prev, generation, now),
      condition("Stalled", v.stalled, prev, generation, now),
      ...(o.exposure ? [condition("Exposed", o.exposure.condition, prev, generation, now)] : []),
    ],
    ...(lastFailure ? { lastFailure } : {}),
    // Adapters are loaded at start, so a ready replica of the current spec serves every one of them.
    ...(spec.adapters?.length && currentReady > 0 ? { adapters: spec.adapters.map((ad) => ad.name) } : {}),
  };

  // Wake up when the first loading replica's budget runs out (and each minute to refresh the elapsed time).
  let requeueAfterMs: number | undefined;
  const loading = o.invalidSpec?.length || o.classProblem || o.conflicts?.length || o.applyError ? [] : diags.filter((d) => d.bucket === "loading");
  for (const d of loading) {
    const wait = d.deadline !== undefined ? Math.min(d.deadline - now + 1000, LOADING_REFRESH_MS) : LOADING_REFRESH_MS;
    requeueAfterMs = Math.max(1000, Math.min(requeueAfterMs ?? wait, wait));
  }
  return requeueAfterMs === undefined ? { status } : { status, requeueAfterMs };
}
