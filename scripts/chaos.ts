// `npm run chaos`: the chaos drill (scripts/chaos/driver.ts) with flags; prints one line per phase
// (recovery time; orphans, duplicates, lost updates, missing, not ready) and exits 1 unless every
// count is zero, every phase converged and the operator went quiet afterwards.
//
//   npm run chaos -- [--n 200] [--kills 10] [--seed S] [--faults apiserver-restart,etcd-restart,gone,throttle,errors,stall]
//                    [--load-seconds 1] [--timeout 600]
import { parseArgs } from "node:util";
import { FAULTS, type Fault, runChaos } from "./chaos/driver.ts";

function fail(message: string): never {
  process.stderr.write(`chaos: ${message}\n`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    n: { type: "string", default: "200" },
    kills: { type: "string", default: "10" },
    seed: { type: "string" },
    faults: { type: "string", default: FAULTS.join(",") },
    "load-seconds": { type: "string", default: "1" },
    timeout: { type: "string", default: "600" },
  },
  strict: true,
});
const int = (flag: string, v: string | undefined, min: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) fail(`--${flag} needs an integer >= ${min}, got ${JSON.stringify(v)}`);
  return n;
};
const faults = (values.faults ?? "")
  .split(",")
  .filter(Boolean)
  .map((f) => {
    if (!(FAULTS as readonly string[]).includes(f)) fail(`--faults: unknown fault ${JSON.stringify(f)}; known: ${FAULTS.join(", ")}`);
    return f as Fault;
  });
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : int("seed", values.seed, 0);

runChaos({
  n: int("n", values.n, 1),
  kills: int("kills", values.kills, 0),
  seed,
  faults,
  loadSeconds: Number(values["load-seconds"]),
  convergeTimeoutMs: int("timeout", values.timeout, 10) * 1000,
}).then(
  (r) => {
    process.stdout.write(`chaos: ${r.ok ? "PASS" : "FAIL"} (seed ${r.seed}; replay with --seed ${r.seed})\n`);
    process.exit(r.ok ? 0 : 1);
  },
  (e: unknown) => {
    process.stderr.write(`chaos failed (seed ${seed}): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
