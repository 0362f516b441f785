// The real LeaderWorkerSet controller (sigs.k8s.io/lws, built by scripts/build-test-binaries.sh)
// against the local API server, for the multi-node tests.
//
// Its manager normally serves its admission webhooks behind a Service with certificates from its
// internal cert rotator (or cert-manager). Those webhooks are not optional: the pod webhook gives
// each pod of a group its worker index, group key and the LWS_* environment the engines start
// from, and the LeaderWorkerSet webhook fills the defaults. So they are served as in a cluster, but
// reached directly: the manager runs on this machine with its cert rotator off and a self-signed
// certificate for 127.0.0.1 (openssl), and webhook configurations point the API server at
// https://127.0.0.1:<port> by URL, with that certificate as the CA bundle. The pod webhooks only
// see pods with the LeaderWorkerSet name label, so other tests' pods never wait on this process.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KubeClient } from "../../src/kube/client.ts";
import { isApiError } from "../../src/kube/client.ts";
import { freePort, type ManagedProcess, spawnManaged, stopGroups } from "../../src/localcluster/processes.ts";
import { installThirdPartyCrds } from "../../src/localcluster/third-party-crds.ts";

export type LwsController = { logPath: string; process: ManagedProcess; stop(): Promise<void> };

/** The manager's webhook paths (config/webhook/manifests.yaml of sigs.k8s.io/lws v0.8.0). */
const WEBHOOKS = {
  mutating: [
    { name: "mleaderworkerset.kb.io", path: "/mutate-leaderworkerset-x-k8s-io-v1-leaderworkerset", pods: false },
    { name: "mpod.kb.io", path: "/mutate--v1-pod", pods: true },
  ],
  validating: [
    { name: "vleaderworkerset.kb.io", path: "/validate-leaderworkerset-x-k8s-io-v1-leaderworkerset", pods: false },
    { name: "vpod.kb.io", path: "/validate--v1-pod", pods: true },
  ],
};

function webhookConfiguration(kind: "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration", name: string, port: number, caBundle: string) {
  const hooks = kind === "MutatingWebhookConfiguration" ? WEBHOOKS.mutating : WEBHOOKS.validating;
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind,
    metadata: { name },
    webhooks: hooks.map((h) => ({
      name: h.name,
      admissionReviewVersions: ["v1"],
      sideEffects: "None",
      failurePolicy: "Fail",
      timeoutSeconds: 10,
      clientConfig: { url: `https://127.0.0.1:${port}${h.path}`, caBundle },
      rules: [
        h.pods
          ? {
              apiGroups: [""],
              apiVersions: ["v1"],
              operations: kind === "MutatingWebhookConfiguration" ? ["CREATE"] : ["CREATE", "UPDATE"],
              resources: ["pods"],
            }
          : { apiGroups: ["leaderworkerset.x-k8s.io"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["leaderworkersets"] },
      ],
      ...(h.pods ? { objectSelector: { matchExpressions: [{ key: "leaderworkerset.sigs.k8s.io/name", operator: "Exists" }] } } : {}),
    })),
  };
}

async function waitHealthy(url: string, proc: ManagedProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.hasExited()) throw new Error(`lws-manager exited: ${readFileSync(proc.logPath, "utf8").slice(-3000)}`);
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`lws-manager not healthy within ${timeoutMs} ms: ${readFileSync(proc.logPath, "utf8").slice(-3000)}`);
}

/** Installs the LeaderWorkerSet CRD (from its Go module), starts the manager and registers its webhooks. */
export async function startLwsController(client: KubeClient, opts: { testBinDir: string; kubeconfig: string }): Promise<LwsController> {
  await installThirdPartyCrds(client, ["lws"]);
  const dir = mkdtempSync(join(tmpdir(), "mso-lws-"));
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      join(dir, "tls.key"),
      "-out",
      join(dir, "tls.crt"),
      "-days",
      "1",
      "-subj",
      "/CN=lws-webhook",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ],
    { stdio: "ignore" },
  );
  const [webhookPort, healthPort] = [await freePort(), await freePort()];
  const config = [
    "apiVersion: config.lws.x-k8s.io/v1alpha1",
    "kind: Configuration",
    "leaderElection:",
    "  leaderElect: false",
    "internalCertManagement:",
    "  enable: false",
    "webhook:",
    "  host: 127.0.0.1",
    `  port: ${webhookPort}`,
    `  certDir: ${dir}`,
    "metrics:",
    '  bindAddress: "0"',
    "health:",
    `  healthProbeBindAddress: 127.0.0.1:${healthPort}`,
    "",
  ].join("\n");
  writeFileSync(join(dir, "config.yaml"), config);
  const proc = spawnManaged("lws-manager", join(opts.testBinDir, "lws-manager"), ["--config", join(dir, "config.yaml")], {
    logPath: join(dir, "lws-manager.log"),
    env: { ...process.env, KUBECONFIG: opts.kubeconfig },
  });
  const name = `mso-test-lws-${webhookPort}`;
  const caBundle = readFileSync(join(dir, "tls.crt")).toString("base64");
  const paths = {
    MutatingWebhookConfiguration: "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations",
    ValidatingWebhookConfiguration: "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
  } as const;
  const stop = async () => {
    for (const path of Object.values(paths)) {
      await client.request("DELETE", `${path}/${name}`).catch((e: unknown) => {
        if (!isApiError(e, 404)) throw e;
      });
    }
    await stopGroups([proc.pid]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitHealthy(`http://127.0.0.1:${healthPort}/readyz`, proc, 60_000);
    for (const kind of ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"] as const) {
      await client.request("POST", paths[kind], { body: webhookConfiguration(kind, name, webhookPort, caBundle) });
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { logPath: proc.logPath, process: proc, stop };
}
