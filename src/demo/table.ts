// The demo's table of ModelServices: one row each, as `kubectl get msvc` would show them plus the
// Ready message, trimmed to the terminal's width.
import type { ModelService } from "../api/types.ts";

export type Row = { name: string; phase: string; replicas: string; ready: string; reason: string; message: string };

const cond = (ms: ModelService, type: string) => ms.status?.conditions?.find((c) => c.type === type);

export function rowOf(ms: ModelService): Row {
  const ready = cond(ms, "Ready");
  const desired = ms.spec.autoscaling ? undefined : (ms.spec.replicas ?? 1);
  return {
    name: ms.metadata.name ?? "",
    phase: ms.status?.phase ?? "-",
    replicas: ms.status?.replicaSummary ?? `${ms.status?.readyReplicas ?? 0}/${desired ?? "?"}`,
    ready: ready?.status ?? "-",
    reason: ready?.reason ?? "-",
    message: (ready?.message ?? "").replace(/\s+/g, " "),
  };
}

/** The table as text, messages trimmed to fit `width` columns. */
export function formatTable(rows: Row[], width = 120): string {
  const head: Row = { name: "NAME", phase: "PHASE", replicas: "READY/DESIRED", ready: "READY", reason: "REASON", message: "MESSAGE" };
  const all = [head, ...rows];
  const cols = ["name", "ready", "phase", "replicas", "reason"] as const;
  const w = Object.fromEntries(cols.map((c) => [c, Math.max(...all.map((r) => r[c].length))])) as Record<(typeof cols)[number], number>;
  const fixed = cols.reduce((n, c) => n + w[c] + 2, 0);
  const room = Math.max(10, width - fixed);
  return all
    .map((r) => {
      const msg = r.message.length > room ? `${r.message.slice(0, room - 1)}…` : r.message;
      return `${cols.map((c) => r[c].padEnd(w[c])).join("  ")}  ${msg}`.trimEnd();
    })
    .join("\n");
}

export const isReady = (ms: ModelService): boolean => cond(ms, "Ready")?.status === "True";

/** Nothing more will happen without a change: Ready, or Stalled, or not reconciling any more. */
export const isSettled = (ms: ModelService): boolean =>
  ms.status?.observedGeneration === ms.metadata.generation &&
  (isReady(ms) || cond(ms, "Stalled")?.status === "True" || (cond(ms, "Reconciling")?.status === "False" && ms.status?.phase === "Failed"));

/** "42s", "3m05s". */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
}
