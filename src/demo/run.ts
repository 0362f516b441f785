// The demo end to end: a cluster (the current one if reachable, else the local control plane with
// simulated GPU nodes), the CRD, the operator in-process, the examples and — on the simulated fleet
// — the scene (src/demo/scene.ts); then a live table until Ctrl-C, or until everything settled
// (--until-ready), and a tear-down of what it created.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import type { ModelService } from "../api/types.ts";
import { isApiError, KubeClient, loadKubeConfig, resourcePath } from "../kube/client.ts";
import { simulatedPrerequisites } from "../localcluster/example-prereqs.ts";
import { installCrd } from "../operator/install-crd.ts";
import { type RunningOperator, startOperator } from "../operator/start.ts";
import { apply, CLUSTER_SCOPED, type Manifest, manifestPath, missingAddOns, readExamples } from "./manifests.ts";
import { Scene, sceneModels } from "./scene.ts";
import { formatElapsed, formatTable, isReady, isSettled, rowOf } from "./table.ts";
import { LiveView } from "./view.ts";

export type DemoOptions = {
  kubeconfig?: string;
  local: boolean;
  namespace: string;
  examplesDir: string;
  /** Play the scene; undefined: only on the local simulated cluster. */
  scene?: boolean;
  mode: "live" | "until-ready" | "once";
  timeoutMs?: number;
  keep: boolean;
  /** Simulated load time of the pods on a simulated cluster. */
  simulateLoadSeconds: number;
};

const POLL_MS = 500;

async function reachable(path?: string): Promise<string | undefined> {
  try {
    const kc = loadKubeConfig(path);
    const client = new KubeClient(kc, { timeoutMs: 3000, userAgent: "modelservice-demo" });
    try {
      await client.request("GET", "/version");
      return kc.server.href.replace(/\/$/, "");
    } finally {
      client.close();
    }
  } catch {
    return undefined;
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

/** How to reach the demo's cluster with kubectl, as one shell line. */
export function kubectlHint(namespace: string, kubeconfig?: string, binDir?: string): string {
  const env = kubeconfig ? `export KUBECONFIG=${kubeconfig}; ` : "";
  const path = binDir ? `PATH=${binDir}:$PATH ` : "";
  return `${env}${path}kubectl get msvc -n ${namespace}`;
}

export async function runDemo(o: DemoOptions): Promise<number> {
  const t0 = performance.now();
  const since = () => `${((performance.now() - t0) / 1000).toFixed(1)}s`;
  const tty = process.stdout.isTTY === true && o.mode === "live";
  const view = new LiveView(process.stdout, tty, () => process.stdout.columns ?? 120);
  let live = false;
  // Before the table is on screen, and whenever stdout is not a terminal, messages go to stderr.
  const say = (line: string) => (live ? view.log(line) : process.stderr.write(`${line}\n`));

  const stop = new AbortController();
  const onSignal = () => {
    if (stop.signal.aborted) return;
    say("[demo] stopping…");
    stop.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const cleanups: (() => Promise<void>)[] = [];
  let code = 0;
  try {
    // 1. A cluster.
    let kubeconfig = o.kubeconfig;
    let binDir: string | undefined;
    const server = o.local ? undefined : await reachable(kubeconfig);
    if (server) {
      say(`[demo] using the cluster at ${server}`);
    } else {
      if (o.kubeconfig) throw new Error(`--kubeconfig ${o.kubeconfig}: the cluster does not answer`);
      say("[demo] no reachable cluster: starting a local control plane with simulated GPU nodes (kwok)");
      say("[demo] the first run builds Kubernetes from source (several minutes on 2 cores); later runs start in seconds");
      const { startControlPlane } = await import("../localcluster/control-plane.ts");
      const cp = await startControlPlane({ onProgress: (line) => say(`  ${line}`) });
      cleanups.push(() => cp.stop());
      kubeconfig = cp.kubeconfigPath;
      binDir = cp.binDir;
      say(`[demo] local control plane ready at ${cp.server} (${since()}); kubeconfig: ${cp.kubeconfigPath}`);
    }
    if (stop.signal.aborted) return 130;
    const client = new KubeClient(loadKubeConfig(kubeconfig), { userAgent: "modelservice-demo" });
    cleanups.push(async () => client.close());

    // 2. The CRD and the operator.
    await installCrd(client);
    say(`[demo] CRD installed (${since()})`);
    const logDir = mkdtempSync(join(tmpdir(), "modelservice-demo-"));
    const logPath = join(logDir, "operator.log");
    const op: RunningOperator = await startOperator({
      kubeconfig,
      // Only the demo's namespace: on a real cluster, leave every other ModelService alone.
      namespaces: [o.namespace],
      httpHost: "127.0.0.1",
      httpPort: 0,
      logger: pino({ level: "info" }, pino.destination({ dest: logPath, sync: false })),
    });
    cleanups.push(() => op.stop());
    say(`[demo] operator running in-process: metrics http://127.0.0.1:${op.port}/metrics, logs ${logPath} (${since()})`);

    // 3. The examples (and the scene).
    const read = readExamples(o.examplesDir);
    for (const s of read.skipped) say(`[demo] skipped ${s}`);
    let manifests = read.manifests;
    const nsExists = await client.request("GET", `/api/v1/namespaces/${o.namespace}`).then(
      () => true,
      (e) => (isApiError(e, 404) ? false : Promise.reject(e)),
    );
    if (!nsExists) {
      await client.request("POST", "/api/v1/namespaces", { body: { apiVersion: "v1", kind: "Namespace", metadata: { name: o.namespace } } });
      if (server && !o.keep) cleanups.push(async () => void (await client.request("DELETE", `/api/v1/namespaces/${o.namespace}`).catch(() => {})));
    }
    if (!server) {
      // The local cluster has no add-on controllers (LeaderWorkerSet, cert-manager, a gateway): an
      // example that needs one would only say what to install, so it is left out, with that line.
      const served = new Set(
        (await client.request<{ items: { metadata: { name: string } }[] }>("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions")).items.map(
          (c) => c.metadata.name,
        ),
      );
      manifests = manifests.filter((m) => {
        const missing = m.kind === "ModelService" ? missingAddOns(m, served) : [];
        const why = missing.length === 1 ? missing[0]?.missing : `needs ${missing.map((a) => a.crd).join(", ")}`;
        if (missing.length > 0) say(`[demo] skipped ModelService ${m.metadata.name} (not on the local cluster): ${why}`);
        return missing.length === 0;
      });
      const prereqs = simulatedPrerequisites(manifests, o.namespace, o.simulateLoadSeconds);
      manifests = prereqs.manifests;
      for (const n of prereqs.notes) say(`[demo] ${n}`);
    }
    const playScene = (o.scene ?? !server) && o.mode !== "once";
    const scene = playScene ? new Scene(sceneModels(o.simulateLoadSeconds), performance.now()) : undefined;
    const asManifest = (name: string, spec: Record<string, unknown>): Manifest => ({
      apiVersion: "modelservice.dev/v1alpha1",
      kind: "ModelService",
      metadata: { name, namespace: o.namespace },
      spec,
    });
    if (scene) manifests = [...manifests, ...sceneModels(o.simulateLoadSeconds).map((m) => asManifest(m.name, m.spec))];

    const applied: Manifest[] = [];
    for (const m of manifests) {
      if (!CLUSTER_SCOPED.has(m.kind)) m.metadata.namespace = o.namespace;
      try {
        await apply(client, m);
        applied.push(m);
      } catch (e) {
        say(`[demo] ${m.kind} ${m.metadata.name} was rejected: ${(e as Error).message}`);
      }
    }
    const msNames = applied.filter((m) => m.kind === "ModelService").map((m) => m.metadata.name);
    if (server && nsExists && !o.keep) {
      cleanups.push(async () => {
        for (const m of applied.filter((a) => !CLUSTER_SCOPED.has(a.kind)).reverse()) await client.request("DELETE", manifestPath(m)).catch(() => {});
      });
    }
    const tApplied = performance.now();
    say(`[demo] applied ${applied.length} manifests (${msNames.length} ModelServices) into namespace ${o.namespace} (${since()})`);
    if (msNames.length === 0) say(`[demo] no ModelService found in ${o.examplesDir}`);
    const hint = kubectlHint(o.namespace, server ? o.kubeconfig : kubeconfig, binDir);
    if (!tty) say(`[demo] try: ${hint}`);
    for (const line of scene?.intro() ?? []) say(`[scene] ${line}`);

    // 4. Watch them.
    const listPath = resourcePath({ apiVersion: "modelservice.dev/v1alpha1", plural: "modelservices", namespace: o.namespace });
    const list = async () =>
      (await client.request<{ items: ModelService[] }>("GET", listPath)).items
        .filter((ms) => msNames.includes(ms.metadata.name ?? ""))
        .sort((a, b) => (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""));
    const deadline = o.timeoutMs !== undefined ? Date.now() + o.timeoutMs : Number.POSITIVE_INFINITY;
    const readyAt = new Map<string, number>();
    live = tty;
    for (;;) {
      const items = await list();
      const now = performance.now();
      for (const ms of items) if (isReady(ms) && !readyAt.has(ms.metadata.name ?? "")) readyAt.set(ms.metadata.name ?? "", now);
      const table = formatTable(items.map(rowOf), tty ? (process.stdout.columns ?? 120) : 160);
      if (o.mode === "once") {
        // One table, once the operator has reported on every ModelService (or at the timeout).
        const reported = items.length === msNames.length && items.every((ms) => ms.status?.observedGeneration === ms.metadata.generation);
        if (reported || Date.now() > deadline || stop.signal.aborted) {
          process.stdout.write(`${table}\n`);
          if (!reported) code = 1;
          break;
        }
        await sleep(POLL_MS, stop.signal);
        continue;
      }
      if (scene) {
        const actions = scene.observe(items, now);
        for (const line of actions.say) say(`[scene] ${line}`);
        for (const fix of actions.apply) {
          try {
            await apply(client, asManifest(fix.name, fix.spec));
          } catch (e) {
            say(`[scene] the fix of ${fix.name} was rejected: ${(e as Error).message}`);
          }
        }
      }
      const elapsed = formatElapsed(now - tApplied);
      view.show(
        [`[demo] ModelServices in ${o.namespace} — ${elapsed} since apply${tty ? " — Ctrl-C to stop" : ""}`, "", ...table.split("\n"), "", `kubectl: ${hint}`],
        { header: `--- ${since()}`, key: table },
      );
      if (o.mode === "until-ready" && items.length === msNames.length && items.every(isSettled) && (scene?.fixed() ?? true)) {
        const ready = items.filter(isReady);
        const load = server ? "" : `, simulated load ${o.simulateLoadSeconds}s`;
        for (const ms of ready)
          say(
            `[measure] ${ms.metadata.name}: Ready ${(((readyAt.get(ms.metadata.name ?? "") ?? 0) - tApplied) / 1000).toFixed(1)}s after apply (±${POLL_MS / 1000}s polling${load})`,
          );
        say(
          `[demo] ${ready.length} of ${items.length} ModelServices Ready; settled ${((performance.now() - tApplied) / 1000).toFixed(1)}s after apply, ${since()} after start`,
        );
        code = ready.length === items.length ? 0 : 1;
        break;
      }
      if (Date.now() > deadline) {
        say(`[demo] timed out after ${since()}: ${items.filter(isReady).length} of ${items.length} Ready`);
        code = 1;
        break;
      }
      if (stop.signal.aborted) break;
      await sleep(POLL_MS, stop.signal);
      if (stop.signal.aborted) {
        if (o.mode !== "live") code = 130;
        break;
      }
    }
    view.close();
    live = false;
    for (const line of scene?.summary() ?? []) say(`[scene] ${line}`);
  } catch (e) {
    view.close();
    live = false;
    say(`[demo] failed: ${(e as Error).message}`);
    code = 1;
  } finally {
    say("[demo] tearing down…");
    for (const c of cleanups.reverse()) await c().catch((e: Error) => say(`[demo] cleanup: ${e.message}`));
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    say(`[demo] done (${since()})`);
  }
  return code;
}
