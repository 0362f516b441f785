// The chaos drill (`npm run chaos`, and a short configuration in the integration suite): a fresh
// local control plane, the operator as its own process behind a fault-injecting proxy
// (src/localcluster/fault-proxy.ts), N ModelServices converging while some are changed, deleted
// and re-created, and then:
//   1. "sigkill": the operator is SIGKILLed at seeded random moments and restarted;
//   2. one control-plane fault after another (FAULTS), each while more changes are made.
// After each phase the drill waits until the cluster has converged and measures how long that took
// (from the end of the fault): every ModelService Ready for its latest generation, its Deployment
// carrying its latest change (else a lost update), exactly its children (else missing, duplicate),
// nothing of a deleted ModelService left (else an orphan). Finally the operator's request rate,
// read from the API server's audit log, must fall to about zero (no hot loop).
//
// Seeded: the seed fixes the schedule (kill moments, which ModelService is changed, deleted or
// re-created); the cluster's own timing still varies, so a replay reproduces the drill, not every
// interleaving.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { API_VERSION, PLURAL } from "../../src/api/schema.ts";
import type { ModelService } from "../../src/api/types.ts";
import { defaultOperatorConfig } from "../../src/config/operator-config.ts";
import { isApiError, KubeClient, loadKubeConfig, resourcePath } from "../../src/kube/client.ts";
import { auditMark, readAuditEvents } from "../../src/localcluster/audit.ts";
import { type ControlPlane, startControlPlane } from "../../src/localcluster/control-plane.ts";
import { type FaultProxy, startFaultProxy } from "../../src/localcluster/fault-proxy.ts";
import { h100Fleet } from "../../src/localcluster/fleet.ts";
import { freePort } from "../../src/localcluster/processes.ts";
import { NAME_LABEL } from "../../src/model/labels.ts";
import { installCrd } from "../../src/operator/install-crd.ts";
import { childKinds, orderedChildren, render } from "../../src/render/index.ts";

export const FAULTS = ["apiserver-restart", "etcd-restart", "gone", "throttle", "errors", "stall"] as const;
export type Fault = (typeof FAULTS)[number];

export type ChaosOptions = {
  n: number;
  kills: number;
  seed: number;
  faults: readonly Fault[];
  /** Simulated model load per pod, seconds. */
  loadSeconds?: number;
  /** Bound on each convergence wait. */
  convergeTimeoutMs?: number;
  /** How long the operator's request rate is measured at the end (default 10 s). */
  quietWindowMs?: number;
  log?: (line: string) => void;
};

export type Counts = { orphans: number; duplicates: number; lostUpdates: number; missing: number; notReady: number };
export type PhaseResult = Counts & {
  phase: string;
  /** Seconds from the end of the fault until everything had converged (or the timeout). */
  recoverySeconds: number;
  converged: boolean;
  /** What the phase observed besides the counts (readyz, 410s, kills). */
  notes: string[];
  /** Problems that fail the drill besides non-zero counts. */
  problems: string[];
  examples: string[];
};
export type ChaosReport = {
  seed: number;
  n: number;
  phases: PhaseResult[];
  /** Operator requests per second in a quiet window after the last phase. */
  quietRequestRate: number;
  ok: boolean;
};

const NS = "chaos";
const UA = "modelservice-chaos";
const OPERATOR_UA = "modelservice-operator/";
const REV = "chaos.modelservice.dev/rev";
const GPUS_PER_NODE = 8;
const REPO = fileURLToPath(new URL("../../", import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** mulberry32: a small seeded PRNG, so a printed seed replays the schedule. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// --- the operator process ----------------------------------------------------------------------

type OperatorProc = { proc: ChildProcess; port: number; killedByUs: boolean; exited: Promise<number | string> };

function spawnOperator(kubeconfig: string, port: number, logPath: string): OperatorProc {
  const args = [
    "src/cli/main.ts",
    "run",
    `--kubeconfig=${kubeconfig}`,
    `--namespaces=${NS}`,
    `--http-addr=127.0.0.1:${port}`,
    "--log-level=info",
    "--resync-period=1h",
  ];
  const proc = spawn(process.execPath, args, { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
  const log = createWriteStream(logPath, { flags: "a" });
  proc.stdout?.pipe(log, { end: false });
  proc.stderr?.pipe(log, { end: false });
  const op: OperatorProc = {
    proc,
    port,
    killedByUs: false,
    exited: new Promise((r) => proc.once("exit", (code, signal) => r(code ?? signal ?? "unknown"))),
  };
  return op;
}

const get = async (url: string): Promise<{ status: number; body: string } | undefined> => {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(3000) });
    return { status: r.status, body: await r.text() };
  } catch {
    return undefined;
  }
};

const metricSum = (text: string, name: string, filter = ""): number =>
  text
    .split("\n")
    .filter((l) => (l.startsWith(`${name} `) || l.startsWith(`${name}{`)) && l.includes(filter))
    .reduce((s, l) => s + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);

// --- the workload ---------------------------------------------------------------------------------

type Desired = { uid?: string; rev: number };

function spec(rev: number, loadSeconds: number): Record<string, unknown> {
  return {
    model: { uri: "hf://Qwen/Qwen2.5-0.5B-Instruct" },
    engine: { type: "vLLM" },
    gpu: { count: 1 },
    podMetadata: { annotations: { "modelservice.dev/simulate-load-seconds": String(loadSeconds), [REV]: String(rev) } },
  };
}

const msPath = (name?: string) => resourcePath({ apiVersion: API_VERSION, plural: PLURAL, namespace: NS, name });

// --- the drill -------------------------------------------------------------------------------------

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const log = o.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const random = rng(o.seed);
  const pick = <T>(xs: T[]): T | undefined => xs[Math.floor(random() * xs.length)];
  const loadSeconds = o.loadSeconds ?? 1;
  const convergeTimeoutMs = o.convergeTimeoutMs ?? 300_000;
  const t0 = performance.now();
  const at = () => `${((performance.now() - t0) / 1000).toFixed(1)}s`;
  log(`[chaos] seed ${o.seed}, N ${o.n}, ${o.kills} kills, faults: ${o.faults.join(", ") || "none"} (replay: --seed ${o.seed})`);

  const extra = Math.ceil(o.n / 5) + o.faults.length * 2 + 8;
  const nodes = Math.max(4, Math.ceil(((o.n + extra) * 1.3) / GPUS_PER_NODE));
  const cp: ControlPlane = await startControlPlane({
    auditReads: true,
    fleet: h100Fleet(nodes),
    onProgress: (l) => log(`[chaos ${at()}] ${l}`),
  });
  const client = new KubeClient(loadKubeConfig(cp.kubeconfigPath), { userAgent: UA, timeoutMs: 15_000 });
  let proxy: FaultProxy | undefined;
  let op: OperatorProc | undefined;
  const outDir = mkdtempSync(join(tmpdir(), "mso-chaos-"));
  const operatorLog = join(outDir, "operator.log");
  const phases: PhaseResult[] = [];
  const unexpectedExits: string[] = [];

  const desired = new Map<string, Desired>();
  const deleted = new Set<string>();
  let nextName = 0;
  const newName = () => `ms-${String(nextName++).padStart(4, "0")}`;

  const retrying = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    for (let i = 0; ; i++) {
      try {
        return await fn();
      } catch (e) {
        // The API server itself may be restarting (a fault): the drill's own writes retry.
        if (i >= 60) throw new Error(`${what}: ${(e as Error).message}`);
        await sleep(500);
      }
    }
  };
  const apply = async (name: string) => {
    const d = desired.get(name) ?? { rev: 0 };
    desired.set(name, d);
    deleted.delete(name);
    const ms = await retrying(`apply ${name}`, () =>
      client.request<ModelService>("PATCH", msPath(name), {
        body: { apiVersion: API_VERSION, kind: "ModelService", metadata: { name, namespace: NS }, spec: spec(d.rev, loadSeconds) },
        contentType: "application/apply-patch+yaml",
        query: { fieldManager: "chaos-user", force: true },
      }),
    );
    d.uid = ms.metadata.uid;
  };
  const remove = async (name: string) => {
    desired.delete(name);
    deleted.add(name);
    await retrying(`delete ${name}`, async () => {
      try {
        await client.request("DELETE", msPath(name));
      } catch (e) {
        if (!isApiError(e, 404)) throw e;
      }
    });
  };
  /** One random change: mostly a spec change, sometimes a delete, a re-create under a deleted name, or a new one. */
  const mutate = async () => {
    const r = random();
    const live = [...desired.keys()];
    if (r < 0.65 && live.length > 0) {
      const name = pick(live) as string;
      (desired.get(name) as Desired).rev++;
      await apply(name);
    } else if (r < 0.8 && live.length > 1) {
      await remove(pick(live) as string);
    } else if (r < 0.93 && deleted.size > 0) {
      // Same name, new uid: the old one's children must go, the new one's must not be mistaken for them.
      const name = pick([...deleted]) as string;
      desired.set(name, { rev: 0 });
      await apply(name);
    } else {
      await apply(newName());
    }
  };

  // However this process ends, the operator it started goes with it.
  const killOnExit = (sig?: unknown) => {
    op?.proc.kill("SIGKILL");
    // Nobody else handles the signal (the control plane's handler re-raises it itself): die of it.
    if (typeof sig === "string" && process.listenerCount(sig) === 0) process.kill(process.pid, sig);
  };
  process.once("exit", killOnExit);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(sig, killOnExit);
  const startOperator = async (): Promise<OperatorProc> => {
    const port = await freePort();
    const p = spawnOperator(proxyKubeconfig, port, operatorLog);
    void p.exited.then((code) => {
      if (!p.killedByUs) unexpectedExits.push(`operator exited by itself with ${code} at ${at()}`);
    });
    return p;
  };
  const killOperator = async () => {
    if (!op) return;
    op.killedByUs = true;
    op.proc.kill("SIGKILL");
    await op.exited;
  };
  const waitOperatorUp = async (p: OperatorProc, what: "healthz" | "readyz", timeoutMs = 180_000) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (p.proc.exitCode !== null) throw new Error(`operator exited with ${p.proc.exitCode}; see ${operatorLog}`);
      if ((await get(`http://127.0.0.1:${p.port}/${what}`))?.status === 200) return;
      await sleep(100);
    }
    throw new Error(`operator not answering /${what} within ${timeoutMs} ms; see ${operatorLog}`);
  };
  const scrape = async () => (op ? ((await get(`http://127.0.0.1:${op.port}/metrics`))?.body ?? "") : "");

  // --- the checks -------------------------------------------------------------------------------
  const kinds = childKinds(defaultOperatorConfig).filter((k) => !k.optional);
  type Obj = {
    metadata: {
      name: string;
      uid: string;
      deletionTimestamp?: string;
      labels?: Record<string, string>;
      ownerReferences?: { uid: string; kind: string; controller?: boolean }[];
    };
  };
  // Whether an orphan is already being deleted (then whoever finalizes it is behind, not the garbage collector).
  const terminating = (o: Obj) => (o.metadata.deletionTimestamp ? `, terminating since ${o.metadata.deletionTimestamp}` : "");
  const listAll = async <T>(path: string): Promise<T[]> => (await client.request<{ items: T[] }>("GET", path)).items;

  const inspect = async (): Promise<Counts & { examples: string[]; behind: number }> => {
    const examples: string[] = [];
    const note = (s: string) => {
      if (examples.length < 8) examples.push(s);
    };
    const mss = await listAll<ModelService>(msPath());
    const byUid = new Map(mss.map((m) => [m.metadata.uid as string, m]));
    const c: Counts = { orphans: 0, duplicates: 0, lostUpdates: 0, missing: 0, notReady: 0 };
    let behind = 0;
    for (const name of desired.keys()) {
      const ms = mss.find((m) => m.metadata.name === name);
      if (!ms) {
        c.missing++;
        note(`ModelService ${name} missing`);
      }
    }
    for (const ms of mss) {
      const name = ms.metadata.name as string;
      if (ms.metadata.deletionTimestamp) continue;
      const ready = ms.status?.conditions?.find((x) => x.type === "Ready");
      if (ms.status?.observedGeneration !== ms.metadata.generation) behind++;
      if (ms.status?.observedGeneration !== ms.metadata.generation || ready?.status !== "True") {
        c.notReady++;
        note(`${name}: observedGeneration ${ms.status?.observedGeneration}/${ms.metadata.generation}, Ready ${ready?.status} ${ready?.reason ?? ""}`);
      }
    }
    const expected = new Map<string, Set<string>>(); // kind → "uid/name"
    for (const ms of mss) {
      if (ms.metadata.deletionTimestamp) continue;
      for (const child of orderedChildren(render(ms, defaultOperatorConfig))) {
        const set = expected.get(child.kind as string) ?? new Set<string>();
        set.add(`${ms.metadata.uid}/${child.metadata?.name}`);
        expected.set(child.kind as string, set);
      }
    }
    let deploymentUids = new Set<string>();
    for (const k of kinds) {
      const want = expected.get(k.kind) ?? new Set<string>();
      const seen = new Set<string>();
      const items = await listAll<Obj>(
        `${resourcePath({ apiVersion: k.apiVersion, plural: k.plural, namespace: NS })}?labelSelector=${encodeURIComponent("app.kubernetes.io/managed-by=modelservice-operator")}`,
      );
      for (const it of items) {
        const owner = it.metadata.ownerReferences?.find((r) => r.kind === "ModelService" && r.controller);
        const key = `${owner?.uid}/${it.metadata.name}`;
        if (!owner || !byUid.has(owner.uid)) {
          c.orphans++;
          note(`orphan ${k.kind} ${it.metadata.name} (owner ${owner?.uid ?? "none"})${terminating(it)}`);
        } else if (!want.has(key)) {
          c.duplicates++;
          note(`unexpected ${k.kind} ${it.metadata.name} of ${byUid.get(owner.uid)?.metadata.name}`);
        } else seen.add(key);
      }
      for (const key of want) {
        if (!seen.has(key)) {
          c.missing++;
          note(`missing ${k.kind} ${key}`);
        }
      }
      if (k.kind === "Deployment") {
        deploymentUids = new Set(items.map((i) => i.metadata.uid));
        for (const it of items as unknown as { metadata: Obj["metadata"]; spec?: { template?: { metadata?: { annotations?: Record<string, string> } } } }[]) {
          const owner = it.metadata.ownerReferences?.find((r) => r.kind === "ModelService" && r.controller);
          const ms = owner && byUid.get(owner.uid);
          const d = ms && desired.get(ms.metadata.name as string);
          if (!d || d.uid !== owner?.uid) continue;
          const rev = it.spec?.template?.metadata?.annotations?.[REV];
          if (rev !== String(d.rev)) {
            c.lostUpdates++;
            note(`${ms.metadata.name}: Deployment at rev ${rev}, want ${d.rev}`);
          }
        }
      }
    }
    // What the Deployments made: nothing may outlive its owner once the garbage collector ran.
    let owners = deploymentUids;
    for (const [api, plural] of [
      ["apps/v1", "replicasets"],
      ["v1", "pods"],
    ] as const) {
      const items = await listAll<Obj>(`${resourcePath({ apiVersion: api, plural, namespace: NS })}?labelSelector=${encodeURIComponent(NAME_LABEL)}`);
      for (const it of items) {
        const owner = it.metadata.ownerReferences?.find((r) => r.controller);
        if (!owner || !owners.has(owner.uid)) {
          c.orphans++;
          note(`orphan ${plural} ${it.metadata.name} of ${it.metadata.labels?.[NAME_LABEL]} (owner ${owner?.uid ?? "none"} is gone)${terminating(it)}`);
        }
      }
      owners = new Set(items.map((i) => i.metadata.uid));
    }
    return { ...c, examples, behind };
  };

  const converge = async (phase: string, since: number, notes: string[], problems: string[]): Promise<PhaseResult> => {
    let last: Counts & { examples: string[]; behind: number } = { orphans: 0, duplicates: 0, lostUpdates: 0, missing: 0, notReady: 0, examples: [], behind: 0 };
    let converged = false;
    // The operator's own part (every generation observed, every child there and current) against
    // the whole (pods Ready, garbage collected), which also waits for the cluster's controllers.
    let operatorAt: number | undefined;
    let lastNote = performance.now();
    while (performance.now() - since < convergeTimeoutMs) {
      try {
        last = await inspect();
      } catch (e) {
        last.examples = [`inspect failed: ${(e as Error).message}`];
        await sleep(1000);
        continue;
      }
      if (operatorAt === undefined && last.behind + last.missing + last.lostUpdates + last.duplicates === 0) operatorAt = performance.now();
      if (last.orphans + last.duplicates + last.lostUpdates + last.missing + last.notReady === 0) {
        converged = true;
        break;
      }
      if (performance.now() - lastNote > 15_000) {
        lastNote = performance.now();
        log(
          `[chaos ${at()}]   ${phase}: waiting: notReady ${last.notReady}, missing ${last.missing}, lost ${last.lostUpdates}, orphans ${last.orphans}, duplicates ${last.duplicates}; e.g. ${last.examples[0] ?? ""}`,
        );
      }
      await sleep(1000);
    }
    const recoverySeconds = (performance.now() - since) / 1000;
    if (operatorAt !== undefined) notes.unshift(`operator caught up after ${((operatorAt - since) / 1000).toFixed(1)} s`);
    // The examples go into the problem so a failing assertion shows what was left, not only that.
    if (!converged) {
      const left = last.examples.slice(0, 4).join("; ");
      problems.push(`did not converge within ${convergeTimeoutMs / 1000} s${left ? `: ${left}` : ""}`);
    }
    problems.push(...unexpectedExits.splice(0));
    const r: PhaseResult = { phase, recoverySeconds, converged, ...last, notes, problems, examples: last.examples };
    phases.push(r);
    log(
      `[chaos ${at()}] ${phase.padEnd(18)} recovery ${recoverySeconds.toFixed(1).padStart(6)} s | orphans ${r.orphans} duplicates ${r.duplicates} lost updates ${r.lostUpdates} missing ${r.missing} not ready ${r.notReady}${notes.length ? ` | ${notes.join("; ")}` : ""}${problems.length ? ` | PROBLEMS: ${problems.join("; ")}` : ""}`,
    );
    if (!converged) for (const e of r.examples) log(`[chaos]     ${e}`);
    return r;
  };

  /** Until every Deployment in NS has rolled out and no pod is terminating (false after `timeoutMs`). */
  const rolloutsDone = async (timeoutMs: number): Promise<boolean> => {
    type Deployment = { metadata: { generation?: number }; spec?: { replicas?: number }; status?: Record<string, number | undefined> };
    const start = performance.now();
    while (performance.now() - start < timeoutMs) {
      const deployments = await listAll<Deployment>(resourcePath({ apiVersion: "apps/v1", plural: "deployments", namespace: NS })).catch(() => undefined);
      const pods = await listAll<{ metadata: { deletionTimestamp?: string } }>(resourcePath({ apiVersion: "v1", plural: "pods", namespace: NS })).catch(
        () => undefined,
      );
      const settled = (d: Deployment) => {
        const want = d.spec?.replicas ?? 1;
        const st = d.status ?? {};
        return (
          st.observedGeneration === d.metadata.generation &&
          (st.replicas ?? 0) === want &&
          (st.updatedReplicas ?? 0) === want &&
          (st.readyReplicas ?? 0) === want
        );
      };
      if (deployments && pods && deployments.every(settled) && pods.every((p) => !p.metadata.deletionTimestamp)) return true;
      await sleep(1000);
    }
    return false;
  };

  /** Polls /readyz while `during` runs; returns how long it answered other than 200, and its first such answer. */
  const watchReadyz = async <T>(during: () => Promise<T>): Promise<{ result: T; unreadyMs: number; first?: string }> => {
    let stop = false;
    let unreadyMs = 0;
    let first: string | undefined;
    const poller = (async () => {
      while (!stop) {
        const t = performance.now();
        const r = op ? await get(`http://127.0.0.1:${op.port}/readyz`) : undefined;
        if (r && r.status !== 200) {
          first ??= r.body.trim();
        }
        await sleep(200);
        if (r && r.status !== 200) unreadyMs += performance.now() - t;
      }
    })();
    try {
      return { result: await during(), unreadyMs, first };
    } finally {
      stop = true;
      await poller;
    }
  };

  const proxyKubeconfig = join(outDir, "operator.kubeconfig");
  try {
    await installCrd(client);
    await client.request("POST", "/api/v1/namespaces", { body: { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } } });
    proxy = await startFaultProxy({ dir: cp.dir, server: cp.server });
    proxy.writeKubeconfig(cp.kubeconfigPath, proxyKubeconfig);
    log(`[chaos ${at()}] operator log: ${operatorLog}; audit log: ${cp.auditLogPath}`);
    op = await startOperator();

    // --- 1. SIGKILL while converging and changing ---------------------------------------------------
    const creating = (async () => {
      const names = Array.from({ length: o.n }, newName);
      let i = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (i < names.length) await apply(names[i++] as string);
        }),
      );
    })();
    let killing = true;
    const mutating = (async () => {
      await creating;
      while (killing) {
        await mutate();
        await sleep(100 + random() * 400);
      }
    })();
    const killTimes: number[] = [];
    const killMoments: string[] = [];
    for (let k = 0; k < o.kills; k++) {
      // A random moment: during start-up (its first lists), or mid-reconcile once its caches synced.
      const early = random() < 0.3;
      await waitOperatorUp(op, early ? "healthz" : "readyz");
      const delay = random() * (early ? 2000 : 6000);
      killMoments.push(`${early ? "start-up" : "synced"}+${(delay / 1000).toFixed(1)}s`);
      await sleep(delay);
      await killOperator();
      killTimes.push(performance.now());
      await sleep(random() * 1000);
      op = await startOperator();
    }
    killing = false;
    await Promise.all([creating, mutating]);
    const killsEnd = performance.now();
    log(`[chaos ${at()}] ${o.kills} SIGKILLs done; ${desired.size} ModelServices wanted, ${deleted.size} deleted`);
    await waitOperatorUp(op, "readyz");
    await converge(`sigkill x${o.kills}`, killsEnd, [`kills at ${killMoments.join(", ")}`], []);

    // --- 2. control-plane faults ---------------------------------------------------------------------
    for (const fault of o.faults) {
      const notes: string[] = [];
      const problems: string[] = [];
      const changes = async (count: number) => {
        for (let i = 0; i < count; i++) await mutate();
      };
      const isOperator = (ua: string) => ua.startsWith(OPERATOR_UA);
      let faultEnd = performance.now();
      log(`[chaos ${at()}] fault: ${fault}`);
      if (fault === "apiserver-restart") {
        const w = await watchReadyz(async () => {
          await changes(3);
          const r = await cp.restart("kube-apiserver", { downMs: 3000 });
          faultEnd = performance.now();
          await changes(3);
          await sleep(1000);
          return r;
        });
        notes.push(`apiserver down ${(w.result.downMs / 1000).toFixed(1)} s + ${(w.result.readyMs / 1000).toFixed(1)} s to ready`);
        notes.push(`/readyz unready ${(w.unreadyMs / 1000).toFixed(1)} s${w.first ? ` ("${w.first.slice(0, 120)}")` : ""}`);
        if (w.unreadyMs === 0) problems.push("/readyz stayed 200 while the API server was down");
      } else if (fault === "etcd-restart") {
        await changes(3);
        const r = await cp.restart("etcd", { downMs: 3000 });
        faultEnd = performance.now();
        notes.push(`etcd down ${(r.downMs / 1000).toFixed(1)} s`);
        await changes(3);
      } else if (fault === "gone") {
        // The operator's watches fall behind: its connections hang while the cluster moves on, etcd
        // is compacted past where the watches are, and the API server's watch cache starts afresh
        // (a restart), so resuming from the old resourceVersion can only be answered with 410.
        const before = metricSum(await scrape(), "modelservice_watch_restarts_total", 'reason="gone"');
        proxy.setRule((r) => (isOperator(r.userAgent) ? "hang" : "pass"));
        notes.push(`${proxy.stallAll(isOperator)} exchanges held`);
        await changes(6);
        const rev = await compactEtcd(cp.etcdUrl);
        notes.push(`etcd compacted at revision ${rev}`);
        await cp.restart("kube-apiserver", { downMs: 500 });
        proxy.setRule(undefined);
        proxy.cutAll();
        faultEnd = performance.now();
        await changes(3);
        const r = await converge(fault, faultEnd, notes, problems);
        const gone = metricSum(await scrape(), "modelservice_watch_restarts_total", 'reason="gone"') - before;
        r.notes.push(`${gone} watch restarts on 410 Gone`);
        if (gone < 1) r.problems.push("no watch saw 410 Gone: the fault was not produced");
        log(`[chaos]     ${fault}: ${gone} watch restarts on 410 Gone`);
        continue;
      } else if (fault === "throttle" || fault === "errors") {
        const status = fault === "throttle" ? 429 : 500;
        const refused = () => proxy?.requests() ?? new Map<string, number>();
        const beforeCount = [...refused()].filter(([ua]) => isOperator(ua)).reduce((a, [, n]) => a + n, 0);
        proxy.setRule((r) => (isOperator(r.userAgent) && random() < (status === 429 ? 1 : 0.7) ? { status, retryAfterSeconds: 1 } : "pass"));
        proxy.cutAll(); // the watches too: they reconnect into the fault
        const tFault = performance.now();
        await changes(6);
        await sleep(Math.max(0, 10_000 - (performance.now() - tFault)));
        proxy.setRule(undefined);
        faultEnd = performance.now();
        const during = [...refused()].filter(([ua]) => isOperator(ua)).reduce((a, [, n]) => a + n, 0) - beforeCount;
        notes.push(
          `${during} operator requests in ${((faultEnd - tFault) / 1000).toFixed(0)} s of ${status}s (${(during / ((faultEnd - tFault) / 1000)).toFixed(1)}/s)`,
        );
      } else if (fault === "stall") {
        const n = proxy.stallAll(isOperator);
        notes.push(`${n} exchanges stalled (the watches notice after their stall timeout, 90 s by default)`);
        if (n === 0) problems.push("nothing was stalled: the fault was not produced");
        faultEnd = performance.now();
        await changes(6);
      }
      await converge(fault, faultEnd, notes, problems);
    }

    // --- 3. no hot loop -------------------------------------------------------------------------------
    // Converged means every ModelService Ready at its generation; an old pod may still be
    // terminating, and its going is a status change the operator rightly writes. The window
    // starts once the rollouts are over.
    const rolledOut = await rolloutsDone(120_000);
    if (!rolledOut) log(`[chaos ${at()}] rollouts still going after 120 s; measuring the quiet window anyway`);
    await sleep(2000);
    const mark = auditMark(cp.auditLogPath);
    const windowMs = o.quietWindowMs ?? 10_000;
    await sleep(windowMs);
    const inWindow = readAuditEvents(cp.auditLogPath, mark).filter((e) => e.userAgent?.startsWith(OPERATOR_UA));
    const ids = new Set(inWindow.map((e) => e.auditID));
    const quietRequestRate = ids.size / (windowMs / 1000);
    if (ids.size > 0) {
      const what = new Map<string, number>();
      for (const e of inWindow) {
        if (e.stage !== "ResponseComplete") continue;
        const k = `${e.verb} ${e.objectRef?.resource ?? ""}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ""} ${e.objectRef?.name ?? ""}`;
        what.set(k, (what.get(k) ?? 0) + 1);
      }
      log(`[chaos ${at()}] requests in the quiet window: ${[...what].map(([k, n]) => `${k} ×${n}`).join(", ")}`);
    }
    const metrics = await scrape();
    log(
      `[chaos ${at()}] quiet: ${ids.size} operator requests in ${windowMs / 1000} s (${quietRequestRate.toFixed(2)}/s, from the audit log); ` +
        `reconciles ${metricSum(metrics, "modelservice_reconcile_total")}, queue depth ${metricSum(metrics, "modelservice_workqueue_depth")}`,
    );
    const ok =
      phases.every((p) => p.converged && p.problems.length === 0 && p.orphans + p.duplicates + p.lostUpdates + p.missing + p.notReady === 0) &&
      quietRequestRate < 1 &&
      unexpectedExits.length === 0;
    if (unexpectedExits.length) log(`[chaos] ${unexpectedExits.join("; ")}`);
    return { seed: o.seed, n: o.n, phases, quietRequestRate, ok };
  } finally {
    process.off("exit", killOnExit);
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.off(sig, killOnExit);
    await killOperator().catch(() => {});
    await proxy?.close().catch(() => {});
    client.close();
    await cp.stop().catch(() => {});
  }
}

/** Compacts etcd at its current revision through its gRPC gateway; returns the revision. */
export async function compactEtcd(etcdUrl: string): Promise<number> {
  const post = async (path: string, body: unknown) => {
    const r = await fetch(`${etcdUrl}${path}`, { method: "POST", body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
    if (!r.ok) throw new Error(`etcd ${path}: HTTP ${r.status} ${await r.text()}`);
    return (await r.json()) as { header?: { revision?: string } };
  };
  const range = await post("/v3/kv/range", { key: Buffer.from("/").toString("base64"), limit: 1 });
  const revision = Number(range.header?.revision);
  if (!Number.isFinite(revision) || revision < 1) throw new Error(`etcd: no revision in ${JSON.stringify(range)}`);
  await post("/v3/kv/compaction", { revision: String(revision), physical: true });
  return revision;
}
