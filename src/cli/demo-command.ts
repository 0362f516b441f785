// `npm start` / `modelservice-operator demo`: flags, then src/demo/run.ts does the rest.
import { fileURLToPath } from "node:url";
import { type DemoOptions, runDemo } from "../demo/run.ts";
import { parseDuration } from "../operator/options.ts";
import { noPositionals, parseFlags, UsageError } from "./args.ts";

const EXAMPLES_DIR = fileURLToPath(new URL("../../examples/", import.meta.url));

const usage = `usage: modelservice-operator demo [flags]

Runs the operator on the current cluster (KUBECONFIG or ~/.kube/config, if reachable) or on a local
control plane with simulated GPU nodes, applies the examples and shows their status live. On the
local cluster it also plays a short scene: three models that cannot serve (no GPUs free, no node
with that GPU, an engine that crashes), the fix for each, and each turning Ready.

flags:
  --kubeconfig FILE     use this cluster (default: KUBECONFIG / ~/.kube/config, else a local one)
  --local               always start the local control plane
  --namespace NS        where the examples go (default demo)
  --examples DIR        directory of example manifests (default examples/)
  --scene, --no-scene   play the scene (default: on the local cluster only; it needs kwok's
                        simulated GPU fleet)
  --until-ready         no live table: print changes, exit once every ModelService is Ready (0)
                        or has settled without being Ready (1)
  --once                print the table once the operator has reported on every example, and exit
  --timeout DURATION    give up after this long (default 10m with --until-ready / --once; exit 1)
  --keep                leave the examples in place on exit (existing cluster only)
  --simulate-load N     simulated cluster: pods take N seconds to load the model (default 5)
`;

const OPTIONS = {
  kubeconfig: { type: "string" },
  local: { type: "boolean" },
  namespace: { type: "string" },
  examples: { type: "string" },
  scene: { type: "boolean" },
  "until-ready": { type: "boolean" },
  once: { type: "boolean" },
  timeout: { type: "string" },
  keep: { type: "boolean" },
  "simulate-load": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** The demo's options; throws UsageError naming the flag. "help" when asked for usage. */
export function parseDemoArgs(argv: string[]): DemoOptions | "help" {
  const { values: v, positionals } = parseFlags(argv, OPTIONS);
  if (v.help) return "help";
  noPositionals(positionals);
  if (v["until-ready"] && v.once) throw new UsageError("--once", "cannot be combined with --until-ready");
  const o: DemoOptions = {
    kubeconfig: v.kubeconfig,
    local: v.local ?? false,
    namespace: v.namespace ?? "demo",
    examplesDir: v.examples ?? EXAMPLES_DIR,
    scene: v.scene,
    mode: v["until-ready"] ? "until-ready" : v.once ? "once" : "live",
    keep: v.keep ?? false,
    simulateLoadSeconds: 5,
  };
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(o.namespace) || o.namespace.length > 63)
    throw new UsageError("--namespace", `${JSON.stringify(o.namespace)} is not a namespace name`);
  if (v.timeout !== undefined) {
    const ms = parseDuration(v.timeout);
    if (ms === undefined || ms <= 0) throw new UsageError("--timeout", `${JSON.stringify(v.timeout)} is not a duration such as 90s or 10m`);
    o.timeoutMs = ms;
  }
  if (v["simulate-load"] !== undefined) {
    if (!/^\d+$/.test(v["simulate-load"])) throw new UsageError("--simulate-load", `${JSON.stringify(v["simulate-load"])} is not a whole number of seconds`);
    o.simulateLoadSeconds = Number(v["simulate-load"]);
  }
  if (o.mode !== "live") o.timeoutMs ??= 10 * 60_000;
  return o;
}

export async function main(argv: string[]): Promise<number> {
  let o: DemoOptions | "help";
  try {
    o = parseDemoArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`modelservice-operator demo: ${e.message}\n\n${usage}`);
    return 2;
  }
  if (o === "help") {
    process.stdout.write(usage);
    return 0;
  }
  return runDemo(o);
}
