// Issue 11, replayed as the tenant: a user with only ModelService rights in one namespace
// (impersonated; no Deployments, Pods, Services, PVCs or Secrets) tries each thing the issue found
// that the operator used to do for it. Each is now refused at admission with the field named, or
// reported in status (ClassViolation, Stalled) — and never reaches the cluster: no child exists.
// `render` offline gives the same refusals, word for word.
//
// Not repeated here: the labelled-pod flood (a user who may create pods, not this tenant) is
// controller-scoped-cache.test.ts, which prints the operator's memory; 500s that a retry cannot fix
// are classified in src/kube/errors.test.ts (the 500 in the issue came from an unknown field inside
// a pass-through toleration, which the typed schema now prunes or refuses, as below).
import type { KubernetesObject, V1Deployment, V1Service } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLASS_API_VERSION, CLASS_PLURAL, type ModelServiceClass, type ModelServiceClassSpec } from "../../src/api/class-schema.ts";
import { API_VERSION, PLURAL } from "../../src/api/schema.ts";
import type { ModelService } from "../../src/api/types.ts";
import { defaultOperatorConfig } from "../../src/config/operator-config.ts";
import { isApiError, KubeClient, loadKubeConfig, resourcePath } from "../../src/kube/client.ts";
import { installCrd } from "../../src/operator/install-crd.ts";
import type { RunningOperator } from "../../src/operator/start.ts";
import { ClassViolationError, childNames, render } from "../../src/render/index.ts";
import { offlineProblems } from "../support/admission.ts";
import { inNamespace, manifest, modelService, type SpecPatch, withSpec } from "../support/model-service.ts";
import {
  condition,
  createNamespace,
  deleteNamespace,
  get,
  getModelService,
  gpuSpec,
  kubeconfigPath,
  startTestOperator,
  testClient,
  waitFor,
} from "./controller-helpers.ts";
import { suffix } from "./kube-helpers.ts";

const TENANT = `tenant-${suffix()}`;
// Cluster-scoped and shared with the other test files of the run: unique names, and never a default class.
const STRICT = `replay-strict-${suffix()}`;
const OPEN = `replay-open-${suffix()}`;
const LATE = `replay-late-${suffix()}`;

const POOL = {
  nodeSelector: { "example.com/gpu-pool": "shared" },
  tolerations: [{ key: "example.com/gpu-pool", operator: "Equal" as const, value: "shared", effect: "NoSchedule" as const }],
};
const STRICT_SPEC: ModelServiceClassSpec = {
  scheduling: { ...POOL, priorityClassName: "gpu-tenant" },
  allow: { serviceTypes: ["ClusterIP"], storageClasses: ["standard"], maxCacheSize: "1Ti", podLabelKeys: ["team.example.com/*"] },
};

let admin: KubeClient;
let tenant: KubeClient;
let ns = "";
let op: RunningOperator | undefined;

const klass = (name: string, spec: ModelServiceClassSpec): ModelServiceClass => ({
  apiVersion: CLASS_API_VERSION,
  kind: "ModelServiceClass",
  metadata: { name },
  spec,
});
const classPath = (name?: string) => resourcePath({ apiVersion: CLASS_API_VERSION, plural: CLASS_PLURAL, ...(name ? { name } : {}) });
const applyClass = (c: ModelServiceClass) =>
  admin.request("PATCH", classPath(c.metadata.name), {
    body: c,
    contentType: "application/apply-patch+yaml",
    query: { fieldManager: "platform-team", force: true },
  });

beforeAll(async () => {
  admin = testClient();
  await installCrd(admin); // both CRDs: ModelService and ModelServiceClass
  ns = await createNamespace(admin, "tenant");
  // What the chart's aggregated edit role gives on ModelServices, and nothing else.
  await admin.request("POST", `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`, {
    body: {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "modelservices-only" },
      rules: [
        { apiGroups: ["modelservice.dev"], resources: ["modelservices"], verbs: ["get", "list", "watch", "create", "update", "patch", "delete"] },
        { apiGroups: ["modelservice.dev"], resources: ["modelservices/status"], verbs: ["get"] },
      ],
    },
  });
  await admin.request("POST", `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
    body: {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "tenant" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "modelservices-only" },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: TENANT }],
    },
  });
  await applyClass(klass(STRICT, STRICT_SPEC));
  await applyClass(klass(OPEN, { scheduling: POOL, allow: { scheduling: true } }));
  tenant = new KubeClient(loadKubeConfig(kubeconfigPath()), { userAgent: "tenant-replay", impersonate: { user: TENANT } });
  op = await startTestOperator({ namespaces: [ns] });
});

afterAll(async () => {
  await op?.stop();
  for (const name of [STRICT, OPEN, LATE]) await admin?.request("DELETE", classPath(name)).catch(() => {});
  if (ns) await deleteNamespace(admin, ns);
  tenant?.close();
  admin?.close();
});

const msPath = (name?: string) => resourcePath({ apiVersion: API_VERSION, plural: PLURAL, namespace: ns, ...(name ? { name } : {}) });

/** The ModelService as the tenant writes it: the small GPU spec with `patch` merged in. */
const tenantModel = (name: string, patch: SpecPatch): ModelService => modelService(name, inNamespace(ns), withSpec({ ...gpuSpec(), ...patch }));

const createAsTenant = (ms: ModelService, query: Record<string, string> = {}) => tenant.request<ModelService>("POST", msPath(), { body: manifest(ms), query });

/** Every child kind a ModelService may get; none may exist for a refused one. */
const CHILDREN: [string, string, keyof ReturnType<typeof childNames>][] = [
  ["apps/v1", "deployments", "deployment"],
  ["v1", "services", "service"],
  ["v1", "persistentvolumeclaims", "pvc"],
  ["networking.k8s.io/v1", "networkpolicies", "networkPolicy"],
  ["autoscaling/v2", "horizontalpodautoscalers", "hpa"],
];
async function existingChildren(name: string): Promise<string[]> {
  const names = childNames(name);
  const found: string[] = [];
  for (const [apiVersion, plural, key] of CHILDREN) if (await get(admin, apiVersion, plural, ns, names[key])) found.push(`${plural}/${names[key]}`);
  return found;
}

const readyOf = async (name: string) => condition(await getModelService(admin, ns, name), "Ready");

describe("the tenant has ModelService rights only", () => {
  it.each([
    ["apps/v1", "deployments", { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "x" } }],
    ["v1", "pods", { apiVersion: "v1", kind: "Pod", metadata: { name: "x" } }],
    ["v1", "services", { apiVersion: "v1", kind: "Service", metadata: { name: "x" } }],
    ["v1", "persistentvolumeclaims", { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "x" } }],
  ])("may not create %s %s itself", async (apiVersion, plural, body) => {
    const err = await tenant.request("POST", resourcePath({ apiVersion, plural, namespace: ns }), { body, query: { dryRun: "All" } }).catch((e: unknown) => e);
    expect(isApiError(err, 403), String(err)).toBe(true);
  });

  it("may not create or change a ModelServiceClass", async () => {
    const err = await tenant
      .request("POST", classPath(), { body: klass(`mine-${suffix()}`, { allow: { scheduling: true } }), query: { dryRun: "All" } })
      .catch((e: unknown) => e);
    expect(isApiError(err, 403), String(err)).toBe(true);
  });
});

// Each finding of the issue the class settles: [finding, spec patch, fields the status names].
const CLASS_FINDINGS: [string, SpecPatch, string[]][] = [
  ["priority system-node-critical", { scheduling: { priorityClassName: "system-node-critical" } }, ["spec.scheduling.priorityClassName"]],
  ["an unsandboxed runtime class", { scheduling: { runtimeClassName: "runc" } }, ["spec.scheduling.runtimeClassName"]],
  ["a toleration for every taint", { scheduling: { tolerations: [{ operator: "Exists" }] } }, ["spec.scheduling.tolerations"]],
  ["a control-plane node selector", { scheduling: { nodeSelector: { "node-role.kubernetes.io/control-plane": "" } } }, ["spec.scheduling.nodeSelector"]],
  ["podMetadata.labels app: payments", { podMetadata: { labels: { app: "payments" } } }, ["spec.podMetadata.labels"]],
  [
    "AppArmor unconfined and a sidecar opt-out",
    { podMetadata: { annotations: { "container.apparmor.security.beta.kubernetes.io/engine": "unconfined", "sidecar.istio.io/inject": "false" } } },
    ["spec.podMetadata.annotations", "spec.podMetadata.annotations"],
  ],
  ["a NodePort Service", { service: { type: "NodePort" } }, ["spec.service.type"]],
  [
    "a 100Ti cache of a premium storage class",
    { cache: { size: "100Ti", storageClassName: "premium-ssd" } },
    ["spec.cache.storageClassName", "spec.cache.size"],
  ],
];

describe("what the class does not allow is a ClassViolation in status, and nothing reaches the cluster", () => {
  it.each(CLASS_FINDINGS)("%s", async (finding, patch, fields) => {
    const name = `cv-${suffix()}`;
    const ms = tenantModel(name, { className: STRICT, ...patch });
    await createAsTenant(ms);
    const ready = await waitFor(`${name} ClassViolation`, async () => {
      const c = await readyOf(name);
      return c?.reason === "ClassViolation" ? c : undefined;
    });
    const stored = await getModelService(admin, ns, name);
    expect(condition(stored, "Stalled")?.status).toBe("True");
    expect(ready.status).toBe("False");
    // The same lines as render offline under the same class.
    let offline = "";
    try {
      render(stored, defaultOperatorConfig, klass(STRICT, STRICT_SPEC));
    } catch (e) {
      if (e instanceof ClassViolationError) offline = e.message;
    }
    expect(ready.message).toBe(offline);
    expect(offline.split("; ").map((line) => line.slice(0, line.indexOf(": ")))).toEqual(fields);
    expect(ready.message, finding).toContain(`not allowed by ModelServiceClass ${STRICT} (allowed: `);
    expect(await existingChildren(name)).toEqual([]);
  });
});

// Findings admission settles, whatever the class: [finding, spec patch, field].
const ADMISSION_FINDINGS: [string, SpecPatch, string][] = [
  [
    "a required pod anti-affinity with an empty selector",
    { scheduling: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: "kubernetes.io/hostname" }] } } } },
    "spec.scheduling.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution",
  ],
  [
    "1,000 empty node affinity terms",
    {
      scheduling: {
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: Array.from({ length: 1000 }, () => ({})) } } },
      },
    },
    "spec.scheduling.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms",
  ],
  ["a pod label in the kubernetes.io domain", { podMetadata: { labels: { "node-role.kubernetes.io/control-plane": "" } } }, "spec.podMetadata"],
];

describe("what no ModelService may ask for is refused at admission, naming the field", () => {
  it.each(ADMISSION_FINDINGS)("%s", async (_finding, patch, field) => {
    const name = `adm-${suffix()}`;
    const ms = tenantModel(name, { className: OPEN, ...patch });
    const err = await createAsTenant(ms).catch((e: unknown) => e);
    expect(isApiError(err, 422), String(err)).toBe(true);
    const message = String((err as { message: string }).message);
    expect(message).toContain(`${field}: `);
    // render reports it offline too, at the same field.
    const offline = offlineProblems(manifest(ms));
    expect(offline.map((p) => p.path)).toContain(field);
    expect(await get(admin, API_VERSION, PLURAL, ns, name)).toBeUndefined();
    expect(await existingChildren(name)).toEqual([]);
  });
});

describe("the shared KEDA interceptor: a tenant cannot claim another namespace's host names", () => {
  it("a wake host of another namespace is InvalidSpec naming the entry, and nothing reaches the cluster", async () => {
    const name = `wake-${suffix()}`;
    const hosts = ["payments.billing.svc.cluster.local"];
    const ms = tenantModel(name, {
      className: OPEN,
      autoscaling: { minReplicas: 0, maxReplicas: 1, target: { inFlightRequests: 1 }, wake: { mode: "Request", hosts } },
    });
    await createAsTenant(ms);
    const ready = await waitFor(`${name} InvalidSpec`, async () => {
      const c = await readyOf(name);
      return c?.reason === "InvalidSpec" ? c : undefined;
    });
    expect(ready.message).toContain(
      "spec.autoscaling.wake.hosts[0]: payments.billing.svc.cluster.local is a name of namespace billing: the interceptor is shared",
    );
    expect(await existingChildren(name)).toEqual([]);
  });
});

describe("what the class allows reaches the cluster with the class's scheduling imposed", () => {
  it("an unknown field inside a toleration is pruned (Strict: refused), never a 500 from the Deployment", async () => {
    const name = `ok-${suffix()}`;
    const ms = tenantModel(name, { className: OPEN, scheduling: { tolerations: [{ key: "team", operator: "Exists", bogus: 1 }] } });
    const strict = await createAsTenant(ms, { fieldValidation: "Strict" }).catch((e: unknown) => e);
    expect(isApiError(strict, 400), String(strict)).toBe(true);
    expect(String((strict as Error).message)).toContain('unknown field "spec.scheduling.tolerations[0].bogus"');
    await createAsTenant(ms);
    const dep = await waitFor(`${name} Deployment`, () => get<V1Deployment>(admin, "apps/v1", "deployments", ns, childNames(name).deployment));
    const pod = dep.spec?.template.spec;
    expect(pod?.nodeSelector).toEqual(POOL.nodeSelector);
    expect(pod?.tolerations).toContainEqual({ key: "team", operator: "Exists" });
    expect(pod?.tolerations).toContainEqual(POOL.tolerations[0]);
    // The status is written after the children: wait for it, then it names no refusal.
    const ready = await waitFor(`${name} status`, () => readyOf(name));
    expect(ready.reason).not.toMatch(/^(ClassViolation|ClassNotFound|ApplyFailed|InvalidSpec)$/);
  });
});

describe("a class that does not exist yet, then forbids, then allows", () => {
  it("ClassNotFound (not Stalled) → ClassViolation once created → applied once the class allows it, each by the class watch", async () => {
    const name = `late-${suffix()}`;
    await createAsTenant(tenantModel(name, { className: LATE, service: { type: "NodePort" } }));
    await waitFor(`${name} ClassNotFound`, async () => ((await readyOf(name))?.reason === "ClassNotFound" ? true : undefined));
    const waiting = await getModelService(admin, ns, name);
    expect(condition(waiting, "Stalled")?.status).toBe("False");
    expect(condition(waiting, "Ready")?.message).toContain(`ModelServiceClass ${LATE} does not exist`);
    expect(await existingChildren(name)).toEqual([]);

    await applyClass(klass(LATE, { scheduling: POOL }));
    const violation = await waitFor(`${name} ClassViolation`, async () => {
      const c = await readyOf(name);
      return c?.reason === "ClassViolation" ? c : undefined;
    });
    expect(violation.message).toBe(`spec.service.type: NodePort is not allowed by ModelServiceClass ${LATE} (allowed: ClusterIP)`);
    expect(await existingChildren(name)).toEqual([]);

    await applyClass(klass(LATE, { scheduling: POOL, allow: { serviceTypes: ["ClusterIP", "NodePort"] } }));
    const svc = await waitFor(`${name} Service`, () => get<V1Service>(admin, "v1", "services", ns, childNames(name).service));
    expect(svc.spec?.type).toBe("NodePort");
    const dep = (await get<V1Deployment>(admin, "apps/v1", "deployments", ns, childNames(name).deployment)) as KubernetesObject | undefined;
    expect(dep).toBeDefined();
  });
});
