// Pure helpers of the controller: which ModelService an object belongs to, and which observed
// children are no longer wanted. No I/O here, so they are unit-tested without a cluster.
import type { KubernetesObject, V1OwnerReference } from "@kubernetes/client-node";
import { GROUP, KIND } from "../api/schema.ts";
// The renderer marks the cache PVC with DELETE_ON_REMOVAL_ANNOTATION when spec.cache.deleteOnRemoval is true.
import { DELETE_ON_REMOVAL_ANNOTATION, NAME_LABEL } from "../model/labels.ts";

export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";

/** Work-queue key of a namespaced object. */
export const keyOf = (namespace: string | undefined, name: string): string => `${namespace ?? ""}/${name}`;

export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf("/");
  return i < 0 ? { namespace: "", name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

const isModelServiceOwner = (ref: V1OwnerReference): boolean => ref.kind === KIND && (ref.apiVersion ?? "").split("/")[0] === GROUP;

/**
 * The controlling ModelService owner reference of an object, if any. Only the controller
 * reference counts: an object another controller manages (KEDA's HPA, which copies the
 * ScaledObject's labels and is controlled by the ScaledObject) is never ours.
 */
export function modelServiceOwner(obj: KubernetesObject): V1OwnerReference | undefined {
  return (obj.metadata?.ownerReferences ?? []).find((r) => r.controller === true && isModelServiceOwner(r));
}

/** Whether the controller reference of `obj` is the ModelService with this uid. */
export function isControlledBy(obj: KubernetesObject, uid: string | undefined): boolean {
  const ref = modelServiceOwner(obj);
  return uid !== undefined && ref?.uid === uid;
}

/**
 * The key of the ModelService an object belongs to: itself for a ModelService; for a child, its
 * controlling ModelService owner reference (labels alone never make an object ours); for
 * grandchildren (ReplicaSets, Pods, `byLabel`) the modelservice.dev/name label. The owner is
 * matched by name here, not uid: an event of an older incarnation's child (being garbage
 * collected) wakes the new incarnation, which is waiting for that name to become free.
 */
export function ownerKey(obj: KubernetesObject, opts: { byLabel?: boolean } = {}): string | undefined {
  const meta = obj.metadata;
  if (!meta?.name) return undefined;
  if (obj.kind === KIND && (obj.apiVersion ?? "").startsWith(`${GROUP}/`)) return keyOf(meta.namespace, meta.name);
  const owner = modelServiceOwner(obj);
  if (owner) return keyOf(meta.namespace, owner.name);
  const label = opts.byLabel ? meta.labels?.[NAME_LABEL] : undefined;
  if (label) return keyOf(meta.namespace, label);
  return undefined;
}

/** An object the operator may own, as listed by the renderer (e.g. apps/v1 Deployment). */
export type ChildKind = { apiVersion: string; kind: string; plural: string };

export type ObservedChild = { kind: ChildKind; object: KubernetesObject };

/**
 * Observed children that belong to `owner` — their controller reference is this ModelService,
 * uid included — and are not in `wanted`. Labels alone never make an object ours: another
 * controller's object that carries our labels (KEDA's HPA copies the ScaledObject's) or an object
 * whose owner reference was removed by hand is never deleted. A PVC is only returned when it
 * carries the delete-on-removal annotation: weights survive by default.
 */
export function unwantedChildren(
  owner: { namespace: string; name: string; uid?: string },
  wanted: KubernetesObject[],
  observed: ObservedChild[],
): ObservedChild[] {
  const wantedIds = new Set(wanted.map((w) => `${w.apiVersion}/${w.kind}/${w.metadata?.name}`));
  return observed.filter(({ kind, object }) => {
    const meta = object.metadata;
    if (!meta?.name || meta.namespace !== owner.namespace) return false;
    if (meta.deletionTimestamp) return false;
    const ref = modelServiceOwner(object);
    if (!ref || ref.name !== owner.name || !owner.uid || ref.uid !== owner.uid) return false;
    if (wantedIds.has(`${kind.apiVersion}/${kind.kind}/${meta.name}`)) return false;
    if (kind.kind === "PersistentVolumeClaim" && meta.annotations?.[DELETE_ON_REMOVAL_ANNOTATION] !== "true") return false;
    return true;
  });
}
