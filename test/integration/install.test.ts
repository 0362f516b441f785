// Installing the operator: the Helm chart (lint, schema, RBAC, install into a namespace that enforces
// the `restricted` Pod Security Standard, upgrade, uninstall) and the one-file dist/install.yaml
// (in sync with the chart; client-side and server-side kubectl apply), on the local control plane.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { CHART_DIR, INSTALL_NAMESPACE, INSTALL_PATH, renderInstallYaml } from "../../scripts/install-manifest.ts";
import { serviceAccountKubeconfig } from "./helpers/service-account.ts";

const kubeconfig = inject("kubeconfig");
const binDir = inject("binDir");
const helm = join(binDir, "helm");
const kubectl = join(binDir, "kubectl");
const scratch = mkdtempSync(join(tmpdir(), "mso-install-test-"));
// Keep helm's caches and settings out of $HOME.
const env = { ...process.env, KUBECONFIG: kubeconfig, HELM_CACHE_HOME: scratch, HELM_CONFIG_HOME: scratch, HELM_DATA_HOME: scratch };

type Result = { code: number; stdout: string; stderr: string };

function run(bin: string, args: string[], input?: string): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(bin, args, { env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

async function ok(bin: string, args: string[], input?: string): Promise<Result> {
  const r = await run(bin, args, input);
  if (r.code !== 0) throw new Error(`${bin} ${args.join(" ")} failed (${r.code}):\n${r.stderr}${r.stdout}`);
  return r;
}

const kube = (...args: string[]) => ok(kubectl, args);
const getJson = async <T = Record<string, unknown>>(...args: string[]): Promise<T> => JSON.parse((await kube(...args, "-o", "json")).stdout) as T;

type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: unknown };
type Rule = { apiGroups?: string[]; resources?: string[]; verbs: string[]; resourceNames?: string[] };

const objects = (yaml: string): K8sObject[] =>
  parseAllDocuments(yaml)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);

/** `helm template` with --set flags; returns the objects. */
async function template(...sets: string[]): Promise<K8sObject[]> {
  const r = await ok(helm, ["template", "t", CHART_DIR, "--namespace", "mso-t", "--kube-version", "1.36.0", ...sets.flatMap((s) => ["--set", s])]);
  return objects(r.stdout);
}

const CLUSTER_SCOPED = new Set([
  "CustomResourceDefinition",
  "Namespace",
  "ClusterRole",
  "ClusterRoleBinding",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
]);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await sleep(500);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
}

type Pod = { metadata: { name: string; labels?: Record<string, string> }; spec: { containers: { args?: string[] }[] } };
type ReplicaSet = { metadata: { name: string }; status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] } };

/** Waits until the Deployment's ReplicaSet has created a pod, and checks no pod creation was refused (PodSecurity). */
async function expectPodAdmitted(namespace: string, instance: string): Promise<Pod> {
  const selector = `app.kubernetes.io/instance=${instance},app.kubernetes.io/name=modelservice-operator`;
  const pod = await waitFor(`an operator pod in ${namespace}`, async () => {
    const rss = await getJson<{ items: ReplicaSet[] }>("-n", namespace, "get", "replicasets", "-l", selector);
    for (const rs of rss.items) {
      const failure = rs.status?.conditions?.find((c) => c.type === "ReplicaFailure" && c.status === "True");
      if (failure) throw new Error(`ReplicaSet ${rs.metadata.name} cannot create pods: ${failure.reason}: ${failure.message}`);
    }
    const pods = await getJson<{ items: Pod[] }>("-n", namespace, "get", "pods", "-l", selector);
    return pods.items[0];
  }).catch(async (e) => {
    const events = await run(kubectl, ["-n", namespace, "get", "events"]);
    throw new Error(`${(e as Error).message}\nevents:\n${events.stdout}`);
  });
  const events = await getJson<{ items: { reason: string; message: string }[] }>("-n", namespace, "get", "events", "--field-selector", "reason=FailedCreate");
  expect(events.items.map((e) => e.message)).toEqual([]);
  return pod;
}

/** Asks the API server (SelfSubjectAccessReview) whether the kubeconfig's user may do something. */
async function allowed(asKubeconfig: string, attributes: { verb: string; group: string; resource: string; namespace?: string }): Promise<boolean> {
  const review = { apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", spec: { resourceAttributes: attributes } };
  const r = await ok(kubectl, ["--kubeconfig", asKubeconfig, "create", "--validate=false", "-f", "-", "-o", "json"], JSON.stringify(review));
  return (JSON.parse(r.stdout) as { status: { allowed: boolean } }).status.allowed;
}

async function createRestrictedNamespace(prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString("hex")}`;
  await ok(
    kubectl,
    ["apply", "-f", "-"],
    `apiVersion: v1
kind: Namespace
metadata:
  name: ${name}
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/warn: restricted
`,
  );
  return name;
}

const deleteNamespace = (name: string, wait = false) => run(kubectl, ["delete", "namespace", name, `--wait=${wait}`, "--timeout=120s", "--ignore-not-found"]);

describe("dist/install.yaml", () => {
  it("is in sync with the chart (run `npm run generate:install` after changing either)", () => {
    expect(readFileSync(INSTALL_PATH, "utf8")).toBe(renderInstallYaml(helm));
  });

  it("holds the CRDs first, then the restricted Namespace, then RBAC before the Deployment", () => {
    const objs = objects(readFileSync(INSTALL_PATH, "utf8"));
    expect(
      objs
        .slice(0, 2)
        .map((o) => `${o.kind} ${o.metadata.name}`)
        .sort(),
    ).toEqual(["CustomResourceDefinition modelserviceclasses.modelservice.dev", "CustomResourceDefinition modelservices.modelservice.dev"]);
    expect(objs[2]).toMatchObject({ kind: "Namespace", metadata: { name: INSTALL_NAMESPACE, labels: { "pod-security.kubernetes.io/enforce": "restricted" } } });
    const at = (kind: string) => objs.findIndex((o) => o.kind === kind);
    expect(at("ClusterRole")).toBeLessThan(at("Deployment"));
    expect(at("ClusterRoleBinding")).toBeLessThan(at("Deployment"));
    for (const o of objs.slice(3)) if (!CLUSTER_SCOPED.has(o.kind)) expect(o.metadata.namespace).toBe(INSTALL_NAMESPACE);
    // The admission policies that hold the operator's ServiceAccount to ModelService children.
    const policies = objs.filter((o) => o.kind === "ValidatingAdmissionPolicy") as (K8sObject & { spec: { matchConditions: { expression: string }[] } })[];
    expect(policies.map((p) => p.metadata.name).sort()).toEqual(["modelservice-operator-model-pods", "modelservice-operator-owned-children"]);
    for (const p of policies) {
      expect(p.spec.matchConditions[0]?.expression).toBe(`request.userInfo.username == 'system:serviceaccount:${INSTALL_NAMESPACE}:modelservice-operator'`);
    }
    expect(objs.filter((o) => o.kind === "ValidatingAdmissionPolicyBinding")).toHaveLength(2);
  });

  describe("applied with kubectl", () => {
    afterAll(async () => {
      // Everything but the CRD (other tests use it; deleting it would delete their ModelServices).
      const cluster = objects(readFileSync(INSTALL_PATH, "utf8")).filter(
        (o) => CLUSTER_SCOPED.has(o.kind) && o.kind !== "CustomResourceDefinition" && o.kind !== "Namespace",
      );
      for (const o of cluster) await run(kubectl, ["delete", o.kind.toLowerCase(), o.metadata.name, "--ignore-not-found"]);
      // Waits, so that a second run against the same cluster (MSO_KUBECONFIG) can create it again.
      await deleteNamespace(INSTALL_NAMESPACE, true);
    });

    it("applies client-side (the CRD's last-applied annotation stays under 256 KiB)", async () => {
      await kube("apply", "-f", INSTALL_PATH);
      const crd = await getJson<{ metadata: { annotations?: Record<string, string> } }>("get", "crd", "modelservices.modelservice.dev");
      const lastApplied = crd.metadata.annotations?.["kubectl.kubernetes.io/last-applied-configuration"] ?? "";
      expect(lastApplied.length).toBeGreaterThan(0);
      expect(Buffer.byteLength(lastApplied)).toBeLessThan(256 * 1024);
      await expectPodAdmitted(INSTALL_NAMESPACE, "modelservice-operator");
    });

    it("applies server-side", async () => {
      await kube("apply", "--server-side", "-f", INSTALL_PATH);
      await kube("wait", "--for=condition=Established", "crd/modelservices.modelservice.dev", "--timeout=60s");
      await expectPodAdmitted(INSTALL_NAMESPACE, "modelservice-operator");
    });
  });
});

describe("Helm chart", () => {
  it("passes helm lint --strict, with default and with non-default values", async () => {
    await ok(helm, ["lint", "--strict", CHART_DIR, "--kube-version", "1.36.0"]);
    const values = join(scratch, "lint-values.yaml");
    writeFileSync(
      values,
      `replicas: 3
watchNamespaces: [team-a, team-b]
serviceMonitor: {enabled: true, labels: {release: prometheus}}
config: {keda: {enabled: true}}
image: {digest: "sha256:${"a".repeat(64)}"}
`,
    );
    await ok(helm, ["lint", "--strict", CHART_DIR, "--kube-version", "1.36.0", "-f", values]);
  });

  it.each([
    ["replicas=-1", "/replicas"],
    ["logLevel=loud", "/logLevel"],
    ["workers=0", "/workers"],
    ["watchNamespaces[0]=Team_A", "/watchNamespaces/0"],
    ["config.keda.enabled=yes", "/config/keda/enabled"],
    ["config.kedaa.enabled=true", "kedaa"],
    ["config.gpu.resourceName=gpu", "/config/gpu/resourceName"],
    ["config.defaults.startupTimeoutSeconds=5", "/config/defaults/startupTimeoutSeconds"],
    ["image.digest=latest", "/image/digest"],
    ["metricsAuth=rbac", "/metricsAuth"],
    ["admissionPolicy.enabled=yes", "/admissionPolicy/enabled"],
    ["replica=2", "replica"],
  ])("rejects %s, naming %s", async (set, where) => {
    const r = await run(helm, ["template", "t", CHART_DIR, "--kube-version", "1.36.0", "--set", set]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("values don't meet the specifications of the schema");
    expect(r.stderr).toContain(where);
  });

  it("rejects several replicas without leader election, saying why", async () => {
    const r = await run(helm, ["template", "t", CHART_DIR, "--kube-version", "1.36.0", "--set", "replicas=2", "--set", "leaderElection.enabled=false"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("replicas > 1 needs leader election");
  });

  describe("RBAC", () => {
    const operatorRules: Rule[] = [
      { apiGroups: ["modelservice.dev"], resources: ["modelservices"], verbs: ["get", "list", "watch"] },
      { apiGroups: ["modelservice.dev"], resources: ["modelservices/status"], verbs: ["get", "patch"] },
      { apiGroups: ["modelservice.dev"], resources: ["modelservices/finalizers"], verbs: ["update"] },
      { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list", "watch", "create", "patch", "delete"] },
      { apiGroups: ["apps"], resources: ["replicasets"], verbs: ["get", "list", "watch", "delete"] },
      { apiGroups: ["apps"], resources: ["statefulsets"], verbs: ["get", "list", "watch"] },
      { apiGroups: [""], resources: ["services", "persistentvolumeclaims"], verbs: ["get", "list", "watch", "create", "patch", "delete"] },
      { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] },
      { apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers"], verbs: ["get", "list", "watch", "create", "patch", "delete"] },
      { apiGroups: ["policy"], resources: ["poddisruptionbudgets"], verbs: ["get", "list", "watch", "create", "patch", "delete"] },
      { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: ["get", "list", "watch", "create", "patch", "delete"] },
      {
        apiGroups: ["gateway.networking.k8s.io"],
        resources: ["httproutes", "backendtlspolicies"],
        verbs: ["get", "list", "watch", "create", "patch", "delete"],
      },
      { apiGroups: ["cert-manager.io"], resources: ["certificates"], verbs: ["get", "list", "watch", "create", "patch", "delete"] },
      { apiGroups: ["gateway.envoyproxy.io"], resources: ["securitypolicies"], verbs: ["get", "list", "watch", "create", "patch", "delete"] },
      { apiGroups: ["leaderworkerset.x-k8s.io"], resources: ["leaderworkersets"], verbs: ["get", "list", "watch", "create", "patch", "delete"] },
      { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
    ];
    const kedaRules: Rule[] = [
      { apiGroups: ["keda.sh"], resources: ["scaledobjects"], verbs: ["get", "list", "watch", "create", "patch", "delete"] },
      { apiGroups: ["http.keda.sh"], resources: ["interceptorroutes"], verbs: ["get", "list", "watch", "create", "patch", "delete"] },
    ];
    const leaseRules: Rule[] = [{ apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "update"] }];
    const rbacKinds = new Set(["ClusterRole", "Role"]);
    const roles = (objs: K8sObject[]) => objs.filter((o) => rbacKinds.has(o.kind)) as (K8sObject & { rules: Rule[] })[];

    it.each([[[]], [["replicas=2"]], [["watchNamespaces={a,b}", "config.keda.enabled=true", "replicas=2"]], [["config.keda.enabled=true"]]])(
      "never grants secrets or wildcards (%j)",
      async (sets) => {
        for (const role of roles(await template(...sets))) {
          for (const rule of role.rules) {
            for (const list of [rule.apiGroups ?? [], rule.resources ?? [], rule.verbs, rule.resourceNames ?? []]) {
              expect(list, `${role.kind} ${role.metadata.name}`).not.toContain("*");
              expect(list, `${role.kind} ${role.metadata.name}`).not.toContain("secrets");
            }
          }
        }
      },
    );

    it("grants exactly the operator's rules cluster-wide by default, and no Lease access with one replica", async () => {
      const objs = await template();
      const rs = roles(objs);
      expect(rs.filter((r) => r.kind === "Role")).toEqual([]);
      expect(rs.find((r) => r.metadata.name === "t-modelservice-operator")?.rules).toEqual(operatorRules);
      expect(objs.find((o) => o.kind === "ClusterRoleBinding" && o.metadata.name === "t-modelservice-operator")).toMatchObject({
        roleRef: { kind: "ClusterRole", name: "t-modelservice-operator" },
        subjects: [{ kind: "ServiceAccount", name: "t-modelservice-operator", namespace: "mso-t" }],
      });
      const deployment = objs.find((o) => o.kind === "Deployment") as K8sObject & { spec: { strategy: { type: string } } };
      expect(deployment.spec.strategy.type).toBe("Recreate");
    });

    it("grants a Role and RoleBinding per watched namespace, a Lease Role in its own namespace, and KEDA only when enabled", async () => {
      const objs = await template("watchNamespaces={team-a,team-b}", "replicas=2", "config.keda.enabled=true");
      const rs = roles(objs);
      const operatorRoles = rs.filter((r) => r.metadata.name === "t-modelservice-operator");
      expect(operatorRoles.map((r) => `${r.kind}/${r.metadata.namespace}`)).toEqual(["Role/team-a", "Role/team-b"]);
      for (const r of operatorRoles) expect(r.rules).toEqual([...operatorRules, ...kedaRules]);
      const lease = rs.find((r) => r.metadata.name === "t-modelservice-operator-leader-election");
      expect(lease).toMatchObject({ kind: "Role", metadata: { namespace: "mso-t" }, rules: leaseRules });
      expect(objs.filter((o) => o.kind === "RoleBinding").map((o) => o.metadata.namespace)).toEqual(["mso-t", "team-a", "team-b"]);
      const deployment = objs.find((o) => o.kind === "Deployment") as K8sObject & { spec: { template: { spec: { containers: { args: string[] }[] } } } };
      expect(deployment.spec.template.spec.containers[0]?.args).toEqual(expect.arrayContaining(["--leader-elect=true", "--namespaces=team-a,team-b"]));
    });
  });

  describe("metrics authentication and the admission policy", () => {
    type Args = K8sObject & { spec: { template: { spec: { containers: { args: string[] }[] } } } };
    const args = (objs: K8sObject[]) => (objs.find((o) => o.kind === "Deployment") as Args).spec.template.spec.containers[0]?.args;

    it("by default: --metrics-auth=kubernetes, the review rights it needs, a metrics-reader role, and the policies", async () => {
      const objs = await template("serviceMonitor.enabled=true");
      expect(args(objs)).toContain("--metrics-auth=kubernetes");
      const byName = (name: string) => objs.find((o) => o.metadata.name === name) as K8sObject & { rules: Rule[] & { nonResourceURLs?: string[] }[] };
      expect(byName("t-modelservice-operator-metrics-auth")).toMatchObject({
        kind: "ClusterRole",
        rules: [
          { apiGroups: ["authentication.k8s.io"], resources: ["tokenreviews"], verbs: ["create"] },
          { apiGroups: ["authorization.k8s.io"], resources: ["subjectaccessreviews"], verbs: ["create"] },
        ],
      });
      expect(objs.find((o) => o.kind === "ClusterRoleBinding" && o.metadata.name === "t-modelservice-operator-metrics-auth")).toMatchObject({
        subjects: [{ kind: "ServiceAccount", name: "t-modelservice-operator", namespace: "mso-t" }],
      });
      expect(byName("t-modelservice-operator-metrics-reader").rules).toEqual([{ nonResourceURLs: ["/metrics"], verbs: ["get"] }]);
      const sm = objs.find((o) => o.kind === "ServiceMonitor") as K8sObject & { spec: { endpoints: Record<string, unknown>[] } };
      expect(sm.spec.endpoints[0]).toMatchObject({ path: "/metrics", bearerTokenFile: "/var/run/secrets/kubernetes.io/serviceaccount/token" });
      expect(objs.filter((o) => o.kind.startsWith("ValidatingAdmissionPolicy")).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
        "ValidatingAdmissionPolicy/t-modelservice-operator-owned-children",
        "ValidatingAdmissionPolicy/t-modelservice-operator-model-pods",
        "ValidatingAdmissionPolicyBinding/t-modelservice-operator-owned-children",
        "ValidatingAdmissionPolicyBinding/t-modelservice-operator-model-pods",
      ]);
    });

    it("metricsAuth=none and admissionPolicy.enabled=false turn them off", async () => {
      const objs = await template("metricsAuth=none", "admissionPolicy.enabled=false", "serviceMonitor.enabled=true");
      expect(args(objs)).toContain("--metrics-auth=none");
      expect(objs.map((o) => o.metadata.name)).not.toContain("t-modelservice-operator-metrics-auth");
      expect(objs.filter((o) => o.kind.startsWith("ValidatingAdmissionPolicy"))).toEqual([]);
      const sm = objs.find((o) => o.kind === "ServiceMonitor") as K8sObject & { spec: { endpoints: Record<string, unknown>[] } };
      expect(sm.spec.endpoints[0]).not.toHaveProperty("bearerTokenFile");
    });
  });

  describe("installed into a namespace enforcing the restricted Pod Security Standard", () => {
    let ns = "";
    const release = `it-${randomBytes(2).toString("hex")}`;
    const fullname = `${release}-modelservice-operator`;
    beforeAll(async () => {
      ns = await createRestrictedNamespace("mso-helm");
    });
    afterAll(async () => {
      await run(helm, ["uninstall", release, "-n", ns]);
      await deleteNamespace(ns);
    });

    it("enforces restricted in the namespace (control: a default pod is refused)", async () => {
      const r = await run(kubectl, ["-n", ns, "run", "unrestricted", "--image=busybox", "--restart=Never"]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/violates PodSecurity "restricted/);
    });

    it("installs, and the operator pod is admitted", async () => {
      const r = await ok(helm, ["install", release, CHART_DIR, "-n", ns]);
      expect(r.stderr).not.toMatch(/violate PodSecurity/i);
      expect(r.stdout).toContain("kubectl get msvc");
      const pod = await expectPodAdmitted(ns, release);
      expect(pod.spec.containers[0]?.args).toEqual(expect.arrayContaining(["run", "--leader-elect=false", "--config=/etc/modelservice-operator/config.yaml"]));
    });

    it("gives the operator's ServiceAccount what it needs and nothing more", async () => {
      const sa = await serviceAccountKubeconfig({ kubectl, kubeconfig, namespace: ns, serviceAccount: fullname });
      const can = async (...args: string[]) => (await run(kubectl, ["--kubeconfig", sa, "auth", "can-i", ...args])).stdout.trim();
      expect(await can("watch", "modelservices.modelservice.dev", "--all-namespaces")).toBe("yes");
      expect(await can("patch", "modelservices.modelservice.dev", "--subresource=status", "-n", "default")).toBe("yes");
      expect(await can("update", "modelservices.modelservice.dev", "-n", "default")).toBe("no");
      expect(await can("create", "deployments.apps", "-n", "default")).toBe("yes");
      expect(await can("delete", "poddisruptionbudgets.policy", "-n", "default")).toBe("yes");
      expect(await can("get", "secrets", "-n", ns)).toBe("no");
      expect(await can("list", "secrets", "--all-namespaces")).toBe("no");
      expect(await can("delete", "pods", "-n", "default")).toBe("no");
      expect(await allowed(sa, { verb: "create", group: "keda.sh", resource: "scaledobjects", namespace: "default" })).toBe(false);
    });

    it("upgrades: more replicas turn on leader election, and a config change rolls the pod", async () => {
      const before = await getJson<{ spec: { template: { metadata: { annotations: Record<string, string> } } } }>("-n", ns, "get", "deployment", fullname);
      await ok(helm, ["upgrade", release, CHART_DIR, "-n", ns, "--reuse-values", "--set", "replicas=2", "--set", "config.keda.enabled=true"]);
      const after = await getJson<{
        spec: {
          replicas: number;
          strategy: { type: string };
          template: { metadata: { annotations: Record<string, string> }; spec: { containers: { args: string[] }[] } };
        };
      }>("-n", ns, "get", "deployment", fullname);
      expect(after.spec.replicas).toBe(2);
      expect(after.spec.strategy.type).toBe("RollingUpdate");
      expect(after.spec.template.spec.containers[0]?.args).toEqual(expect.arrayContaining(["--leader-elect=true", `--lease-name=${fullname}`]));
      expect(after.spec.template.metadata.annotations["checksum/config"]).not.toBe(before.spec.template.metadata.annotations["checksum/config"]);
      const cm = await getJson<{ data: Record<string, string> }>("-n", ns, "get", "configmap", `${fullname}-config`);
      expect(cm.data["config.yaml"]).toMatch(/keda:\n\s+enabled: true/);
      const sa = await serviceAccountKubeconfig({ kubectl, kubeconfig, namespace: ns, serviceAccount: fullname });
      const can = async (...args: string[]) => (await run(kubectl, ["--kubeconfig", sa, "auth", "can-i", ...args])).stdout.trim();
      expect(await can("update", "leases.coordination.k8s.io", "-n", ns)).toBe("yes");
      expect(await can("update", "leases.coordination.k8s.io", "-n", "default")).toBe("no");
      // kubectl auth can-i cannot name a resource the server does not serve (KEDA is not installed): ask directly.
      expect(await allowed(sa, { verb: "create", group: "keda.sh", resource: "scaledobjects", namespace: "default" })).toBe(true);
      await expectPodAdmitted(ns, release);
    });

    it("refuses values that break the schema at install time, with a clear message", async () => {
      const r = await run(helm, ["upgrade", release, CHART_DIR, "-n", ns, "--reuse-values", "--set", "logLevel=loud"]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain("values don't meet the specifications of the schema");
      expect(r.stderr).toContain("/logLevel");
    });

    it("uninstalls, keeping the CRD", async () => {
      await ok(helm, ["uninstall", release, "-n", ns, "--wait"]);
      expect((await run(kubectl, ["-n", ns, "get", "deployment", fullname])).code).not.toBe(0);
      expect((await run(kubectl, ["get", "clusterrole", fullname])).code).not.toBe(0);
      await kube("get", "crd", "modelservices.modelservice.dev");
    });
  });
});
