// The ModelService status as a pure function of what is observed: the Deployment, its
// ReplicaSets, the pods, optionally their Events, and what the controller knows (invalid spec,
// apply error, URL). No I/O; the time is passed in. Per-pod diagnosis is in pods.ts, the reason
// precedence in reasons.ts, the change test and Events in events.ts.
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
// requeueAfterMs: while a replica is Loading, the time until the earliest startup budget runs out
// plus a second, so StartupTimeout is reported on time, capped at one minute so the elapsed time in
// the message (minute resolution) stays true. In every other state the watches on the Deployment,
// ReplicaSets and pods wake the controller, so no requeue is asked for.
import type { CoreV1Event, V1Deployment, V1DeploymentCondition, V1Pod, V1ReplicaSet, V1ReplicaSetCondition } from "@kubernetes/client-node";
import type { Condition, Failure, ModelService, ModelServiceStatus } from "../api/types.ts";
import type { OperatorConfig } from "../config/operator-config.ts";
import { NAME_LABEL, SPEC_GENERATION_ANNOTATION } from "../render/labels.ts";
import { gpuResourceName, startupBudgetSeconds } from "../render/pod.ts";
import { desiredReplicas } from "../render/workload.ts";
import { ownedByDeployment } from "./cached.ts";
import { formatDuration, formatElapsed, plural, quote, rfc3339, truncate } from "./format.ts";
import {
  DOWNLOAD_CONTAINER,
  diagnosePod,
  ENGINE_CONTAINER,
  type FailureCandidate,
  failureCandidates,
  isLivePod,
  isPodReady,
  type PodContext,
  type PodDiagnosis,
} from "./pods.ts";
import { FAILURE_REASONS, precedence, REASONS, type Reason, WAITING_REASONS } from "./reasons.ts";

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
  /** Optional extra signal (probe kills, cluster autoscaler scale-ups); may be empty. */
  events?: CoreV1Event[];
  /** Render refused the spec. */
  invalidSpec?: { path: string; message: string }[];
  /**
   * Children that cannot be created because an object of that kind and name exists and is not
   * controlled by this ModelService, e.g. "Service ml/foo" (the controller applies nothing then).
   */
  conflicts?: string[];
  /** Applying children failed permanently (e.g. an admission error); a message without secrets. */
  applyError?: string;
  url?: string;
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
export { SPEC_GENERATION_ANNOTATION } from "../render/labels.ts";

const REVISION_ANNOTATION = "deployment.kubernetes.io/revision";

/** Longest requeue while a replica loads: the elapsed time in the message has minute resolution. */
export const LOADING_REFRESH_MS = 60_000;

export const CONDITION_TYPES = ["Ready", "Reconciling", "Stalled"] as const;

type CondStatus = "True" | "False";
interface Verdict {
  phase: NonNullable<ModelServiceStatus["phase"]>;
  ready: { status: CondStatus; reason: string; message: string };
  reconciling: { status: CondStatus; reason: string; message: string };
  stalled: { status: CondStatus; reason: string; message: string };
}

interface Ctx {
  o: ObservedState;
  now: number;
  name: string;
  generation?: number;
  desired: number;
  budgetMs: number;
  gpuResource: string;
  gpuCount: number;
}

const depCondition = (d: V1Deployment | undefined, type: string): V1DeploymentCondition | undefined => d?.status?.conditions?.find((c) => c.type === type);
const rsCondition = (rs: V1ReplicaSet | undefined, type: string): V1ReplicaSetCondition | undefined => rs?.status?.conditions?.find((c) => c.type === type);

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

const who = (container: string | undefined) =>
  !container || container === ENGINE_CONTAINER
    ? "container engine"
    : container === DOWNLOAD_CONTAINER
      ? "init container model-download"
      : `container ${container}`;

/** One pod's failure, for status.lastFailure.message. */
export function describeFailure(d: PodDiagnosis, budgetMs: number): string {
  const c = who(d.container);
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

const replicas = (n: number) => plural(n, "replica");

/** The message part for the replicas that share a reason. */
function groupParts(reason: Reason, ds: PodDiagnosis[], x: Ctx): string[] {
  const n = ds.length;
  const first = ds[0] as PodDiagnosis;
  const scheduler = first.detail ? ` (scheduler: ${first.detail})` : "";
  const scaleUp = ds.some((d) => d.scaleUp) ? "; the cluster autoscaler is adding a node" : "";
  const spec = x.o.ms.spec;
  switch (reason) {
    case REASONS.InsufficientGPU:
      return [`${replicas(n)} waiting for GPUs: each asks for ${x.gpuCount} ${x.gpuResource}${scheduler}${scaleUp}`];
    case REASONS.NoMatchingNode: {
      const want: string[] = [];
      if (spec.gpu?.products?.length) want.push(`GPU product ${spec.gpu.products.join(" or ")}`);
      if (spec.gpu?.minMemoryMiB !== undefined) want.push(`at least ${spec.gpu.minMemoryMiB} MiB per GPU`);
      if (spec.scheduling?.nodeSelector && Object.keys(spec.scheduling.nodeSelector).length) want.push("spec.scheduling.nodeSelector");
      const what = want.length ? want.join(", ") : "the pod's node selector and affinity";
      return [`${replicas(n)} waiting: no node matches ${what}${scheduler}${scaleUp}`];
    }
    case REASONS.TaintNotTolerated:
      return [`${replicas(n)} waiting: the nodes carry taints the pods do not tolerate (add them to spec.scheduling.tolerations)${scheduler}${scaleUp}`];
    case REASONS.Unschedulable:
      return [`${replicas(n)} cannot be scheduled${scheduler}${scaleUp}`];
    case REASONS.Scheduling:
      return [`${replicas(n)} waiting to be scheduled${first.detail ? ` (${first.detail})` : ""}${scaleUp}`];
    case REASONS.Loading: {
      const parts: string[] = [];
      const of = (k: number) => `${k} of ${plural(x.desired, "replica")}`;
      const longest = (g: PodDiagnosis[]) => formatElapsed(x.now - Math.min(...g.map((d) => d.since ?? x.now)));
      const load = ds.filter((d) => d.stage === "load");
      const download = ds.filter((d) => d.stage === "download");
      const start = ds.filter((d) => d.stage === "start");
      if (load.length) parts.push(`${of(load.length)} loading the model for ${longest(load)} (budget ${formatDuration(x.budgetMs)})`);
      if (download.length) parts.push(`${of(download.length)} downloading the weights for ${longest(download)}`);
      if (start.length) parts.push(`${of(start.length)} starting (pulling the image, creating the container)`);
      return parts;
    }
    case REASONS.OOMKilled:
      return [`${replicas(n)} out of memory (${who(first.container)}: ${first.detail}); raise spec.resources.limits.memory`];
    case REASONS.CrashLoop:
      return [`${replicas(n)} crash-looping (${who(first.container)}: ${first.detail})`];
    case REASONS.StartupTimeout:
      return [
        `${replicas(n)} not ready within the startup budget of ${formatDuration(x.budgetMs)}${first.detail ? ` (${first.detail})` : ""}; raise spec.startup.timeoutSeconds if the model needs longer to load`,
      ];
    case REASONS.ImagePullFailed:
    case REASONS.CredentialsMissing:
    case REASONS.ContainerConfigError:
    case REASONS.ContainerStartFailed:
      return [`${replicas(n)} cannot start (${who(first.container)}: ${first.detail ?? reason})`];
    default:
      return [`${replicas(n)} ${reason}`];
  }
}

interface Problem {
  reason: Reason;
  parts: string[];
  stalled: boolean;
}

/** ReplicaFailure on the new ReplicaSet or the Deployment: pods cannot be created. */
function creationProblem(dep: V1Deployment, newRs: V1ReplicaSet | undefined, missing: number): Problem | undefined {
  const c = [rsCondition(newRs, "ReplicaFailure"), depCondition(dep, "ReplicaFailure")].find((x) => x?.status === "True");
  if (!c) return undefined;
  const msg = c.message ?? "";
  const count = missing > 0 ? `${replicas(missing)} cannot be created` : "replicas cannot be created";
  const quota = /exceeded quota:?\s*(.*)$/is.exec(msg);
  if (quota) return { reason: REASONS.QuotaExceeded, parts: [`${count}: exceeded quota ${quote(quota[1], 300)}`], stalled: false };
  const forbidden = /forbidden|denied/i.test(msg) && !/timeout|deadline|connection refused|unavailable/i.test(msg);
  return { reason: REASONS.PodCreationFailed, parts: [`${count}: ${quote(msg, 300) || (c.reason ?? "FailedCreate")}`], stalled: forbidden };
}

const cond = (status: CondStatus, reason: string, message = "") => ({ status, reason, message });

function verdictFor(
  x: Ctx,
  diags: PodDiagnosis[],
  currentReady: number,
  oldReady: number,
  oldLive: number,
  newRs: V1ReplicaSet | undefined,
  currentCount: number,
): Verdict {
  const { o } = x;
  const dep = o.deployment;
  const serving = currentReady + oldReady;
  const servingNote = oldReady > 0 && currentReady < x.desired ? `; the previous revision still serves ${replicas(oldReady)}` : "";

  if (o.invalidSpec?.length) {
    const list = o.invalidSpec.map((i) => `${i.path}: ${i.message}`).join("; ");
    const keeps = dep && serving > 0 ? `; the existing Deployment keeps serving ${replicas(serving)} of the previous spec` : "";
    const msg = truncate(`the spec is invalid: ${list}${keeps}`);
    return {
      phase: serving > 0 ? "Degraded" : "Failed",
      ready: cond("False", REASONS.InvalidSpec, msg),
      reconciling: cond("False", REASONS.InvalidSpec),
      stalled: cond("True", REASONS.InvalidSpec, msg),
    };
  }
  if (o.conflicts?.length) {
    const list = o.conflicts.map((c) => `${c} already exists and is not owned by this ModelService; rename or delete it`).join("; ");
    const keeps = dep && serving > 0 ? `; the existing Deployment keeps serving ${replicas(serving)}` : "";
    const msg = truncate(`${list}${keeps}`);
    return {
      phase: serving > 0 ? "Degraded" : "Failed",
      ready: cond("False", REASONS.NameConflict, msg),
      reconciling: cond("False", REASONS.NameConflict),
      stalled: cond("True", REASONS.NameConflict, msg),
    };
  }
  if (o.applyError) {
    const keeps = dep && serving > 0 ? `; the existing Deployment keeps serving ${replicas(serving)}` : "";
    const msg = truncate(`applying the children failed: ${quote(o.applyError, 700)}${keeps}`);
    return {
      phase: serving > 0 ? "Degraded" : "Failed",
      ready: cond("False", REASONS.ApplyFailed, msg),
      reconciling: cond("False", REASONS.ApplyFailed),
      stalled: cond("True", REASONS.ApplyFailed, msg),
    };
  }
  if (!dep) {
    const msg = "waiting for the Deployment to be created";
    return {
      phase: "Pending",
      ready: cond("False", REASONS.Pending, msg),
      reconciling: cond("True", REASONS.Pending, msg),
      stalled: cond("False", REASONS.Pending),
    };
  }

  const depGen = dep.metadata?.generation;
  const specGen = Number(dep.metadata?.annotations?.[SPEC_GENERATION_ANNOTATION]);
  const depStale = Number.isFinite(specGen) && x.generation !== undefined && specGen < x.generation;
  const depObserved = depGen === undefined || (dep.status?.observedGeneration ?? 0) >= depGen;
  if (!depObserved || depStale) {
    const msg = depStale
      ? `the Deployment has not been updated to generation ${x.generation} yet`
      : `waiting for the Deployment controller to observe the new spec${servingNote}`;
    return {
      phase: "Pending",
      ready: cond("False", REASONS.Progressing, msg),
      reconciling: cond("True", REASONS.Progressing, msg),
      stalled: cond("False", REASONS.Progressing),
    };
  }

  if (x.desired === 0) {
    // minReplicas is at least 1, so only spec.replicas: 0 (or kubectl scale) gets here.
    const msg = "parked: spec.replicas is 0; scale it up to serve again";
    return {
      phase: "Idle",
      ready: cond("True", REASONS.ScaledToZero, msg),
      reconciling: cond("False", REASONS.ScaledToZero),
      stalled: cond("False", REASONS.ScaledToZero),
    };
  }

  // Problems and progress, by reason, in precedence order.
  const byReason = new Map<Reason, PodDiagnosis[]>();
  for (const d of diags) {
    if (d.bucket === "ready") continue;
    byReason.set(d.reason, [...(byReason.get(d.reason) ?? []), d]);
  }
  const problems: Problem[] = [...byReason.entries()].map(([reason, ds]) => ({ reason, parts: groupParts(reason, ds, x), stalled: ds.some((d) => d.stalled) }));
  const creation = creationProblem(dep, newRs, x.desired - currentCount);
  if (creation) problems.push(creation);
  const progress = depCondition(dep, "Progressing");
  if (progress?.status === "False" && progress.reason === "ProgressDeadlineExceeded") {
    problems.push({
      reason: REASONS.ProgressDeadlineExceeded,
      parts: [`the rollout made no progress within the Deployment's deadline of ${formatDuration((dep.spec?.progressDeadlineSeconds ?? 600) * 1000)}`],
      stalled: true,
    });
  }
  const missing = x.desired - currentCount;
  if (!creation && missing > 0 && currentReady < x.desired)
    problems.push({ reason: REASONS.Progressing, parts: [`${replicas(missing)} not created yet`], stalled: false });
  problems.sort((a, b) => precedence(a.reason) - precedence(b.reason));

  const primary = problems[0];
  const allParts = problems.flatMap((p) => p.parts);
  const stall = problems.find((p) => p.stalled);
  const settled = dep.status?.replicas === undefined || (dep.status.replicas ?? 0) <= x.desired;

  // Replicas that must serve for Ready: all of them, or with autoscaling its floor (at least one):
  // an autoscaler scaling up is work in progress on a model that serves, not a model that is down.
  const autoscaling = o.ms.spec.autoscaling;
  const required = autoscaling ? Math.min(x.desired, Math.max(1, autoscaling.minReplicas)) : x.desired;
  if (currentReady >= required) {
    const msg = truncate(`${currentReady}/${x.desired} replicas ready${allParts.length ? `; ${allParts.join("; ")}` : ""}`);
    const extra = problems.find((p) => FAILURE_REASONS.has(p.reason) || WAITING_REASONS.has(p.reason));
    const phase = extra ? "Degraded" : "Ready";
    let reconciling = cond("False", REASONS.Ready);
    if (currentReady < x.desired) {
      reconciling = cond(
        "True",
        primary?.reason ?? REASONS.Progressing,
        truncate(`scaling up to ${replicas(x.desired)}: ${allParts.join("; ") || "waiting for replicas"}`),
      );
    } else if (oldLive > 0 || !settled) {
      const removing = oldLive > 0 ? `${replicas(oldLive)} of the previous revision being removed` : "surplus replicas being removed";
      reconciling = cond("True", REASONS.RollingOut, `the new revision serves ${currentReady}/${x.desired}; ${removing}`);
    } else if (extra) {
      reconciling = cond("True", extra.reason, truncate(extra.parts.join("; ")));
    }
    return { phase, ready: cond("True", REASONS.Ready, msg), reconciling, stalled: cond("False", REASONS.Ready) };
  }

  const primaryReason: Reason = primary?.reason ?? REASONS.Progressing;
  const body = allParts.length ? allParts.join("; ") : "waiting for replicas to become ready";
  const stalled = stall ? cond("True", stall.reason, truncate(stall.parts.join("; "))) : cond("False", primaryReason);

  // A rollout whose new replicas cannot get a node (or be created) while the previous revision serves.
  const blocked = oldReady > 0 && primary !== undefined && (WAITING_REASONS.has(primary.reason) || primary.reason === REASONS.QuotaExceeded);
  if (blocked) {
    const msg = truncate(`the previous revision serves ${oldReady}/${x.desired}; the rollout of the new spec is blocked: ${body}`);
    const reconciling = stall ? cond("False", stall.reason) : cond("True", REASONS.RolloutBlocked, msg);
    if (serving >= x.desired) return { phase: "Degraded", ready: cond("True", REASONS.RolloutBlocked, msg), reconciling, stalled };
    return { phase: "Degraded", ready: cond("False", primaryReason, msg), reconciling, stalled };
  }

  const msg = truncate(`${body}${servingNote}`);
  let phase: Verdict["phase"];
  if (FAILURE_REASONS.has(primaryReason)) phase = serving > 0 ? "Degraded" : "Failed";
  else if (WAITING_REASONS.has(primaryReason)) phase = serving > 0 ? "Degraded" : "Scheduling";
  else if (primaryReason === REASONS.Loading) phase = "Loading";
  else if (primaryReason === REASONS.Scheduling) phase = "Scheduling";
  else phase = "Pending";
  const reconciling = stall ? cond("False", stall.reason) : cond("True", primaryReason, msg);
  return { phase, ready: cond("False", primaryReason, msg), reconciling, stalled };
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
function condition(
  type: string,
  c: { status: CondStatus; reason: string; message: string },
  prev: ModelServiceStatus | undefined,
  generation: number | undefined,
  now: number,
): Condition {
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
  const name = o.ms.metadata.name ?? "";
  const generation = o.ms.metadata.generation;
  const prev = o.ms.status;
  const dep = o.deployment;
  // The Deployment's own count once it exists (an autoscaler may have changed it); before that, what render asks for.
  const desired = dep ? (dep.spec?.replicas ?? 1) : desiredReplicas(spec);
  const x: Ctx = {
    o,
    now,
    name,
    ...(generation !== undefined ? { generation } : {}),
    desired,
    budgetMs: startupBudgetSeconds(spec, o.config) * 1000,
    gpuResource: gpuResourceName(spec, o.config),
    gpuCount: spec.gpu?.count ?? 0,
  };

  const byName = (a: V1Pod, b: V1Pod) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? "");
  const owned = ownedByDeployment(dep, o.replicaSets, o.pods);
  const live = owned.pods.filter(isLivePod).sort(byName);
  const { newRs, current, old } = splitByRevision(dep, owned.replicaSets, live);
  const events = o.events ?? [];
  const podCtx = (pod: V1Pod): PodContext => ({
    now,
    budgetMs: x.budgetMs,
    gpuResource: x.gpuResource,
    gpuCount: x.gpuCount,
    ...(o.ms.metadata.namespace ? { namespace: o.ms.metadata.namespace } : {}),
    ...(spec.model.credentialsSecret ? { credentialsSecret: spec.model.credentialsSecret } : {}),
    events: events.filter((e) => e.involvedObject?.kind === "Pod" && e.involvedObject.name === pod.metadata?.name),
  });
  const diags = current.map((p) => diagnosePod(p, podCtx(p)));
  const currentReady = diags.filter((d) => d.bucket === "ready").length;
  const oldReady = old.filter(isPodReady).length;

  const v = verdictFor(x, diags, currentReady, oldReady, old.length, newRs, current.length);

  const describe = (d: PodDiagnosis) => describeFailure(d, x.budgetMs);
  const candidates = live.flatMap((p) => {
    const i = current.indexOf(p);
    return failureCandidates(p, i >= 0 ? diags[i] : undefined, podCtx(p), describe);
  });
  const lastFailure = pickLastFailure(candidates, prev?.lastFailure, now);

  const count = (b: PodDiagnosis["bucket"]) => diags.filter((d) => d.bucket === b).length;
  const readyReplicas = dep?.status?.readyReplicas ?? 0;
  const status: ModelServiceStatus = {
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    phase: v.phase,
    replicas: dep?.status?.replicas ?? 0,
    readyReplicas,
    updatedReplicas: dep?.status?.updatedReplicas ?? 0,
    replicaSummary: `${readyReplicas}/${desired}`,
    selector: `${NAME_LABEL}=${name}`,
    ...(o.url ? { url: o.url } : {}),
    replicaPhases: { scheduling: count("scheduling"), loading: count("loading"), ready: currentReady + oldReady, failing: count("failing") },
    conditions: [
      condition("Ready", v.ready, prev, generation, now),
      condition("Reconciling", v.reconciling, prev, generation, now),
      condition("Stalled", v.stalled, prev, generation, now),
    ],
    ...(lastFailure ? { lastFailure } : {}),
  };

  // Wake up when the first loading replica's budget runs out (and each minute to refresh the elapsed time).
  let requeueAfterMs: number | undefined;
  const loading = o.invalidSpec?.length || o.conflicts?.length || o.applyError ? [] : diags.filter((d) => d.bucket === "loading");
  for (const d of loading) {
    const wait = d.deadline !== undefined ? Math.min(d.deadline - now + 1000, LOADING_REFRESH_MS) : LOADING_REFRESH_MS;
    requeueAfterMs = Math.max(1000, Math.min(requeueAfterMs ?? wait, wait));
  }
  return requeueAfterMs === undefined ? { status } : { status, requeueAfterMs };
}
