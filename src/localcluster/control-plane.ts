// A real local Kubernetes control plane with a simulated GPU fleet, for tests, benchmarks and the
// demo: etcd, kube-apiserver, kube-controller-manager, kube-scheduler (real binaries, built by
// scripts/build-binaries.sh) and kwok, which plays the kubelets of the fake nodes following our
// Stage files (src/localcluster/stages). Everything listens on 127.0.0.1 on free ports and lives in
// one temporary directory:
//
//   <dir>/kubeconfig.yaml   admin kubeconfig (client certificate in group system:masters)
//   <dir>/audit.log         API server audit log (JSON lines, one ResponseComplete event per write
//                           request: create/update/patch/delete/deletecollection, level Metadata)
//   <dir>/logs/<component>.log
//   <dir>/pki, <dir>/etcd   certificates and keys, etcd data
//
// stop() terminates every process (SIGTERM, then SIGKILL) and removes the directory. The processes
// also die when this Node process ends, however it ends: SIGINT/SIGTERM handlers call stop(), an
// 'exit' handler SIGKILLs them, and each one runs under a watchdog that kills it once this process
// is gone (src/localcluster/processes.ts).
import { execFile } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parseAllDocuments, stringify } from "yaml";
import { ensureBinaries } from "./binaries.ts";
import { DEFAULT_FLEET, type FleetSpec, fleetNodes, KWOK_NODE_ANNOTATION } from "./fleet.ts";
import { freePort, killGroupsNow, type ManagedProcess, spawnManaged, stopGroups } from "./processes.ts";

export type ControlPlaneOptions = {
  /** Simulated nodes; DEFAULT_FLEET when absent. */
  fleet?: FleetSpec;
  /** How long a pod takes from scheduled to Ready (its "model load"), unless the pod annotation modelservice.dev/simulate-load-seconds says otherwise. Default 1000. */
  podReadyDelayMs?: number;
  /** Where the component logs go (kept after stop()); default <dir>/logs (removed by stop()). */
  logDir?: string;
  extraApiServerFlags?: string[];
  extraControllerManagerFlags?: string[];
  /** Progress lines (binary build, start-up timings). */
  onProgress?: (line: string) => void;
  /** Use these binaries instead of ensureBinaries(). */
  binDir?: string;
  /** Use this (empty or absent) directory instead of a new temporary one. */
  dir?: string;
  /** Let the processes outlive this Node process (`cluster up`): no watchdog, no signal handlers. */
  persistent?: boolean;
  /** Also log the admin user's reads (get, list, watch) to the audit log, so a benchmark can count every request a client sends. */
  auditReads?: boolean;
};

export type ControlPlane = {
  kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  server: string;
  binDir: string;
  dir: string;
  /** The API server's audit log: JSON lines, one event per write request (see the file comment). */
  auditLogPath: string;
  logDir: string;
  /** The components now running (a restarted one has a new pid). */
  readonly processes: { name: string; pid: number; logPath: string }[];
  /** etcd's client URL (plain HTTP on loopback; its gRPC gateway serves /v3/...). */
  etcdUrl: string;
  /** Milliseconds from start to ready, binaries excluded. */
  startupMs: number;
  /**
   * Stops one component (SIGKILL, or SIGTERM with `graceful`), keeps it down for `downMs`, starts
   * it again with the same flags and data, and resolves once it is healthy again (etcd: /health;
   * kube-apiserver: /readyz; the others: started). For fault drills.
   */
  restart(name: ComponentName, opts?: { graceful?: boolean; downMs?: number }): Promise<{ downMs: number; readyMs: number }>;
  stop(): Promise<void>;
};

export type ComponentName = "etcd" | "kube-apiserver" | "kube-controller-manager" | "kube-scheduler" | "kwok";

/** User names of the components, as they appear in the audit log. */
export const COMPONENT_USERS = {
  admin: "kubernetes-admin",
  controllerManager: "system:kube-controller-manager",
  scheduler: "system:kube-scheduler",
  kwok: "kwok-controller",
} as const;

const SERVICE_CIDR = "10.96.0.0/16";
const POD_CIDR = "10.0.0.0/16";
const NODE_IP = "10.255.0.1";
const LOAD_DELAY_STAGES = new Set(["pod-ready", "pod-crash", "pod-never-ready"]);

const execFileAsync = promisify(execFile);

const stagesDir = (): string => {
  const here = fileURLToPath(new URL("./stages/", import.meta.url));
  // From build/localcluster (compiled), the YAML stays in src.
  return existsSync(here) ? here : fileURLToPath(new URL("../../src/localcluster/stages/", import.meta.url));
};

// --- certificates ---------------------------------------------------------------------------

type Identity = { file: string; cn: string; org?: string };
const IDENTITIES: Identity[] = [
  { file: "admin", cn: COMPONENT_USERS.admin, org: "system:masters" },
  { file: "controller-manager", cn: COMPONENT_USERS.controllerManager },
  { file: "scheduler", cn: COMPONENT_USERS.scheduler },
  { file: "kwok", cn: COMPONENT_USERS.kwok, org: "system:masters" },
];

/** A CA, the API server's serving certificate, client certificates and the service-account key pair (all ECDSA P-256). */
const makePki = async (pki: string): Promise<void> => {
  await mkdir(pki, { recursive: true });
  const sans = [
    "IP:127.0.0.1",
    "IP:10.96.0.1",
    "DNS:localhost",
    "DNS:kubernetes",
    "DNS:kubernetes.default",
    "DNS:kubernetes.default.svc",
    "DNS:kubernetes.default.svc.cluster.local",
  ].join(",");
  await writeFile(
    join(pki, "openssl.cnf"),
    [
      "[req]",
      "distinguished_name = dn",
      "[dn]",
      "[ca]",
      "basicConstraints = critical,CA:TRUE",
      "keyUsage = critical,keyCertSign,cRLSign,digitalSignature",
      "subjectKeyIdentifier = hash",
      "[server]",
      "basicConstraints = critical,CA:FALSE",
      "keyUsage = critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage = serverAuth",
      `subjectAltName = ${sans}`,
      "[client]",
      "basicConstraints = critical,CA:FALSE",
      "keyUsage = critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage = clientAuth",
      "",
    ].join("\n"),
  );
  const leaf = (file: string, subject: string, ext: string) =>
    [
      `openssl ecparam -name prime256v1 -genkey -noout -out ${file}.key`,
      `openssl req -new -key ${file}.key -subj '${subject}' -config openssl.cnf -out ${file}.csr`,
      `openssl x509 -req -in ${file}.csr -CA ca.crt -CAkey ca.key -set_serial 0x$(openssl rand -hex 16) -days 3650 -sha256 -extfile openssl.cnf -extensions ${ext} -out ${file}.crt 2>/dev/null`,
    ].join(" && ");
  const script = [
    "set -euo pipefail",
    "openssl ecparam -name prime256v1 -genkey -noout -out ca.key",
    "openssl req -x509 -new -key ca.key -subj '/CN=modelservice-local-ca' -config openssl.cnf -extensions ca -days 3650 -sha256 -out ca.crt",
    "openssl ecparam -name prime256v1 -genkey -noout -out sa.key",
    "openssl ec -in sa.key -pubout -out sa.pub 2>/dev/null",
    `(${leaf("apiserver", "/CN=kube-apiserver", "server")}) &`,
    ...IDENTITIES.map((id) => `(${leaf(id.file, `${id.org ? `/O=${id.org}` : ""}/CN=${id.cn}`, "client")}) &`),
    "wait",
    // `wait` with no argument always succeeds: check every output.
    `for f in apiserver ${IDENTITIES.map((i) => i.file).join(" ")}; do test -s $f.crt; done`,
  ].join("\n");
  try {
    await execFileAsync("bash", ["-c", script], { cwd: pki });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`generating certificates with openssl failed: ${e.stderr || e.message}`);
  }
};

const kubeconfigYaml = (server: string, pki: string, user: string, file: string): string => {
  const b64 = (name: string) => readFileSync(join(pki, name)).toString("base64");
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "modelservice-local", cluster: { server, "certificate-authority-data": b64("ca.crt") } }],
    users: [{ name: user, user: { "client-certificate-data": b64(`${file}.crt`), "client-key-data": b64(`${file}.key`) } }],
    contexts: [{ name: "modelservice-local", context: { cluster: "modelservice-local", user } }],
    "current-context": "modelservice-local",
  });
};

const AUDIT_POLICY = `# Write requests only, at Metadata level (who, what, which object, response code), so tests can
# count the writes that reach the API server. The system components' own lease renewals are left out.
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: None
  users: ["system:apiserver", "${COMPONENT_USERS.controllerManager}", "${COMPONENT_USERS.scheduler}", "${COMPONENT_USERS.kwok}"]
  resources:
  - group: coordination.k8s.io
    resources: ["leases"]
- level: Metadata
  verbs: ["create", "update", "patch", "delete", "deletecollection"]
- level: None
`;

/** AUDIT_POLICY plus the admin user's reads (a watch is logged when it starts and when it ends: count auditIDs). */
const auditPolicyWithReads = (): string =>
  AUDIT_POLICY.replace(
    "- level: Metadata\n  verbs:",
    `- level: Metadata\n  users: ["${COMPONENT_USERS.admin}"]\n  verbs: ["get", "list", "watch"]\n- level: Metadata\n  verbs:`,
  );

// --- a minimal API client (client-node is not needed to boot) -------------------------------

type Creds = { ca: Buffer; cert: Buffer; key: Buffer };
type Reply = { status: number; body: string };

const apiRequest = (server: string, creds: Creds, method: string, path: string, body?: unknown): Promise<Reply> =>
  new Promise((resolve, reject) => {
    const req = httpsRequest(
      new URL(path, server),
      { method, ...creds, agent: false, timeout: 10_000, headers: { "content-type": "application/json", accept: "application/json" } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${path}: timeout`)));
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });

const tail = (file: string, lines = 25): string => {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
};

/** Polls check until it returns true; fails early when one of the watched processes exits. */
const waitFor = async (what: string, timeoutMs: number, check: () => Promise<boolean>, watched: ManagedProcess[]): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  let lastError = "";
  for (;;) {
    const dead = watched.find((p) => p.hasExited());
    if (dead) throw new Error(`${dead.name} exited while waiting for ${what}; last lines of ${dead.logPath}:\n${tail(dead.logPath)}`);
    try {
      if (await check()) return;
    } catch (err) {
      lastError = String(err);
    }
    if (Date.now() > deadline) {
      const logs = watched.map((p) => `--- ${p.logPath}\n${tail(p.logPath, 10)}`).join("\n");
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (${lastError})` : ""}\n${logs}`);
    }
    await sleep(100);
  }
};

/** kwok's --config: our Stage files with the default load delay set, plus kwok's own options. */
export const renderKwokConfig = async (podReadyDelayMs: number): Promise<string> => {
  const dir = stagesDir();
  const docs: unknown[] = [
    {
      apiVersion: "config.kwok.x-k8s.io/v1alpha1",
      kind: "KwokConfiguration",
      // Given a KwokConfiguration, kwok applies no defaults to it: set every parallelism.
      options: {
        podPlayStageParallelism: 16,
        nodePlayStageParallelism: 4,
        nodeLeaseParallelism: 4,
        podsOnNodeSyncParallelism: 2,
        enablePodsOnNodeSyncListPager: true,
        enablePodsOnNodeSyncStreamWatch: false,
      },
    },
  ];
  for (const file of ["node.yaml", "pod.yaml", "pod-failures.yaml"]) {
    for (const doc of parseAllDocuments(await readFile(join(dir, file), "utf8"))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message}`);
      const stage = doc.toJS() as { metadata: { name: string }; spec: { delay?: { durationMilliseconds?: number } } };
      if (LOAD_DELAY_STAGES.has(stage.metadata.name) && stage.spec.delay) stage.spec.delay.durationMilliseconds = podReadyDelayMs;
      docs.push(stage);
    }
  }
  return docs.map((d) => stringify(d, { lineWidth: 0 })).join("---\n");
};

type NodeList = {
  items: { metadata: { name: string }; spec?: { taints?: { key: string }[] }; status?: { conditions?: { type: string; status: string }[] } }[];
};

// --- start ------------------------------------------------------------------------------------

export const startControlPlane = async (opts: ControlPlaneOptions = {}): Promise<ControlPlane> => {
  const progress = opts.onProgress ?? (() => {});
  const binDir = opts.binDir ?? (await ensureBinaries({ onProgress: progress }));
  const t0 = performance.now();
  const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(1)}s`;
  const bin = (name: string) => join(binDir, name);

  let dir: string;
  if (opts.dir) {
    await mkdir(opts.dir, { recursive: true });
    dir = opts.dir;
  } else {
    dir = await mkdtemp(join(tmpdir(), "modelservice-cp-"));
  }
  const pki = join(dir, "pki");
  const logDir = opts.logDir ?? join(dir, "logs");
  const auditLogPath = join(dir, "audit.log");
  const kubeconfigPath = join(dir, "kubeconfig.yaml");
  const processes: ManagedProcess[] = [];
  let stopped: Promise<void> | undefined;

  const onExit = () => {
    killGroupsNow(processes.map((p) => p.pid));
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  };
  const onSignal = (signal: NodeJS.Signals) => {
    void stop().finally(() => {
      // Nobody else handles it: die of the signal as we would have without our handler.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  };
  const removeHandlers = () => {
    process.off("exit", onExit);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.off("SIGHUP", onSignal);
  };
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      removeHandlers();
      // etcd last: the API server cleans up its lease on the way out, and would hang without etcd.
      await stopGroups(processes.filter((p) => p.name !== "etcd").map((p) => p.pid));
      await stopGroups(processes.map((p) => p.pid));
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    })();
    return stopped;
  };
  if (!opts.persistent) {
    process.once("exit", onExit);
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    process.once("SIGHUP", onSignal);
  }
  const specs = new Map<string, { binary: string; args: string[] }>();
  const start = (name: string, binary: string, args: string[]) => {
    specs.set(name, { binary, args });
    const p = spawnManaged(name, bin(binary), args, {
      logPath: join(logDir, `${name}.log`),
      persistent: opts.persistent ?? false,
      cwd: dir,
      // etcd's watchdog also removes the directory if this process dies without stop().
      cleanupOnParentDeath: name === "etcd" && !opts.persistent && !opts.dir ? dir : undefined,
    });
    const i = processes.findIndex((q) => q.name === name);
    if (i >= 0) processes[i] = p;
    else processes.push(p);
    return p;
  };

  try {
    const [etcdClientPort, etcdPeerPort, apiPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const server = `https://127.0.0.1:${apiPort}`;
    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const peerUrl = `http://127.0.0.1:${etcdPeerPort}`;
    await Promise.all([mkdir(logDir, { recursive: true }), mkdir(join(dir, "etcd"), { recursive: true, mode: 0o700 })]);

    // etcd first: the API server's start-up waits for it anyway.
    const etcd = start("etcd", "etcd", [
      "--name=default",
      `--data-dir=${join(dir, "etcd")}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=default=${peerUrl}`,
      "--unsafe-no-fsync=true",
      // A single member on loopback: elect itself in ~0.1 s instead of ~1 s.
      "--heartbeat-interval=20",
      "--election-timeout=100",
      "--log-level=warn",
      "--quota-backend-bytes=8589934592",
    ]);
    await Promise.all([
      makePki(pki),
      renderKwokConfig(opts.podReadyDelayMs ?? 1000).then((cfg) => writeFile(join(dir, "kwok.yaml"), cfg)),
      writeFile(join(dir, "audit-policy.yaml"), opts.auditReads ? auditPolicyWithReads() : AUDIT_POLICY),
    ]);
    const creds: Creds = { ca: readFileSync(join(pki, "ca.crt")), cert: readFileSync(join(pki, "admin.crt")), key: readFileSync(join(pki, "admin.key")) };
    for (const id of IDENTITIES) {
      const path = id.file === "admin" ? kubeconfigPath : join(dir, `${id.file}.kubeconfig`);
      await writeFile(path, kubeconfigYaml(server, pki, id.cn, id.file), { mode: 0o600 });
    }

    await waitFor(
      "etcd",
      30_000,
      async () => {
        const res = await fetch(`${etcdUrl}/health`, { signal: AbortSignal.timeout(2000) });
        return res.ok && ((await res.json()) as { health?: string }).health === "true";
      },
      [etcd],
    );
    progress(`[control-plane] etcd ready at ${elapsed()}`);

    const apiserver = start("kube-apiserver", "kube-apiserver", [
      `--etcd-servers=${etcdUrl}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${apiPort}`,
      `--cert-dir=${join(dir, "apiserver")}`,
      `--tls-cert-file=${join(pki, "apiserver.crt")}`,
      `--tls-private-key-file=${join(pki, "apiserver.key")}`,
      `--client-ca-file=${join(pki, "ca.crt")}`,
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      `--service-account-key-file=${join(pki, "sa.pub")}`,
      `--service-account-signing-key-file=${join(pki, "sa.key")}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      "--authorization-mode=Node,RBAC",
      // Added to the default plugins (which already hold ResourceQuota and PodSecurity).
      "--enable-admission-plugins=NodeRestriction,ResourceQuota,PodSecurity",
      "--allow-privileged=true",
      `--audit-policy-file=${join(dir, "audit-policy.yaml")}`,
      `--audit-log-path=${auditLogPath}`,
      "--audit-log-format=json",
      "--audit-log-mode=blocking",
      "--audit-log-maxsize=0", // one file, never rotated
      "--profiling=false",
      // The default reconciler wants a non-loopback address for the kubernetes Service's endpoints.
      "--endpoint-reconciler-type=none",
      ...(opts.extraApiServerFlags ?? []),
    ]);
    await waitFor(
      "kube-apiserver /readyz",
      90_000,
      async () => {
        const [ready, live] = await Promise.all([apiRequest(server, creds, "GET", "/readyz"), apiRequest(server, creds, "GET", "/livez")]);
        return ready.status === 200 && live.status === 200;
      },
      [etcd, apiserver],
    );
    progress(`[control-plane] kube-apiserver ready at ${elapsed()} (${server})`);

    const controllerManager = start("kube-controller-manager", "kube-controller-manager", [
      `--kubeconfig=${join(dir, "controller-manager.kubeconfig")}`,
      "--bind-address=127.0.0.1",
      "--secure-port=0",
      "--leader-elect=false",
      "--controllers=*",
      "--use-service-account-credentials=true",
      `--service-account-private-key-file=${join(pki, "sa.key")}`,
      `--root-ca-file=${join(pki, "ca.crt")}`,
      `--cluster-signing-cert-file=${join(pki, "ca.crt")}`,
      `--cluster-signing-key-file=${join(pki, "ca.key")}`,
      "--cluster-name=modelservice-local",
      "--kube-api-qps=100",
      "--kube-api-burst=200",
      ...(opts.extraControllerManagerFlags ?? []),
    ]);
    const scheduler = start("kube-scheduler", "kube-scheduler", [
      `--kubeconfig=${join(dir, "scheduler.kubeconfig")}`,
      "--bind-address=127.0.0.1",
      "--secure-port=0",
      "--leader-elect=false",
      "--kube-api-qps=100",
      "--kube-api-burst=200",
    ]);
    const kwok = start("kwok", "kwok", [
      `--kubeconfig=${join(dir, "kwok.kubeconfig")}`,
      `--config=${join(dir, "kwok.yaml")}`,
      "--manage-all-nodes=false",
      `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=fake`,
      `--cidr=${POD_CIDR}`,
      `--node-ip=${NODE_IP}`,
      "--node-lease-duration-seconds=40",
    ]);
    const all = [etcd, apiserver, controllerManager, scheduler, kwok];
    const healthy = async (name: string, p: ManagedProcess): Promise<void> => {
      const running = () => processes.filter((q) => q.name === "etcd" || q.name === name);
      if (name === "etcd") {
        await waitFor("etcd after a restart", 30_000, async () => (await fetch(`${etcdUrl}/health`, { signal: AbortSignal.timeout(2000) })).ok, [p]);
      } else if (name === "kube-apiserver") {
        await waitFor(
          "kube-apiserver /readyz after a restart",
          90_000,
          async () => (await apiRequest(server, creds, "GET", "/readyz")).status === 200,
          running(),
        );
      }
    };
    const restart: ControlPlane["restart"] = async (name, o = {}) => {
      const old = processes.find((q) => q.name === name);
      const spec = specs.get(name);
      if (!old || !spec) throw new Error(`no component named ${name}`);
      const t0 = performance.now();
      if (o.graceful) await stopGroups([old.pid]);
      else {
        killGroupsNow([old.pid]);
        await stopGroups([old.pid], 0);
      }
      if (o.downMs) await sleep(o.downMs);
      const t1 = performance.now();
      const p = start(name, spec.binary, spec.args);
      await healthy(name, p);
      return { downMs: Math.round(t1 - t0), readyMs: Math.round(performance.now() - t1) };
    };

    const nodes = fleetNodes(opts.fleet ?? DEFAULT_FLEET);
    await Promise.all(
      nodes.map(async (node) => {
        const res = await apiRequest(server, creds, "POST", "/api/v1/nodes", node);
        if (res.status !== 201) throw new Error(`creating node ${node.metadata.name}: HTTP ${res.status} ${res.body}`);
      }),
    );
    await waitFor(
      `${nodes.length} Ready nodes`,
      60_000,
      async () => {
        const res = await apiRequest(server, creds, "GET", "/api/v1/nodes");
        const list = JSON.parse(res.body) as NodeList;
        const ready = list.items.filter(
          (n) =>
            n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") &&
            !n.spec?.taints?.some((t) => t.key === "node.kubernetes.io/not-ready" || t.key === "node.kubernetes.io/unreachable"),
        );
        return nodes.every((want) => ready.some((n) => n.metadata.name === want.metadata.name));
      },
      all,
    );
    await waitFor(
      "the default ServiceAccount",
      60_000,
      async () => (await apiRequest(server, creds, "GET", "/api/v1/namespaces/default/serviceaccounts/default")).status === 200,
      all,
    );
    const startupMs = Math.round(performance.now() - t0);
    progress(`[control-plane] ready in ${(startupMs / 1000).toFixed(1)}s: ${nodes.length} nodes, kubeconfig ${kubeconfigPath}`);
    return {
      kubeconfigPath,
      server,
      binDir,
      dir,
      auditLogPath,
      logDir,
      get processes() {
        return processes.map((p) => ({ name: p.name, pid: p.pid, logPath: p.logPath }));
      },
      etcdUrl,
      startupMs,
      restart,
      stop,
    };
  } catch (err) {
    if (opts.logDir === undefined && process.env.MSO_KEEP_FAILED_CLUSTER) {
      progress(`[control-plane] start-up failed; logs kept in ${logDir}`);
      await stopGroups(processes.map((p) => p.pid));
      removeHandlers();
    } else {
      await stop();
    }
    throw err;
  }
};
