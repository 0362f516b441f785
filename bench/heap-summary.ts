// What a .heapsnapshot (e.g. from `npm run bench -- --heap-snapshot`) holds: live JavaScript heap
// by object type and constructor (self sizes; a heap snapshot only has objects reachable after a
// full GC). Compare its total with the process's RSS to tell our objects from V8's head-room.
//   node bench/heap-summary.ts bench/results/profiles/Heap.…heapsnapshot [--top 25]
import { readFileSync } from "node:fs";
import { numberFlag } from "./common.ts";

type Snapshot = {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
};

const file = process.argv[2];
if (!file) {
  process.stderr.write("usage: node bench/heap-summary.ts FILE.heapsnapshot [--top N]\n");
  process.exit(2);
}
const top = numberFlag(process.argv.slice(3), "top", 25);
const snap = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
const fields = snap.snapshot.meta.node_fields;
const types = snap.snapshot.meta.node_types[0];
const [typeAt, nameAt, sizeAt] = ["type", "name", "self_size"].map((f) => fields.indexOf(f)) as [number, number, number];

// Objects by constructor; strings, arrays, code and V8's internals by type.
const groupOf = (type: string, name: string): string => {
  if (type === "object" || type === "closure" || type === "native") return `${type} ${name.slice(0, 60)}`;
  if (type === "code" || type === "hidden") return `${type} (V8: ${name.split(" / ")[0]?.slice(0, 30)})`;
  return type;
};
const bySize = new Map<string, { count: number; bytes: number }>();
let total = 0;
for (let i = 0; i < snap.nodes.length; i += fields.length) {
  const bytes = snap.nodes[i + sizeAt] as number;
  const g = groupOf(types[snap.nodes[i + typeAt] as number] as string, snap.strings[snap.nodes[i + nameAt] as number] as string);
  const e = bySize.get(g) ?? { count: 0, bytes: 0 };
  e.count++;
  e.bytes += bytes;
  bySize.set(g, e);
  total += bytes;
}
const mib = (b: number) => `${(b / 1048576).toFixed(2)} MiB`;
process.stdout.write(`${file}: ${mib(total)} of live heap in ${(snap.nodes.length / fields.length).toLocaleString("en")} objects\n\n`);
process.stdout.write("| self size | share | objects | what |\n|---|---|---|---|\n");
for (const [g, e] of [...bySize].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top))
  process.stdout.write(`| ${mib(e.bytes)} | ${((100 * e.bytes) / total).toFixed(1)} % | ${e.count.toLocaleString("en")} | ${g} |\n`);
