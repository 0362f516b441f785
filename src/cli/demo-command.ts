// `npm start` / `modelservice-operator demo`: the operator end to end in one command. Uses the
// current cluster when a kubeconfig is reachable, otherwise starts the local control plane with
// simulated GPU nodes; installs the CRD, runs the operator in-process, applies examples/ and shows
// a live table of the ModelServices until Ctrl-C, then tears everything down.
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { parseAllDocuments } from "yaml";
import type { ModelService } from "../api/types.ts";
import { isApiError, KubeClient, loadKubeConfig, resourcePath } from "../kube/client.ts";
import { installCrd } from "../operator/install-crd.ts";
import { parseDuration } from "../operator/options.ts";
import { childNames } from "../render/names.ts";
import { type RunningOperator, startOperator } from "./run-command.ts";

const EXAMPLES_DIR = fileURLToPath(new URL("../../examples/", import.meta.url));
const DEMO_FIELD_MANAGER = "modelservice-demo";

const usage = `usage: modelservice-operator demo [flags]

Runs the operator on the current cluster (KUBECONFIG or ~/.kube/config, if reachable) or on a local
control plane with simulated GPU nodes, applies the examples and shows their status live.

flags:
  --kubeconfig FILE     use this cluster (default: KUBECONFIG / ~/.kube/config, else a local one)
  --local               always start the local control plane
  --namespace NS        where the examples go (default demo)
  --examples DIR        directory of example manifests (default examples/)
  --until-ready         no live table: print changes, exit once every ModelService is Ready (0)
                        or has settled without being Ready (1)
  --once                print the table once the operator has reported on every example, and exit
  --timeout DURATION    give up after this long (default 10m with --until-ready / --once; exit 1)
  --keep                leave the examples in place on exit (existing cluster only)
  --simulate-load N     local cluster: pods take N seconds to load the model (default 5)
`;

export type DemoOptions = {
  kubeconfig?: string;
  local: boolean;
  namespace: string;
  examplesDir: string;
  mode: "live" | "until-ready" | "once";
  timeoutMs?: number;
  keep: boolean;
  /** Simulated load time given to the examples' pods on the local cluster. */
  simulateLoadSeconds: number;
};

export function parseDemoArgs(argv: string[]): DemoOptions {
  const o: DemoOptions = { local: false, namespace: "demo", examplesDir: EXAMPLES_DIR, mode: "live", keep: false, simulateLoadSeconds: 5 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag}: needs a value`);
      return v;
    };
    switch (flag) {
      case "--kubeconfig":
        o.kubeconfig = value();
        break;
      case "--local":
        o.local = true;
        break;
      case "--namespace":
        o.namespace = value();
        if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(o.namespace)) throw new Error(`--namespace: ${JSON.stringify(o.namespace)} is not a namespace name`);
        break;
      case "--examples":
        o.examplesDir = value();
        break;
      case "--until-ready":
        o.mode = "until-ready";
        break;
      case "--once":
        o.mode = "once";
        break;
      case "--timeout": {
        const v = value();
        const ms = parseDuration(v);
        if (ms === undefined || ms <= 0) throw new Error(`--timeout: ${JSON.stringify(v)} is not a duration such as 90s or 10m`);
        o.timeoutMs = ms;
        break;
      }
      case "--keep":
        o.keep = true;
        break;
      case "--simulate-load": {
        const v = value();
        if (!/^\d+$/.test(v)) throw new Error(`--simulate-load: ${JSON.stringify(v)} is not a whole number of seconds`);
        o.simulateLoadSeconds = Number(v);
        break;
      }
      default:
        throw new Error(`${flag}: unknown flag`);
    }
  }
  if (o.mode !== "live") o.timeoutMs ??= 10 * 60_000;
  return o;
}

// --- the table ---------------------------------------------------------------------------------

export type Row = { name: string; phase: string; replicas: string; ready: string; reason: string; message: string };

const cond = (ms: ModelService, type: string) => ms.status?.conditions?.find((c) => c.type === type);

export function rowOf(ms: ModelService): Row {
  const ready = cond(ms, "Ready");
  const desired = ms.spec.autoscaling ? undefined : (ms.spec.replicas ?? 1);
  return {
    name: ms.metadata.name ?? "",
    phase: ms.status?.phase ?? "-",
    replicas: ms.status?.replicaSummary ?? `${ms.status?.readyReplicas ?? 0}/${desired ?? "?"}`,
    ready: ready?.status ?? "-",
    reason: ready?.reason ?? "-",
    message: (ready?.message ?? "").replace(/\s+/g, " "),
  };
}

/** The table as text, messages trimmed to fit `width` columns. */
export function formatTable(rows: Row[], width = 120): string {
  const head: Row = { name: "NAME", phase: "PHASE", replicas: "READY/DESIRED", ready: "READY", reason: "REASON", message: "MESSAGE" };
  const all = [head, ...rows];
  const cols = ["name", "ready", "phase", "replicas", "reason"] as const;
  const w = Object.fromEntries(cols.map((c) => [c, Math.max(...all.map((r) => r[c].length))])) as Record<(typeof cols)[number], number>;
  const fixed = cols.reduce((n, c) => n + w[c] + 2, 0);
  const room = Math.max(10, width - fixed);
  return all
    .map((r) => {
      const msg = r.message.length > room ? `${r.message.slice(0, room - 1)}…` : r.message;
      return `${cols.map((c) => r[c].padEnd(w[c])).join("  ")}  ${msg}`.trimEnd();
    })
    .join("\n");
}

const isReady = (ms: ModelService) => cond(ms, "Ready")?.status === "True";
/** Nothing more will happen without a change: Ready, or Stalled, or not reconciling any more. */
const isSettled = (ms: ModelService) =>
  ms.status?.observedGeneration === ms.metadata.generation &&
  (isReady(ms) || cond(ms, "Stalled")?.status === "True" || (cond(ms, "Reconciling")?.status === "False" && ms.status?.phase === "Failed"));

// --- manifests ---------------------------------------------------------------------------------

const PLURALS: Record<string, string> = {
  ModelService: "modelservices",
  Namespace: "namespaces",
  Secret: "secrets",
  ConfigMap: "configmaps",
  PersistentVolumeClaim: "persistentvolumeclaims",
  ResourceQuota: "resourcequotas",
  LimitRange: "limitranges",
  PriorityClass: "priorityclasses",
  PersistentVolume: "persistentvolumes",
  ServiceAccount: "serviceaccounts",
};
const CLUSTER_SCOPED = new Set(["Namespace", "PriorityClass", "PersistentVolume"]);

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } } & Record<string, unknown>;

export function readExamples(dir: string): { manifests: Manifest[]; skipped: string[] } {
  const manifests: Manifest[] = [];
  const skipped: string[] = [];
  if (!existsSync(dir)) return { manifests, skipped: [`${dir} does not exist`] };
  const files = readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f) && statSync(join(dir, f)).isFile())
    .sort();
  for (const f of files) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, f), "utf8"))) {
      const m = doc.toJSON() as Manifest | null;
      if (!m || typeof m !== "object" || !m.kind || !m.metadata?.name) continue;
      if (!PLURALS[m.kind]) {
        skipped.push(`${f}: ${m.kind} ${m.metadata.name} (kind not applied by the demo)`);
        continue;
      }
      manifests.push(m);
    }
  }
  return { manifests, skipped };
}

const manifestPath = (m: Manifest) =>
  resourcePath({
    apiVersion: m.apiVersion,
    plural: PLURALS[m.kind] as string,
    namespace: CLUSTER_SCOPED.has(m.kind) ? undefined : m.metadata.namespace,
    name: m.metadata.name,
  });

async function apply(client: KubeClient, m: Manifest): Promise<void> {
  await client.request("PATCH", manifestPath(m), {
    body: m,
    contentType: "application/apply-patch+yaml",
    query: { fieldManager: DEMO_FIELD_MANAGER, force: true },
  });
}

// --- the cluster -------------------------------------------------------------------------------

async function reachable(path?: string): Promise<string | undefined> {
  try {
    const kc = loadKubeConfig(path);
    const client = new KubeClient(kc, { timeoutMs: 3000, userAgent: "modelservice-demo" });
    try {
      await client.request("GET", "/version");
      return kc.getCurrentCluster()?.server;
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

export async function main(argv: string[]): Promise<number> {
  let o: DemoOptions;
  try {
    o = parseDemoArgs(argv);
  } catch (e) {
    process.stderr.write(`modelservice-operator demo: ${(e as Error).message}\n\n${usage}`);
    return 2;
  }
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const t0 = performance.now();
  const since = () => `${((performance.now() - t0) / 1000).toFixed(1)}s`;

  const stop = new AbortController();
  const onSignal = () => {
    if (stop.signal.aborted) return;
    say("\n[demo] stopping…");
    stop.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const cleanups: (() => Promise<void>)[] = [];
  let code = 0;
  try {
    // 1. A cluster.
    let kubeconfig = o.kubeconfig;
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

    // 3. The examples.
    const { manifests, skipped } = readExamples(o.examplesDir);
    for (const s of skipped) say(`[demo] skipped ${s}`);
    const nsExists = await client.request("GET", `/api/v1/namespaces/${o.namespace}`).then(
      () => true,
      (e) => (isApiError(e, 404) ? false : Promise.reject(e)),
    );
    if (!nsExists) {
      await client.request("POST", "/api/v1/namespaces", { body: { apiVersion: "v1", kind: "Namespace", metadata: { name: o.namespace } } });
      if (server && !o.keep) cleanups.push(async () => void (await client.request("DELETE", `/api/v1/namespaces/${o.namespace}`).catch(() => {})));
    }
    const applied: Manifest[] = [];
    if (!server) {
      // Simulated cluster: give the pods a visible loading time, and stand-in credentials so the
      // gated examples start (kwok runs no containers; on a real cluster the Secrets are yours).
      for (const m of manifests.filter((x) => x.kind === "ModelService")) {
        const spec = m.spec as { podMetadata?: { annotations?: Record<string, string> } };
        spec.podMetadata ??= {};
        spec.podMetadata.annotations ??= {};
        spec.podMetadata.annotations["modelservice.dev/simulate-load-seconds"] ??= String(o.simulateLoadSeconds);
      }
      const secrets = new Set(
        manifests.map((m) => (m.spec as { model?: { credentialsSecret?: string } } | undefined)?.model?.credentialsSecret).filter((x): x is string => !!x),
      );
      for (const name of secrets) {
        if (manifests.some((m) => m.kind === "Secret" && m.metadata.name === name)) continue;
        manifests.unshift({ apiVersion: "v1", kind: "Secret", metadata: { name }, stringData: { HF_TOKEN: "hf_simulated_cluster_placeholder" } });
        say(`[demo] adding a placeholder Secret ${name} (simulated cluster only)`);
      }
    }
    if (!server) {
      // The simulated cluster has no storage provisioner: pre-bind a PersistentVolume to every
      // claim the examples need (cache claims, and pvc:// claims, which are created empty).
      for (const m of manifests.filter((x) => x.kind === "ModelService")) {
        const spec = m.spec as { model?: { uri?: string }; cache?: { size?: string | number; accessMode?: string; storageClassName?: string } };
        const claims: { name: string; size: string; mode: string; storageClassName?: string }[] = [];
        if (spec.cache) {
          claims.push({
            name: childNames(m.metadata.name).pvc,
            size: String(spec.cache.size ?? "1Gi"),
            mode: spec.cache.accessMode ?? "ReadWriteOnce",
            storageClassName: spec.cache.storageClassName,
          });
        }
        const pvc = /^pvc:\/\/([^/]+)/.exec(spec.model?.uri ?? "")?.[1];
        if (pvc && !manifests.some((x) => x.kind === "PersistentVolumeClaim" && x.metadata.name === pvc)) {
          claims.push({ name: pvc, size: "10Gi", mode: "ReadWriteMany" });
          manifests.unshift({
            apiVersion: "v1",
            kind: "PersistentVolumeClaim",
            metadata: { name: pvc },
            spec: { accessModes: ["ReadWriteMany"], resources: { requests: { storage: "10Gi" } }, storageClassName: "" },
          });
        }
        for (const c of claims) {
          manifests.unshift({
            apiVersion: "v1",
            kind: "PersistentVolume",
            metadata: { name: `demo-${o.namespace}-${c.name}` },
            spec: {
              capacity: { storage: c.size },
              accessModes: [c.mode],
              storageClassName: c.storageClassName ?? "",
              persistentVolumeReclaimPolicy: "Delete",
              hostPath: { path: `/var/lib/simulated/${o.namespace}/${c.name}` },
              claimRef: { namespace: o.namespace, name: c.name },
            },
          });
        }
      }
    }
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

    // 4. Watch them.
    const listPath = resourcePath({ apiVersion: "modelservice.dev/v1alpha1", plural: "modelservices", namespace: o.namespace });
    const list = async () =>
      (await client.request<{ items: ModelService[] }>("GET", listPath)).items
        .filter((ms) => msNames.includes(ms.metadata.name ?? ""))
        .sort((a, b) => (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""));
    const deadline = o.timeoutMs !== undefined ? Date.now() + o.timeoutMs : Number.POSITIVE_INFINITY;
    const readyAt = new Map<string, number>();
    const tty = process.stdout.isTTY && o.mode === "live";
    let last = "";
    for (;;) {
      const items = await list();
      for (const ms of items) if (isReady(ms) && !readyAt.has(ms.metadata.name ?? "")) readyAt.set(ms.metadata.name ?? "", performance.now());
      const table = formatTable(items.map(rowOf), tty ? (process.stdout.columns ?? 120) : 160);
      if (o.mode === "once") {
        // One table, once the operator has reported on every ModelService (or at the timeout).
        const reported = items.length === msNames.length && items.every((ms) => ms.status?.observedGeneration === ms.metadata.generation);
        if (reported || Date.now() > deadline || stop.signal.aborted) {
          process.stdout.write(`${table}\n`);
          if (!reported) code = 1;
          break;
        }
        await sleep(200, stop.signal);
        continue;
      }
      if (table !== last) {
        if (tty)
          process.stdout.write(`\x1b[H\x1b[2J[demo] ModelServices in ${o.namespace} — ${new Date().toLocaleTimeString()} — Ctrl-C to stop\n\n${table}\n`);
        else process.stdout.write(`--- ${since()}\n${table}\n`);
        last = table;
      }
      if (o.mode === "until-ready" && items.length === msNames.length && items.every(isSettled)) {
        const ready = items.filter(isReady);
        const load = server ? "" : `, simulated load ${o.simulateLoadSeconds}s`;
        for (const ms of ready)
          say(
            `[measure] ${ms.metadata.name}: Ready ${(((readyAt.get(ms.metadata.name ?? "") ?? 0) - tApplied) / 1000).toFixed(1)}s after apply (±1s polling${load})`,
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
      await sleep(1000, stop.signal);
      if (stop.signal.aborted && o.mode !== "live") {
        code = 130;
        break;
      }
      if (stop.signal.aborted) break;
    }
  } catch (e) {
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
