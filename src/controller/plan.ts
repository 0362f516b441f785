// What one reconcile must write and delete, decided from what the shell read; no I/O here, so the
// ownership and pruning rules are table-tested without an API server (plan.test.ts).
//
// Ownership: only an object whose controller owner reference is this ModelService (uid included)
// is ever written or deleted; nothing is adopted. An object with a child's name that is not ours
// is a name conflict, unless it still belongs to a deleted ModelService of the same name (the
// garbage collector removes it shortly). A conflict, or a child whose API the cluster does not
// serve, blocks every write and delete: the Deployment would otherwise mount a user's PVC, or lose
// its HPA before its ScaledObject exists; the children already there stay as they are.
import type { KubernetesObject } from "@kubernetes/client-node";
import { needsApply } from "../kube/apply.ts";
import { type ChildKind, isControlledBy, modelServiceOwner, type ObservedChild, unwantedChildren } from "./keys.ts";

export type Owner = { namespace: string; name: string; uid: string | undefined };

/** What the shell found for one desired child. */
export type Found =
  /** `object`: from the child cache, or from the one uncached GET when the cache has none; undefined: no such object. */
  | { kind: ChildKind; object: KubernetesObject | undefined }
  /** The uncached GET failed: whether the name is free is unknown, so the child is left alone this time. */
  | { kind: ChildKind; unreadable: true }
  /** The cluster does not serve this child's API (or the operator does not watch it): why. */
  | { unserved: string };

export type Observed = {
  /** For each desired child, by childId. */
  found: ReadonlyMap<string, Found>;
  /** Children carrying this ModelService's name label, from the child caches (candidates for pruning). */
  labelled: ObservedChild[];
};

export type Apply = { object: KubernetesObject; kind: ChildKind; created: boolean };

/** A desired child that is not written this time, and why. */
export type Skip =
  | { why: "conflict"; object: KubernetesObject; controller?: string }
  | { why: "leftover"; object: KubernetesObject; ownerUid: string | undefined }
  | { why: "unserved"; object: KubernetesObject; message: string }
  | { why: "unreadable"; object: KubernetesObject };

export type Plan = {
  /** Children to apply, in the order of `desired` (empty when blocked). */
  applies: Apply[];
  /** Children to delete (empty when blocked). */
  prunes: ObservedChild[];
  /** Desired children not written, in the order of `desired`. */
  skipped: Skip[];
  /** "Service ns/name" of each child whose name is taken by an object that is not ours. */
  conflicts: string[];
  /** A name conflict or an unserved child kind: nothing is applied or deleted. */
  blocked: boolean;
};

/** The key of a desired child in Observed.found. */
export const childId = (obj: KubernetesObject): string => `${obj.apiVersion}/${obj.kind}/${obj.metadata?.name ?? ""}`;

export function plan(desired: KubernetesObject[], observed: Observed, owner: Owner): Plan {
  const applies: Apply[] = [];
  const skipped: Skip[] = [];
  const conflicts: string[] = [];
  for (const object of desired) {
    const found = observed.found.get(childId(object)) ?? { unserved: `the operator does not watch ${object.apiVersion} ${object.kind}` };
    if ("unserved" in found) {
      skipped.push({ why: "unserved", object, message: found.unserved });
      continue;
    }
    if ("unreadable" in found) {
      skipped.push({ why: "unreadable", object });
      continue;
    }
    const live = found.object;
    if (live && !isControlledBy(live, owner.uid)) {
      const other = modelServiceOwner(live);
      if (other?.name === owner.name) {
        skipped.push({ why: "leftover", object, ownerUid: other.uid });
      } else {
        const by = live.metadata?.ownerReferences?.find((r) => r.controller);
        skipped.push({ why: "conflict", object, ...(by ? { controller: `${by.kind}/${by.name}` } : {}) });
        conflicts.push(`${object.kind} ${owner.namespace}/${object.metadata?.name ?? ""}`);
      }
      continue;
    }
    if (live && !needsApply(object, live)) continue;
    applies.push({ object, kind: found.kind, created: !live });
  }
  const blocked = skipped.some((s) => s.why === "conflict" || s.why === "unserved");
  if (blocked) return { applies: [], prunes: [], skipped, conflicts, blocked };
  return { applies, prunes: unwantedChildren(owner, desired, observed.labelled), skipped, conflicts, blocked };
}
