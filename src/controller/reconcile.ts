// One reconcile of one ModelService: read from the caches, render, apply only what differs, delete
// children no longer wanted, compute status and write it only when it changed. A reconcile that
// finds everything as it should be sends no write request at all.
import { createHash } from "node:crypto";
import type { KubernetesObject, V1Deployment, V1Pod, V1ReplicaSet } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { API_VERSION, KIND, PLURAL } from "../api/schema.ts";
import type { ModelService, ModelServiceStatus } from "../api/types.ts";
import type { OperatorConfig } from "../config/operator-config.ts";
import { deleteObject, needsApply, patchStatus, serverSideApply } from "../kube/apply.ts";
import type { KubeClient } from "../kube/client.ts";
import type { EventRecorder } from "../kube/events.ts";
import { InvalidSpecError } from "../render/errors.ts";
import { orderedChildren, render, serviceUrl } from "../render/index.ts";
import { NAME_LABEL } from "../render/labels.ts";
import { childNames } from "../render/names.ts";
import type { OperatorMetrics } from "../server/metrics.ts";
import { computeStatus, statusChanged, transitionEvents } from "../status/index.ts";
import { type ChildKind, type ObservedChild, splitKey, unwantedChildren } from "./keys.ts";

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
};

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
    const msg = `${what}: ${errorMessage(e)}`;
    if (isPermanent(e)) applyError ??= msg;
    else transientError ??= msg;
    log.warn({ err: msg, permanent: isPermanent(e) }, "write failed");
  };
  const applied = new Map<string, KubernetesObject>();
  if (!invalidSpec) {
    for (const obj of desired) {
      const cc = childKindOf(ctx, obj);
      if (!cc) {
        log.warn({ kind: obj.kind }, "rendered a kind the controller does not watch; skipping");
        continue;
      }
      const observed = cc.cache.get(namespace, obj.metadata?.name ?? "");
      if (observed && !needsApply(obj, observed)) continue;
      const otherController = observed?.metadata?.ownerReferences?.find((r) => r.controller && r.uid !== uid);
      if (otherController) {
        // Left over from a deleted ModelService of the same name (the garbage collector removes
        // it shortly), or owned by something else: never take it over.
        transientError ??= `${obj.kind} ${obj.metadata?.name} is controlled by ${otherController.kind} ${otherController.name} (uid ${otherController.uid})`;
        continue;
      }
      try {
        ctx.metrics?.writes.inc({ verb: "apply", resource: cc.kind.plural });
        applied.set(obj.kind ?? "", await serverSideApply(ctx.client, obj, cc.kind.plural));
        log.info({ kind: obj.kind, name: obj.metadata?.name, created: !observed }, observed ? "updated child" : "created child");
      } catch (e) {
        fail(`applying ${obj.kind} ${obj.metadata?.name}`, e);
      }
    }

    const observed: ObservedChild[] = ctx.children.flatMap((c) => byLabel(c.cache.list(namespace), name).map((object) => ({ kind: c.kind, object })));
    for (const { kind, object } of unwantedChildren({ namespace, name, uid }, desired, observed)) {
      try {
        ctx.metrics?.writes.inc({ verb: "delete", resource: kind.plural });
        if (
          await deleteObject(ctx.client, {
            apiVersion: kind.apiVersion,
            plural: kind.plural,
            namespace,
            name: object.metadata?.name as string,
            uid: object.metadata?.uid,
          })
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
  const deployment = (applied.get("Deployment") ?? deployKind?.cache.get(namespace, childNames(name).deployment)) as V1Deployment | undefined;
  const ownedDeployment = deployment && (!uid || (deployment.metadata?.ownerReferences ?? []).some((r) => r.uid === uid)) ? deployment : undefined;
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
    applyError,
    url,
  });
  const prev = ms.status;
  if (statusChanged(prev, status)) {
    try {
      await patchStatus(ctx.client, { apiVersion: API_VERSION, plural: PLURAL, namespace, name }, statusPatch(prev, status));
      ctx.metrics?.writes.inc({ verb: "patch", resource: `${PLURAL}/status` });
      log.info({ phase: status.phase, reason: readyReason(status) }, "status updated");
    } catch (e) {
      // 404: deleted meanwhile; 409 cannot happen with a merge patch. Anything else retries.
      if ((e as { status?: number }).status === 404) return { result: "gone" };
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

  if (invalidSpec) return { result: "invalid_spec" };
  if (applyError || transientError) {
    ctx.metrics?.reconcileErrors.inc({ kind: "apply" });
    throw new ApplyFailedError((applyError ?? transientError) as string);
  }
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

/** A JSON merge patch from prev to next: fields next dropped are set to null so they disappear. */
export function statusPatch(prev: ModelServiceStatus | undefined, next: ModelServiceStatus): Record<string, unknown> {
  const patch: Record<string, unknown> = { ...next };
  for (const k of Object.keys(prev ?? {})) if (!(k in next) || (next as Record<string, unknown>)[k] === undefined) patch[k] = null;
  return patch;
}
