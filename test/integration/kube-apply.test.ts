// serverSideApply / needsApply / patchStatus / deleteObject against the real API server.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteObject, FIELD_MANAGER, isNameTaken, needsApply, patchStatus, serverSideApply } from "../../src/kube/apply.ts";
import { ApiError, isApiError, resourcePath } from "../../src/kube/client.ts";
import { client, createNamespace, deleteNamespace, waitFor } from "./kube-helpers.ts";

const c = client();
let ns: string;

const GROUP = "kubetest.modelservice.dev";
const CRD_NAME = `widgets.${GROUP}`;

beforeAll(async () => {
  ns = await createNamespace(c, "kapply");
});
afterAll(async () => {
  await deleteNamespace(c, ns);
  try {
    await c.request("DELETE", resourcePath({ apiVersion: "apiextensions.k8s.io/v1", plural: "customresourcedefinitions", name: CRD_NAME }));
  } catch {
    // already gone
  }
});

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    managedFields?: { manager?: string }[];
  };
  [k: string]: unknown;
}

function deployment(image: string, cpu: string) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: ns, labels: { app: "web" } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: {
          containers: [
            {
              name: "c",
              image,
              args: ["--port", "8080"],
              ports: [{ containerPort: 8080, name: "http" }],
              resources: { requests: { cpu, memory: "1Gi" }, limits: { memory: "1024Mi" } },
            },
          ],
        },
      },
    },
  };
}

describe("serverSideApply + needsApply", () => {
  it("creates, then a second identical apply is skipped; drift by hand is detected and undone", async () => {
    const desired = deployment("example/web:1", "1000m");
    const created = await serverSideApply<Obj>(c, desired, "deployments");
    expect(created.metadata.uid).toBeTruthy();
    expect(created.metadata.managedFields?.some((m) => m.manager === FIELD_MANAGER)).toBe(true);

    // The stored object has server defaults (strategy, imagePullPolicy, protocol, ...) and
    // normalised quantities ("1000m" → "1", "1024Mi" → "1Gi"): still no drift.
    const observed = await c.request<Obj>("GET", resourcePath({ apiVersion: "apps/v1", plural: "deployments", namespace: ns, name: "web" }));
    const container = (observed.spec as { template: { spec: { containers: { resources: { requests: { cpu: string }; limits: { memory: string } } }[] } } })
      .template.spec.containers[0];
    expect(container?.resources.requests.cpu).toBe("1");
    expect(container?.resources.limits.memory).toBe("1Gi");
    expect(needsApply(desired, observed)).toBe(false);

    // An identical apply changes nothing on the server either (the deployment controller may
    // still bump resourceVersion with status updates, so compare the generation).
    const again = await serverSideApply<Obj>(c, desired, "deployments");
    expect(again.metadata.generation).toBe(observed.metadata.generation);

    // A change of the desired state is detected and applied.
    const v2 = deployment("example/web:2", "2");
    expect(needsApply(v2, observed)).toBe(true);
    const updated = await serverSideApply<Obj>(c, v2, "deployments");
    expect(updated.metadata.generation).toBe((observed.metadata.generation ?? 0) + 1);
    expect(needsApply(v2, updated)).toBe(false);

    // Drift made by hand (another field manager) is detected, and force-apply takes it back.
    const drifted = await c.request<Obj>("PATCH", resourcePath({ apiVersion: "apps/v1", plural: "deployments", namespace: ns, name: "web" }), {
      body: { spec: { replicas: 3 }, metadata: { labels: { app: "tampered", extra: "x" } } },
      contentType: "application/merge-patch+json",
      query: { fieldManager: "kubectl-edit" },
    });
    expect(needsApply(v2, drifted)).toBe(true);
    const fixed = await serverSideApply<Obj>(c, v2, "deployments");
    expect(needsApply(v2, fixed)).toBe(false);
    expect((fixed.spec as { replicas: number }).replicas).toBe(1);
    expect(fixed.metadata.labels).toEqual({ app: "web", extra: "x" }); // a label added by someone else stays
  });

  it("createOnly creates a missing object as applied (a later apply removes a field it drops), and writes nothing when the name is taken", async () => {
    const cm = (name: string, data: Record<string, string>) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: ns }, data });
    const path = (name: string) => resourcePath({ apiVersion: "v1", plural: "configmaps", namespace: ns, name });
    const created = await serverSideApply<Obj>(c, cm("fresh", { a: "1", b: "2" }), "configmaps", undefined, { createOnly: true });
    expect(created.metadata.managedFields?.map((m) => [m.manager, (m as { operation?: string }).operation])).toEqual([[FIELD_MANAGER, "Apply"]]);
    // Owned as applied: an apply without "b" removes it (what a POST-created object would not allow).
    const applied = await serverSideApply<Obj>(c, cm("fresh", { a: "1" }), "configmaps");
    expect(applied.data).toEqual({ a: "1" });

    // Taken by our own earlier create, or by a user's object: 409, and the object is as it was.
    const again = await serverSideApply(c, cm("fresh", { a: "9" }), "configmaps", undefined, { createOnly: true }).catch((e: unknown) => e);
    expect(isNameTaken(again)).toBe(true);
    const users = await c.request<Obj>("POST", resourcePath({ apiVersion: "v1", plural: "configmaps", namespace: ns }), { body: cm("users", { pg: "5432" }) });
    const taken = await serverSideApply(c, cm("users", { a: "1" }), "configmaps", undefined, { createOnly: true }).catch((e: unknown) => e);
    expect(isNameTaken(taken)).toBe(true);
    const after = await c.request<Obj>("GET", path("users"));
    expect(after.metadata.resourceVersion).toBe(users.metadata.resourceVersion);
    expect(after.data).toEqual({ pg: "5432" });
    expect((await c.request<Obj>("GET", path("fresh"))).data).toEqual({ a: "1" });
  });

  it("ApiError carries status, reason and the Status body", async () => {
    const bad = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "Not_Valid", namespace: ns }, data: {} };
    const err = await serverSideApply(c, bad, "configmaps").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(422);
    expect((err as ApiError).reason).toBe("Invalid");
    expect((err as ApiError).body).toMatchObject({ kind: "Status", code: 422 });
  });
});

describe("patchStatus on a CRD status subresource", () => {
  it("merges status without touching spec or generation", async () => {
    await serverSideApply(
      c,
      {
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name: CRD_NAME },
        spec: {
          group: GROUP,
          names: { plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList" },
          scope: "Namespaced",
          versions: [
            {
              name: "v1",
              served: true,
              storage: true,
              subresources: { status: {} },
              schema: {
                openAPIV3Schema: {
                  type: "object",
                  properties: {
                    spec: { type: "object", properties: { size: { type: "integer" } } },
                    status: {
                      type: "object",
                      properties: {
                        observedGeneration: { type: "integer" },
                        phase: { type: "string" },
                        conditions: { type: "array", items: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
                      },
                    },
                  },
                },
              },
            },
          ],
        },
      },
      "customresourcedefinitions",
    );
    const apiVersion = `${GROUP}/v1`;
    const widget = { apiVersion, kind: "Widget", metadata: { name: "w1", namespace: ns }, spec: { size: 2 } };
    const created = await waitFor(
      "CRD served",
      async () => {
        try {
          return await serverSideApply<Obj>(c, widget, "widgets");
        } catch (e) {
          if (isApiError(e, 404)) return undefined;
          throw e;
        }
      },
      30_000,
      200,
    );
    const ref = { apiVersion, plural: "widgets", namespace: ns, name: "w1" };
    const patched = (await patchStatus(c, ref, {
      observedGeneration: created.metadata.generation,
      phase: "Ready",
      conditions: [{ type: "Ready", status: "True" }],
    })) as Obj;
    expect(patched.status).toEqual({ observedGeneration: 1, phase: "Ready", conditions: [{ type: "Ready", status: "True" }] });
    expect(patched.spec).toEqual({ size: 2 });
    expect(patched.metadata.generation).toBe(1);
    // merge semantics: other status fields stay
    const p2 = (await patchStatus(c, ref, { phase: "Degraded" })) as Obj;
    expect(p2.status).toMatchObject({ observedGeneration: 1, phase: "Degraded" });
    // status in an apply to the main resource is ignored by the server
    const reapplied = await serverSideApply<Obj>(c, { ...widget, status: { phase: "ignored" } }, "widgets");
    expect((reapplied.status as { phase: string }).phase).toBe("Degraded");
    expect(needsApply(widget, reapplied)).toBe(false);
  });
});

describe("deleteObject", () => {
  it("true when deleted, false when already gone or the uid does not match", async () => {
    const cm = await serverSideApply<Obj>(c, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "del", namespace: ns }, data: { a: "1" } }, "configmaps");
    const ref = { apiVersion: "v1", plural: "configmaps", namespace: ns, name: "del" };
    expect(await deleteObject(c, { ...ref, uid: "00000000-0000-0000-0000-000000000000" })).toBe(false);
    expect(await deleteObject(c, { ...ref, uid: cm.metadata.uid })).toBe(true);
    expect(await deleteObject(c, ref)).toBe(false);
    await serverSideApply<Obj>(c, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "del", namespace: ns } }, "configmaps");
    expect(await deleteObject(c, ref)).toBe(true);
  });
});
