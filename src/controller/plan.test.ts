// The ownership and pruning rules of a reconcile, as tables: what the shell found in, writes and
// deletes out. No API server, no caches.
import type { KubernetesObject } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import type { ChildKind, ObservedChild } from "./keys.ts";
import { childId, type Found, type Owner, plan } from "./plan.ts";

const DEPLOY: ChildKind = { apiVersion: "apps/v1", kind: "Deployment", plural: "deployments" };
const SVC: ChildKind = { apiVersion: "v1", kind: "Service", plural: "services" };
const HPA: ChildKind = { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", plural: "horizontalpodautoscalers" };
const SO: ChildKind = { apiVersion: "keda.sh/v1alpha1", kind: "ScaledObject", plural: "scaledobjects" };
const PVC: ChildKind = { apiVersion: "v1", kind: "PersistentVolumeClaim", plural: "persistentvolumeclaims" };

const OWNER: Owner = { namespace: "ml", name: "m", uid: "uid-m" };
const LABELS = { "modelservice.dev/name": "m", "app.kubernetes.io/managed-by": "modelservice-operator" };
const ref = (name: string, uid: string) => ({
  apiVersion: "modelservice.dev/v1alpha1",
  kind: "ModelService",
  name,
  uid,
  controller: true,
  blockOwnerDeletion: true,
});

/** A child as render makes it: our labels and owner reference. */
const want = (kind: ChildKind, spec: Record<string, unknown> = { replicas: 1 }, name = "m"): KubernetesObject =>
  ({
    apiVersion: kind.apiVersion,
    kind: kind.kind,
    metadata: { name, namespace: "ml", labels: LABELS, ownerReferences: [ref("m", "uid-m")] },
    spec,
  }) as KubernetesObject;

/** An object as the cluster holds it, with a controller reference of the given owner (or none). */
const live = (obj: KubernetesObject, owner?: { apiVersion?: string; kind?: string; name: string; uid: string }, extra: Record<string, unknown> = {}) =>
  ({
    ...obj,
    metadata: {
      ...obj.metadata,
      uid: `live-${obj.metadata?.name}`,
      ownerReferences: owner ? [{ apiVersion: "modelservice.dev/v1alpha1", kind: "ModelService", controller: true, blockOwnerDeletion: true, ...owner }] : [],
      ...extra,
    },
  }) as KubernetesObject;

const found = (...entries: [KubernetesObject, Found][]) => new Map(entries.map(([o, f]) => [childId(o), f]));
const names = (p: ReturnType<typeof plan>) => ({
  applies: p.applies.map((a) => `${a.created ? "create" : "update"} ${a.object.kind}`),
  prunes: p.prunes.map((x) => `${x.kind.kind} ${x.object.metadata?.name}`),
  skipped: p.skipped.map((s) => `${s.why} ${s.object.kind}`),
  conflicts: p.conflicts,
  blocked: p.blocked,
});

describe("plan: one desired child", () => {
  const d = want(DEPLOY);
  const cases: { name: string; found: Found; want: ReturnType<typeof names> }[] = [
    {
      name: "absent: create",
      found: { kind: DEPLOY, object: undefined },
      want: { applies: ["create Deployment"], prunes: [], skipped: [], conflicts: [], blocked: false },
    },
    {
      name: "ours and drifted (a hand edit): update",
      found: { kind: DEPLOY, object: live(want(DEPLOY, { replicas: 3 }), { name: "m", uid: "uid-m" }) },
      want: { applies: ["update Deployment"], prunes: [], skipped: [], conflicts: [], blocked: false },
    },
    {
      name: "ours and equal (server defaults added): nothing to write",
      found: { kind: DEPLOY, object: live(want(DEPLOY, { replicas: 1, revisionHistoryLimit: 10 }), { name: "m", uid: "uid-m" }) },
      want: { applies: [], prunes: [], skipped: [], conflicts: [], blocked: false },
    },
    {
      name: "a user's object of that name (no owner): conflict, nothing written",
      found: { kind: DEPLOY, object: live(want(DEPLOY, { replicas: 1 }), undefined, { labels: {} }) },
      want: { applies: [], prunes: [], skipped: ["conflict Deployment"], conflicts: ["Deployment ml/m"], blocked: true },
    },
    {
      name: "our labels but another controller (never adopted): conflict",
      found: { kind: DEPLOY, object: live(want(DEPLOY), { apiVersion: "example.com/v1", kind: "Gateway", name: "g", uid: "gw" }) },
      want: { applies: [], prunes: [], skipped: ["conflict Deployment"], conflicts: ["Deployment ml/m"], blocked: true },
    },
    {
      name: "another ModelService's object: conflict",
      found: { kind: DEPLOY, object: live(want(DEPLOY), { name: "other", uid: "uid-o" }) },
      want: { applies: [], prunes: [], skipped: ["conflict Deployment"], conflicts: ["Deployment ml/m"], blocked: true },
    },
    {
      name: "left over from a deleted ModelService of the same name: wait for the garbage collector, not a conflict",
      found: { kind: DEPLOY, object: live(want(DEPLOY), { name: "m", uid: "uid-old" }) },
      want: { applies: [], prunes: [], skipped: ["leftover Deployment"], conflicts: [], blocked: false },
    },
    {
      name: "the lookup failed: left alone this time, not blocking",
      found: { kind: DEPLOY, unreadable: true },
      want: { applies: [], prunes: [], skipped: ["unreadable Deployment"], conflicts: [], blocked: false },
    },
    {
      name: "its API is not served: blocked",
      found: { unserved: "not served" },
      want: { applies: [], prunes: [], skipped: ["unserved Deployment"], conflicts: [], blocked: true },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(names(plan([d], { found: found([d, c.found]), labelled: [] }, OWNER))).toEqual(c.want);
    });
  }

  it("says who controls a conflicting object, and which uid a leftover belongs to", () => {
    const conflict = plan(
      [d],
      { found: found([d, { kind: DEPLOY, object: live(d, { apiVersion: "x/v1", kind: "Gateway", name: "g", uid: "gw" }) }]), labelled: [] },
      OWNER,
    );
    expect(conflict.skipped[0]).toMatchObject({ why: "conflict", controller: "Gateway/g" });
    const leftover = plan([d], { found: found([d, { kind: DEPLOY, object: live(d, { name: "m", uid: "uid-old" }) }]), labelled: [] }, OWNER);
    expect(leftover.skipped[0]).toMatchObject({ why: "leftover", ownerUid: "uid-old" });
    const unserved = plan([d], { found: found([d, { unserved: "KEDA is not installed" }]), labelled: [] }, OWNER);
    expect(unserved.skipped[0]).toMatchObject({ why: "unserved", message: "KEDA is not installed" });
  });

  it("never writes for a ModelService without a uid (nothing can be proven ours)", () => {
    const p = plan([d], { found: found([d, { kind: DEPLOY, object: live(d, { name: "m", uid: "uid-m" }) }]), labelled: [] }, { ...OWNER, uid: undefined });
    expect(p.applies).toEqual([]);
  });
});

describe("plan: pruning", () => {
  const d = want(DEPLOY);
  const s = want(SVC, { ports: [{ port: 80 }] });
  const inSync = found([d, { kind: DEPLOY, object: live(d, { name: "m", uid: "uid-m" }) }], [s, { kind: SVC, object: live(s, { name: "m", uid: "uid-m" }) }]);
  const child = (kind: ChildKind, name: string, owner?: { name: string; uid: string }, extra: Record<string, unknown> = {}): ObservedChild => ({
    kind,
    object: live(want(kind, {}, name), owner, extra),
  });
  const cases: { name: string; labelled: ObservedChild[]; prunes: string[] }[] = [
    { name: "our HPA after autoscaling is removed: deleted", labelled: [child(HPA, "m", { name: "m", uid: "uid-m" })], prunes: ["HorizontalPodAutoscaler m"] },
    { name: "a desired child is kept", labelled: [child(DEPLOY, "m", { name: "m", uid: "uid-m" })], prunes: [] },
    {
      name: "KEDA's HPA (our labels, controlled by the ScaledObject) is never deleted",
      labelled: [{ kind: HPA, object: live(want(HPA, {}, "keda-hpa-m"), { apiVersion: "keda.sh/v1alpha1", kind: "ScaledObject", name: "m", uid: "so" }) }],
      prunes: [],
    },
    { name: "an object whose owner reference was removed by hand is never deleted", labelled: [child(HPA, "m")], prunes: [] },
    { name: "a deleted incarnation's child is left to the garbage collector", labelled: [child(HPA, "m", { name: "m", uid: "uid-old" })], prunes: [] },
    {
      name: "a child already being deleted is not deleted again",
      labelled: [child(HPA, "m", { name: "m", uid: "uid-m" }, { deletionTimestamp: "2026-11-28T10:00:00Z" })],
      prunes: [],
    },
    { name: "the cache PVC is kept by default (weights survive)", labelled: [child(PVC, "m-cache", { name: "m", uid: "uid-m" })], prunes: [] },
    {
      name: "the cache PVC marked delete-on-removal is deleted",
      labelled: [child(PVC, "m-cache", { name: "m", uid: "uid-m" }, { annotations: { "modelservice.dev/delete-on-removal": "true" } })],
      prunes: ["PersistentVolumeClaim m-cache"],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const p = plan([d, s], { found: inSync, labelled: c.labelled }, OWNER);
      expect(p.applies).toEqual([]);
      expect(names(p).prunes).toEqual(c.prunes);
    });
  }

  it("a blocked plan deletes nothing and writes nothing, even what is ours and drifted", () => {
    const so = want(SO, { minReplicaCount: 1 });
    const labelled = [child(HPA, "m", { name: "m", uid: "uid-m" })];
    const drifted = found([d, { kind: DEPLOY, object: live(want(DEPLOY, { replicas: 5 }), { name: "m", uid: "uid-m" }) }], [so, { unserved: "KEDA missing" }]);
    // Switching from an HPA to a ScaledObject that cannot be created keeps the HPA.
    const unserved = plan([d, so], { found: drifted, labelled }, OWNER);
    expect(names(unserved)).toEqual({ applies: [], prunes: [], skipped: ["unserved ScaledObject"], conflicts: [], blocked: true });
    const taken = found(
      [d, { kind: DEPLOY, object: live(want(DEPLOY, { replicas: 5 }), { name: "m", uid: "uid-m" }) }],
      [s, { kind: SVC, object: live(s, undefined) }],
    );
    const conflict = plan([d, s], { found: taken, labelled }, OWNER);
    expect(names(conflict)).toEqual({ applies: [], prunes: [], skipped: ["conflict Service"], conflicts: ["Service ml/m"], blocked: true });
  });

  it("a leftover or an unreadable child does not block the others", () => {
    const pvc = want(PVC, {}, "m-cache");
    const f = found(
      [pvc, { kind: PVC, object: live(pvc, { name: "m", uid: "uid-old" }) }],
      [d, { kind: DEPLOY, object: undefined }],
      [s, { kind: SVC, unreadable: true }],
    );
    const p = plan([pvc, d, s], { found: f, labelled: [child(HPA, "m", { name: "m", uid: "uid-m" })] }, OWNER);
    expect(names(p)).toEqual({
      applies: ["create Deployment"],
      prunes: ["HorizontalPodAutoscaler m"],
      skipped: ["leftover PersistentVolumeClaim", "unreadable Service"],
      conflicts: [],
      blocked: false,
    });
  });

  it("writes in the order of the desired children, but what runs or scales pods after everything else", () => {
    // A create-only apply that finds a name taken stops the writes after it: a Service conflict must
    // be known before the Deployment starts GPU pods, and a Deployment conflict before the HPA targets it.
    const pvc = want(PVC, {}, "m-cache");
    const h = want(HPA, { minReplicas: 1 });
    const f = found(
      [d, { kind: DEPLOY, object: undefined }],
      [h, { kind: HPA, object: undefined }],
      [pvc, { kind: PVC, object: undefined }],
      [s, { kind: SVC, object: undefined }],
    );
    expect(names(plan([pvc, d, s, h], { found: f, labelled: [] }, OWNER)).applies).toEqual([
      "create PersistentVolumeClaim",
      "create Service",
      "create Deployment",
      "create HorizontalPodAutoscaler",
    ]);
  });
});
