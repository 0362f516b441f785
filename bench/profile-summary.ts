// Where a .cpuprofile (node --cpu-prof, e.g. from `npm run bench -- --cpu-prof`) spends its time:
// self time by function and by package or source folder.
//   node bench/profile-summary.ts bench/results/profiles/operator-n1000.cpuprofile [--top 25]
import { readFileSync } from "node:fs";
import { numberFlag } from "./common.ts";

type Node = { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number };
type Profile = { nodes: Node[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] };

const file = process.argv[2];
if (!file) {
  process.stderr.write("usage: node bench/profile-summary.ts FILE.cpuprofile [--top N]\n");
  process.exit(2);
}
const top = numberFlag(process.argv.slice(3), "top", 25);
const p = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
for (const [i, id] of p.samples.entries()) selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

const where = (url: string): string => {
  if (url === "") return "(native / idle / gc)";
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return `node_modules/${nm[1]}`;
  if (url.startsWith("node:")) return "node: built-ins";
  const src = /\/(src|bench)\/([^/]+)\//.exec(url);
  return src ? `${src[1]}/${src[2]}` : url;
};
const fn = new Map<string, number>();
const area = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id);
  if (!n) continue;
  const f = `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url.replace(/^.*\/(src|node_modules)\//, "$1/")}:${n.callFrame.lineNumber + 1}`;
  fn.set(f, (fn.get(f) ?? 0) + us);
  area.set(where(n.callFrame.url), (area.get(where(n.callFrame.url)) ?? 0) + us);
}
const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)} %  ${(us / 1e6).toFixed(2).padStart(7)} s`;
process.stdout.write(`profile ${file}: ${(total / 1e6).toFixed(1)} s sampled\n\nself time by area:\n`);
for (const [k, us] of [...area.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`  ${pct(us)}  ${k}\n`);
process.stdout.write("\nself time by function:\n");
for (const [k, us] of [...fn.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`  ${pct(us)}  ${k}\n`);
