// The ModelService status: a pure function of what is observed (see compute.ts for the semantics).
export {
  CONDITION_TYPES,
  computeStatus,
  describeFailure,
  LOADING_REFRESH_MS,
  type ObservedState,
  SPEC_GENERATION_ANNOTATION,
  type StatusResult,
} from "./compute.ts";
export { jsonEqual, onlyProgress, statusChanged, type TransitionEvent, transitionEvents } from "./events.ts";
export { formatDuration, formatElapsed, redact } from "./format.ts";
export { CRASH_STICKY_RESTARTS, STALL_AFTER_RESTARTS } from "./pods.ts";
export { FAILURE_REASONS, PRECEDENCE, REASONS, type Reason, WAITING_REASONS } from "./reasons.ts";
