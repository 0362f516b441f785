// Render benchmark: how long render() and render()+childrenYaml() take per example, against the
// cost floor of touching the same ModelService (a structuredClone of it) measured in the same
// process, and whether 100k renders leave heap behind.
//
//   node --expose-gc bench/render.bench.ts [--n 2000] [--rounds 7] [--warmup 300] [--heap-renders 100000]
//
// (without --expose-gc the flag is turned on at run time.) Each variant runs in `rounds` interleaved
// rounds of n/rounds iterations; the median round is printed, so a neighbour stealing the CPU for a
// moment moves one round, not the result. Prints numbers, asserts nothing.
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { modelServiceSchema } from "../src/api/schema.ts";
import type { ModelService } from "../src/api/types.ts";
import { PLACEHOLDER_UID } from "../src/cli/render-command.ts";
import { defaultOperatorConfig } from "../src/config/operator-config.ts";
import { childrenYaml, render } from "../src/render/index.ts";
import { forceGc, median, mib, numberFlag, pad, ratio, settledMemory } from "./common.ts";

const argv = process.argv.slice(2);
const N = numberFlag(argv, "n", 2000);
const ROUNDS = Math.max(1, numberFlag(argv, "rounds", 7));
const WARMUP = numberFlag(argv, "warmup", 300);
const HEAP_RENDERS = numberFlag(argv, "heap-renders", 100_000);

const examplesDir = fileURLToPath(new URL("../examples/", import.meta.url));
const examples = readdirSync(examplesDir)
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .map((file) => {
    // As `render -f` and the golden test see them: namespace and uid filled in, schema defaults applied.
    const raw = parse(readFileSync(join(examplesDir, file), "utf8"));
    raw.metadata = { namespace: "default", uid: PLACEHOLDER_UID, ...raw.metadata };
    return { name: basename(file, ".yaml"), ms: modelServiceSchema.parse(raw) as ModelService };
  });

// Results go into a sink the optimiser cannot see through.
let sink = 0;
const variants = {
  clone: (ms: ModelService) => {
    sink += structuredClone(ms).metadata.name?.length ?? 0;
  },
  render: (ms: ModelService) => {
    sink += render(ms, defaultOperatorConfig).deployment?.spec?.replicas ?? 1;
  },
  renderYaml: (ms: ModelService) => {
    sink += childrenYaml(render(ms, defaultOperatorConfig)).length;
  },
} as const;
type Variant = keyof typeof variants;
const ORDER: Variant[] = ["clone", "render", "renderYaml"];

/** Median per-call µs over `ROUNDS` interleaved rounds, for every variant. */
function measure(ms: ModelService): Record<Variant, number> {
  const perRound = Math.max(1, Math.round(N / ROUNDS));
  for (const v of ORDER) for (let i = 0; i < WARMUP; i++) variants[v](ms);
  const samples: Record<Variant, number[]> = { clone: [], render: [], renderYaml: [] };
  for (let r = 0; r < ROUNDS; r++) {
    // Rotate the order so no variant always runs right after another one's garbage.
    for (let k = 0; k < ORDER.length; k++) {
      const v = ORDER[(r + k) % ORDER.length] as Variant;
      const fn = variants[v];
      const t0 = performance.now();
      for (let i = 0; i < perRound; i++) fn(ms);
      samples[v].push(((performance.now() - t0) * 1000) / perRound);
    }
  }
  return { clone: median(samples.clone), render: median(samples.render), renderYaml: median(samples.renderYaml) };
}

const gcSource = forceGc().source;
console.log(`render benchmark — node ${process.version}, ${examples.length} examples, n=${N} per variant (${ROUNDS} rounds, median), warm-up ${WARMUP}`);
console.log("baseline: structuredClone of the same ModelService; ratios are to that baseline\n");
const nameWidth = Math.max(...examples.map((e) => e.name.length), 7);
console.log(
  `${"example".padEnd(nameWidth)}  ${pad("clone µs", 9)}  ${pad("render µs", 10)} ${pad("ratio", 8)}  ${pad("render+yaml µs", 14)} ${pad("ratio", 8)}`,
);
const all: Record<Variant, number>[] = [];
for (const { name, ms } of examples) {
  const r = measure(ms);
  all.push(r);
  console.log(
    `${name.padEnd(nameWidth)}  ${pad(r.clone.toFixed(1), 9)}  ${pad(r.render.toFixed(1), 10)} ${pad(ratio(r.render, r.clone), 8)}  ${pad(r.renderYaml.toFixed(1), 14)} ${pad(ratio(r.renderYaml, r.clone), 8)}`,
  );
}
const mean = (v: Variant) => all.reduce((s, r) => s + r[v], 0) / all.length;
console.log(
  `${"mean".padEnd(nameWidth)}  ${pad(mean("clone").toFixed(1), 9)}  ${pad(mean("render").toFixed(1), 10)} ${pad(ratio(mean("render"), mean("clone")), 8)}  ${pad(mean("renderYaml").toFixed(1), 14)} ${pad(ratio(mean("renderYaml"), mean("clone")), 8)}`,
);

// Heap after many renders: what stays reachable once the renders' garbage is collected.
// Baseline: the same number of structuredClones in the same process.
async function heapGrowth(v: Variant, count: number): Promise<{ heap: number; rss: number; ms: number }> {
  const before = await settledMemory();
  const t0 = performance.now();
  const fn = variants[v];
  for (let i = 0; i < count; i++) fn((examples[i % examples.length] as (typeof examples)[number]).ms);
  const elapsed = performance.now() - t0;
  const after = await settledMemory();
  return { heap: after.heapUsed - before.heapUsed, rss: after.rss - before.rss, ms: elapsed };
}
console.log(`\nheap growth after ${HEAP_RENDERS} calls, cycling through the examples (full GC before and after, via ${gcSource}):`);
const start = await settledMemory();
const cloneGrowth = await heapGrowth("clone", HEAP_RENDERS);
const renderGrowth = await heapGrowth("render", HEAP_RENDERS);
const kib = (b: number) => `${b >= 0 ? "+" : ""}${(b / 1024).toFixed(0)} KiB`;
console.log(`  structuredClone (baseline): heap ${kib(cloneGrowth.heap)}, RSS ${kib(cloneGrowth.rss)} (${(cloneGrowth.ms / 1000).toFixed(1)} s)`);
console.log(
  `  render():                   heap ${kib(renderGrowth.heap)}, RSS ${kib(renderGrowth.rss)} (${(renderGrowth.ms / 1000).toFixed(1)} s; ${((renderGrowth.ms * 1000) / HEAP_RENDERS).toFixed(1)} µs/render)`,
);
const end = await settledMemory();
console.log(`  process: heap ${mib(start.heapUsed)} → ${mib(end.heapUsed)}, RSS ${mib(start.rss)} → ${mib(end.rss)} ${ratio(end.rss, start.rss)}`);
if (sink === -1) console.log(sink); // keeps the sink alive
