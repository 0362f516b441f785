// Operator scale benchmark on the local control plane (real kube-apiserver, kwok GPU nodes):
// starts the operator in-process, creates --count ModelServices (1 GPU each, 1 s simulated model
// load), and prints
//   - time until all are Ready, with the ratio to one ModelService's time to Ready (same run),
//   - the operator's reconciles and write requests (API server audit log) per ModelService,
//   - p50/p99 reconcile duration from the operator's /metrics histogram,
//   - heap/RSS of this process (operator + a thin bench client) before (0 ModelServices) and after,
//   - the write requests of one no-op resync of every ModelService (expected 0; printed, not asserted).
//
//   node --expose-gc bench/operator-scale.bench.ts [--count 200] [--nodes N] [--load-seconds 1]
//        [--workers 4] [--timeout 240] [--concurrency 16]
//
// Bounded: gives up waiting for Ready after --timeout seconds (prints what is not Ready, tears down,
// exits 1), and a hard deadline kills everything --timeout + 120 s after the start.
import type { Logger } from "pino";
import { pino } from "pino";
import { API_VERSION, PLURAL } from "../src/api/schema.ts";
import type { ModelService } from "../src/api/types.ts";
import { KubeClient, loadKubeConfig, resourcePath } from "../src/kube/client.ts";
import { auditMark, readAuditEvents } from "../src/localcluster/audit.ts";
import { type ControlPlane, startControlPlane } from "../src/localcluster/control-plane.ts";
import { installCrd } from "../src/operator/install-crd.ts";
import { type RunningOperator, startOperator } from "../src/operator/start.ts";
import { inNamespace, manifest, modelService, simulateLoad, withGpus, withModel } from "../test/support/model-service.ts";
import { forceGc, median, mib, numberFlag, ratio, settledMemory } from "./common.ts";

const argv = process.argv.slice(2);
const COUNT = Math.max(1, Math.round(numberFlag(argv, "count", 200)));
const GPUS_PER_NODE = 8;
// Enough GPUs for every ModelService plus ~10 % spare, at least 20 nodes × 8 GPUs.
const NODES = Math.max(1, Math.round(numberFlag(argv, "nodes", Math.max(20, Math.ceil((COUNT * 1.1) / GPUS_PER_NODE)))));
const LOAD_SECONDS = numberFlag(argv, "load-seconds", 1);
const WORKERS = Math.max(1, Math.round(numberFlag(argv, "workers", 4)));
const READY_TIMEOUT_S = numberFlag(argv, "timeout", 240);
const CONCURRENCY = Math.max(1, Math.round(numberFlag(argv, "concurrency", 16)));
const BENCH_USER_AGENT = "modelservice-bench";
const OPERATOR_USER_AGENT_PREFIX = "modelservice-operator/"; // startOperator: modelservice-operator/<identity>

const t0 = performance.now();
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const since = (t: number) => performance.now() - t;
const log = (line: string) => process.stdout.write(`${line}\n`);
const note = (line: string) => process.stderr.write(`[${secs(since(t0))}] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const hardDeadline = setTimeout(
  () => {
    process.stderr.write(`operator-scale bench: hard deadline of ${READY_TIMEOUT_S + 120} s reached; killing the control plane and exiting\n`);
    process.exit(3); // the control plane's exit handler kills its processes and removes its directory
  },
  (READY_TIMEOUT_S + 120) * 1000,
);
hardDeadline.unref();

const msPath = (ns: string, name?: string) => resourcePath({ apiVersion: API_VERSION, plural: PLURAL, namespace: ns, name });

async function applyModelService(client: KubeClient, ns: string, name: string): Promise<void> {
  await client.request("PATCH", msPath(ns, name), {
    body: manifest(modelService(name, inNamespace(ns), withModel("hf://Qwen/Qwen2.5-0.5B-Instruct"), withGpus(1), simulateLoad(LOAD_SECONDS))),
    contentType: "application/apply-patch+yaml",
    query: { fieldManager: "bench-user", force: true },
  });
}

const readyCondition = (ms: ModelService) => ms.status?.conditions?.find((c) => c.type === "Ready");

async function listModelServices(client: KubeClient, ns: string): Promise<ModelService[]> {
  return (await client.request<{ items: ModelService[] }>("GET", msPath(ns))).items;
}

/** Polls until every ModelService in `ns` is Ready or the timeout passes; returns the last list. */
async function waitAllReady(client: KubeClient, ns: string, count: number, timeoutMs: number, progressEveryMs = 10_000) {
  const start = performance.now();
  let lastProgress = start;
  for (;;) {
    let items: ModelService[] = [];
    try {
      items = await listModelServices(client, ns);
    } catch (e) {
      note(`listing ModelServices failed: ${(e as Error).message}`);
    }
    const ready = items.filter((ms) => readyCondition(ms)?.status === "True").length;
    if (items.length >= count && ready >= count) return { ok: true, items, elapsedMs: since(start) };
    if (since(start) > timeoutMs) return { ok: false, items, elapsedMs: since(start) };
    if (performance.now() - lastProgress >= progressEveryMs) {
      lastProgress = performance.now();
      note(`${ns}: ${ready}/${count} Ready`);
    }
    await sleep(500);
  }
}

async function scrape(op: RunningOperator): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${op.port}/metrics`, { signal: AbortSignal.timeout(10_000) });
  return res.text();
}

const metricValue = (text: string, name: string): number | undefined => {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
};

/** Cumulative bucket counts of a histogram, summed over its labels: [[le, count], ...] sorted by le. */
function histogramBuckets(text: string, name: string): [number, number][] {
  const byLe = new Map<number, number>();
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}_bucket{`)) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (le === undefined) continue;
    const bound = le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le);
    byLe.set(bound, (byLe.get(bound) ?? 0) + Number(line.slice(line.lastIndexOf(" ") + 1)));
  }
  return [...byLe.entries()].sort((a, b) => a[0] - b[0]);
}

/**
 * Prometheus' histogram_quantile: linear interpolation inside the bucket holding the rank. Also
 * returns that bucket's bounds: the true quantile is somewhere in (lo, hi], the estimate is only as
 * good as the bucket is narrow.
 */
function histogramQuantile(q: number, buckets: [number, number][]): { value: number; lo: number; hi: number } | undefined {
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total === 0) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of buckets) {
    if (count >= rank) {
      if (le === Number.POSITIVE_INFINITY) return { value: prevLe, lo: prevLe, hi: le }; // beyond the last finite bucket
      return { value: prevLe + ((le - prevLe) * (rank - prevCount)) / Math.max(count - prevCount, 1e-9), lo: prevLe, hi: le };
    }
    prevLe = le;
    prevCount = count;
  }
  return { value: prevLe, lo: prevLe, hi: Number.POSITIVE_INFINITY };
}

/** "p50 173.8 ms (bucket 100–250 ms)". */
function quantileText(name: string, qv: { value: number; lo: number; hi: number }): string {
  const ms = (s: number) => (s === Number.POSITIVE_INFINITY ? "+Inf" : `${+(s * 1000).toFixed(1)}`);
  return `${name} ${(qv.value * 1000).toFixed(1)} ms (bucket ${ms(qv.lo)}–${ms(qv.hi)} ms)`;
}

function histogramDelta(after: [number, number][], before: [number, number][]): [number, number][] {
  const b = new Map(before);
  return after.map(([le, n]) => [le, n - (b.get(le) ?? 0)]);
}

/** The operator's write requests in `namespaces` since `mark`, grouped as "verb resource[/subresource]". */
function operatorWrites(auditLogPath: string, mark: number, namespaces: string[]) {
  const events = readAuditEvents(auditLogPath, mark).filter(
    (e) => e.stage === "ResponseComplete" && e.userAgent?.startsWith(OPERATOR_USER_AGENT_PREFIX) && namespaces.includes(e.objectRef?.namespace ?? ""),
  );
  const groups = new Map<string, number>();
  for (const e of events) {
    const what = `${e.verb} ${e.objectRef?.resource ?? "?"}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ""}`;
    groups.set(what, (groups.get(what) ?? 0) + 1);
  }
  return { total: events.length, groups: [...groups.entries()].sort((a, b) => b[1] - a[1]) };
}

/** Waits until the work queue is empty and no reconcile ran for `quietMs` (at most `maxMs`). */
async function settle(op: RunningOperator, quietMs = 3000, maxMs = 60_000): Promise<boolean> {
  const start = performance.now();
  let last = op.controller.reconciles;
  let lastChange = performance.now();
  while (since(start) < maxMs) {
    await sleep(250);
    const now = op.controller.reconciles;
    if (now !== last) {
      last = now;
      lastChange = performance.now();
      continue;
    }
    const depth = metricValue(await scrape(op), "modelservice_workqueue_depth") ?? 0;
    if (depth === 0 && performance.now() - lastChange >= quietMs) return true;
  }
  return false;
}

async function createNamespace(client: KubeClient, name: string): Promise<void> {
  await client.request("POST", "/api/v1/namespaces", { body: { apiVersion: "v1", kind: "Namespace", metadata: { name } } });
}

async function createAll(client: KubeClient, ns: string, names: string[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, names.length) }, async () => {
      while (next < names.length) {
        const name = names[next++] as string;
        await applyModelService(client, ns, name);
      }
    }),
  );
}

function printNotReady(items: ModelService[], count: number): void {
  const reasons = new Map<string, number>();
  for (const ms of items) {
    const c = readyCondition(ms);
    if (c?.status === "True") continue;
    const k = `${ms.status?.phase ?? "no phase"}/${c?.reason ?? "no Ready condition"}`;
    reasons.set(k, (reasons.get(k) ?? 0) + 1);
  }
  if (items.length < count) reasons.set("not created / not listed", count - items.length);
  for (const [k, n] of [...reasons.entries()].sort((a, b) => b[1] - a[1])) log(`    ${n} × ${k}`);
}

async function main(): Promise<number> {
  const gcSource = forceGc().source;
  log(
    `operator-scale benchmark — node ${process.version}, ${COUNT} ModelServices × 1 GPU, simulated load ${LOAD_SECONDS} s, ` +
      `fleet ${NODES} nodes × ${GPUS_PER_NODE} GPUs, ${WORKERS} workers`,
  );
  let cp: ControlPlane | undefined;
  let op: RunningOperator | undefined;
  let client: KubeClient | undefined;
  try {
    cp = await startControlPlane({
      fleet: {
        pools: [
          {
            name: "gpu",
            count: NODES,
            cpu: "192",
            memory: "2Ti",
            pods: 110,
            gpu: { resources: { "nvidia.com/gpu": GPUS_PER_NODE }, product: "NVIDIA-H100-80GB-HBM3", memoryMiB: 81559 },
          },
        ],
      },
      onProgress: note,
    });
    log(`control plane ready in ${secs(cp.startupMs)}`);
    client = new KubeClient(loadKubeConfig(cp.kubeconfigPath), { userAgent: BENCH_USER_AGENT });
    await installCrd(client);
    const ns = "bench";
    const nsOne = "bench-one";
    await createNamespace(client, ns);
    await createNamespace(client, nsOne);

    const logger: Logger = pino({ level: process.env.MSO_BENCH_LOG_LEVEL ?? "warn" }, pino.destination(2));
    op = await startOperator({
      kubeconfig: cp.kubeconfigPath,
      httpHost: "127.0.0.1",
      httpPort: 0,
      logger,
      namespaces: [ns, nsOne],
      workers: WORKERS,
      // The periodic resync stays out of the way; the no-op resync below is triggered by hand.
      resyncPeriodMs: 60 * 60_000,
    });
    await sleep(2000);

    // Baseline memory: the operator running, caches synced, 0 ModelServices.
    const memBefore = await settledMemory();
    log(`\nmemory baseline (operator running, 0 ModelServices; full GC via ${gcSource}): heap ${mib(memBefore.heapUsed)}, RSS ${mib(memBefore.rss)}`);

    // Baseline latency: one ModelService alone, created to Ready (also warms up the operator's code).
    const oneStart = performance.now();
    await applyModelService(client, nsOne, "one");
    const one = await waitAllReady(client, nsOne, 1, 60_000);
    const oneMs = since(oneStart);
    if (!one.ok) {
      log("baseline ModelService not Ready within 60 s:");
      printNotReady(one.items, 1);
      return 1;
    }
    log(`baseline: 1 ModelService created → Ready in ${secs(oneMs)} (simulated load ${LOAD_SECONDS} s)`);
    await settle(op);

    // The run: COUNT ModelServices at once.
    const names = Array.from({ length: COUNT }, (_, i) => `ms-${String(i).padStart(4, "0")}`);
    const mark = auditMark(cp.auditLogPath);
    const reconcilesBefore = op.controller.reconciles;
    const histBefore = histogramBuckets(await scrape(op), "modelservice_reconcile_duration_seconds");
    const runStart = performance.now();
    await createAll(client, ns, names);
    const createdMs = since(runStart);
    log(`\ncreated ${COUNT} ModelServices in ${secs(createdMs)} (${CONCURRENCY} concurrent server-side applies)`);
    const result = await waitAllReady(client, ns, COUNT, READY_TIMEOUT_S * 1000);
    const allReadyMs = since(runStart);
    if (!result.ok) {
      const ready = result.items.filter((ms) => readyCondition(ms)?.status === "True").length;
      log(`NOT ALL READY: ${ready}/${COUNT} Ready after ${READY_TIMEOUT_S} s (--timeout); not Ready, by phase/reason:`);
      printNotReady(result.items, COUNT);
      log("giving up: tearing down");
      return 1;
    }
    log(`all ${COUNT} Ready in ${secs(allReadyMs)} after the first create — ${ratio(allReadyMs, oneMs)} one ModelService's time to Ready`);
    const perMs = result.items
      .map((ms) => Date.parse(readyCondition(ms)?.lastTransitionTime ?? "") - Date.parse(String(ms.metadata.creationTimestamp ?? "")))
      .filter(Number.isFinite);
    if (perMs.length > 0) {
      const sorted = [...perMs].sort((a, b) => a - b);
      log(
        `  per ModelService, creationTimestamp → Ready transition (1 s resolution): p50 ${secs(median(sorted))}, ` +
          `p99 ${secs(sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] ?? Number.NaN)}, max ${secs(sorted.at(-1) ?? Number.NaN)}`,
      );
    }

    const settled = await settle(op);
    if (!settled) log("  (the work queue did not go quiet within 60 s; counts below include what ran until then)");
    const reconciles = op.controller.reconciles - reconcilesBefore;
    const writes = operatorWrites(cp.auditLogPath, mark, [ns]);
    log(`\nreconciles: ${reconciles} total, ${(reconciles / COUNT).toFixed(2)} per ModelService (until the queue went quiet)`);
    log(`operator write requests (audit log): ${writes.total} total, ${(writes.total / COUNT).toFixed(2)} per ModelService`);
    for (const [what, n] of writes.groups) log(`  ${(n / COUNT).toFixed(2).padStart(6)} /MS  ${String(n).padStart(6)}  ${what}`);

    const metricsText = await scrape(op);
    const hist = histogramDelta(histogramBuckets(metricsText, "modelservice_reconcile_duration_seconds"), histBefore);
    const p50 = histogramQuantile(0.5, hist);
    const p99 = histogramQuantile(0.99, hist);
    if (p50 === undefined || p99 === undefined) log("reconcile duration: no modelservice_reconcile_duration_seconds histogram in /metrics");
    else
      log(
        `reconcile duration (/metrics histogram, interpolated within buckets): ${quantileText("p50", p50)}, ${quantileText("p99", p99)} ` +
          `over ${hist.at(-1)?.[1] ?? 0} reconciles`,
      );
    const waitHist = histogramBuckets(metricsText, "modelservice_workqueue_wait_seconds");
    const w50 = histogramQuantile(0.5, waitHist);
    const w99 = histogramQuantile(0.99, waitHist);
    if (w50 !== undefined && w99 !== undefined)
      log(`work queue wait (whole run incl. baseline, /metrics histogram): ${quantileText("p50", w50)}, ${quantileText("p99", w99)}`);

    const memAfter = await settledMemory();
    log(
      `\nmemory with ${COUNT + 1} Ready ModelServices (this process: operator + bench client; full GC): ` +
        `heap ${mib(memAfter.heapUsed)} ${ratio(memAfter.heapUsed, memBefore.heapUsed)} baseline, RSS ${mib(memAfter.rss)} ${ratio(memAfter.rss, memBefore.rss)} baseline; ` +
        `heap +${((memAfter.heapUsed - memBefore.heapUsed) / 1024 / (COUNT + 1)).toFixed(1)} KiB per ModelService`,
    );

    // No-op resync: every ModelService reconciled again with nothing changed.
    const resyncMark = auditMark(cp.auditLogPath);
    const before = op.controller.reconciles;
    const resyncStart = performance.now();
    op.controller.resync();
    const deadline = performance.now() + 60_000;
    while (op.controller.reconciles - before < COUNT + 1 && performance.now() < deadline) await sleep(100);
    const resyncReconciles = op.controller.reconciles - before;
    const resyncMs = since(resyncStart);
    await settle(op, 3000, 30_000);
    const resyncWrites = operatorWrites(cp.auditLogPath, resyncMark, [ns, nsOne]);
    log(
      `\nno-op resync (Controller.resync()): ${resyncReconciles} reconciles in ${secs(resyncMs)}; operator write requests: ${resyncWrites.total}` +
        (resyncWrites.total > 0 ? ` (${resyncWrites.groups.map(([w, n]) => `${n} ${w}`).join(", ")})` : ""),
    );
    return 0;
  } finally {
    const td = performance.now();
    if (op) await op.stop().catch((e: unknown) => note(`operator stop failed: ${(e as Error).message}`));
    client?.close();
    if (cp) await cp.stop().catch((e: unknown) => note(`control plane stop failed: ${(e as Error).message}`));
    log(`\ntorn down in ${secs(since(td))}; total ${secs(since(t0))}`);
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`operator-scale bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
