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
  Loading: "Loading",
  Scheduling: "Scheduling",
  Progressing: "Progressing",
  Pending: "Pending",
} as const;

export type Reason = (typeof REASONS)[keyof typeof REASONS];

/**
 * When replicas have different problems, Ready's reason is the first of these that applies; the
 * message lists every problem in this order with its count.
 *
 * Order: what the user must fix in the spec or namespace (a missing Secret, a bad image, a model
 * that does not fit in memory, a crashing engine, a blown startup budget) comes before what waits
 * for the cluster (quota, GPUs, nodes), because getting a GPU does not help a replica that would
 * crash on it. Within each group the more specific diagnosis comes first (OOMKilled before
 * CrashLoop). The Deployment's ProgressDeadlineExceeded is a symptom of one of those, so it only
 * names the problem when no replica explains it. Work in progress comes last.
 */
export const PRECEDENCE: readonly Reason[] = [
  REASONS.InvalidSpec,
  REASONS.NameConflict,
  REASONS.ApplyFailed,
  REASONS.CredentialsMissing,
  REASONS.ContainerConfigError,
  REASONS.ImagePullFailed,
  REASONS.OOMKilled,
  REASONS.CrashLoop,
  REASONS.ContainerStartFailed,
  REASONS.StartupTimeout,
  REASONS.PodCreationFailed,
  REASONS.QuotaExceeded,
  REASONS.InsufficientGPU,
  REASONS.TaintNotTolerated,
  REASONS.NoMatchingNode,
  REASONS.Unschedulable,
  REASONS.ProgressDeadlineExceeded,
  REASONS.Loading,
  REASONS.Scheduling,
  REASONS.Progressing,
  REASONS.Pending,
];

export const precedence = (r: string): number => {
  const i = PRECEDENCE.indexOf(r as Reason);
  return i < 0 ? PRECEDENCE.length : i;
};

/** Replicas cannot run: phase Failed (or Degraded while something still serves). */
export const FAILURE_REASONS: ReadonlySet<string> = new Set([
  REASONS.InvalidSpec,
  REASONS.NameConflict,
  REASONS.ApplyFailed,
  REASONS.CredentialsMissing,
  REASONS.ContainerConfigError,
  REASONS.ImagePullFailed,
  REASONS.OOMKilled,
  REASONS.CrashLoop,
  REASONS.ContainerStartFailed,
  REASONS.StartupTimeout,
  REASONS.PodCreationFailed,
  REASONS.QuotaExceeded,
  REASONS.ProgressDeadlineExceeded,
]);

/** Replicas wait for a node: phase Scheduling (or Degraded while something still serves). */
export const WAITING_REASONS: ReadonlySet<string> = new Set([
  REASONS.InsufficientGPU,
  REASONS.TaintNotTolerated,
  REASONS.NoMatchingNode,
  REASONS.Unschedulable,
]);

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
