// The operator under exactly the RBAC the Helm chart grants it: the chart is installed (RBAC,
// ServiceAccount; replicas 0, so no operator pod), and the operator runs in-process with a token of
// the chart's ServiceAccount — not as admin — with leader election on (the Lease Role). It must
// reconcile a ModelService end to end without a single 403, and the same identity must be refused
// everything outside its rules. Cluster-wide (ClusterRole) and with watchNamespaces (Roles).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { CHART_DIR } from "../../scripts/install-manifest.ts";
import { isApiError, KubeClient, loadKubeConfig, resourcePath } from "../../src/kube/client.ts";
import { installThirdPartyCrds, removeThirdPartyCrds, type ThirdPartyName } from "../../src/localcluster/third-party-crds.ts";
import { installCrd } from "../../src/operator/install-crd.ts";
import { type RunningOperator, startOperator } from "../../src/operator/start.ts";
import {
  applyModelService,
  condition,
  createNamespace,
  deleteNamespace,
  get,
  getDeployment,
  getModelService,
  gpuSpec,
  isReady,
  sleep,
  testClient,
  waitFor,
} from "./controller-helpers.ts";
import { serviceAccountKubeconfig } from "./helpers/service-account.ts";

const kubeconfig = inject("kubeconfig");
const binDir = inject("binDir");
const helm = join(binDir, "helm");
const kubectl = join(binDir, "kubectl");
const scratch = mkdtempSync(join(tmpdir(), "mso-rbac-test-"));
const env = { ...process.env, KUBECONFIG: kubeconfig, HELM_CACHE_HOME: scratch, HELM_CONFIG_HOME: scratch, HELM_DATA_HOME: scratch };

function run(bin: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

async function ok(bin: string, args: string[]): Promise<string> {
  const r = await run(bin, args);
  if (r.code !== 0) throw new Error(`${bin} ${args.join(" ")} failed (${r.code}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Resolves with the promise, or rejects after ms with what `explain` says (the operator's log). */
async function within<T>(p: Promise<T>, ms: number, what: string, explain: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms; operator log:\n${explain()}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Expects the request to be refused with 403 Forbidden. */
async function forbidden(what: string, p: Promise<unknown>): Promise<void> {
  const outcome = await p.then(
    () => "allowed",
    (e: unknown) => (isApiError(e, 403) ? "forbidden" : `failed otherwise: ${String(e)}`),
  );
  expect(outcome, what).toBe("forbidden");
}

const HPA = ["autoscaling/v2", "horizontalpodautoscalers"] as const;
const PDB = ["policy/v1", "poddisruptionbudgets"] as const;
const PVC = ["v1", "persistentvolumeclaims"] as const;

type Mode = "cluster-wide" | "watchNamespaces";

// The add-ons' CRDs (Gateway API, cert-manager, Envoy Gateway) for the secured ModelService; the
// control plane is shared, so they are removed afterwards.
const ADD_ONS: ThirdPartyName[] = ["gatewayApi", "certManager", "envoyGateway"];
beforeAll(async () => {
  const c = testClient();
  await installThirdPartyCrds(c, ADD_ONS);
  c.close();
}, 120_000);
afterAll(async () => {
  const c = testClient();
  await removeThirdPartyCrds(c, ADD_ONS);
  c.close();
}, 120_000);

describe.each<Mode>(["cluster-wide", "watchNamespaces"])("the operator as the chart's ServiceAccount (%s, leader election on)", (mode) => {
  const release = `rbac-${randomBytes(2).toString("hex")}`;
  const fullname = `${release}-modelservice-operator`;
  let admin: KubeClient;
  let releaseNs = "";
  let watched = "";
  let unwatched = "";
  let sa: KubeClient;
  let op: RunningOperator | undefined;
  const logs: string[] = [];
  const logText = () => logs.slice(-40).join("");
  // An RBAC refusal reads 'forbidden: User "system:serviceaccount:..." cannot list resource ...'.
  // Other 403s are not RBAC: cluster-wide, the operator also sees ModelServices of other tests'
  // namespaces being deleted, where writes get "unable to create new content in namespace X
  // because it is being terminated".
  // The chart's ValidatingAdmissionPolicies (on by default) apply to this identity too: a denial
  // reads "... is forbidden: ValidatingAdmissionPolicy '...' with binding '...' denied request".
  const rbacRefusals = () => logs.filter((l) => /forbidden: User|cannot \w+ resource|ValidatingAdmissionPolicy/.test(l)).map((l) => l.slice(0, 600));

  beforeAll(async () => {
    admin = testClient();
    await installCrd(admin);
    releaseNs = await createNamespace(admin, "rbac-rel");
    watched = await createNamespace(admin, "rbac-w");
    unwatched = await createNamespace(admin, "rbac-o");
    const sets = ["replicas=0", "leaderElection.enabled=true", ...(mode === "watchNamespaces" ? [`watchNamespaces={${watched}}`] : [])];
    // replicas=0: the chart's RBAC and ServiceAccount without an operator pod (the operator runs here).
    await ok(helm, ["install", release, CHART_DIR, "-n", releaseNs, "--skip-crds", ...sets.flatMap((s) => ["--set", s])]);
    const saKubeconfig = await serviceAccountKubeconfig({ kubectl, kubeconfig, namespace: releaseNs, serviceAccount: fullname });
    sa = new KubeClient(loadKubeConfig(saKubeconfig), { userAgent: "modelservice-operator-rbac-test" });
    const logger = pino({ level: "warn" }, { write: (line: string) => void logs.push(line) });
    // Informers retry a refused list forever: without the RBAC they need, start() never resolves.
    op = await within(
      startOperator({
        kubeconfig: saKubeconfig,
        namespaces: mode === "watchNamespaces" ? [watched] : undefined,
        leaderElect: true,
        leaderElectionNamespace: releaseNs,
        leaseName: fullname,
        httpHost: "127.0.0.1",
        httpPort: 0,
        logger,
      }),
      60_000,
      "starting the operator (cache sync) as the ServiceAccount",
      logText,
    );
  });

  afterAll(async () => {
    await op?.stop();
    await run(helm, ["uninstall", release, "-n", releaseNs]);
    for (const n of [releaseNs, watched, unwatched]) if (n) await deleteNamespace(admin, n);
    sa?.close();
    admin?.close();
  });

  it("leads through the Lease in its own namespace", async () => {
    await within(
      waitFor("the operator to lead", () => op?.isLeader(), 30_000, 50),
      35_000,
      "acquiring the Lease",
      logText,
    );
    const lease = await get<{ spec?: { holderIdentity?: string } }>(admin, "coordination.k8s.io/v1", "leases", releaseNs, fullname);
    expect(lease?.spec?.holderIdentity).toBe(op?.identity);
  });

  it("reconciles a ModelService end to end: children, Ready, an Event, a hand edit undone, HPA, PDB and PVC pruned", async () => {
    const spec = { ...gpuSpec(), resources: { requests: { cpu: "2" } }, autoscaling: { minReplicas: 1, maxReplicas: 3, target: { cpuUtilization: 80 } } };
    const created = await applyModelService(admin, watched, "rbac", spec);
    const d = await waitFor("the Deployment", () => getDeployment(admin, watched, "rbac"), 30_000);
    expect(d.metadata?.ownerReferences?.[0]).toMatchObject({ kind: "ModelService", name: "rbac", uid: created.metadata.uid });
    await waitFor("the Service", () => get(admin, "v1", "services", watched, "rbac"), 30_000);
    await waitFor("the HPA", () => get(admin, ...HPA, watched, "rbac"), 30_000);

    const ready = await waitFor(
      "Ready",
      async () => {
        const ms = await getModelService(admin, watched, "rbac");
        return isReady(ms) ? ms : undefined;
      },
      90_000,
    );
    expect(ready.status?.observedGeneration).toBe(ready.metadata.generation);
    expect(condition(ready, "Ready")?.reason).toBe("Ready");

    const events = await waitFor(
      "an Event on the ModelService",
      async () => {
        const list = await admin.request<{ items: { reason?: string; source?: { component?: string } }[] }>("GET", `/api/v1/namespaces/${watched}/events`, {
          query: { fieldSelector: "involvedObject.kind=ModelService,involvedObject.name=rbac" },
        });
        return list.items.some((e) => e.reason === "Ready") ? list.items : undefined;
      },
      15_000,
    );
    expect(events.find((e) => e.reason === "Ready")?.source?.component).toBe("modelservice-operator");

    // A hand edit of the Deployment is undone.
    const image = d.spec?.template.spec?.containers[0]?.image;
    await admin.request("PATCH", `/apis/apps/v1/namespaces/${watched}/deployments/rbac`, {
      body: [{ op: "replace", path: "/spec/template/spec/containers/0/image", value: "example.com/hacked:1" }],
      contentType: "application/json-patch+json",
    });
    await waitFor(
      "the image to be restored",
      async () => (await getDeployment(admin, watched, "rbac"))?.spec?.template.spec?.containers[0]?.image === image,
      20_000,
    );

    // Autoscaling removed: the HPA is deleted (delete verb on horizontalpodautoscalers).
    await applyModelService(admin, watched, "rbac", { ...gpuSpec(), replicas: 1 });
    await waitFor("the HPA to be deleted", async () => (await get(admin, ...HPA, watched, "rbac")) === undefined, 30_000);

    // More than one replica and a cache volume: a PodDisruptionBudget and a PVC, deleted again.
    await applyModelService(admin, watched, "rbac", { ...gpuSpec(), replicas: 2, cache: { size: "1Gi", deleteOnRemoval: true } });
    await waitFor("the PDB", () => get(admin, ...PDB, watched, "rbac"), 30_000);
    await waitFor("the cache PVC", () => get(admin, ...PVC, watched, "rbac-cache"), 30_000);
    await applyModelService(admin, watched, "rbac", { ...gpuSpec(), replicas: 1 });
    await waitFor("the PDB to be deleted", async () => (await get(admin, ...PDB, watched, "rbac")) === undefined, 30_000);
    await waitFor(
      "the PVC to be deleted",
      async () => {
        const pvc = await get<{ metadata: { deletionTimestamp?: string } }>(admin, ...PVC, watched, "rbac-cache");
        return pvc === undefined || pvc.metadata.deletionTimestamp !== undefined;
      },
      30_000,
    );

    const metrics = await (await fetch(`http://127.0.0.1:${op?.port}/metrics`)).text();
    expect(metrics).toMatch(/modelservice_reconcile_total\{result="success"\} [1-9]/);
    expect(metrics).toMatch(/modelservice_operator_leader 1/);
    expect(metrics).not.toMatch(/modelservice_reconcile_errors_total\{kind="(apply|status)"\} [1-9]/);
  });

  it("reconciles a secured ModelService (expose, tls, API keys): route, policies, certificate, and reads the Gateway", async () => {
    await applyModelService(admin, watched, "secured", {
      ...gpuSpec(),
      access: { apiKeySecret: { name: "llama-api-key", key: "key" } },
      expose: { parentRefs: [{ name: "public", namespace: watched }], hostnames: ["llm.example.com"], apiKeyAuth: { secretName: "gw-keys" } },
      tls: { issuerRef: { name: "internal-ca" }, caConfigMap: "internal-ca" },
    });
    for (const [apiVersion, plural, name] of [
      ["networking.k8s.io/v1", "networkpolicies", "secured"],
      ["cert-manager.io/v1", "certificates", "secured-tls"],
      ["gateway.envoyproxy.io/v1alpha1", "securitypolicies", "secured"],
      ["gateway.networking.k8s.io/v1", "backendtlspolicies", "secured"],
      ["gateway.networking.k8s.io/v1", "httproutes", "secured"],
      ["apps/v1", "deployments", "secured"],
    ] as const) {
      await within(
        waitFor(`${plural}/${name}`, () => get(admin, apiVersion, plural, watched, name), 30_000),
        35_000,
        `the operator to create ${plural}/${name}`,
        logText,
      );
    }
    // The Gateway watch works under the chart's RBAC: no Gateway "public" yet.
    await within(
      waitFor(
        "Exposed GatewayNotFound",
        async () => condition(await getModelService(admin, watched, "secured"), "Exposed")?.reason === "GatewayNotFound",
        30_000,
      ),
      35_000,
      "the Exposed condition",
      logText,
    );
  });

  it("was never refused anything while reconciling", async () => {
    // Every write and every list/watch failure is logged at warn; none may be an RBAC refusal.
    await sleep(500);
    expect(rbacRefusals()).toEqual([]);
  });

  it("stops gracefully, giving the Lease up", async () => {
    await op?.stop();
    const lease = await get<{ spec?: { holderIdentity?: string } }>(admin, "coordination.k8s.io/v1", "leases", releaseNs, fullname);
    expect(lease?.spec?.holderIdentity ?? "").toBe("");
    expect(rbacRefusals()).toEqual([]);
    expect(logs.filter((l) => /could not release/.test(l))).toEqual([]);
  });

  it("is held by the chart's admission policy to objects a ModelService controls, with safe pods", async () => {
    const owner = {
      apiVersion: "modelservice.dev/v1alpha1",
      kind: "ModelService",
      name: "rbac",
      uid: "4c3d2b1a-0000-4000-8000-000000000001",
      controller: true,
    };
    const deployment = (ns: string, o: { owned?: boolean; pod?: Record<string, unknown> } = {}) => ({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "vap-probe", namespace: ns, ...(o.owned ? { ownerReferences: [owner] } : {}) },
      spec: {
        selector: { matchLabels: { a: "b" } },
        template: { metadata: { labels: { a: "b" } }, spec: { automountServiceAccountToken: false, containers: [{ name: "c", image: "x" }], ...o.pod } },
      },
    });
    // dryRun: admission runs in full, nothing is stored.
    const create = (c: KubeClient, apiVersion: string, plural: string, ns: string, body: unknown) =>
      c.request("POST", resourcePath({ apiVersion, plural, namespace: ns }), { body, query: { dryRun: "All" } });
    const refusal = (p: Promise<unknown>) =>
      p.then(
        () => "allowed",
        (e: { status?: number; message?: string }) => `${e.status}: ${e.message}`,
      );
    const OWNED = "may only create or update objects a ModelService controls";
    const target = mode === "cluster-wide" ? "kube-system" : watched;
    // A policy is enforced once the API server has seen it (about a second after the install).
    const first = await waitFor(
      "the policy to refuse a Deployment without an owner",
      async () => {
        const r = await refusal(create(sa, "apps/v1", "deployments", target, deployment(target)));
        return r.includes(OWNED) ? r : undefined;
      },
      15_000,
      250,
    );
    expect(first).toMatch(new RegExp(`^403: .*ValidatingAdmissionPolicy '${fullname}-owned-children'`));
    expect(
      await refusal(create(sa, "v1", "services", watched, { apiVersion: "v1", kind: "Service", metadata: { name: "vap" }, spec: { ports: [{ port: 80 }] } })),
    ).toContain(OWNED);
    const pods: [string, Record<string, unknown>][] = [
      ["a ServiceAccount", { serviceAccountName: "builder" }],
      ["a ServiceAccount token", { automountServiceAccountToken: true }],
      ["the host network", { hostNetwork: true }],
      ["the host PID namespace", { hostPID: true }],
      ["a privileged container", { containers: [{ name: "c", image: "x", securityContext: { privileged: true } }] }],
      ["a privileged init container", { initContainers: [{ name: "i", image: "x", securityContext: { privileged: true } }] }],
      ["a hostPath volume", { volumes: [{ name: "h", hostPath: { path: "/" } }] }],
    ];
    for (const [what, pod] of pods) {
      expect(await refusal(create(sa, "apps/v1", "deployments", watched, deployment(watched, { owned: true, pod }))), what).toMatch(
        new RegExp(`^403: .*ValidatingAdmissionPolicy '${fullname}-model-pods'`),
      );
    }
    // Allowed: an owned Deployment with a safe pod, the operator's Events, and other users' objects.
    expect(await refusal(create(sa, "apps/v1", "deployments", watched, deployment(watched, { owned: true })))).toBe("allowed");
    const event = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: "vap.1" },
      involvedObject: { kind: "ModelService", name: "rbac", namespace: watched },
      reason: "Probe",
      message: "m",
      type: "Normal",
    };
    expect(await refusal(create(sa, "v1", "events", watched, event))).toBe("allowed");
    expect(await refusal(create(admin, "apps/v1", "deployments", watched, deployment(watched, { pod: { hostNetwork: true } })))).toBe("allowed");
  });

  it("is refused (403) everything outside its rules", async () => {
    await admin.request("POST", resourcePath({ apiVersion: "v1", plural: "secrets", namespace: watched }), {
      body: { apiVersion: "v1", kind: "Secret", metadata: { name: "hf-token" }, stringData: { HF_TOKEN: "x" } },
    });
    const at = (ns: string | undefined, apiVersion: string, plural: string, name?: string) => resourcePath({ apiVersion, plural, namespace: ns, name });
    await forbidden("get a Secret", sa.request("GET", at(watched, "v1", "secrets", "hf-token")));
    await forbidden("list Secrets in a watched namespace", sa.request("GET", at(watched, "v1", "secrets")));
    await forbidden("list Secrets in all namespaces", sa.request("GET", at(undefined, "v1", "secrets")));
    await forbidden("watch Secrets", sa.request("GET", at(watched, "v1", "secrets"), { query: { watch: true, timeoutSeconds: 1 } }));
    await forbidden("read a Secret in its own namespace", sa.request("GET", at(releaseNs, "v1", "secrets")));
    await forbidden(
      "create a ConfigMap",
      sa.request("POST", at(watched, "v1", "configmaps"), { body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "nope" }, data: {} } }),
    );
    await forbidden(
      "update a ModelService's spec",
      sa.request("PATCH", at(watched, "modelservice.dev/v1alpha1", "modelservices", "rbac"), {
        body: { spec: { replicas: 2 } },
        contentType: "application/merge-patch+json",
      }),
    );
    await forbidden("delete a ModelService", sa.request("DELETE", at(watched, "modelservice.dev/v1alpha1", "modelservices", "rbac")));
    await forbidden("delete a pod", sa.request("DELETE", at(watched, "v1", "pods", "anything")));
    await forbidden(
      "write a Lease outside its namespace",
      sa.request("POST", at(watched, "coordination.k8s.io/v1", "leases"), {
        body: { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: "steal" }, spec: {} },
      }),
    );
    await forbidden("list nodes", sa.request("GET", "/api/v1/nodes"));
    if (mode === "watchNamespaces") {
      const deployment = {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "nope" },
        spec: { selector: { matchLabels: { a: "b" } }, template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "c", image: "x" }] } } },
      };
      await forbidden("create a Deployment in a namespace not watched", sa.request("POST", at(unwatched, "apps/v1", "deployments"), { body: deployment }));
      await forbidden("list Deployments in a namespace not watched", sa.request("GET", at(unwatched, "apps/v1", "deployments")));
      await forbidden("list Deployments in all namespaces", sa.request("GET", at(undefined, "apps/v1", "deployments")));
      await forbidden("list ModelServices in all namespaces", sa.request("GET", at(undefined, "modelservice.dev/v1alpha1", "modelservices")));
      await forbidden(
        "patch a ModelService status in a namespace not watched",
        sa.request(
          "PATCH",
          resourcePath({ apiVersion: "modelservice.dev/v1alpha1", plural: "modelservices", namespace: unwatched, name: "x", subresource: "status" }),
          {
            body: { status: {} },
            contentType: "application/merge-patch+json",
          },
        ),
      );
      // And a ModelService there is left alone.
      await applyModelService(admin, unwatched, "ignored", gpuSpec());
      await sleep(3000);
      expect(await getDeployment(admin, unwatched, "ignored")).toBeUndefined();
    }
  });
});
