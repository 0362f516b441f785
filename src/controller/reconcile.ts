// One reconcile of one ModelService: read from the caches, render, apply only what differs, delete
// children no longer wanted, compute status and write it only when it changed. A reconcile that
// finds everything as it should be sends no write request at all.
//
// Only objects whose controller owner reference is this ModelService (uid included) are ever
// written or deleted. The child caches hold only objects with our managed-by label, so a child
// missing from its cache is looked up with an uncached GET before it is created: a user's own
// object with that name must not be merged into by a forced server-side apply (which would add
// our owner reference and let the garbage collector delete it with the ModelService). Such a name
// conflict is reported in the status (NameConflict) and nothing is applied until it is resolved.
import { createHash } from "node:crypto";
import type { KubernetesObject, V1Deployment, V1Pod, V1ReplicaSet } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { API_VERSION, KIND, PLURAL } from "../api/schema.ts";
import type { ModelService, ModelServiceStatus } from "../api/types.ts";
import type { OperatorConfig } from "../config/operator-config.ts";
import { deleteObject, needsApply, patchStatus, serverSideApply } from "../kube/apply.ts";
import { isApiError, type KubeClient, resourcePath } from "../kube/client.ts";
import type { EventRecorder } from "../kube/events.ts";
import { InvalidSpecError } from "../render/errors.ts";
import { orderedChildren, render, serviceUrl } from "../render/index.ts";
import { NAME_LABEL } from "../render/labels.ts";
import { childNames } from "../render/names.ts";
import type { OperatorMetrics } from "../server/metrics.ts";
import { computeStatus, statusChanged, transitionEvents } from "../status/index.ts";
import { type ChildKind, isControlledBy, modelServiceOwner, type ObservedChild, splitKey, unwantedChildren } from "./keys.ts";

/** What the reconciler needs from an informer. */
export type Cache<T> = { get(namespace: string, name: string): T | undefined; list(namespace?: string): T[] };

export type ChildCache = { kind: ChildKind; cache: Cache<KubernetesObject> };

export type ReconcileContext = {
  client: KubeClient;
  config: OperatorConfig;
  modelServices: Cache<ModelService>;
  /** One cache per child kind the operator may own (Deployment, Service, HPA, PDB, PVC, ScaledObject). */
  children: ChildCache[];
  replicaSets: Cache<V1ReplicaSet>;
  pods: Cache<V1Pod>;
  recorder: EventRecorder;
  logger: Logger;
  metrics?: OperatorMetrics;
  now?: () => Date;
  /** UIDs already seen Ready, for the time-to-ready histogram. */
  seenReady?: Set<string>;
  /**
   * Child kinds the config renders but the cluster does not serve (kind → why), e.g. ScaledObject
   * when KEDA is enabled but its CRD is not installed. A ModelService that needs one reports
   * ApplyFailed with that message.
   */
  unavailable?: ReadonlyMap<string, string>;
  /** Aborted when this instance stops leading (or shuts down): cancels in-flight requests, starts no new write. */
  signal?: AbortSignal;
  /** How long to wait before looking at a name conflict again (default NAME_CONFLICT_REQUEUE_MS; tests shorten it). */
  nameConflictRequeueMs?: number;
};

/**
 * How long to wait before looking again at a name conflict. The conflicting object has no
 * managed-by label, so no watch tells the controller when it is deleted or renamed: poll slowly
 * (one GET per conflicting child) instead of retrying with backoff; a change of the ModelService
 * and the periodic resync also retry it.
 */
export const NAME_CONFLICT_REQUEUE_MS = 60_000;

export type ReconcileResult = { requeueAfterMs?: number; result: "success" | "requeue" | "invalid_spec" | "gone" };

/** Thrown after the status has been written, so the work queue retries with backoff. */
export class ApplyFailedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ApplyFailedError";
  }
}

const errorMessage = (e: unknown): string => {
  const err = e as { status?: number; body?: unknown; message?: string };
  const body = err.body as { message?: string } | string | undefined;
  const detail = typeof body === "object" && body?.message ? body.message : typeof body === "string" && body !== "" ? body : err.message;
  return `${err.status ? `${err.status}: ` : ""}${detail ?? String(e)}`.slice(0, 900);
};

/**
 * Annotation with a hash of the rendered child. needsApply only sees fields that differ or are
 * missing from the live object; a field the new spec no longer renders (a volume after
 * spec.cache is removed, say) would go unnoticed. The hash changes whenever the rendering does,
 * so such removals are applied too (server-side apply then drops the fields we no longer own).
 */
export const APPLIED_HASH_ANNOTATION = "modelservice.dev/applied-hash";

export function withAppliedHash(obj: KubernetesObject): KubernetesObject {
  const hash = createHash("sha256").update(JSON.stringify(obj)).digest("hex").slice(0, 16);
  return { ...obj, metadata: { ...obj.metadata, annotations: { ...obj.metadata?.annotations, [APPLIED_HASH_ANNOTATION]: hash } } };
}

/** Errors a retry will not fix: the request itself is refused (validation, admission, RBAC). */
export const isPermanent = (e: unknown): boolean => {
  const status = (e as { status?: number }).status;
  return status === 400 || status === 403 || status === 422;
};

const childKindOf = (ctx: ReconcileContext, obj: KubernetesObject): ChildCache | undefined =>
  ctx.children.find((c) => c.kind.kind === obj.kind && c.kind.apiVersion === obj.apiVersion);

const byLabel = <T extends KubernetesObject>(items: T[], name: string): T[] => items.filter((o) => o.metadata?.labels?.[NAME_LABEL] === name);

/** An uncached GET; undefined if there is no such object. */
async function getLive(ctx: ReconcileContext, kind: ChildKind, namespace: string, name: string): Promise<KubernetesObject | undefined> {
  try {
    const path = resourcePath({ apiVersion: kind.apiVersion, plural: kind.plural, namespace, name });
    return await ctx.client.request<KubernetesObject>("GET", path, ctx.signal ? { signal: ctx.signal } : undefined);
  } catch (e) {
    if (isApiError(e, 404)) return undefined;
    throw e;
  }
}

export async function reconcile(ctx: ReconcileContext, key: string): Promise<ReconcileResult> {
  const { namespace, name } = splitKey(key);
  const log = ctx.logger.child({ modelservice: key });
  const ms = ctx.modelServices.get(namespace, name);
  // Deleted: owner references and the garbage collector remove the children; nothing to do.
  if (!ms || ms.metadata.deletionTimestamp) return { result: "gone" };
  const uid = ms.metadata.uid as string | undefined;

  // 1. Render. An invalid spec touches no child and is not retried until the spec changes.
  let desired: KubernetesObject[] = [];
  let invalidSpec: { path: string; message: string }[] | undefined;
  try {
    desired = orderedChildren(render(ms, ctx.config)).map(withAppliedHash);
  } catch (e) {
    if (!(e instanceof InvalidSpecError)) throw e;
    invalidSpec = e.problems;
  }

  // 2. Apply what differs from the cache; delete what is no longer wanted.
  // applyError goes into the status (ApplyFailed, Stalled): only errors a retry cannot fix, such as
  // an admission rejection. Transient ones (timeouts, 5xx, 409, 429) are retried with backoff only.
  let applyError: string | undefined;
  let transientError: string | undefined;
  const fail = (what: string, e: unknown) => {
    // Leadership lost (or shutting down) mid-request: stop here, the next leader takes over.
    if (ctx.signal?.aborted) throw ctx.signal.reason;
    const msg = `${what}: ${errorMessage(e)}`;
    if (isPermanent(e)) applyError ??= msg;
    else transientError ??= msg;
    log.warn({ err: msg, permanent: isPermanent(e) }, "write failed");
  };
  const applied = new Map<string, KubernetesObject>();
  const fetched = new Map<string, KubernetesObject>();
  const conflicts: string[] = [];
  let unservedKind = false;
  if (!invalidSpec) {
    // 2a. What must be written, and whether every name is ours to write.
    const writes: { obj: KubernetesObject; cc: ChildCache; created: boolean }[] = [];
    for (const obj of desired) {
      const childName = obj.metadata?.name ?? "";
      const cc = childKindOf(ctx, obj);
      if (!cc) {
        const why = ctx.unavailable?.get(obj.kind ?? "") ?? `the operator does not watch ${obj.apiVersion} ${obj.kind}`;
        applyError ??= why;
        unservedKind = true;
        log.debug({ kind: obj.kind, name: childName }, why); // the controller logged it at start; the status says it
        continue;
      }
      let observed = cc.cache.get(namespace, childName);
      if (!observed) {
        // Not in the (label-filtered) cache: it may still exist without our labels.
        try {
          observed = await getLive(ctx, cc.kind, namespace, childName);
        } catch (e) {
          fail(`reading ${obj.kind} ${childName}`, e);
          continue;
        }
        if (observed) fetched.set(obj.kind ?? "", observed);
      }
      if (observed && !isControlledBy(observed, uid)) {
        const other = modelServiceOwner(observed);
        if (other?.name === name) {
          // Left over from a deleted ModelService of the same name: the garbage collector removes it shortly.
          transientError ??= `${obj.kind} ${childName} still belongs to a deleted ModelService ${name} (uid ${other.uid}); waiting for the garbage collector`;
        } else {
          const by = observed.metadata?.ownerReferences?.find((r) => r.controller);
          conflicts.push(`${obj.kind} ${namespace}/${childName}`);
          log.warn(
            { kind: obj.kind, name: childName, controller: by ? `${by.kind}/${by.name}` : undefined },
            "name conflict: the object exists and is not ours",
          );
        }
        continue;
      }
      if (observed && !needsApply(obj, observed)) continue;
      writes.push({ obj, cc, created: !observed });
    }

    // 2b. Apply, unless a name is taken or a child's API is not served: then nothing is applied or
    // deleted (the Deployment would otherwise mount a user's PVC, or lose its HPA before its
    // ScaledObject exists) and the children already there stay as they are.
    const blocked = conflicts.length > 0 || unservedKind;
    for (const { obj, cc, created } of blocked ? [] : writes) {
      try {
        ctx.signal?.throwIfAborted();
        ctx.metrics?.writes.inc({ verb: "apply", resource: cc.kind.plural });
        applied.set(obj.kind ?? "", await serverSideApply(ctx.client, obj, cc.kind.plural, ctx.signal));
        log.info({ kind: obj.kind, name: obj.metadata?.name, created }, created ? "created child" : "updated child");
      } catch (e) {
        fail(`applying ${obj.kind} ${obj.metadata?.name}`, e);
      }
    }

    const observed: ObservedChild[] = blocked
      ? []
      : ctx.children.flatMap((c) => byLabel(c.cache.list(namespace), name).map((object) => ({ kind: c.kind, object })));
    for (const { kind, object } of unwantedChildren({ namespace, name, uid }, desired, observed)) {
      try {
        ctx.signal?.throwIfAborted();
        ctx.metrics?.writes.inc({ verb: "delete", resource: kind.plural });
        if (
          await deleteObject(
            ctx.client,
            {
              apiVersion: kind.apiVersion,
              plural: kind.plural,
              namespace,
              name: object.metadata?.name as string,
              uid: object.metadata?.uid,
            },
            ctx.signal,
          )
        ) {
          log.info({ kind: kind.kind, name: object.metadata?.name }, "deleted child no longer wanted");
        }
      } catch (e) {
        fail(`deleting ${kind.kind} ${object.metadata?.name}`, e);
      }
    }
  }

  // 3. Status, from the caches. A Deployment just applied is taken from the apply's answer: its
  // generation is ahead of its observedGeneration, so the status says the rollout is in progress
  // instead of trusting the stale cached copy.
  const deployKind = ctx.children.find((c) => c.kind.kind === "Deployment");
  const deployment = (applied.get("Deployment") ?? deployKind?.cache.get(namespace, childNames(name).deployment) ?? fetched.get("Deployment")) as
    | V1Deployment
    | undefined;
  const ownedDeployment = deployment && isControlledBy(deployment, uid) ? deployment : undefined;
  let url: string | undefined;
  try {
    url = invalidSpec ? undefined : serviceUrl(ms, ctx.config);
  } catch {
    url = undefined;
  }
  const now = ctx.now?.() ?? new Date();
  const { status, requeueAfterMs } = computeStatus({
    ms,
    config: ctx.config,
    now,
    deployment: ownedDeployment,
    replicaSets: byLabel(ctx.replicaSets.list(namespace), name),
    pods: byLabel(ctx.pods.list(namespace), name),
    invalidSpec,
    ...(conflicts.length ? { conflicts } : {}),
    applyError,
    url,
  });
  const prev = ms.status;
  if (statusChanged(prev, status)) {
    try {
      ctx.signal?.throwIfAborted();
      await patchStatus(ctx.client, { apiVersion: API_VERSION, plural: PLURAL, namespace, name }, statusPatch(prev, status), ctx.signal);
      ctx.metrics?.writes.inc({ verb: "patch", resource: `${PLURAL}/status` });
      log.info({ phase: status.phase, reason: readyReason(status) }, "status updated");
    } catch (e) {
      // 404: deleted meanwhile; 409 cannot happen with a merge patch. Anything else retries.
      if ((e as { status?: number }).status === 404) return { result: "gone" };
      if (ctx.signal?.aborted) throw ctx.signal.reason;
      ctx.metrics?.reconcileErrors.inc({ kind: "status" });
      throw e;
    }
    for (const ev of transitionEvents(prev, status)) {
      ctx.recorder.record(
        { apiVersion: API_VERSION, kind: KIND, namespace, name, uid, resourceVersion: ms.metadata.resourceVersion },
        ev.type,
        ev.reason,
        ev.message,
      );
    }
    observeTimeToReady(ctx, ms, prev, status, now);
  }

  // Like an invalid spec, a child whose API is not served is not retried: only a change of the
  // spec or an operator restart (after installing KEDA) can fix it.
  if (invalidSpec || (unservedKind && !transientError)) return { result: "invalid_spec" };
  if (applyError || transientError) {
    ctx.metrics?.reconcileErrors.inc({ kind: "apply" });
    throw new ApplyFailedError((applyError ?? transientError) as string);
  }
  if (conflicts.length) return { result: "requeue", requeueAfterMs: ctx.nameConflictRequeueMs ?? NAME_CONFLICT_REQUEUE_MS };
  return requeueAfterMs !== undefined ? { result: "requeue", requeueAfterMs } : { result: "success" };
}

export const readyReason = (s: ModelServiceStatus | undefined): string => s?.conditions?.find((c) => c.type === "Ready")?.reason ?? "";
const isReady = (s: ModelServiceStatus | undefined): boolean => s?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

function observeTimeToReady(ctx: ReconcileContext, ms: ModelService, prev: ModelServiceStatus | undefined, next: ModelServiceStatus, now: Date) {
  const uid = ms.metadata.uid as string | undefined;
  if (!uid || isReady(prev) || !isReady(next) || ctx.seenReady?.has(uid)) return;
  ctx.seenReady?.add(uid);
  // Only the first Ready after creation: a ModelService that was Ready before has an older Ready transition.
  if ((prev?.conditions ?? []).some((c) => c.type === "Ready" && c.reason === "Ready")) return;
  const created = Date.parse(String(ms.metadata.creationTimestamp ?? ""));
  if (Number.isFinite(created)) ctx.metrics?.timeToReady.observe(Math.max(0, (now.getTime() - created) / 1000));
}

/** A JSON merge patch (RFC 7386) that turns the status `prev` into `next`. */
export function statusPatch(prev: ModelServiceStatus | undefined, next: ModelServiceStatus): Record<string, unknown> {
  return mergePatch(prev ?? {}, next) as Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * A JSON merge patch (RFC 7386) from `prev` to `next`: `next` whole (so the patch is right even
 * if the cached `prev` is a little stale), with every key that `prev` has and `next` lacks set to
 * null, at every depth where both are objects. Arrays and scalars are replaced whole; undefined
 * properties count as absent.
 */
export function mergePatch(prev: unknown, next: unknown): unknown {
  if (!isObject(next)) return next === undefined ? null : next;
  const patch: Record<string, unknown> = {};
  const before = isObject(prev) ? prev : {};
  for (const [k, v] of Object.entries(next)) {
    if (v === undefined) continue;
    patch[k] = isObject(v) && isObject(before[k]) ? mergePatch(before[k], v) : isObject(v) ? mergePatch({}, v) : v;
  }
  for (const [k, v] of Object.entries(before)) if (v !== undefined && (!(k in patch) || next[k] === undefined)) patch[k] = null;
  return patch;
}
