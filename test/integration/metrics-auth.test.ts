// /metrics behind Kubernetes authentication and authorization, as the chart runs it by default:
// the operator (as the chart's ServiceAccount, with only the chart's RBAC) reviews each bearer
// token (TokenReview) and asks RBAC whether its user may get /metrics (SubjectAccessReview). A
// ServiceAccount bound to the chart's metrics-reader ClusterRole reads the metrics; others get 403;
// no token, 401. The probes stay open.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { CHART_DIR } from "../../scripts/install-manifest.ts";
import type { KubeClient } from "../../src/kube/client.ts";
import { installCrd } from "../../src/operator/install-crd.ts";
import { type RunningOperator, startOperator } from "../../src/operator/start.ts";
import { createNamespace, deleteNamespace, testClient } from "./controller-helpers.ts";
import { serviceAccountKubeconfig } from "./helpers/service-account.ts";

const run = promisify(execFile);
const kubeconfig = inject("kubeconfig");
const binDir = inject("binDir");
const helm = join(binDir, "helm");
const kubectl = join(binDir, "kubectl");
const scratch = mkdtempSync(join(tmpdir(), "mso-metrics-auth-"));
const env = { ...process.env, KUBECONFIG: kubeconfig, HELM_CACHE_HOME: scratch, HELM_CONFIG_HOME: scratch, HELM_DATA_HOME: scratch };

const release = `mauth-${randomBytes(2).toString("hex")}`;
const fullname = `${release}-modelservice-operator`;
let admin: KubeClient;
let ns = "";
let op: RunningOperator | undefined;
const tokens: Record<string, string> = {};

async function token(serviceAccount: string): Promise<string> {
  const { stdout } = await run(kubectl, ["--kubeconfig", kubeconfig, "-n", ns, "create", "token", serviceAccount, "--duration=1h"]);
  return stdout.trim();
}

const get = (path: string, bearer?: string) =>
  fetch(`http://127.0.0.1:${op?.port}${path}`, bearer !== undefined ? { headers: { authorization: `Bearer ${bearer}` } } : {});

beforeAll(async () => {
  admin = testClient();
  await installCrd(admin);
  ns = await createNamespace(admin, "mauth");
  // The chart with its defaults (metricsAuth kubernetes), without an operator pod: the operator runs here.
  await run(helm, ["install", release, CHART_DIR, "-n", ns, "--skip-crds", "--set", "replicas=0"], { env });
  for (const name of ["prometheus", "stranger"]) {
    await admin.request("POST", `/api/v1/namespaces/${ns}/serviceaccounts`, { body: { apiVersion: "v1", kind: "ServiceAccount", metadata: { name } } });
    tokens[name] = await token(name);
  }
  await admin.request("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
    body: {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: `${fullname}-prometheus` },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: `${fullname}-metrics-reader` },
      subjects: [{ kind: "ServiceAccount", name: "prometheus", namespace: ns }],
    },
  });
  const saKubeconfig = await serviceAccountKubeconfig({ kubectl, kubeconfig, namespace: ns, serviceAccount: fullname });
  op = await startOperator({
    kubeconfig: saKubeconfig,
    namespaces: [ns],
    metricsAuth: "kubernetes",
    httpHost: "127.0.0.1",
    httpPort: 0,
    logger: pino({ level: "warn" }),
  });
});

afterAll(async () => {
  await op?.stop();
  await run(helm, ["uninstall", release, "-n", ns], { env }).catch(() => {});
  await admin?.request("DELETE", `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${fullname}-prometheus`).catch(() => {});
  if (ns) await deleteNamespace(admin, ns);
  admin?.close();
});

describe("/metrics with metricsAuth kubernetes", () => {
  it("answers 401 without a token or with one the API server does not know", async () => {
    const none = await get("/metrics");
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe("Bearer");
    expect(await none.text()).not.toContain("modelservice_");
    expect((await get("/metrics", "not-a-token")).status).toBe(401);
  });

  it("answers 403 to a ServiceAccount that RBAC does not allow to get /metrics", async () => {
    const r = await get("/metrics", tokens.stranger);
    expect(r.status).toBe(403);
    expect(await r.text()).toContain(`user "system:serviceaccount:${ns}:stranger" cannot get path "/metrics"`);
  });

  it("serves the metrics to a ServiceAccount bound to the chart's metrics-reader ClusterRole", async () => {
    const t0 = performance.now();
    const r = await get("/metrics", tokens.prometheus);
    const first = performance.now() - t0;
    expect(r.status).toBe(200);
    expect(await r.text()).toMatch(/^# HELP modelservice_/m);
    const t1 = performance.now();
    expect((await get("/metrics", tokens.prometheus)).status).toBe(200);
    console.log(
      `[measure] /metrics with a reviewed token: first ${first.toFixed(1)} ms (TokenReview + SubjectAccessReview), again ${(performance.now() - t1).toFixed(1)} ms (cached)`,
    );
  });

  it("keeps /healthz and /readyz open for the kubelet", async () => {
    expect((await get("/healthz")).status).toBe(200);
    expect((await get("/readyz")).status).toBe(200);
  });
});
