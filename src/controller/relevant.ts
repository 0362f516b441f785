// Which watch events are worth a reconcile. A reconcile renders and compares everything, so a
// change that cannot alter the status nor needs a repair is dropped here: a new resourceVersion
// alone, our own status write coming back on the ModelService watch, or a status rewrite of a child
// whose status the operator never reads (the HPA controller rewrites HPA status every few seconds;
// a PDB's status follows every pod). Pods and ReplicaSets are cached trimmed to what status reads
// (status/cached.ts), so any difference left in them counts.
import type { KubernetesObject } from "@kubernetes/client-node";

/** Child kinds whose status no part of the reconcile reads (status/ reads the Deployment's, exposure the HTTPRoute's). */
const STATUS_NOT_READ = new Set(["HorizontalPodAutoscaler", "PodDisruptionBudget", "Service", "NetworkPolicy", "PersistentVolumeClaim"]);

type Role = "modelService" | "child" | "trimmed";

/** Whether a MODIFIED event (`old` → `obj`) can change what a reconcile writes. Other event types always are. */
export function worthReconciling(role: Role, obj: KubernetesObject, old: KubernetesObject | undefined): boolean {
  if (!old) return true;
  const dropStatus = role === "modelService" || (role === "child" && STATUS_NOT_READ.has(obj.kind ?? ""));
  return !sameObject(old, obj, dropStatus);
}

function sameObject(a: KubernetesObject, b: KubernetesObject, dropStatus: boolean): boolean {
  const strip = (o: KubernetesObject) => {
    const { resourceVersion: _rv, managedFields: _mf, ...metadata } = o.metadata ?? {};
    const { status: _status, ...rest } = o as KubernetesObject & { status?: unknown };
    return { ...(dropStatus ? rest : o), metadata };
  };
  return deepEqual(strip(a), strip(b));
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
