// KEDA's operator and the KEDA HTTP add-on's interceptor and scaler as local processes against the
// local control plane (binaries from scripts/build-test-binaries.sh; CRDs from their Go modules,
// src/localcluster/third-party-crds.ts). What differs from an in-cluster install, and why:
//   - Each process talks to the API server with the admin kubeconfig (no ServiceAccount).
//   - KEDA's metrics-service gRPC server refuses to start without a TLS pair: it gets the local
//     API server's serving pair. Nothing connects to it (no keda-metrics-apiserver: scaling 0 <-> 1
//     is KEDA's operator's own work; only the HPA's 1 <-> N needs external metrics).
//   - The scaler finds the interceptor through an EndpointSlice of the admin Service, as in a
//     cluster; here the slice is written by hand with this machine's own (non-loopback) address,
//     where the interceptor's admin port listens (it binds 0.0.0.0).
//   - The interceptor forwards to <service>.<namespace>:<port>, a name only cluster DNS resolves:
//     HTTP_PROXY sends that hop to `upstreamProxy` (the caller's stand-in for Service VIP → pod).
import { copyFileSync, mkdirSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { dirname, join } from "node:path";
import type { KubeClient } from "../kube/client.ts";
import { resourcePath } from "../kube/client.ts";
import { freePort, type ManagedProcess, spawnManaged, stopGroups } from "./processes.ts";

export const KEDA_BINARIES = ["keda-operator", "interceptor", "scaler"] as const;

const ADMIN_SERVICE = "keda-add-ons-http-interceptor-admin";

export type LocalKeda = {
  /** host:port of the add-on's scaler (the ScaledObject's external-push trigger dials it). */
  scalerAddress: string;
  /** http://127.0.0.1:<port>: the interceptor's proxy port, where callers send requests. */
  interceptorUrl: string;
  processes: ManagedProcess[];
  stop(): Promise<void>;
};

export type LocalKedaOptions = {
  kubeconfigPath: string;
  testBinDir: string;
  /** Namespace of KEDA's own objects and of the interceptor's admin Service (must exist). */
  namespace: string;
  /** http://127.0.0.1:<port> of the stand-in for the model Service (see the file comment). */
  upstreamProxy: string;
  logDir: string;
  /** Start KEDA's operator too (default); false: only the add-on's interceptor and scaler. */
  kedaOperator?: boolean;
};

/** This machine's first non-loopback IPv4 address: an EndpointSlice may not name 127.0.0.0/8. */
export function hostAddress(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  throw new Error("no non-loopback IPv4 address on this machine: the scaler cannot reach the interceptor through an EndpointSlice");
}

async function applyObject(client: KubeClient, apiVersion: string, plural: string, obj: Record<string, unknown>): Promise<void> {
  const meta = obj.metadata as { name: string; namespace: string };
  await client.request("PATCH", resourcePath({ apiVersion, plural, namespace: meta.namespace, name: meta.name }), {
    body: obj,
    contentType: "application/apply-patch+yaml",
    query: { fieldManager: "local-keda", force: true },
  });
}

export async function startLocalKeda(client: KubeClient, o: LocalKedaOptions): Promise<LocalKeda> {
  const [proxyPort, adminPort, scalerPort, probePort, grpcPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  mkdirSync(o.logDir, { recursive: true });
  const base: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: o.kubeconfigPath };
  // Only the interceptor's upstream hop goes through the stand-in.
  delete base.HTTP_PROXY;
  delete base.http_proxy;
  const processes: ManagedProcess[] = [];
  const stop = async () => {
    await stopGroups(processes.map((p) => p.pid));
  };
  try {
    // The admin Service and its slice first: the scaler polls it from its start.
    await applyObject(client, "v1", "services", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: ADMIN_SERVICE, namespace: o.namespace },
      spec: { ports: [{ name: "admin", port: adminPort, targetPort: adminPort }] },
    });
    await applyObject(client, "discovery.k8s.io/v1", "endpointslices", {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { name: `${ADMIN_SERVICE}-local`, namespace: o.namespace, labels: { "kubernetes.io/service-name": ADMIN_SERVICE } },
      addressType: "IPv4",
      endpoints: [{ addresses: [hostAddress()], conditions: { ready: true } }],
      ports: [{ name: "admin", port: adminPort, protocol: "TCP" }],
    });

    processes.push(
      spawnManaged("keda-http-interceptor", join(o.testBinDir, "interceptor"), [], {
        logPath: join(o.logDir, "interceptor.log"),
        env: {
          ...base,
          KEDA_HTTP_PROXY_PORT: String(proxyPort),
          KEDA_HTTP_ADMIN_PORT: String(adminPort),
          OTEL_PROM_EXPORTER_ENABLED: "false",
          KEDA_HTTP_SHUTDOWN_DELAY: "0s",
          KEDA_HTTP_DRAIN_TIMEOUT: "1s",
          HTTP_PROXY: o.upstreamProxy,
        },
      }),
    );
    processes.push(
      spawnManaged("keda-http-scaler", join(o.testBinDir, "scaler"), [], {
        logPath: join(o.logDir, "scaler.log"),
        env: {
          ...base,
          KEDA_HTTP_SCALER_PORT: String(scalerPort),
          KEDA_HTTP_SCALER_TARGET_ADMIN_NAMESPACE: o.namespace,
          KEDA_HTTP_SCALER_TARGET_ADMIN_SERVICE: ADMIN_SERVICE,
          KEDA_HTTP_SCALER_TARGET_ADMIN_DEPLOYMENT: "keda-add-ons-http-interceptor",
          KEDA_HTTP_SCALER_TARGET_ADMIN_PORT: String(adminPort),
          OTEL_PROM_EXPORTER_ENABLED: "false",
        },
      }),
    );
    if (o.kedaOperator === false) return { scalerAddress: `127.0.0.1:${scalerPort}`, interceptorUrl: `http://127.0.0.1:${proxyPort}`, processes, stop };
    // KEDA's metrics-service gRPC server loads ca.crt, tls.crt and tls.key from --cert-dir.
    const pki = join(dirname(o.kubeconfigPath), "pki");
    const certDir = join(o.logDir, "keda-certs");
    mkdirSync(certDir, { recursive: true });
    copyFileSync(join(pki, "ca.crt"), join(certDir, "ca.crt"));
    copyFileSync(join(pki, "apiserver.crt"), join(certDir, "tls.crt"));
    copyFileSync(join(pki, "apiserver.key"), join(certDir, "tls.key"));
    processes.push(
      spawnManaged(
        "keda-operator",
        join(o.testBinDir, "keda-operator"),
        [
          "--metrics-bind-address=0",
          `--health-probe-bind-address=127.0.0.1:${probePort}`,
          `--metrics-service-bind-address=127.0.0.1:${grpcPort}`,
          `--cert-dir=${certDir}`,
          "--enable-prometheus-metrics=false",
          "--zap-log-level=info",
        ],
        { logPath: join(o.logDir, "keda-operator.log"), env: { ...base, WATCH_NAMESPACE: "", KEDA_CLUSTER_OBJECT_NAMESPACE: o.namespace } },
      ),
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return { scalerAddress: `127.0.0.1:${scalerPort}`, interceptorUrl: `http://127.0.0.1:${proxyPort}`, processes, stop };
}
