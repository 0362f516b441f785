// Helpers shared by the benchmarks: flags, a forced garbage collection, number formatting.
// Benchmarks print numbers with the ratio to a baseline measured in the same run; they assert nothing.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** `--name value` or `--name=value` from argv, as a number; `fallback` when absent. */
export function numberFlag(argv: string[], name: string, fallback: number): number {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    let value: string | undefined;
    if (arg === `--${name}`) value = argv[i + 1];
    else if (arg.startsWith(`--${name}=`)) value = arg.slice(name.length + 3);
    else continue;
    const n = Number(value);
    if (value === undefined || value === "" || !Number.isFinite(n) || n < 0) {
      process.stderr.write(`--${name} needs a non-negative number, got ${JSON.stringify(value)}\n`);
      process.exit(2);
    }
    return n;
  }
  return fallback;
}

let gcFn: (() => void) | undefined;

/**
 * A full garbage collection: global.gc under `node --expose-gc`, otherwise the flag is set at run
 * time and gc taken from a fresh context (V8 installs it there once the flag is on).
 */
export function forceGc(): { gc: () => void; source: string } {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return { gc: g, source: "--expose-gc" };
  if (!gcFn) {
    setFlagsFromString("--expose-gc");
    gcFn = runInNewContext("gc") as () => void;
  }
  return { gc: gcFn, source: "v8.setFlagsFromString('--expose-gc')" };
}

/** Heap used and RSS after full collections, letting finalizers and pending callbacks run in between. */
export async function settledMemory(): Promise<{ heapUsed: number; rss: number }> {
  const { gc } = forceGc();
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss };
}

export const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
export const ratio = (value: number, baseline: number): string => (baseline > 0 ? `×${(value / baseline).toFixed(2)}` : "×n/a");
export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length === 0 ? Number.NaN : s.length % 2 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};
export const pad = (s: string | number, n: number): string => String(s).padStart(n);
