// Writes: server-side apply, status merge patch, delete; and needsApply, the drift check that
// lets a reconcile that changes nothing make zero writes.

import type { KubernetesObject } from "@kubernetes/client-node";
import { ApiError, type KubeClient, resourcePath } from "./client.ts";

export const FIELD_MANAGER = "modelservice-operator";

/**
 * A resourceVersion no stored object has (etcd's first revision precedes every write). Sent with
 * an apply, it makes the apply create the object if the name is free and fail with 409 Conflict,
 * changing nothing, if any object has that name — a create that still records the fields as
 * applied (a POST would record them as an update, and later applies could not remove them).
 */
const CREATE_ONLY_RESOURCE_VERSION = "1";

/**
 * Server-side apply (PATCH application/apply-patch+yaml; a JSON body is valid YAML) with
 * fieldManager=modelservice-operator and force=true. Creates the object if missing. Returns the
 * object as stored. metadata.managedFields is dropped from the request (the server rejects it).
 * `createOnly`: only create it; if the name is taken, nothing is written and it throws an
 * ApiError with status 409 (see isNameTaken).
 */
export async function serverSideApply<T extends KubernetesObject>(
  client: KubeClient,
  obj: T,
  plural: string,
  signal?: AbortSignal,
  opts?: { createOnly?: boolean },
): Promise<T> {
  if (!obj.apiVersion || !obj.kind || !obj.metadata?.name) throw new Error("serverSideApply: apiVersion, kind and metadata.name are required");
  let body: KubernetesObject = obj;
  if (obj.metadata.managedFields || opts?.createOnly) {
    const { managedFields: _drop, ...metadata } = obj.metadata;
    body = { ...obj, metadata: opts?.createOnly ? { ...metadata, resourceVersion: CREATE_ONLY_RESOURCE_VERSION } : metadata };
  }
  const path = resourcePath({ apiVersion: obj.apiVersion, plural, namespace: obj.metadata.namespace, name: obj.metadata.name });
  return await client.request<T>("PATCH", path, {
    body: JSON.stringify(body),
    contentType: "application/apply-patch+yaml",
    query: { fieldManager: FIELD_MANAGER, force: true },
    ...(signal ? { signal } : {}),
  });
}

/** A createOnly apply failed because an object with that name exists. */
export const isNameTaken = (err: unknown): boolean => err instanceof ApiError && err.status === 409;

/** JSON merge patch of `{ status }` on the /status subresource. Returns the patched object. */
export async function patchStatus(
  client: KubeClient,
  ref: { apiVersion: string; plural: string; namespace: string; name: string },
  status: unknown,
  signal?: AbortSignal,
): Promise<unknown> {
  return await client.request("PATCH", resourcePath({ ...ref, subresource: "status" }), {
    body: { status },
    contentType: "application/merge-patch+json",
    query: { fieldManager: FIELD_MANAGER },
    ...(signal ? { signal } : {}),
  });
}

/**
 * Deletes with propagationPolicy Background (and a uid precondition when given). Returns false if
 * the object is already gone — including when the name now belongs to another object (uid
 * precondition failed, 409) — true if the delete was accepted (the object may linger while
 * finalizers run).
 */
export async function deleteObject(
  client: KubeClient,
  ref: { apiVersion: string; plural: string; namespace: string; name: string; uid?: string },
  signal?: AbortSignal,
): Promise<boolean> {
  const body: Record<string, unknown> = { apiVersion: "v1", kind: "DeleteOptions", propagationPolicy: "Background" };
  if (ref.uid) body.preconditions = { uid: ref.uid };
  try {
    await client.request("DELETE", resourcePath(ref), { body, ...(signal ? { signal } : {}) });
    return true;
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || (err.status === 409 && ref.uid))) return false;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// needsApply

/**
 * True unless every field set in `desired` has an equal value in `observed`:
 * - objects: deep subset; fields only in observed (server defaults, other managers) are fine;
 * - a desired zero value ("" / 0 / false / null / {} / []) equals a missing field (the server
 *   omits empty fields);
 * - arrays: same length, elements compared by index with the same subset semantics;
 * - Kubernetes quantities by value: "1000m" == "1", "0.5" == "500m", "16Gi" == 17179869184 (a
 *   number equals a quantity string only when the string has a suffix, a fraction or an exponent,
 *   so int-or-string 1 and "1" are NOT equal).
 */
export function needsApply(desired: unknown, observed: unknown): boolean {
  return !subset(desired, observed);
}

function isZero(v: unknown): boolean {
  if (v === undefined || v === null || v === "" || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === "object") return Object.values(v as object).every(isZero);
  return false;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function subset(d: unknown, o: unknown): boolean {
  if (d === undefined) return true;
  if (o === undefined || o === null) return isZero(d);
  if (Array.isArray(d)) {
    if (!Array.isArray(o) || o.length !== d.length) return false;
    return d.every((x, i) => subset(x, o[i]));
  }
  if (isPlainObject(d)) {
    if (!isPlainObject(o)) return false;
    for (const [k, v] of Object.entries(d)) if (!subset(v, o[k])) return false;
    return true;
  }
  if (d === null) return false; // observed is not null here
  if (d === o) return true;
  return quantityEqual(d, o);
}

const PLAIN_INT = /^[+-]?\d+$/;

function quantityEqual(a: unknown, b: unknown): boolean {
  if (typeof a === "number" && typeof b === "number") return false; // already !==
  if (typeof a === "string" && typeof b === "string") {
    if (PLAIN_INT.test(a) && PLAIN_INT.test(b)) return false; // "01" vs "1": not a quantity difference
  } else if (typeof a === "number" && typeof b === "string") {
    if (PLAIN_INT.test(b)) return false;
  } else if (typeof a === "string" && typeof b === "number") {
    if (PLAIN_INT.test(a)) return false;
  } else {
    return false;
  }
  const qa = parseQuantity(a);
  const qb = parseQuantity(b);
  if (!qa || !qb) return false;
  return qa.num * qb.den === qb.num * qa.den;
}

const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([numkMGTPE])|[eE]([+-]?\d+))?$/;
const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Ti: 40, Gi: 30, Pi: 50, Ei: 60 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

/** A Kubernetes quantity as an exact fraction num/den, or undefined if it is not one. */
export function parseQuantity(v: unknown): { num: bigint; den: bigint } | undefined {
  let s: string;
  if (typeof v === "number") {
    if (!Number.isFinite(v)) return undefined;
    s = String(v);
  } else if (typeof v === "string") {
    s = v.trim();
  } else {
    return undefined;
  }
  const m = QUANTITY.exec(s);
  if (!m) return undefined;
  const [, sign, digits = "", bin, dec, exp] = m;
  const [ip = "", fp = ""] = digits.split(".");
  let num = BigInt((ip || "0") + fp);
  let den = 10n ** BigInt(fp.length);
  if (sign === "-") num = -num;
  let pow10 = 0;
  if (bin) num *= 2n ** BigInt(BINARY[bin] ?? 0);
  if (dec) pow10 = DECIMAL[dec] ?? 0;
  if (exp) pow10 = Number(exp);
  if (Math.abs(pow10) > 400) return undefined;
  if (pow10 > 0) num *= 10n ** BigInt(pow10);
  if (pow10 < 0) den *= 10n ** BigInt(-pow10);
  return { num, den };
}
