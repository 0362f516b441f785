// Deciding whether a new status is worth writing, and which Events its transitions deserve.
import type { ModelServiceStatus } from "../api/types.ts";
import { truncate } from "./format.ts";
import { isProgressReason, isWarningReason } from "./reasons.ts";

export interface TransitionEvent {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

/** Deep equality of JSON values; properties that are undefined count as absent. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => jsonEqual(v, b[i]));
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const ka = Object.keys(ra).filter((k) => ra[k] !== undefined);
  const kb = Object.keys(rb).filter((k) => rb[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(rb, k) && jsonEqual(ra[k], rb[k]));
}

/** Whether the controller must write `next`: a deep comparison, so an unchanged status is never rewritten. */
export function statusChanged(prev: ModelServiceStatus | undefined, next: ModelServiceStatus): boolean {
  return !jsonEqual(prev ?? {}, next);
}

const ready = (s: ModelServiceStatus | undefined) => s?.conditions?.find((c) => c.type === "Ready");

/** What stays put while work is in progress: all but the phase, the replica counts and the conditions' reasons and messages (Exposed kept whole). */
function settledPart(s: ModelServiceStatus): unknown {
  const { phase: _p, replicas: _r, readyReplicas: _rr, updatedReplicas: _u, replicaSummary: _s, replicaPhases: _ph, conditions, ...rest } = s;
  return { ...rest, conditions: conditions?.map((c) => (c.type === "Exposed" ? c : { type: c.type, status: c.status })) };
}

/**
 * Work in progress: not serving yet and on the way (Ready False with a progress step as its
 * reason), or serving while a rollout or a scale-up goes on (Reconciling True with such a reason).
 */
function inProgress(s: ModelServiceStatus): boolean {
  const r = ready(s);
  if (!r) return false;
  if (r.status !== "True") return isProgressReason(r.reason);
  const rec = s.conditions?.find((c) => c.type === "Reconciling");
  return rec?.status === "True" && isProgressReason(rec.reason);
}

/**
 * Whether `next` only moves work in progress along: in progress before and after, Ready's status
 * unchanged, for the same generation, with nothing else changed than the phase, the replica counts
 * and the conditions' reasons and messages (Pending → Scheduling → Loading, or 2/4 → 3/4 replicas
 * of a rollout). Such a status can wait a moment for the next one: while pods come up one event
 * after another, writing each step costs a write per pod event and shows nothing a reader would
 * act on. Ready turning, a failure, a replica waiting for a node, a route's state and a spec change
 * being picked up are never held back.
 */
export function onlyProgress(prev: ModelServiceStatus | undefined, next: ModelServiceStatus): boolean {
  if (!prev || !inProgress(prev) || !inProgress(next) || ready(prev)?.status !== ready(next)?.status) return false;
  return jsonEqual(settledPart(prev), settledPart(next));
}

/**
 * Events for what changed: one when the phase or Ready's reason changes (Warning when the new
 * reason is a failure, a replica stuck waiting for a node, or a blocked rollout) — but none from
 * one progress step to the next (Pending → Loading: the pods' own Events tell those), and one Warning
 * when status.lastFailure has a reason the previous status did not have. Nothing when nothing
 * changed, so a recomputation never repeats an Event. With spec.expose, one more when the Exposed
 * reason changes (Warning when the gateway refuses the route or is missing).
 */
export function transitionEvents(prev: ModelServiceStatus | undefined, next: ModelServiceStatus): TransitionEvent[] {
  const out: TransitionEvent[] = [];
  const before = ready(prev);
  const after = ready(next);
  const stepOnly = before !== undefined && after !== undefined && isProgressReason(before.reason) && isProgressReason(after.reason);
  if (after && !stepOnly && (prev?.phase !== next.phase || before?.reason !== after.reason)) {
    const phase = prev?.phase && prev.phase !== next.phase ? `${prev.phase} -> ${next.phase}` : (next.phase ?? "");
    out.push({ type: isWarningReason(after.reason) ? "Warning" : "Normal", reason: after.reason, message: truncate(`${phase}: ${after.message}`) });
  }
  const exposedBefore = prev?.conditions?.find((c) => c.type === "Exposed");
  const exposedAfter = next.conditions?.find((c) => c.type === "Exposed");
  if (exposedAfter && exposedAfter.reason !== exposedBefore?.reason) {
    const warn = exposedAfter.status === "False" && exposedAfter.reason !== "RoutePending";
    out.push({ type: warn ? "Warning" : "Normal", reason: exposedAfter.reason, message: truncate(exposedAfter.message) });
  }
  const f = next.lastFailure;
  if (f && f.reason !== prev?.lastFailure?.reason && !out.some((e) => e.reason === f.reason)) {
    const where = [f.pod && `pod ${f.pod}`, f.container && `container ${f.container}`].filter(Boolean).join(", ");
    out.push({ type: "Warning", reason: f.reason, message: truncate(`${where ? `${where}: ` : ""}${f.message ?? f.reason}`) });
  }
  return out;
}
