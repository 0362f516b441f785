// Condition reasons and their precedence. A reason is one CamelCase word; it is Ready's reason
// (the REASON column of `kubectl get msvc`), and the reason of the Event emitted when it appears.

export const REASONS = {
  // serving / healthy
  Ready: "Ready",
  ScaledToZero: "ScaledToZero",
  RolloutBlocked: "RolloutBlocked",
  RollingOut: "RollingOut",
  // the user must change something
  InvalidSpec: "InvalidSpec",
  ClassViolation: "ClassViolation",
  ClassNotFound: "ClassNotFound",
  NameConflict: "NameConflict",
  ApplyFailed: "ApplyFailed",
  // a replica fails
  CredentialsMissing: "CredentialsMissing",
  ContainerConfigError: "ContainerConfigError",
  ImagePullFailed: "ImagePullFailed",
  OOMKilled: "OOMKilled",
  CrashLoop: "CrashLoop",
  ContainerStartFailed: "ContainerStartFailed",
  StartupTimeout: "StartupTimeout",
  PodCreationFailed: "PodCreationFailed",
  QuotaExceeded: "QuotaExceeded",
  // a replica waits for a node
  InsufficientGPU: "InsufficientGPU",
  TaintNotTolerated: "TaintNotTolerated",
  NoMatchingNode: "NoMatchingNode",
  Unschedulable: "Unschedulable",
  // the Deployment gave up waiting
  ProgressDeadlineExceeded: "ProgressDeadlineExceeded",
  // work in progress
  Activating: "Activating",
  Loading: "Loading",
  Scheduling: "Scheduling",
  Progressing: "Progressing",
  Pending: "Pending",
} as const;

export type Reason = (typeof REASONS)[keyof typeof REASONS];

/** What a reason says about the replicas, and so the phase it gives. */
type ReasonClass =
  /** Replicas cannot run: phase Failed (or Degraded while something still serves). */
  | "failure"
  /** Replicas wait for a node: phase Scheduling (or Degraded while something still serves). */
  | "waiting"
  /** Work in progress. */
  | "progress"
  /** Serving or healthy: not a problem, so not ranked. */
  | "serving";

/**
 * Every reason with its class, problems in precedence order (object keys keep their insertion
 * order): when replicas have different problems, Ready's reason is the first of these that
 * applies; the message lists every problem in this order with its count.
 *
 * Order: what the user must fix in the spec or namespace (a missing Secret, a bad image, a model
 * that does not fit in memory, a crashing engine, a blown startup budget) comes before what waits
 * for the cluster (quota, GPUs, nodes), because getting a GPU does not help a replica that would
 * crash on it. Within each group the more specific diagnosis comes first (OOMKilled before
 * CrashLoop). The Deployment's ProgressDeadlineExceeded is a symptom of one of those, so it only
 * names the problem when no replica explains it. Work in progress comes last.
 */
const REASON_CLASSES = {
  [REASONS.InvalidSpec]: "failure",
  [REASONS.ClassViolation]: "failure",
  [REASONS.ClassNotFound]: "failure",
  [REASONS.NameConflict]: "failure",
  [REASONS.ApplyFailed]: "failure",
  [REASONS.CredentialsMissing]: "failure",
  [REASONS.ContainerConfigError]: "failure",
  [REASONS.ImagePullFailed]: "failure",
  [REASONS.OOMKilled]: "failure",
  [REASONS.CrashLoop]: "failure",
  [REASONS.ContainerStartFailed]: "failure",
  [REASONS.StartupTimeout]: "failure",
  [REASONS.PodCreationFailed]: "failure",
  [REASONS.QuotaExceeded]: "failure",
  [REASONS.InsufficientGPU]: "waiting",
  [REASONS.TaintNotTolerated]: "waiting",
  [REASONS.NoMatchingNode]: "waiting",
  [REASONS.Unschedulable]: "waiting",
  [REASONS.ProgressDeadlineExceeded]: "failure",
  [REASONS.Activating]: "progress",
  [REASONS.Loading]: "progress",
  [REASONS.Scheduling]: "progress",
  [REASONS.Progressing]: "progress",
  [REASONS.Pending]: "progress",
  [REASONS.Ready]: "serving",
  [REASONS.ScaledToZero]: "serving",
  [REASONS.RolloutBlocked]: "serving",
  [REASONS.RollingOut]: "serving",
} as const satisfies Record<Reason, ReasonClass>;

const reasonsOf = (...classes: ReasonClass[]): Reason[] => (Object.keys(REASON_CLASSES) as Reason[]).filter((r) => classes.includes(REASON_CLASSES[r]));

/** The problems in precedence order (see REASON_CLASSES): Ready's reason is the first that applies. */
export const PRECEDENCE: readonly Reason[] = reasonsOf("failure", "waiting", "progress");

export const precedence = (r: string): number => {
  const i = PRECEDENCE.indexOf(r as Reason);
  return i < 0 ? PRECEDENCE.length : i;
};

/** Replicas cannot run: phase Failed (or Degraded while something still serves). */
export const FAILURE_REASONS: ReadonlySet<string> = new Set(reasonsOf("failure"));

/** Replicas wait for a node: phase Scheduling (or Degraded while something still serves). */
export const WAITING_REASONS: ReadonlySet<string> = new Set(reasonsOf("waiting"));

/**
 * A step of work in progress on the way to serving (or of a rollout going on while serving), not a
 * state to act on. Activating is not one: a model woken from zero is news, callers wait on it.
 */
export const isProgressReason = (r: string): boolean => (REASON_CLASSES[r as Reason] === "progress" && r !== REASONS.Activating) || r === REASONS.RollingOut;

/** Reasons whose Event is a Warning: failures, replicas stuck waiting for a node, a blocked rollout. */
export const isWarningReason = (r: string): boolean => FAILURE_REASONS.has(r) || WAITING_REASONS.has(r) || r === REASONS.RolloutBlocked;

/** Failures of a container, recorded in status.lastFailure. */
export const CONTAINER_FAILURES: ReadonlySet<string> = new Set([
  REASONS.CredentialsMissing,
  REASONS.ContainerConfigError,
  REASONS.ImagePullFailed,
  REASONS.OOMKilled,
  REASONS.CrashLoop,
  REASONS.ContainerStartFailed,
  REASONS.StartupTimeout,
]);
