import type { KubernetesObject } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { type ChildKind, ownerKey, splitKey, unwantedChildren } from "../../src/controller/keys.ts";

const owner = (name: string, uid = "uid-1") => [
  { apiVersion: "modelservice.dev/v1alpha1", kind: "ModelService", name, uid, controller: true, blockOwnerDeletion: true },
];
const labels = (name: string) => ({ "modelservice.dev/name": name, "app.kubernetes.io/managed-by": "modelservice-operator" });

const DEPLOY: ChildKind = { apiVersion: "apps/v1", kind: "Deployment", plural: "deployments" };
const HPA: ChildKind = { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", plural: "horizontalpodautoscalers" };
const PDB: ChildKind = { apiVersion: "policy/v1", kind: "PodDisruptionBudget", plural: "poddisruptionbudgets" };
const PVC: ChildKind = { apiVersion: "v1", kind: "PersistentVolumeClaim", plural: "persistentvolumeclaims" };

const obj = (name: string, extra: Partial<NonNullable<KubernetesObject["metadata"]>> = {}): KubernetesObject => ({
  metadata: { name, namespace: "ml", ...extra },
});

describe("ownerKey", () => {
  it("maps a ModelService to itself", () => {
    expect(ownerKey({ apiVersion: "modelservice.dev/v1alpha1", kind: "ModelService", metadata: { name: "a", namespace: "ml" } })).toBe("ml/a");
  });
  it("maps a child to its ModelService owner, even when its name differs", () => {
    expect(ownerKey(obj("a-cache", { ownerReferences: owner("a") }))).toBe("ml/a");
  });
  it("ignores owner references of other kinds and falls back to the name label for grandchildren", () => {
    const pod = obj("a-7d9c-xyz", {
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "a-7d9c", uid: "rs", controller: true }],
      labels: { "modelservice.dev/name": "a" },
    });
    expect(ownerKey(pod, { byLabel: true })).toBe("ml/a");
  });
  it("does not take a same-named kind from another group as owner", () => {
    const o = obj("x", {
      ownerReferences: [{ apiVersion: "other.io/v1", kind: "ModelService", name: "b", uid: "u" }],
      labels: { "modelservice.dev/name": "a" },
    });
    expect(ownerKey(o, { byLabel: true })).toBe("ml/a");
    expect(ownerKey(o)).toBeUndefined();
  });
  it("does not map a child by labels alone, nor by a non-controller ModelService reference", () => {
    // KEDA's HPA copies the ScaledObject's labels (ours) and is controlled by the ScaledObject.
    const kedaHpa = obj("keda-hpa-a", {
      labels: labels("a"),
      ownerReferences: [{ apiVersion: "keda.sh/v1alpha1", kind: "ScaledObject", name: "a", uid: "so", controller: true }],
    });
    expect(ownerKey(kedaHpa)).toBeUndefined();
    const nonController = obj("a", { ownerReferences: [{ apiVersion: "modelservice.dev/v1alpha1", kind: "ModelService", name: "a", uid: "uid-1" }] });
    expect(ownerKey(nonController)).toBeUndefined();
  });
  it("returns undefined for unrelated objects", () => {
    expect(ownerKey(obj("x"))).toBeUndefined();
    expect(ownerKey({ metadata: {} })).toBeUndefined();
  });
  it("splits keys", () => {
    expect(splitKey("ml/a")).toEqual({ namespace: "ml", name: "a" });
  });
});

describe("unwantedChildren", () => {
  const me = { namespace: "ml", name: "a", uid: "uid-1" };
  const deployment = obj("a", { ownerReferences: owner("a"), labels: labels("a") });
  const hpa = obj("a", { ownerReferences: owner("a"), labels: labels("a") });
  const pdb = obj("a", { ownerReferences: owner("a"), labels: labels("a") });
  const wantedDeployment: KubernetesObject = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "a", namespace: "ml" } };

  it("keeps wanted children and returns the others (HPA after autoscaling removed, PDB at 1 replica)", () => {
    const out = unwantedChildren(
      me,
      [wantedDeployment],
      [
        { kind: DEPLOY, object: deployment },
        { kind: HPA, object: hpa },
        { kind: PDB, object: pdb },
      ],
    );
    expect(out.map((c) => c.kind.kind)).toEqual(["HorizontalPodAutoscaler", "PodDisruptionBudget"]);
  });

  it("matches wanted objects by kind, not just by name", () => {
    const out = unwantedChildren(me, [wantedDeployment], [{ kind: HPA, object: hpa }]);
    expect(out).toHaveLength(1);
  });

  it("keeps a cache PVC unless it was marked for deletion on removal", () => {
    const kept = obj("a-cache", { ownerReferences: owner("a"), labels: labels("a") });
    const marked = obj("a-cache", { ownerReferences: owner("a"), labels: labels("a"), annotations: { "modelservice.dev/delete-on-removal": "true" } });
    expect(unwantedChildren(me, [], [{ kind: PVC, object: kept }])).toHaveLength(0);
    expect(unwantedChildren(me, [], [{ kind: PVC, object: marked }])).toHaveLength(1);
  });

  it("never touches objects of another ModelService, an older incarnation, another namespace, or being deleted", () => {
    const other = obj("b", { ownerReferences: owner("b", "uid-2"), labels: labels("b") });
    const oldIncarnation = obj("a", { ownerReferences: owner("a", "uid-0"), labels: labels("a") });
    const elsewhere: KubernetesObject = { metadata: { name: "a", namespace: "other", ownerReferences: owner("a"), labels: labels("a") } };
    const deleting = obj("a", { ownerReferences: owner("a"), labels: labels("a"), deletionTimestamp: new Date() });
    const foreign = obj("a", { labels: { "modelservice.dev/name": "a" } });
    const out = unwantedChildren(
      me,
      [],
      [
        { kind: HPA, object: other },
        { kind: HPA, object: oldIncarnation },
        { kind: HPA, object: elsewhere },
        { kind: HPA, object: deleting },
        { kind: HPA, object: foreign },
      ],
    );
    expect(out).toEqual([]);
  });

  it("never deletes an object that carries our labels but that this ModelService does not control", () => {
    // KEDA's HPA for the ScaledObject "a": our labels (copied from the ScaledObject), KEDA's controller reference.
    const kedaHpa = obj("keda-hpa-a", {
      labels: labels("a"),
      ownerReferences: [{ apiVersion: "keda.sh/v1alpha1", kind: "ScaledObject", name: "a", uid: "so", controller: true, blockOwnerDeletion: true }],
    });
    // Our labels, owner reference removed by hand: no longer ours.
    const orphan = obj("a", { labels: labels("a") });
    // A ModelService reference that is not the controller.
    const notController = obj("a", {
      labels: labels("a"),
      ownerReferences: [{ apiVersion: "modelservice.dev/v1alpha1", kind: "ModelService", name: "a", uid: "uid-1" }],
    });
    const out = unwantedChildren(
      me,
      [],
      [
        { kind: HPA, object: kedaHpa },
        { kind: HPA, object: orphan },
        { kind: HPA, object: notController },
      ],
    );
    expect(out).toEqual([]);
    // Without the owner's uid nothing can be proven ours.
    expect(unwantedChildren({ namespace: "ml", name: "a" }, [], [{ kind: HPA, object: hpa }])).toEqual([]);
  });
});
