// Small pure helpers for status messages: times, durations, plurals, length bounds and redaction.

/** Longest condition / failure message the CRD accepts. */
export const MAX_MESSAGE = 1024;

/**
 * Milliseconds since the epoch of a Kubernetes timestamp. The client library types say Date, but
 * objects read as plain JSON (informer caches, tests) carry RFC 3339 strings: accept both.
 */
export function toMs(t: Date | string | number | null | undefined): number | undefined {
  if (t === null || t === undefined) return undefined;
  const v = t instanceof Date ? t.getTime() : typeof t === "number" ? t : Date.parse(t);
  return Number.isFinite(v) ? v : undefined;
}

/** RFC 3339 with second precision, as Kubernetes writes metav1.Time. */
export const rfc3339 = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");

/**
 * A duration for people: "45s", "3m12s", "1h05m". Budgets show seconds only when they have them
 * ("30m", "1m30s"); elapsed times are shown to the second (the caller decides how often to refresh).
 */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0)
    return m === 0 && s === 0 ? `${h}h` : s === 0 ? `${h}h${String(m).padStart(2, "0")}m` : `${h}h${String(m).padStart(2, "0")}m${String(s).padStart(2, "0")}s`;
  if (m > 0) return s === 0 ? `${m}m` : `${m}m${String(s).padStart(2, "0")}s`;
  return `${s}s`;
}

/**
 * An elapsed time at minute resolution ("<1m", "3m", "1h05m"). Status messages use it so that a
 * recomputation a few seconds later yields the same text: a message that changes every second would
 * make every reconcile write the status, and every write trigger another reconcile.
 */
export function formatElapsed(ms: number): string {
  const minutes = Math.floor(Math.max(0, ms) / 60_000);
  if (minutes === 0) return "<1m";
  return formatDuration(minutes * 60_000);
}

export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** Cut a message to at most `max` characters, ending with an ellipsis when cut. */
export function truncate(s: string, max = MAX_MESSAGE): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

const REDACTED = "[redacted]";
const REDACTIONS: [RegExp, string][] = [
  // Authorization: Bearer <token> (before key=value, which would stop at "Bearer")
  [/(bearer\s+)[A-Za-z0-9._~+/-]+=*/gi, `$1${REDACTED}`],
  // key=value / key: value where the key names a secret (token=..., "password": "...", AWS_SECRET_ACCESS_KEY=...)
  [
    /((?:token|secret|password|passwd|pwd|api[_-]?key|access[_-]?key|private[_-]?key|credentials?|authorization)["']?\s*[:=]\s*["']?)[^\s"',;}]+/gi,
    `$1${REDACTED}`,
  ],
  // Hugging Face, AWS, GitHub, OpenAI-style tokens wherever they appear
  [/\bhf_[A-Za-z0-9]{16,}\b/g, REDACTED],
  [/\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, REDACTED],
  [/\bgh[pousr]_[A-Za-z0-9]{20,}\b/g, REDACTED],
  [/\bsk-[A-Za-z0-9_-]{20,}\b/g, REDACTED],
  // user:password@ in URLs
  [/(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+:[^/\s@]+@/gi, `$1${REDACTED}@`],
  // long opaque strings (base64 / hex secrets), but not image digests (sha256:...)
  [/(?<![A-Za-z0-9+/:])[A-Za-z0-9+/]{40,}={0,2}/g, REDACTED],
];

/**
 * Remove anything that could be a secret value from a message copied from the cluster (container
 * termination messages, admission errors). Status only ever names Secrets; it never carries values.
 */
export function redact(s: string): string {
  let out = s;
  for (const [re, by] of REDACTIONS) out = out.replace(re, by);
  return out;
}

/**
 * A message copied from the cluster: redacted, on one line, bounded. A long message keeps its
 * beginning and its end, where runtimes put the root cause ("...: not found").
 */
export function quote(s: string | undefined, max = 300): string {
  if (!s) return "";
  const one = redact(s).replace(/\s+/g, " ").trim();
  if (one.length <= max) return one;
  const head = Math.floor(max / 3);
  return `${one.slice(0, head)} … ${one.slice(one.length - (max - head - 3))}`;
}

/** The last meaningful line of a termination message (the exception, for a Python traceback). */
export function lastLine(s: string | undefined): string | undefined {
  const lines = (s ?? "")
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.length ? lines[lines.length - 1] : undefined;
}
