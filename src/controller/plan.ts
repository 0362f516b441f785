// What one reconcile must write and delete, decided from what the shell read; no I/O here, so the
// ownership and pruning rules are table-tested without an API server (plan.test.ts).
//
// Ownership: only an object whose controller owner reference is this ModelService (uid included)
// is ever written or deleted; nothing is adopted. An object with a child's name that is not ours
// is a name conflict, unless it still belongs to a deleted ModelService of the same name (the
// garbage collector removes it shortly). A conflict, or a child whose API the cluster does not
// serve, blocks every write and delete: the Deployment would otherwise mount a user's PVC, or lose
// its HPA before its ScaledObject exists; the children already there stay as they are.
//
// A child missing from the cache is created only if its name is free (a create-only apply); when
// the name turns out to be taken, the shell reads that object and plans again. So that a conflict
// found that way still stops what depends on the name, the children that run or scale pods are
// applied after all the others: no GPU pod starts, and no autoscaler targets a user's Deployment,
// before every other name is known to be ours.
import type { KubernetesObject } from "@kubernetes/client-node";
import { needsApply } from "../kube/apply.ts";
import { type ChildKind, isControlledBy, modelServiceOwner, type ObservedChild, unwantedChildren } from "./keys.ts";

export type Owner = { namespace: string; name: string; uid: string | undefined };

/** What the shell found for one desired child. */
export type Found =
  /**
   * `object`: from the child cache, or read after a create-only apply found the name taken;
   * undefined: not in the cache (the child is created if the name is free).
   */
  | { kind: ChildKind; object: KubernetesObject | undefined }
  /** The name is taken but reading that object failed: whether it is ours is unknown, so the child is left alone this time. */
  | { kind: ChildKind; unreadable: true }
  /** The cluster does not serve this child's API (or the operator does not watch it): why. */
  | { unserved: string };

export type Observed = {
  /** For each desired child, by childId. */
  found: ReadonlyMap<string, Found>;
  /** Children carrying this ModelService's name label, from the child caches (candidates for pruning). */
  labelled: ObservedChild[];
};

/** `created`: not in the cache, so applied create-only (nothing is written if the name is taken). */
export type Apply = { object: KubernetesObject; kind: ChildKind; created: boolean };

/** A desired child that is not written this time, and why. */
export type Skip =
  | { why: "conflict"; object: KubernetesObject; controller?: string }
  | { why: "leftover"; object: KubernetesObject; ownerUid: string | undefined }
  | { why: "unserved"; object: KubernetesObject; message: string }
  | { why: "unreadable"; object: KubernetesObject };

export type Plan = {
  /** Children to apply, in the order of `desired` but those that run or scale pods last (empty when blocked). */
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

/** Kinds that run pods or scale them: applied after every other child (see the file comment). */
const RUNS_OR_SCALES_PODS = new Set(["Deployment", "LeaderWorkerSet", "HorizontalPodAutoscaler", "ScaledObject"]);

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
  const ordered = [...applies.filter((a) => !RUNS_OR_SCALES_PODS.has(a.kind.kind)), ...applies.filter((a) => RUNS_OR_SCALES_PODS.has(a.kind.kind))];
  return { applies: ordered, prunes: unwantedChildren(owner, desired, observed.labelled), skipped, conflicts, blocked };
}
