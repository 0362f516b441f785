// The verdict: phase and the Ready / Reconciling / Stalled conditions, from what compute.ts
// gathered. A chain of small checks, each answering only for the state it knows and passing
// (undefined) otherwise, first match wins:
//
//   invalidSpec → classProblem → nameConflict → applyFailed → deploymentMissing → deploymentBehind →
//   scaledToZero → (replica problems) serving → activating → rolloutBlocked → notReady
//
// The semantics of each condition are described at the top of compute.ts.
import type { V1Deployment, V1DeploymentCondition, V1ReplicaSet, V1ReplicaSetCondition } from "@kubernetes/client-node";
import type { ModelServiceSpec, ModelServiceStatus } from "../api/types.ts";
import { SPEC_GENERATION_ANNOTATION } from "../model/labels.ts";
import type { ResolvedModelService } from "../model/resolved.ts";
import { formatDuration, formatElapsed, plural, quote, truncate } from "./format.ts";
import { containerLabel, type PodDiagnosis } from "./pods.ts";
import { FAILURE_REASONS, precedence, REASONS, type Reason, WAITING_REASONS } from "./reasons.ts";

export type CondStatus = "True" | "False";
export type Cond = { status: CondStatus; reason: string; message: string };

export interface Verdict {
  phase: NonNullable<ModelServiceStatus["phase"]>;
  ready: Cond;
  reconciling: Cond;
  stalled: Cond;
}

/** What the verdict is drawn from. */
export interface VerdictInput {
  spec: ModelServiceSpec;
  resolved: ResolvedModelService;
  generation?: number;
  now: number;
  /** Replicas that should run: the Deployment's own count once it exists (an autoscaler may change it), else the resolved one. */
  desired: number;
  deployment?: V1Deployment;
  /** The Deployment's newest ReplicaSet, if known. */
  newRs?: V1ReplicaSet;
  /** Diagnoses of the live pods of the current revision. */
  diags: PodDiagnosis[];
  /** Ready pods of the current revision. */
  currentReady: number;
  /** Ready pods of older revisions (they still serve). */
  oldReady: number;
  /** Live pods of older revisions. */
  oldLive: number;
  invalidSpec?: { path: string; message: string }[];
  /** The ModelServiceClass forbids the spec (problems in the message), or does not exist. */
  classProblem?: ClassProblem;
  conflicts?: string[];
  applyError?: string;
  /** applyError is a transient failure that persisted (see reconcile.ts): still retried, so not Stalled. */
  applyRetrying?: boolean;
  /** What runs the replicas (default Deployment); with LeaderWorkerSet `deployment` is its view and a replica is a group of pods. */
  workloadKind?: "Deployment" | "LeaderWorkerSet";
}

type WithDeployment = VerdictInput & { deployment: V1Deployment };

/** Replicas that share a reason, as message parts; stalled when waiting cannot fix it. */
export interface Problem {
  reason: Reason;
  parts: string[];
  stalled: boolean;
}

/** What the replicas of the current revision lack, most important first. */
export interface ReplicaProblems {
  /** In precedence order. */
  list: Problem[];
  /** The first stalled one, if any. */
  stall: Problem | undefined;
}

export const cond = (status: CondStatus, reason: string, message = ""): Cond => ({ status, reason, message });

const replicas = (n: number) => plural(n, "replica");
const depCondition = (d: V1Deployment | undefined, type: string): V1DeploymentCondition | undefined => d?.status?.conditions?.find((c) => c.type === type);
const rsCondition = (rs: V1ReplicaSet | undefined, type: string): V1ReplicaSetCondition | undefined => rs?.status?.conditions?.find((c) => c.type === type);

/** Ready replicas of any revision. */
const serving = (x: VerdictInput): number => x.currentReady + x.oldReady;

/** "; the existing Deployment keeps serving N replicas[ of the previous spec]" while the model still serves. */
const keepsServing = (x: VerdictInput, what = ""): string =>
  x.deployment && serving(x) > 0 ? `; the existing ${x.workloadKind ?? "Deployment"} keeps serving ${replicas(serving(x))}${what}` : "";

/** A problem with the spec or its children that waiting cannot fix: Stalled, and Failed unless replicas still serve. */
const stalledOn = (x: VerdictInput, reason: Reason, msg: string): Verdict => ({
  phase: serving(x) > 0 ? "Degraded" : "Failed",
  ready: cond("False", reason, msg),
  reconciling: cond("False", reason),
  stalled: cond("True", reason, msg),
});

/** Render refused the spec; the children are left as they are. */
export function invalidSpec(x: VerdictInput): Verdict | undefined {
  if (!x.invalidSpec?.length) return undefined;
  const list = x.invalidSpec.map((i) => `${i.path}: ${i.message}`).join("; ");
  return stalledOn(x, REASONS.InvalidSpec, truncate(`the spec is invalid: ${list}${keepsServing(x, " of the previous spec")}`));
}

export type ClassProblem = { reason: typeof REASONS.ClassViolation | typeof REASONS.ClassNotFound; message: string };

/**
 * The class forbids the spec: Stalled until the spec or the class changes (both wake the
 * controller). The class does not exist: not Stalled, as the platform team may create it next (the
 * controller watches classes). Either way nothing is applied; the children stay as they are.
 */
export function classProblem(x: VerdictInput): Verdict | undefined {
  const c = x.classProblem;
  if (!c) return undefined;
  const msg = truncate(`${c.message}${keepsServing(x, " of the previous spec")}`);
  if (c.reason === REASONS.ClassViolation) return stalledOn(x, c.reason, msg);
  return {
    phase: serving(x) > 0 ? "Degraded" : "Failed",
    ready: cond("False", c.reason, msg),
    reconciling: cond("True", c.reason, msg),
    stalled: cond("False", c.reason),
  };
}

/** An object with a child's name exists and is not ours; nothing is applied. */
export function nameConflict(x: VerdictInput): Verdict | undefined {
  if (!x.conflicts?.length) return undefined;
  const list = x.conflicts.map((c) => `${c} already exists and is not owned by this ModelService; rename or delete it`).join("; ");
  return stalledOn(x, REASONS.NameConflict, truncate(`${list}${keepsServing(x)}`));
}

/**
 * Applying a child failed: permanently, or transiently for long enough (the controller decides).
 * A desired child that is not applied never leaves Ready True, whatever the replicas do.
 */
export function applyFailed(x: VerdictInput): Verdict | undefined {
  if (!x.applyError) return undefined;
  const msg = truncate(`applying the children failed: ${quote(x.applyError, 700)}${x.applyRetrying ? "; retrying" : ""}${keepsServing(x)}`);
  if (!x.applyRetrying) return stalledOn(x, REASONS.ApplyFailed, msg);
  return {
    phase: serving(x) > 0 ? "Degraded" : "Failed",
    ready: cond("False", REASONS.ApplyFailed, msg),
    reconciling: cond("True", REASONS.ApplyFailed, msg),
    stalled: cond("False", REASONS.ApplyFailed),
  };
}

/** No Deployment yet. */
export function deploymentMissing(x: VerdictInput): Verdict | undefined {
  if (x.deployment) return undefined;
  const msg = `waiting for the ${x.workloadKind ?? "Deployment"} to be created`;
  return {
    phase: "Pending",
    ready: cond("False", REASONS.Pending, msg),
    reconciling: cond("True", REASONS.Pending, msg),
    stalled: cond("False", REASONS.Pending),
  };
}

/** The Deployment predates the latest spec, or its controller has not observed it yet: its status says nothing about the new spec. */
export function deploymentBehind(x: WithDeployment): Verdict | undefined {
  const dep = x.deployment;
  const depGen = dep.metadata?.generation;
  const specGen = Number(dep.metadata?.annotations?.[SPEC_GENERATION_ANNOTATION]);
  const depStale = Number.isFinite(specGen) && x.generation !== undefined && specGen < x.generation;
  const depObserved = depGen === undefined || (dep.status?.observedGeneration ?? 0) >= depGen;
  if (depObserved && !depStale) return undefined;
  const msg = depStale
    ? `the ${x.workloadKind ?? "Deployment"} has not been updated to generation ${x.generation} yet`
    : `waiting for the Deployment controller to observe the new spec${previousServes(x)}`;
  return {
    phase: "Pending",
    ready: cond("False", REASONS.Progressing, msg),
    reconciling: cond("True", REASONS.Progressing, msg),
    stalled: cond("False", REASONS.Progressing),
  };
}

/** With minReplicas 0 and a wake path: KEDA scales the model to zero and back. */
const wakesFromZero = (x: VerdictInput) => (x.spec.autoscaling?.minReplicas === 0 ? x.resolved.wake : undefined);

/** What wakes a model at zero, for the messages. */
function wakeHow(x: VerdictInput): string {
  const wake = wakesFromZero(x);
  if (!wake) return "";
  return wake.mode === "Request"
    ? `the next request through the KEDA HTTP add-on's interceptor wakes it (held up to ${formatDuration(wake.holdSeconds * 1000)})`
    : "KEDA wakes it when autoscaling.wake.query is above 0";
}

/** Zero replicas, parked (spec.replicas 0) or scaled to zero by KEDA: Ready, phase Idle. */
export function scaledToZero(x: WithDeployment): Verdict | undefined {
  if (x.desired !== 0) return undefined;
  const wake = wakesFromZero(x);
  const msg = wake
    ? `scaled to zero by KEDA after ${formatDuration(wake.cooldownSeconds * 1000)} without requests; ${wakeHow(x)}`
    : "parked: spec.replicas is 0; scale it up to serve again";
  return {
    phase: "Idle",
    ready: cond("True", REASONS.ScaledToZero, msg),
    reconciling: cond("False", REASONS.ScaledToZero),
    stalled: cond("False", REASONS.ScaledToZero),
  };
}

/** "; the previous revision still serves N replicas" while the new one is not fully ready. */
const previousServes = (x: VerdictInput): string =>
  x.oldReady > 0 && x.currentReady < x.desired ? `; the previous revision still serves ${replicas(x.oldReady)}` : "";

/** The message part for the replicas that share a reason. */
function groupParts(reason: Reason, ds: PodDiagnosis[], x: VerdictInput): string[] {
  const n = ds.length;
  const first = ds[0] as PodDiagnosis;
  const scheduler = first.detail ? ` (scheduler: ${first.detail})` : "";
  const scaleUp = ds.some((d) => d.scaleUp) ? "; the cluster autoscaler is adding a node" : "";
  const { spec } = x;
  const budgetMs = x.resolved.startupBudgetSeconds * 1000;
  // A replica of several pods: name the pod that speaks for it (a worker's crash is not the leader's).
  const where = (d: PodDiagnosis) => `${containerLabel(d.container)}${x.resolved.podsPerReplica > 1 && d.pod ? ` of pod ${d.pod}` : ""}`;
  const pods = x.resolved.podsPerReplica;
  switch (reason) {
    case REASONS.InsufficientGPU:
      return [
        pods > 1
          ? `${replicas(n)} waiting for GPUs: each needs ${pods} pods × ${x.resolved.gpuCount} ${x.resolved.gpuResource}, all on one GPU product${scheduler}${scaleUp}`
          : `${replicas(n)} waiting for GPUs: each asks for ${x.resolved.gpuCount} ${x.resolved.gpuResource}${scheduler}${scaleUp}`,
      ];
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
      if (load.length) parts.push(`${of(load.length)} loading the model for ${longest(load)} (budget ${formatDuration(budgetMs)})`);
      if (download.length) parts.push(`${of(download.length)} downloading the weights for ${longest(download)}`);
      if (start.length) parts.push(`${of(start.length)} starting (pulling the image, creating the container)`);
      return parts;
    }
    case REASONS.OOMKilled:
      return [`${replicas(n)} out of memory (${where(first)}: ${first.detail}); raise spec.resources.limits.memory`];
    case REASONS.CrashLoop:
      return [`${replicas(n)} crash-looping (${where(first)}: ${first.detail})`];
    case REASONS.StartupTimeout:
      return [
        `${replicas(n)} not ready within the startup budget of ${formatDuration(budgetMs)}${first.detail ? ` (${first.detail})` : ""}; raise spec.startup.timeoutSeconds if the model needs longer to load`,
      ];
    case REASONS.ImagePullFailed:
    case REASONS.CredentialsMissing:
    case REASONS.ContainerConfigError:
    case REASONS.ContainerStartFailed:
      return [`${replicas(n)} cannot start (${where(first)}: ${first.detail ?? reason})`];
    default:
      return [`${replicas(n)} ${reason}`];
  }
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

/** Problems and progress of the current revision's replicas, by reason, in precedence order. */
export function replicaProblems(x: WithDeployment): ReplicaProblems {
  const dep = x.deployment;
  const currentCount = x.diags.length;
  const byReason = new Map<Reason, PodDiagnosis[]>();
  for (const d of x.diags) {
    if (d.bucket === "ready") continue;
    byReason.set(d.reason, [...(byReason.get(d.reason) ?? []), d]);
  }
  const list: Problem[] = [...byReason.entries()].map(([reason, ds]) => ({ reason, parts: groupParts(reason, ds, x), stalled: ds.some((d) => d.stalled) }));
  const creation = creationProblem(dep, x.newRs, x.desired - currentCount);
  if (creation) list.push(creation);
  const progress = depCondition(dep, "Progressing");
  if (progress?.status === "False" && progress.reason === "ProgressDeadlineExceeded") {
    list.push({
      reason: REASONS.ProgressDeadlineExceeded,
      parts: [`the rollout made no progress within the Deployment's deadline of ${formatDuration((dep.spec?.progressDeadlineSeconds ?? 600) * 1000)}`],
      stalled: true,
    });
  }
  const missing = x.desired - currentCount;
  if (!creation && missing > 0 && x.currentReady < x.desired)
    list.push({ reason: REASONS.Progressing, parts: [`${replicas(missing)} not created yet`], stalled: false });
  list.sort((a, b) => precedence(a.reason) - precedence(b.reason));
  return { list, stall: list.find((p) => p.stalled) };
}

const allParts = (p: ReplicaProblems): string[] => p.list.flatMap((q) => q.parts);

/**
 * Enough replicas of the current revision serve: all of them, or with autoscaling its floor (an
 * autoscaler scaling up is work in progress on a model that serves, not a model that is down).
 * Problems of the other replicas show in Reconciling and phase Degraded; Stalled stays False.
 */
export function servingVerdict(x: WithDeployment, p: ReplicaProblems): Verdict | undefined {
  const floor = x.resolved.autoscalingFloor;
  const required = floor === undefined ? x.desired : Math.min(x.desired, floor);
  if (x.currentReady < required) return undefined;
  const parts = allParts(p);
  const msg = truncate(`${x.currentReady}/${x.desired} replicas ready${parts.length ? `; ${parts.join("; ")}` : ""}`);
  const extra = p.list.find((q) => FAILURE_REASONS.has(q.reason) || WAITING_REASONS.has(q.reason));
  const settled = x.deployment.status?.replicas === undefined || (x.deployment.status.replicas ?? 0) <= x.desired;
  let reconciling = cond("False", REASONS.Ready);
  if (x.currentReady < x.desired) {
    reconciling = cond(
      "True",
      p.list[0]?.reason ?? REASONS.Progressing,
      truncate(`scaling up to ${replicas(x.desired)}: ${parts.join("; ") || "waiting for replicas"}`),
    );
  } else if (x.oldLive > 0 || !settled) {
    const removing = x.oldLive > 0 ? `${replicas(x.oldLive)} of the previous revision being removed` : "surplus replicas being removed";
    reconciling = cond("True", REASONS.RollingOut, `the new revision serves ${x.currentReady}/${x.desired}; ${removing}`);
  } else if (extra) {
    reconciling = cond("True", extra.reason, truncate(extra.parts.join("; ")));
  }
  return { phase: extra ? "Degraded" : "Ready", ready: cond("True", REASONS.Ready, msg), reconciling, stalled: cond("False", REASONS.Ready) };
}

/** What a model coming back from zero may be doing: anything but a failure. */
const WAKING: ReadonlySet<string> = new Set([REASONS.Loading, REASONS.Scheduling, REASONS.Progressing, REASONS.Pending]);

/**
 * Woken from zero (or starting at it): no replica serves yet and nothing is failing, so callers
 * wait (at the interceptor in Request mode). Ready False, reason Activating, elapsed vs the budget
 * (at minute resolution, so a recomputation seconds later writes nothing).
 */
export function activating(x: WithDeployment, p: ReplicaProblems): Verdict | undefined {
  const wake = wakesFromZero(x);
  if (!wake || serving(x) > 0 || p.stall || p.list.some((q) => !WAKING.has(q.reason))) return undefined;
  const budgetMs = x.resolved.startupBudgetSeconds * 1000;
  const starts = x.diags.map((d) => d.since).filter((t): t is number => t !== undefined);
  const what = starts.length
    ? `loading for ${formatElapsed(x.now - Math.min(...starts))} of the ${formatDuration(budgetMs)} startup budget`
    : `${allParts(p).join("; ") || "waiting for the replica"} (startup budget ${formatDuration(budgetMs)})`;
  const held = wake.mode === "Request" ? `; requests wait at the interceptor up to ${formatDuration(wake.holdSeconds * 1000)}` : "";
  const msg = truncate(`woken from zero by KEDA: ${what}${held}`);
  const phase = p.list.some((q) => q.reason === REASONS.Loading) ? "Loading" : p.list.some((q) => q.reason === REASONS.Scheduling) ? "Scheduling" : "Pending";
  return {
    phase,
    ready: cond("False", REASONS.Activating, msg),
    reconciling: cond("True", REASONS.Activating, msg),
    stalled: cond("False", REASONS.Activating),
  };
}

const primaryReason = (p: ReplicaProblems): Reason => p.list[0]?.reason ?? REASONS.Progressing;
const body = (p: ReplicaProblems): string => allParts(p).join("; ") || "waiting for replicas to become ready";
const stalledCondition = (p: ReplicaProblems): Cond =>
  p.stall ? cond("True", p.stall.reason, truncate(p.stall.parts.join("; "))) : cond("False", primaryReason(p));

/**
 * A rollout whose new replicas cannot get a node (or be created) while the previous revision
 * serves: Ready stays True (reason RolloutBlocked) as long as the old replicas serve every desired one.
 */
export function rolloutBlocked(x: WithDeployment, p: ReplicaProblems): Verdict | undefined {
  const primary = p.list[0];
  if (!(x.oldReady > 0 && primary !== undefined && (WAITING_REASONS.has(primary.reason) || primary.reason === REASONS.QuotaExceeded))) return undefined;
  const msg = truncate(`the previous revision serves ${x.oldReady}/${x.desired}; the rollout of the new spec is blocked: ${body(p)}`);
  const reconciling = p.stall ? cond("False", p.stall.reason) : cond("True", REASONS.RolloutBlocked, msg);
  const ready = serving(x) >= x.desired ? cond("True", REASONS.RolloutBlocked, msg) : cond("False", primaryReason(p), msg);
  return { phase: "Degraded", ready, reconciling, stalled: stalledCondition(p) };
}

/** Not enough replicas serve: the most important problem names Ready, the phase follows its kind. */
export function notReady(x: WithDeployment, p: ReplicaProblems): Verdict {
  const reason = primaryReason(p);
  const msg = truncate(`${body(p)}${previousServes(x)}`);
  let phase: Verdict["phase"];
  if (FAILURE_REASONS.has(reason)) phase = serving(x) > 0 ? "Degraded" : "Failed";
  else if (WAITING_REASONS.has(reason)) phase = serving(x) > 0 ? "Degraded" : "Scheduling";
  else if (reason === REASONS.Loading) phase = "Loading";
  else if (reason === REASONS.Scheduling) phase = "Scheduling";
  else phase = "Pending";
  const reconciling = p.stall ? cond("False", p.stall.reason) : cond("True", reason, msg);
  return { phase, ready: cond("False", reason, msg), reconciling, stalled: stalledCondition(p) };
}

export function verdict(x: VerdictInput): Verdict {
  const early = invalidSpec(x) ?? classProblem(x) ?? nameConflict(x) ?? applyFailed(x) ?? deploymentMissing(x);
  if (early) return early;
  const d = x as WithDeployment; // deploymentMissing answered when there is none
  const settled = deploymentBehind(d) ?? scaledToZero(d);
  if (settled) return settled;
  const p = replicaProblems(d);
  return servingVerdict(d, p) ?? activating(d, p) ?? rolloutBlocked(d, p) ?? notReady(d, p);
}
