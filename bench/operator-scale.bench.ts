// Operator scale benchmark against the bare-API floor. For each N (default 100 and 1000):
//   1. a fresh local control plane (real kube-apiserver, kwok GPU nodes, enough for N × 1 GPU);
//      the operator runs as its own process, as the image runs it (compiled `build/cli/main.js`, with the
//      Dockerfile's NODE_OPTIONS and MALLOC_ARENA_MAX), so its RSS and CPU are its own;
//      N ModelServices are created at once; we time until every child exists and every one is Ready,
//      count the operator's requests (audit log, by user agent), restart it for a forced full resync
//      of N unchanged ModelServices (writes must be 0), then change specs at a steady rate and time
//      spec change → status.observedGeneration.
//   2. another fresh control plane where the floor (bench/floor.ts) does the same with no operator logic.
// Headline: our time to all-Ready as a ratio to the floor's. Writes bench/results/<stamp>.{json,md,svg}.
//
//   node bench/operator-scale.bench.ts [--n 100,1000] [--workers 16] [--rate 20] [--change-seconds 15]
//        [--load-seconds 1] [--timeout 600] [--cpu-prof] [--heap-snapshot] [--out bench/results]
//
// Bounded: each phase has a timeout, and a hard deadline (sum of the per-size budgets) kills the
// operator process and every control plane (their exit handlers) and exits 3.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { API_VERSION, PLURAL } from "../src/api/schema.ts";
import type { ModelService } from "../src/api/types.ts";
import { defaultOperatorConfig } from "../src/config/operator-config.ts";
import { KubeClient, loadKubeConfig, resourcePath } from "../src/kube/client.ts";
import { Informer } from "../src/kube/informer.ts";
import { type AuditEvent, auditMark, readAuditEvents } from "../src/localcluster/audit.ts";
import { type ControlPlane, startControlPlane } from "../src/localcluster/control-plane.ts";
import { h100Fleet } from "../src/localcluster/fleet.ts";
import { freePort } from "../src/localcluster/processes.ts";
import { installCrd } from "../src/operator/install-crd.ts";
import { CHILD_KINDS, childKinds, orderedChildren, render } from "../src/render/index.ts";
import { numberFlag } from "./common.ts";
import { startFloor } from "./floor.ts";
import { imageEnvOf } from "./image-runtime.ts";
import { type Converge, type SizeResult, writeResults } from "./report.ts";

const argv = process.argv.slice(2);
const stringFlag = (name: string): string | undefined => {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  const a = argv[i] as string;
  return a.includes("=") ? a.slice(a.indexOf("=") + 1) : argv[i + 1];
};
const SIZES = (stringFlag("n") ?? "100,1000").split(",").map((s) => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`--n needs positive integers separated by commas, got ${JSON.stringify(s)}\n`);
    process.exit(2);
  }
  return n;
});
const WORKERS = Math.max(1, Math.round(numberFlag(argv, "workers", 16)));
const RATE = numberFlag(argv, "rate", 20);
const CHANGE_SECONDS = numberFlag(argv, "change-seconds", 15);
const LOAD_SECONDS = numberFlag(argv, "load-seconds", 1);
const TIMEOUT_S = numberFlag(argv, "timeout", 600);
const CPU_PROF = argv.includes("--cpu-prof");
const HEAP_SNAPSHOT = argv.includes("--heap-snapshot");
const OUT_DIR = stringFlag("out") ?? fileURLToPath(new URL("./results/", import.meta.url));
const CONCURRENCY = 16;
const GPUS_PER_NODE = 8;
const NS = "bench";
const BENCH_UA = "modelservice-bench";
const FLOOR_UA = "modelservice-floor";
const OPERATOR_UA = "modelservice-operator/";
const REPO = fileURLToPath(new URL("../", import.meta.url));

const t0 = performance.now();
const since = (t: number) => performance.now() - t;
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const log = (line: string) => process.stdout.write(`${line}\n`);
const note = (line: string) => process.stderr.write(`[${secs(since(t0))}] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quiet = pino({ level: "silent" });

// Everything this process started that is not a control plane (those clean up on exit themselves).
const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => process.exit(130));
// Three phases wait up to the timeout (ours to Ready, the rollouts after the changes, the floor to
// Ready), on top of creating N twice and two control planes: a slow run inside its phase budgets
// must finish and report, not be killed.
const hardDeadlineS = SIZES.length * (3 * TIMEOUT_S + 600);
setTimeout(() => {
  process.stderr.write(`operator-scale bench: hard deadline of ${hardDeadlineS} s reached; killing everything it started\n`);
  process.exit(3);
}, hardDeadlineS * 1000).unref();

const quantile = (sorted: number[], q: number): number =>
  sorted.length === 0 ? Number.NaN : (sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * q) - 1))] as number);

// --- the operator as a separate process -------------------------------------------------------

type Proc = { rssKiB: number; hwmKiB: number; cpuSeconds: number };
function procStats(pid: number): Proc {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN);
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of /proc/pid/stat (1-based), i.e. 11 and 12 after "state".
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssKiB: kib("VmRSS"), hwmKiB: kib("VmHWM"), cpuSeconds: ticks / 100 };
}

/** The operator as it ships: compiled (`npm run build`, as the image's build stage does), run with the image's Node settings. */
function buildOperator(): void {
  note("building the operator (tsc -p tsconfig.build.json)");
  const r = spawnSync(process.execPath, [join(REPO, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], { cwd: REPO, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`the operator does not build: ${r.stdout}${r.stderr}`);
}
const IMAGE_ENV = imageEnvOf(join(REPO, "Dockerfile"));

type Operator = { proc: ChildProcess; pid: number; port: number; stop(): Promise<void> };
async function startOperatorProcess(cp: ControlPlane, tag: string): Promise<Operator> {
  const port = await freePort();
  const nodeFlags = [];
  if (CPU_PROF) nodeFlags.push("--cpu-prof", `--cpu-prof-dir=${join(OUT_DIR, "profiles")}`, `--cpu-prof-name=operator-${tag}.cpuprofile`);
  if (HEAP_SNAPSHOT) nodeFlags.push("--heapsnapshot-signal=SIGUSR2", `--diagnostic-dir=${join(OUT_DIR, "profiles")}`);
  const args = [
    ...nodeFlags,
    "build/cli/main.js",
    "run",
    `--kubeconfig=${cp.kubeconfigPath}`,
    `--namespaces=${NS}`,
    `--http-addr=127.0.0.1:${port}`,
    `--workers=${WORKERS}`,
    "--log-level=warn",
    "--resync-period=1h",
    // Writing a heap snapshot blocks the event loop for seconds at N = 1000; a long lease keeps that
    // pause from costing leadership (which makes the operator exit, as it should in production).
    ...(HEAP_SNAPSHOT ? ["--lease-duration=180s"] : []),
  ];
  const proc = spawn(process.execPath, args, { cwd: REPO, env: { ...process.env, ...IMAGE_ENV }, stdio: ["ignore", "ignore", "pipe"] });
  children.add(proc);
  let stderr = "";
  proc.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  let stopping = false;
  const exited = new Promise<void>((r) =>
    proc.once("exit", (code, signal) => {
      if (!stopping) note(`operator exited unexpectedly (code ${code}, signal ${signal}); its stderr ended with:\n${stderr}`);
      r();
    }),
  );
  // Generous: on a shared 2-core machine, importing client-node alone can take several seconds.
  const deadline = performance.now() + 180_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`operator exited with ${proc.exitCode}: ${stderr}`);
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    if (performance.now() > deadline) throw new Error(`operator not ready within 180 s: ${stderr}`);
    await sleep(200);
  }
  return {
    proc,
    pid: proc.pid as number,
    port,
    async stop() {
      stopping = true;
      if (proc.exitCode === null) {
        proc.kill("SIGTERM"); // lets --cpu-prof write its profile
        await Promise.race([exited, sleep(20_000)]);
        if (proc.exitCode === null) proc.kill("SIGKILL");
      }
      children.delete(proc);
    },
  };
}

const scrape = async (port: number): Promise<string> => (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
const metricValue = (text: string, name: string): number | undefined => {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
};
const metricSum = (text: string, name: string): number =>
  text
    .split("\n")
    .filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
    .reduce((s, l) => s + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);

/** Prometheus' histogram_quantile over the summed buckets of `name`. */
function histogramQuantile(text: string, name: string, q: number): number | undefined {
  const byLe = new Map<number, number>();
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}_bucket{`)) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (le === undefined) continue;
    const bound = le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le);
    byLe.set(bound, (byLe.get(bound) ?? 0) + Number(line.slice(line.lastIndexOf(" ") + 1)));
  }
  const buckets = [...byLe.entries()].sort((a, b) => a[0] - b[0]);
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total === 0) return undefined;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of buckets) {
    if (count >= q * total) {
      if (le === Number.POSITIVE_INFINITY) return prevLe;
      return prevLe + ((le - prevLe) * (q * total - prevCount)) / Math.max(count - prevCount, 1e-9);
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

// --- the run both sides share ------------------------------------------------------------------

function spec(rev = 0): Record<string, unknown> {
  return {
    model: { uri: "hf://Qwen/Qwen2.5-0.5B-Instruct" },
    engine: { type: "vLLM" },
    gpu: { count: 1 },
    podMetadata: { annotations: { "modelservice.dev/simulate-load-seconds": String(LOAD_SECONDS), ...(rev ? { "bench/rev": String(rev) } : {}) } },
  };
}
const msPath = (name?: string) => resourcePath({ apiVersion: API_VERSION, plural: PLURAL, namespace: NS, name });
const applyMs = (client: KubeClient, name: string, rev = 0) =>
  client.request<ModelService>("PATCH", msPath(name), {
    body: { apiVersion: API_VERSION, kind: "ModelService", metadata: { name, namespace: NS }, spec: spec(rev) },
    contentType: "application/apply-patch+yaml",
    query: { fieldManager: "bench-user", force: true },
  });

async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

const isReady = (ms: ModelService) => ms.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

/** Watches what the bench measures: when each ModelService's children all exist, when it is first Ready, its observedGeneration. */
async function startObserver(client: KubeClient, expectedKinds: string[]) {
  const createdAt = new Map<string, number>();
  const childrenAt = new Map<string, number>();
  const readyAt = new Map<string, number>();
  const seen = new Map<string, Set<string>>();
  const generationSeen = new Map<string, number>();
  /** Names whose latest state is Ready at their latest generation. */
  const current = new Set<string>();
  const genWaiters = new Map<string, { gen: number; resolve: () => void }[]>();
  const ms = new Informer<ModelService>({ client, apiVersion: API_VERSION, plural: PLURAL, namespaces: [NS], logger: quiet });
  ms.onEvent((type, obj) => {
    const name = obj.metadata.name as string;
    if (type === "DELETED") return;
    if (!readyAt.has(name) && isReady(obj)) readyAt.set(name, performance.now());
    const og = obj.status?.observedGeneration ?? 0;
    generationSeen.set(name, og);
    if (isReady(obj) && og === obj.metadata.generation) current.add(name);
    else current.delete(name);
    const waiting = genWaiters.get(name) ?? [];
    for (const w of waiting.filter((w) => og >= w.gen)) w.resolve();
    genWaiters.set(
      name,
      waiting.filter((w) => og < w.gen),
    );
  });
  const kinds = CHILD_KINDS.filter((k) => expectedKinds.includes(k.kind));
  const informers = kinds.map((k) => {
    const inf = new Informer({ client, apiVersion: k.apiVersion, plural: k.plural, namespaces: [NS], logger: quiet });
    inf.onEvent((type, obj) => {
      if (type !== "ADDED") return;
      const owner = obj.metadata?.ownerReferences?.find((o) => o.kind === "ModelService")?.name;
      if (!owner) return;
      const set = seen.get(owner) ?? new Set<string>();
      set.add(k.kind);
      seen.set(owner, set);
      if (set.size === kinds.length && !childrenAt.has(owner)) childrenAt.set(owner, performance.now());
    });
    return inf;
  });
  await Promise.all([ms.start(), ...informers.map((i) => i.start())]);
  return {
    createdAt,
    childrenAt,
    readyAt,
    /** How many ModelServices are Ready at their latest generation. */
    currentCount: () => current.size,
    /** Resolves when status.observedGeneration of `name` reaches `gen`. */
    observed(name: string, gen: number): Promise<void> {
      if ((generationSeen.get(name) ?? 0) >= gen) return Promise.resolve();
      return new Promise((resolve) => genWaiters.set(name, [...(genWaiters.get(name) ?? []), { gen, resolve }]));
    },
    stop() {
      ms.stop();
      for (const i of informers) i.stop();
    },
  };
}

/** Requests by "verb resource[/sub]" from clients whose user agent starts with `ua`, in NS or cluster-wide. Counts auditIDs (a watch logs twice). */
function requestsBy(events: AuditEvent[], ua: string): Record<string, number> {
  const ids = new Set<string>();
  const groups: Record<string, number> = {};
  for (const e of events) {
    if (!e.userAgent?.startsWith(ua) || ids.has(e.auditID)) continue;
    const ns = e.objectRef?.namespace;
    if (ns !== undefined && ns !== NS) continue;
    ids.add(e.auditID);
    const code = e.responseStatus?.code;
    const what = `${e.verb} ${e.objectRef?.resource ?? e.requestURI.split("?")[0]}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ""}${code === 404 ? " (404)" : code === 409 ? " (409)" : ""}`;
    groups[what] = (groups[what] ?? 0) + 1;
  }
  return groups;
}
const WRITE_VERBS = new Set(["create", "update", "patch", "delete", "deletecollection"]);
const writesIn = (groups: Record<string, number>) => Object.entries(groups).reduce((s, [k, n]) => s + (WRITE_VERBS.has(k.split(" ")[0] as string) ? n : 0), 0);

async function freshControlPlane(n: number): Promise<ControlPlane> {
  const nodes = Math.max(20, Math.ceil((n * 1.1) / GPUS_PER_NODE));
  return startControlPlane({
    auditReads: true,
    fleet: h100Fleet(nodes),
    onProgress: (l) => note(`control plane: ${l}`),
  });
}

/** Creates N ModelServices at once and waits until all are Ready (or the timeout). Times are seconds from the first create. */
async function converge(client: KubeClient, obs: Awaited<ReturnType<typeof startObserver>>, names: string[], onTick?: () => Promise<void>): Promise<Converge> {
  const start = performance.now();
  await pool(names, CONCURRENCY, async (name) => {
    obs.createdAt.set(name, performance.now());
    await applyMs(client, name);
  });
  const createSeconds = since(start) / 1000;
  let lastNote = performance.now();
  while (obs.readyAt.size < names.length && since(start) < TIMEOUT_S * 1000) {
    await sleep(250);
    await onTick?.();
    if (since(lastNote) > 15_000) {
      lastNote = performance.now();
      note(`  ${obs.childrenAt.size}/${names.length} with all children, ${obs.readyAt.size}/${names.length} Ready`);
    }
  }
  const per = (m: Map<string, number>) =>
    names.flatMap((n) => (m.has(n) ? [((m.get(n) as number) - (obs.createdAt.get(n) as number)) / 1000] : [])).sort((a, b) => a - b);
  const total = (m: Map<string, number>) => (Math.max(...m.values()) - start) / 1000;
  const ready = per(obs.readyAt);
  const kids = per(obs.childrenAt);
  const readyCurve = [...obs.readyAt.values()].map((t) => (t - start) / 1000).sort((a, b) => a - b);
  return {
    createSeconds,
    childrenTotal: total(obs.childrenAt),
    readyTotal: total(obs.readyAt),
    childrenP: [quantile(kids, 0.5), quantile(kids, 0.99)],
    readyP: [quantile(ready, 0.5), quantile(ready, 0.99)],
    readyCurve,
    ok: obs.readyAt.size === names.length,
  };
}

/** Waits until the operator's queue is empty and its reconcile count stopped moving for `quietMs`. */
async function settle(port: number, quietMs = 3000, maxMs = 120_000): Promise<void> {
  const start = performance.now();
  let last = -1;
  let lastChange = performance.now();
  while (since(start) < maxMs) {
    const text = await scrape(port);
    const total = metricSum(text, "modelservice_reconcile_total");
    const depth = metricValue(text, "modelservice_workqueue_depth") ?? 0;
    if (total !== last) {
      last = total;
      lastChange = performance.now();
    } else if (depth === 0 && since(lastChange) >= quietMs) return;
    await sleep(500);
  }
}

async function runOurs(n: number): Promise<SizeResult["ours"]> {
  note(`N=${n}: ours — starting a fresh control plane`);
  const cp = await freshControlPlane(n);
  let op: Operator | undefined;
  const client = new KubeClient(loadKubeConfig(cp.kubeconfigPath), { userAgent: BENCH_UA });
  try {
    await installCrd(client);
    await client.request("POST", "/api/v1/namespaces", { body: { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } } });
    const kinds = expectedChildKinds();
    const obs = await startObserver(client, kinds);
    op = await startOperatorProcess(cp, `n${n}`);
    await sleep(3000);
    const idle = procStats(op.pid);
    note(`N=${n}: operator idle RSS ${(idle.rssKiB / 1024).toFixed(1)} MiB; creating ${n} ModelServices`);
    const names = Array.from({ length: n }, (_, i) => `ms-${String(i).padStart(5, "0")}`);
    const mark = auditMark(cp.auditLogPath);
    let maxDepth = 0;
    const port = op.port;
    const tick = async () => {
      const d = metricValue(await scrape(port).catch(() => ""), "modelservice_workqueue_depth") ?? 0;
      maxDepth = Math.max(maxDepth, d);
    };
    const c = await converge(client, obs, names, tick);
    await settle(port);
    const metrics = await scrape(port);
    const requests = requestsBy(readAuditEvents(cp.auditLogPath, mark), OPERATOR_UA);
    const loaded = procStats(op.pid);
    const waitP50 = histogramQuantile(metrics, "modelservice_workqueue_wait_seconds", 0.5);
    const waitP99 = histogramQuantile(metrics, "modelservice_workqueue_wait_seconds", 0.99);
    const reconciles = metricSum(metrics, "modelservice_reconcile_total");
    if (HEAP_SNAPSHOT) {
      op.proc.kill("SIGUSR2");
      await sleep(15_000);
    }

    // Idle CPU: a minute of nothing changing, in CPU seconds per minute.
    const idleStart = procStats(op.pid).cpuSeconds;
    const idleReconcilesStart = metricSum(await scrape(port), "modelservice_reconcile_total");
    await sleep(30_000);
    const idleCpuPerMin = (procStats(op.pid).cpuSeconds - idleStart) * 2;
    const idleReconciles = metricSum(await scrape(port), "modelservice_reconcile_total") - idleReconcilesStart;

    // Steady spec changes at RATE/s, each to a different ModelService: change → observedGeneration.
    note(`N=${n}: ${RATE} spec changes/s for ${CHANGE_SECONDS} s`);
    const lat: number[] = [];
    const changes = Math.round(RATE * CHANGE_SECONDS);
    const pending: Promise<void>[] = [];
    const changeStart = performance.now();
    for (let i = 0; i < changes; i++) {
      const due = changeStart + (i * 1000) / RATE;
      if (due > performance.now()) await sleep(due - performance.now());
      const name = names[i % names.length] as string;
      pending.push(
        (async () => {
          const sent = performance.now();
          const res = await applyMs(client, name, 1 + Math.floor(i / names.length));
          await Promise.race([obs.observed(name, res.metadata.generation ?? 0), sleep(60_000)]);
          lat.push((performance.now() - sent) / 1000);
        })(),
      );
    }
    await Promise.all(pending);
    lat.sort((a, b) => a - b);
    const obsGen: [number, number] = [quantile(lat, 0.5), quantile(lat, 0.99)];
    // The restart below must find N unchanged ModelServices: wait for the rollouts the changes
    // started to finish (every one Ready at its latest generation), then for the queue to go quiet.
    const rolloutStart = performance.now();
    while (obs.currentCount() < n && since(rolloutStart) < TIMEOUT_S * 1000) await sleep(1000);
    note(`N=${n}: ${obs.currentCount()}/${n} Ready at their latest generation ${(since(rolloutStart) / 1000).toFixed(0)} s after the last change`);
    await settle(port);
    const afterChanges = procStats(op.pid);
    const cpuSeconds = afterChanges.cpuSeconds;
    await op.stop();

    // Forced full resync: a new operator process lists everything and reconciles all N, unchanged.
    note(`N=${n}: restarting the operator for a full resync of ${n} unchanged ModelServices`);
    const resyncMark = auditMark(cp.auditLogPath);
    op = await startOperatorProcess(cp, `n${n}-resync`);
    await sleep(1000);
    await settle(op.port, 3000);
    const resyncMetrics = await scrape(op.port);
    const resyncRequests = requestsBy(readAuditEvents(cp.auditLogPath, resyncMark), OPERATOR_UA);
    const resyncReconciles = metricSum(resyncMetrics, "modelservice_reconcile_total");
    const resyncRss = procStats(op.pid).rssKiB;
    obs.stop();
    return {
      ...c,
      requests,
      writes: writesIn(requests),
      reconciles,
      queue: { maxDepth, waitP50: waitP50 ?? Number.NaN, waitP99: waitP99 ?? Number.NaN },
      memory: { idleRssKiB: idle.rssKiB, loadedRssKiB: loaded.rssKiB, peakRssKiB: afterChanges.hwmKiB, resyncRssKiB: resyncRss },
      cpu: { convergeSeconds: loaded.cpuSeconds - idle.cpuSeconds, totalSeconds: cpuSeconds, idlePerMinute: idleCpuPerMin, idleReconciles },
      resync: { reconciles: resyncReconciles, writes: writesIn(resyncRequests), requests: resyncRequests },
      observedGeneration: { rate: RATE, changes, p50: obsGen[0], p99: obsGen[1] },
    };
  } finally {
    await op?.stop().catch(() => {});
    client.close();
    await cp.stop().catch((e: unknown) => note(`control plane stop failed: ${(e as Error).message}`));
  }
}

async function runFloor(n: number): Promise<SizeResult["floor"]> {
  note(`N=${n}: floor — starting a fresh control plane`);
  const cp = await freshControlPlane(n);
  const client = new KubeClient(loadKubeConfig(cp.kubeconfigPath), { userAgent: BENCH_UA });
  const floorClient = new KubeClient(loadKubeConfig(cp.kubeconfigPath), { userAgent: FLOOR_UA });
  let floor: Awaited<ReturnType<typeof startFloor>> | undefined;
  try {
    await installCrd(client);
    await client.request("POST", "/api/v1/namespaces", { body: { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } } });
    const obs = await startObserver(client, expectedChildKinds());
    floor = await startFloor({ client: floorClient, namespace: NS, workers: WORKERS, logger: quiet });
    const names = Array.from({ length: n }, (_, i) => `ms-${String(i).padStart(5, "0")}`);
    const mark = auditMark(cp.auditLogPath);
    const c = await converge(client, obs, names);
    await sleep(3000);
    const requests = requestsBy(readAuditEvents(cp.auditLogPath, mark), FLOOR_UA);
    obs.stop();
    return { ...c, requests, writes: writesIn(requests) };
  } finally {
    floor?.stop();
    client.close();
    floorClient.close();
    await cp.stop().catch((e: unknown) => note(`control plane stop failed: ${(e as Error).message}`));
  }
}

function expectedChildKinds(): string[] {
  const sample = {
    apiVersion: API_VERSION,
    kind: "ModelService",
    metadata: { name: "sample", namespace: NS, uid: "00000000-0000-0000-0000-000000000000", generation: 1 },
    spec: spec(),
  } as unknown as ModelService;
  const served = new Set(childKinds(defaultOperatorConfig).map((k) => k.kind));
  return orderedChildren(render(sample, defaultOperatorConfig))
    .map((c) => c.kind as string)
    .filter((k) => served.has(k));
}

async function main(): Promise<number> {
  log(
    `operator-scale benchmark — node ${process.version}, sizes ${SIZES.join(", ")}, ${WORKERS} workers (ours and the floor), ` +
      `1 GPU each, simulated load ${LOAD_SECONDS} s, children per ModelService: ${expectedChildKinds().join(", ")}`,
  );
  const operator = `build/cli/main.js with ${Object.entries(IMAGE_ENV)
    .map(([k, v]) => `${k}=${v.includes(" ") ? `"${v}"` : v}`)
    .join(" ")} (as the image runs it)`;
  log(`operator: ${operator}`);
  buildOperator();
  const results: SizeResult[] = [];
  for (const n of SIZES) {
    const ours = await runOurs(n);
    const floor = await runFloor(n);
    const r: SizeResult = { n, nodes: Math.max(20, Math.ceil((n * 1.1) / GPUS_PER_NODE)), ours, floor };
    results.push(r);
    const files = writeResults(OUT_DIR, {
      machine: machine(),
      workers: WORKERS,
      loadSeconds: LOAD_SECONDS,
      command: `npm run bench -- ${argv.join(" ")}`.trim(),
      operator,
      results,
    });
    log(files.markdown);
    log(`wrote ${files.paths.join(", ")}`);
  }
  return results.every((r) => r.ours.ok && r.floor.ok && r.ours.resync.writes === 0) ? 0 : 1;
}

function machine(): string {
  const cpus = readFileSync("/proc/cpuinfo", "utf8").match(/^model name\s*:\s*(.*)$/m)?.[1] ?? "unknown CPU";
  const n = readFileSync("/proc/cpuinfo", "utf8").match(/^processor\s*:/gm)?.length ?? 0;
  return `${n} × ${cpus}, node ${process.version}`;
}

mkdirSync(OUT_DIR, { recursive: true });
// Node writes a heap snapshot only into a directory that exists (and exits on ENOENT).
if (CPU_PROF || HEAP_SNAPSHOT) mkdirSync(join(OUT_DIR, "profiles"), { recursive: true });
main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`operator-scale bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
