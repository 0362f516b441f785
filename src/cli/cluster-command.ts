// `cluster up|down|status`: a local control plane with the simulated GPU fleet that outlives the
// command (for the demo, kubectl and manual testing). Its processes, directory and kubeconfig are
// recorded in ~/.cache/modelservice-operator/cluster/state.json; `cluster down` stops them by it.
import { existsSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { cacheRoot } from "../localcluster/binaries.ts";
import { startControlPlane } from "../localcluster/control-plane.ts";
import { groupAlive, stopGroups } from "../localcluster/processes.ts";
import { parseFlags, UsageError } from "./args.ts";

const usage = `usage: modelservice-operator cluster up [--pod-ready-delay-ms N] | down | status

  up      start etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok with the
          simulated GPU fleet in the background; prints the kubeconfig to use
  down    stop them and delete their data
  status  tell whether it runs
`;

const OPTIONS = { "pod-ready-delay-ms": { type: "string" }, help: { type: "boolean", short: "h" } } as const;

type State = {
  dir: string;
  kubeconfigPath: string;
  server: string;
  binDir: string;
  auditLogPath: string;
  logDir: string;
  processes: { name: string; pid: number; logPath: string }[];
  startedAt: string;
};

const clusterDir = () => join(cacheRoot(), "cluster");
const statePath = () => join(clusterDir(), "state.json");

const readState = async (): Promise<State | undefined> => {
  if (!existsSync(statePath())) return undefined;
  try {
    return JSON.parse(await readFile(statePath(), "utf8")) as State;
  } catch {
    return undefined;
  }
};

const alive = (state: State) => state.processes.filter((p) => groupAlive(p.pid));

const printAccess = (state: State) => {
  process.stdout.write(`kubeconfig: ${state.kubeconfigPath}\nserver: ${state.server}\naudit log: ${state.auditLogPath}\nlogs: ${state.logDir}\n\n`);
  process.stdout.write(`export KUBECONFIG=${state.kubeconfigPath}\nexport PATH=${state.binDir}:$PATH   # kubectl, helm\n`);
};

const down = async (): Promise<number> => {
  const state = await readState();
  if (!state) {
    process.stderr.write("no local cluster recorded; nothing to stop\n");
    return 0;
  }
  await stopGroups(state.processes.map((p) => p.pid).reverse());
  const left = alive(state);
  await rm(state.dir, { recursive: true, force: true, maxRetries: 3 });
  await rm(statePath(), { force: true });
  if (left.length > 0) {
    process.stderr.write(`could not stop: ${left.map((p) => `${p.name} (pid ${p.pid})`).join(", ")}\n`);
    return 1;
  }
  process.stderr.write(`local cluster stopped; removed ${state.dir}\n`);
  return 0;
};

const up = async (podReadyDelayMs: number | undefined): Promise<number> => {
  const existing = await readState();
  if (existing) {
    const running = alive(existing);
    if (running.length === existing.processes.length) {
      process.stderr.write("the local cluster is already running\n");
      printAccess(existing);
      return 0;
    }
    process.stderr.write("a previous local cluster is partly gone; cleaning it up\n");
    await down();
  }
  const dir = join(clusterDir(), "run");
  await rm(dir, { recursive: true, force: true });
  const cp = await startControlPlane({
    dir,
    persistent: true,
    podReadyDelayMs,
    onProgress: (line) => process.stderr.write(`${line}\n`),
  });
  const state: State = {
    dir: cp.dir,
    kubeconfigPath: cp.kubeconfigPath,
    server: cp.server,
    binDir: cp.binDir,
    auditLogPath: cp.auditLogPath,
    logDir: cp.logDir,
    processes: cp.processes,
    startedAt: new Date().toISOString(),
  };
  await writeFile(statePath(), `${JSON.stringify(state, null, 2)}\n`);
  process.stderr.write(`local cluster up in ${(cp.startupMs / 1000).toFixed(1)}s; stop it with: npm run cluster:down\n`);
  printAccess(state);
  return 0;
};

const status = async (): Promise<number> => {
  const state = await readState();
  if (!state) {
    process.stdout.write("not running\n");
    return 1;
  }
  const running = new Set(alive(state).map((p) => p.pid));
  for (const p of state.processes) process.stdout.write(`${p.name.padEnd(24)} pid ${String(p.pid).padEnd(8)} ${running.has(p.pid) ? "running" : "GONE"}\n`);
  printAccess(state);
  return running.size === state.processes.length ? 0 : 1;
};

export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseFlags<typeof OPTIONS>>;
  try {
    parsed = parseFlags(argv, OPTIONS);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`modelservice-operator cluster: ${e.message}\n\n${usage}`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const [sub, ...extra] = parsed.positionals;
  if (extra.length > 0) {
    process.stderr.write(`modelservice-operator cluster: ${extra[0]}: unexpected argument\n\n${usage}`);
    return 2;
  }
  const delayArg = parsed.values["pod-ready-delay-ms"];
  const delay = delayArg === undefined ? undefined : Number(delayArg);
  if (delay !== undefined && !(/^\d+$/.test(delayArg ?? "") && Number.isSafeInteger(delay))) {
    process.stderr.write(`modelservice-operator cluster: --pod-ready-delay-ms: ${JSON.stringify(delayArg)} is not a whole number of milliseconds\n\n${usage}`);
    return 2;
  }
  switch (sub) {
    case "up":
      return up(delay);
    case "down":
      return down();
    case "status":
      return status();
    default:
      process.stderr.write(`modelservice-operator cluster: ${sub === undefined ? "say up, down or status" : `${sub}: unknown subcommand`}\n\n${usage}`);
      return 2;
  }
}
