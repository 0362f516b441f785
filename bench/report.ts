// The scale benchmark's output: one JSON file per run, a Markdown table and an SVG chart of
// ModelServices Ready over time (ours against the floor), hand-written, no dependency.
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export type Converge = {
  createSeconds: number;
  childrenTotal: number;
  readyTotal: number;
  childrenP: [number, number];
  readyP: [number, number];
  readyCurve: number[];
  ok: boolean;
};
export type SizeResult = {
  n: number;
  nodes: number;
  ours: Converge & {
    requests: Record<string, number>;
    writes: number;
    reconciles: number;
    queue: { maxDepth: number; waitP50: number; waitP99: number };
    memory: { idleRssKiB: number; loadedRssKiB: number; peakRssKiB: number; resyncRssKiB: number };
    cpu: { convergeSeconds: number; totalSeconds: number; idlePerMinute: number; idleReconciles?: number };
    resync: { reconciles: number; writes: number; requests: Record<string, number> };
    observedGeneration: { rate: number; changes: number; p50: number; p99: number };
  };
  floor: Converge & { requests: Record<string, number>; writes: number };
};
export type Run = { machine: string; workers: number; loadSeconds: number; command: string; operator: string; results: SizeResult[] };

const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : "n/a");
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : "n/a");
const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;
const total = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

/** Bytes per ModelService from the slope of loaded RSS over N (needs two sizes). */
export function bytesPerModelService(results: SizeResult[]): number | undefined {
  if (results.length < 2) return undefined;
  const a = results[0] as SizeResult;
  const b = results.at(-1) as SizeResult;
  return ((b.ours.memory.loadedRssKiB - a.ours.memory.loadedRssKiB) * 1024) / (b.n - a.n);
}

export function markdown(run: Run): string {
  const rows: string[][] = [["", ...run.results.map((r) => `N = ${r.n}`)]];
  const row = (label: string, fn: (r: SizeResult) => string) => rows.push([label, ...run.results.map(fn)]);
  row("**all Ready, ours / floor**", (r) => `**${f1(r.ours.readyTotal)} s / ${f1(r.floor.readyTotal)} s = ×${f2(r.ours.readyTotal / r.floor.readyTotal)}**`);
  row(
    "all children exist, ours / floor",
    (r) => `${f1(r.ours.childrenTotal)} s / ${f1(r.floor.childrenTotal)} s = ×${f2(r.ours.childrenTotal / r.floor.childrenTotal)}`,
  );
  row("per object to Ready p50 / p99, ours", (r) => `${f1(r.ours.readyP[0])} / ${f1(r.ours.readyP[1])} s`);
  row("per object to Ready p50 / p99, floor", (r) => `${f1(r.floor.readyP[0])} / ${f1(r.floor.readyP[1])} s`);
  row("per object to all children p50 / p99, ours", (r) => `${f1(r.ours.childrenP[0])} / ${f1(r.ours.childrenP[1])} s`);
  row("per object to all children p50 / p99, floor", (r) => `${f1(r.floor.childrenP[0])} / ${f1(r.floor.childrenP[1])} s`);
  row("requests per ModelService, ours / floor", (r) => `${f2(total(r.ours.requests) / r.n)} / ${f2(total(r.floor.requests) / r.n)}`);
  row("writes per ModelService, ours / floor", (r) => `${f2(r.ours.writes / r.n)} / ${f2(r.floor.writes / r.n)}`);
  row("reconciles per ModelService", (r) => f2(r.ours.reconciles / r.n));
  row("writes in a full resync of N unchanged (restart)", (r) => `${r.ours.resync.writes} (${r.ours.resync.reconciles} reconciles)`);
  row(
    "spec change → observedGeneration p50 / p99",
    (r) => `${f2(r.ours.observedGeneration.p50)} / ${f2(r.ours.observedGeneration.p99)} s at ${r.ours.observedGeneration.rate}/s`,
  );
  row("queue depth max; wait p50 / p99", (r) => `${r.ours.queue.maxDepth}; ${f2(r.ours.queue.waitP50)} / ${f2(r.ours.queue.waitP99)} s`);
  row(
    "operator RSS idle / all Ready / peak",
    (r) => `${mib(r.ours.memory.idleRssKiB)} / ${mib(r.ours.memory.loadedRssKiB)} / ${mib(r.ours.memory.peakRssKiB)}`,
  );
  row("operator RSS after a restart with N", (r) => mib(r.ours.memory.resyncRssKiB));
  row(
    "operator CPU to converge; idle per minute (reconciles in the idle 30 s)",
    (r) =>
      `${f1(r.ours.cpu.convergeSeconds)} s; ${f2(r.ours.cpu.idlePerMinute)} s/min${r.ours.cpu.idleReconciles === undefined ? "" : ` (${r.ours.cpu.idleReconciles})`}`,
  );
  const bpm = bytesPerModelService(run.results);
  const table = rows.map((r, i) => `| ${r.join(" | ")} |${i === 0 ? `\n|${r.map(() => "---").join("|")}|` : ""}`).join("\n");
  const reqs = run.results
    .map((r) => {
      const keys = [...new Set([...Object.keys(r.ours.requests), ...Object.keys(r.floor.requests)])].sort();
      return [
        `Requests per ModelService at N = ${r.n} (audit log, by user agent):\n`,
        "| verb resource | ours | floor |",
        "|---|---|---|",
        ...keys.map((k) => `| ${k} | ${f2((r.ours.requests[k] ?? 0) / r.n)} | ${f2((r.floor.requests[k] ?? 0) / r.n)} |`),
      ].join("\n");
    })
    .join("\n\n");
  return [
    `Machine: ${run.machine} (shared with other work). Command: \`${run.command}\`. ${run.workers} workers on both sides, simulated model load ${run.loadSeconds} s. Operator: ${run.operator}.`,
    "",
    table,
    "",
    bpm === undefined ? "" : `RSS growth from the slope: ${(bpm / 1024).toFixed(1)} KiB per ModelService.`,
    "",
    reqs,
    "",
  ].join("\n");
}

/** ModelServices Ready over time, one line per side and size. */
export function svg(run: Run): string {
  const W = 720;
  const H = 360;
  const L = 60;
  const B = 40;
  const series = run.results.flatMap((r) => [
    { label: `ours N=${r.n}`, curve: r.ours.readyCurve, n: r.n, dash: "" },
    { label: `floor N=${r.n}`, curve: r.floor.readyCurve, n: r.n, dash: "6 4" },
  ]);
  const tMax = Math.max(1, ...series.map((s) => s.curve.at(-1) ?? 0));
  const nMax = Math.max(1, ...series.map((s) => s.n));
  const x = (t: number) => L + (t / tMax) * (W - L - 20);
  const y = (c: number) => H - B - (c / nMax) * (H - B - 20);
  const colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];
  const lines = series.map((s, i) => {
    const step = Math.max(1, Math.floor(s.curve.length / 200));
    const pts = [`${x(0).toFixed(1)},${y(0).toFixed(1)}`];
    s.curve.forEach((t, j) => {
      if (j % step === 0 || j === s.curve.length - 1) pts.push(`${x(t).toFixed(1)},${y(j + 1).toFixed(1)}`);
    });
    const color = colors[Math.floor(i / 2) % colors.length];
    return `<polyline fill="none" stroke="${color}" stroke-width="2" stroke-dasharray="${s.dash}" points="${pts.join(" ")}"/>\n<text x="${W - 150}" y="${30 + i * 16}" font-size="12" fill="${color}">${s.dash ? "- -" : "——"} ${s.label}</text>`;
  });
  const ticks = [0, 0.25, 0.5, 0.75, 1].map(
    (q) =>
      `<text x="${x(q * tMax).toFixed(1)}" y="${H - B + 16}" font-size="11" text-anchor="middle">${(q * tMax).toFixed(0)} s</text>` +
      `<text x="${L - 6}" y="${(y(q * nMax) + 4).toFixed(1)}" font-size="11" text-anchor="end">${Math.round(q * nMax)}</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<title>ModelServices Ready over time: operator against the floor</title>
<rect width="${W}" height="${H}" fill="white"/>
<text x="${L}" y="14" font-size="13">ModelServices Ready over time since the first create (solid: operator, dashed: floor)</text>
<line x1="${L}" y1="${H - B}" x2="${W - 20}" y2="${H - B}" stroke="black"/><line x1="${L}" y1="20" x2="${L}" y2="${H - B}" stroke="black"/>
${ticks.join("\n")}
${lines.join("\n")}
</svg>
`;
}

export function writeResults(dir: string, run: Run): { paths: string[]; markdown: string } {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
  const base = join(dir, `scale-${stamp}-n${run.results.map((r) => r.n).join("-")}`);
  const md = markdown(run);
  writeFileSync(`${base}.json`, `${JSON.stringify(run, null, 1)}\n`);
  writeFileSync(`${base}.md`, md);
  writeFileSync(`${base}.svg`, svg(run));
  return { paths: [`${base}.json`, `${base}.md`, `${base}.svg`], markdown: md };
}
