// One reconcile of one ModelService, as an imperative shell around pure parts: render the desired
// children, gather what exists (from the caches only), plan (plan.ts: what to apply and delete,
// and what blocks it), execute the plan, then compute the status (status/) and write it only when
// it changed. A reconcile that finds everything as it should be sends no write request at all.
//
// The child caches hold only objects with our managed-by label, so a user's own object with a
// child's name is not in them; a forced server-side apply must never merge into it (that would add
// our owner reference and let the garbage collector delete it with the ModelService). So a child
// missing from its cache is applied create-only: if the name is taken, nothing is written, the
// shell reads that object (the only uncached GET, and only then) and plans again, and plan()
// reports a conflict (NameConflict in the status); nothing more is applied until it is resolved.
import { createHash } from "node:crypto";
import type { KubernetesObject, V1Deployment, V1Pod, V1ReplicaSet, V1StatefulSet } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { ModelServiceClass } from "../api/class-schema.ts";
import { API_VERSION, KIND, PLURAL } from "../api/schema.ts";
import type { ModelService, ModelServiceStatus } from "../api/types.ts";
import type { OperatorConfig } from "../config/operator-config.ts";
import { deleteObject, isNameTaken, patchStatus, serverSideApply } from "../kube/apply.ts";
import { isApiError, type KubeClient, resourcePath } from "../kube/client.ts";
import { errorMessage, isNamespaceTerminating, isPermanent } from "../kube/errors.ts";
import type { EventRecorder } from "../kube/events.ts";
import { mergePatch } from "../kube/merge-patch.ts";
import { resolveClass } from "../policy/model-service-class.ts";
import { ClassViolationError, InvalidSpecError } from "../render/errors.ts";
import { orderedChildren, render, serviceUrl } from "../render/index.ts";
import { childNames } from "../render/names.ts";
import type { OperatorMetrics } from "../server/metrics.ts";
import { exposure, type Gateway, type RouteWithStatus } from "../status/exposure.ts";
import { computeStatus, onlyProgress, statusChanged, transitionEvents } from "../status/index.ts";
import { REASONS } from "../status/reasons.ts";
import type { ClassProblem } from "../status/verdict.ts";
import { type ChildKind, isControlledBy, splitKey } from "./keys.ts";
import { type Apply, childId, type Found, type Observed, type Owner, type Plan, plan, type Skip } from "./plan.ts";

/** What the reconciler needs from an informer; byLabel: by the modelservice.dev/name label (an index, not a scan). */
export type Cache<T> = { get(namespace: string, name: string): T | undefined; list(namespace?: string): T[]; byLabel(namespace: string, value: string): T[] };

export type ChildCache = { kind: ChildKind; cache: Cache<KubernetesObject> };

export type ReconcileContext = {
  client: KubeClient;
  config: OperatorConfig;
  modelServices: Cache<ModelService>;
  /** One cache per child kind the operator may own (Deployment, Service, HPA, PDB, PVC, ScaledObject). */
  children: ChildCache[];
  replicaSets: Cache<V1ReplicaSet>;
  pods: Cache<V1Pod>;
  /**
   * The ModelServiceClasses: undefined when the class API is not served (no class applies, and a
   * spec.className is not found); the function returns undefined while their cache syncs.
   */
  classes?: () => ModelServiceClass[] | undefined;
  /** StatefulSets of LeaderWorkerSets (status/cached.ts keeps only those), for multi-node ModelServices. */
  statefulSets?: Cache<V1StatefulSet>;
  /** Gateways (cluster-wide), while the Gateway API is served: for the Exposed condition and the external URL. */
  gateways?: Cache<KubernetesObject>;
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
  /** Per ModelService uid: since when (ms) its writes fail transiently; kept across reconciles by the controller. */
  transientFailures?: Map<string, number>;
  /**
   * Per ModelService uid, the status this operator last wrote and the resourceVersion it was written
   * over; kept across reconciles by the controller. Until the watch delivers that write, a reconcile
   * starts from it rather than from the older cached status (which would cost a redundant write).
   */
  writtenStatus?: Map<string, { over: string | undefined; status: ModelServiceStatus }>;
  /** Per ModelService uid, when (ms) this operator last wrote its status; kept across reconciles by the controller. */
  statusWrittenAt?: Map<string, number>;
  /** How long a transient failure must persist before the status reports it (default TRANSIENT_REPORT_MS). */
  transientReportMs?: number;
};

/**
 * A transient write failure (5xx, timeout, 429) reaches the status once it has lasted this long:
 * a blip that the next retry fixes stays out of the status and the Events, but a child that keeps
 * failing (an HPA refused with 500 on every apply) shows as ApplyFailed within seconds. The work
 * queue retries from 5 ms doubling, so about a dozen attempts fall in this window.
 */
export const TRANSIENT_REPORT_MS = 10_000;

/**
 * How long to wait before looking again at a name conflict. The conflicting object has no
 * managed-by label, so no watch tells the controller when it is deleted or renamed: poll slowly
 * (one GET per conflicting child) instead of retrying with backoff; a change of the ModelService
 * and the periodic resync also retry it.
 */
export const NAME_CONFLICT_REQUEUE_MS = 60_000;

/**
 * A status that only moves work in progress along (status/events.ts onlyProgress) is written at
 * most this often per ModelService; the steps in between are folded into the next write.
 */
export const PROGRESS_WRITE_INTERVAL_MS = 1000;

/** How soon to look again when the class cache has not synced yet (the class API just appeared). */
export const CLASSES_SYNC_REQUEUE_MS = 1000;

export type ReconcileResult = { requeueAfterMs?: number; result: "success" | "requeue" | "invalid_spec" | "gone" };

/** Thrown after the status has been written, so the work queue retries with backoff. */
export class ApplyFailedError extends Error {
  /** A transient failure not in the status yet: retry no later than this, when it would be reported. */
  reportInMs: number | undefined;
  constructor(message: string, options?: { cause?: unknown; reportInMs?: number }) {
    super(message, options);
    this.name = "ApplyFailedError";
    this.reportInMs = options?.reportInMs;
  }
}

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

const childKindOf = (ctx: ReconcileContext, obj: KubernetesObject): ChildCache | undefined =>
  ctx.children.find((c) => c.kind.kind === obj.kind && c.kind.apiVersion === obj.apiVersion);

/**
 * Reads what the plan needs from the caches: each desired child (undefined when the cache has
 * none: it is then created only if its name is free), and the labelled children for pruning.
 */
function gather(ctx: ReconcileContext, owner: Owner, desired: KubernetesObject[]): Observed {
  const found = new Map<string, Found>();
  for (const obj of desired) {
    const cc = childKindOf(ctx, obj);
    if (!cc) {
      found.set(childId(obj), { unserved: ctx.unavailable?.get(obj.kind ?? "") ?? `the operator does not watch ${obj.apiVersion} ${obj.kind}` });
      continue;
    }
    found.set(childId(obj), { kind: cc.kind, object: cc.cache.get(owner.namespace, obj.metadata?.name ?? "") });
  }
  // Only needed when the plan is not blocked, but reading a cache costs no request.
  const labelled = ctx.children.flatMap((c) => c.cache.byLabel(owner.namespace, owner.name).map((object) => ({ kind: c.kind, object })));
  return { found, labelled };
}

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

/**
 * Failed requests of one reconcile. The first permanent one (a retry cannot fix it, such as an
 * admission rejection) goes into the status (ApplyFailed, Stalled); transient ones (timeouts, 5xx,
 * 409, 429) are only retried with backoff.
 */
type Failures = { permanent?: string; transient?: string; terminating?: boolean; add(what: string, e: unknown): void };

function newFailures(ctx: ReconcileContext, log: Logger): Failures {
  const f: Failures = {
    add(what, e) {
      // Leadership lost (or shutting down) mid-request: stop here, the next leader takes over.
      if (ctx.signal?.aborted) throw ctx.signal.reason;
      const msg = `${what}: ${errorMessage(e)}`;
      if (isNamespaceTerminating(e)) {
        // Everything in it is going away: no status, no Event, no retry.
        f.terminating = true;
        log.debug({ err: msg }, "namespace is being terminated");
        return;
      }
      if (isPermanent(e)) f.permanent ??= msg;
      else f.transient ??= msg;
      log.warn({ err: msg, permanent: isPermanent(e) }, "write failed");
    },
  };
  return f;
}

/** Why desired children were not written, in their order: the first problem names the status. */
function reportSkipped(skipped: Skip[], readErrors: ReadonlyMap<string, unknown>, failures: Failures, name: string, log: Logger): void {
  for (const s of skipped) {
    const kind = s.object.kind;
    const childName = s.object.metadata?.name ?? "";
    if (s.why === "unserved") {
      failures.permanent ??= s.message;
      log.debug({ kind, name: childName }, s.message); // the controller logged it at start; the status says it
    } else if (s.why === "unreadable") {
      failures.add(`reading ${kind} ${childName}`, readErrors.get(childId(s.object)));
    } else if (s.why === "leftover") {
      // The garbage collector removes it shortly; retried with backoff until then.
      failures.transient ??= `${kind} ${childName} still belongs to a deleted ModelService ${name} (uid ${s.ownerUid}); waiting for the garbage collector`;
    } else {
      log.warn({ kind, name: childName, controller: s.controller }, "name conflict: the object exists and is not ours");
    }
  }
}

/**
 * Applies and deletes what the plan says, one request at a time, into `applied` (the objects as
 * stored, by kind). Stops before anything else when a create-only apply finds the name taken, and
 * returns that child: the caller reads it and plans again.
 */
async function execute(
  ctx: ReconcileContext,
  p: Plan,
  namespace: string,
  failures: Failures,
  log: Logger,
  applied: Map<string, KubernetesObject>,
): Promise<Apply | undefined> {
  for (const a of p.applies) {
    const { object: obj, kind, created } = a;
    try {
      ctx.signal?.throwIfAborted();
      ctx.metrics?.writes.inc({ verb: "apply", resource: kind.plural });
      applied.set(obj.kind ?? "", await serverSideApply(ctx.client, obj, kind.plural, ctx.signal, { createOnly: created }));
      log.info({ kind: obj.kind, name: obj.metadata?.name, created }, created ? "created child" : "updated child");
    } catch (e) {
      if (created && isNameTaken(e)) return a;
      failures.add(`applying ${obj.kind} ${obj.metadata?.name}`, e);
    }
  }
  for (const { kind, object } of p.prunes) {
    try {
      ctx.signal?.throwIfAborted();
      ctx.metrics?.writes.inc({ verb: "delete", resource: kind.plural });
      const ref = { apiVersion: kind.apiVersion, plural: kind.plural, namespace, name: object.metadata?.name as string, uid: object.metadata?.uid };
      if (await deleteObject(ctx.client, ref, ctx.signal)) log.info({ kind: kind.kind, name: object.metadata?.name }, "deleted child no longer wanted");
    } catch (e) {
      failures.add(`deleting ${kind.kind} ${object.metadata?.name}`, e);
    }
  }
  return undefined;
}

/**
 * Plans and executes until no create-only apply finds its name taken: each time one does, that
 * object is read (one GET) and the rest is planned again with it, and with what was applied so far.
 * Every round settles one more child, so this ends; the bound only guards against an object that
 * keeps appearing and vanishing between the apply and the GET.
 */
async function planAndExecute(
  ctx: ReconcileContext,
  owner: Owner,
  desired: KubernetesObject[],
  failures: Failures,
  log: Logger,
): Promise<{ plan: Plan; applied: Map<string, KubernetesObject>; fetched: Map<string, KubernetesObject>; readErrors: Map<string, unknown> }> {
  const observed = gather(ctx, owner, desired);
  const found = new Map(observed.found);
  const applied = new Map<string, KubernetesObject>();
  const fetched = new Map<string, KubernetesObject>();
  const readErrors = new Map<string, unknown>();
  for (let round = 0; ; round++) {
    const p = plan(desired, { found, labelled: observed.labelled }, owner);
    const taken = await execute(ctx, p, owner.namespace, failures, log, applied);
    if (!taken) return { plan: p, applied, fetched, readErrors };
    for (const a of p.applies) {
      const stored = applied.get(a.object.kind ?? "");
      if (stored) found.set(childId(a.object), { kind: a.kind, object: stored });
    }
    const id = childId(taken.object);
    try {
      const object = await getLive(ctx, taken.kind, owner.namespace, taken.object.metadata?.name ?? "");
      if (object) fetched.set(taken.object.kind ?? "", object);
      else if (round >= desired.length) throw new Error("the name was taken when creating it, then free when reading it, again and again");
      found.set(id, { kind: taken.kind, object });
    } catch (e) {
      if (ctx.signal?.aborted) throw ctx.signal.reason;
      readErrors.set(id, e);
      found.set(id, { kind: taken.kind, unreadable: true });
    }
  }
}

/**
 * Writes the status when it changed, then records its transitions as Events. "gone": the
 * ModelService was deleted meanwhile; a number: a progress step held back, write it in that many ms.
 */
async function writeStatus(
  ctx: ReconcileContext,
  { namespace, name }: { namespace: string; name: string },
  ms: ModelService,
  status: ModelServiceStatus,
  now: Date,
  log: Logger,
): Promise<"gone" | number | undefined> {
  const prev = ms.status;
  if (!statusChanged(prev, status)) return undefined;
  const uid = ms.metadata.uid as string | undefined;
  const lastWrite = uid ? ctx.statusWrittenAt?.get(uid) : undefined;
  if (lastWrite !== undefined && onlyProgress(prev, status)) {
    const wait = lastWrite + PROGRESS_WRITE_INTERVAL_MS - now.getTime();
    if (wait > 0) return wait;
  }
  const ref = { apiVersion: API_VERSION, plural: PLURAL, namespace, name };
  try {
    ctx.signal?.throwIfAborted();
    const stored = ((await patchStatus(ctx.client, ref, statusPatch(prev, status), ctx.signal)) as ModelService | undefined)?.status;
    ctx.metrics?.writes.inc({ verb: "patch", resource: `${PLURAL}/status` });
    // A merge patch made against a status older than the server's (another writer, or a cache
    // behind our own write) can leave fields behind: what the server now holds must be what we
    // computed, or a second patch, made against what it holds, makes it so.
    if (stored && statusChanged(stored, status)) {
      log.debug("status patch was made against an older status; patching again");
      await patchStatus(ctx.client, ref, statusPatch(stored, status), ctx.signal);
      ctx.metrics?.writes.inc({ verb: "patch", resource: `${PLURAL}/status` });
    }
    if (uid) {
      ctx.writtenStatus?.set(uid, { over: ms.metadata.resourceVersion, status });
      ctx.statusWrittenAt?.set(uid, now.getTime());
    }
    log.info({ phase: status.phase, reason: readyReason(status) }, "status updated");
  } catch (e) {
    // 404: deleted meanwhile; 409 cannot happen with a merge patch. Anything else retries.
    if (isApiError(e, 404)) return "gone";
    if (ctx.signal?.aborted) throw ctx.signal.reason;
    ctx.metrics?.reconcileErrors.inc({ kind: "status" });
    throw e;
  }
  for (const ev of transitionEvents(prev, status)) {
    // A new ModelService's first status in Normal progress is news to no one (its Ready Event later
    // names the phase it came from): one write less per ModelService created. Warnings are kept.
    if (prev === undefined && ev.type === "Normal") continue;
    ctx.recorder.record(
      { apiVersion: API_VERSION, kind: KIND, namespace, name, uid, resourceVersion: ms.metadata.resourceVersion },
      ev.type,
      ev.reason,
      ev.message,
    );
  }
  observeTimeToReady(ctx, ms, prev, status, now);
  return undefined;
}

export async function reconcile(ctx: ReconcileContext, key: string): Promise<ReconcileResult> {
  const { namespace, name } = splitKey(key);
  const log = ctx.logger.child({ modelservice: key });
  const cached = ctx.modelServices.get(namespace, name);
  // Deleted: owner references and the garbage collector remove the children; nothing to do.
  if (!cached || cached.metadata.deletionTimestamp) {
    if (cached?.metadata.uid) {
      ctx.writtenStatus?.delete(cached.metadata.uid);
      ctx.statusWrittenAt?.delete(cached.metadata.uid);
    }
    return { result: "gone" };
  }
  const ms = withOwnStatus(ctx, cached);
  const uid = ms.metadata.uid as string | undefined;

  // 1. Render, under the ModelService's class. An invalid spec, or one its class forbids or whose
  // class does not exist, touches no child and is not retried until the spec or the class changes.
  const classes = ctx.classes ? ctx.classes() : [];
  if (classes === undefined) return { result: "requeue", requeueAfterMs: CLASSES_SYNC_REQUEUE_MS };
  const resolution = resolveClass(ms, classes);
  let desired: KubernetesObject[] = [];
  let invalidSpec: { path: string; message: string }[] | undefined;
  let classProblem: ClassProblem | undefined;
  if (resolution.kind === "notFound") {
    classProblem = {
      reason: REASONS.ClassNotFound,
      message: `spec.className: ModelServiceClass ${resolution.name} does not exist; create it (the platform team), or name an existing class (kubectl get modelserviceclasses)`,
    };
  } else {
    try {
      desired = orderedChildren(render(ms, ctx.config, resolution.kind === "found" ? resolution.cls : undefined)).map(withAppliedHash);
    } catch (e) {
      if (!(e instanceof InvalidSpecError)) throw e;
      if (e instanceof ClassViolationError) classProblem = { reason: REASONS.ClassViolation, message: e.message };
      else invalidSpec = e.problems;
      // A refused spec leaves the children as they are (the model keeps serving), except a route
      // on the shared interceptor claiming host names it may not: that one would keep taking
      // another namespace's requests (e.g. one made before the check existed).
      if (e.problems.some((p) => p.path.startsWith("spec.autoscaling.wake.hosts"))) await withdrawInterceptorRoute(ctx, namespace, name, uid, log);
    }
  }
  const refused = invalidSpec !== undefined || classProblem !== undefined;

  const failures = newFailures(ctx, log);
  let applied = new Map<string, KubernetesObject>();
  let fetched = new Map<string, KubernetesObject>();
  let conflicts: string[] = [];
  let unservedKind = false;
  if (!refused) {
    // 2. Gather, 3. plan, 4. execute (again, when a create finds its name taken).
    const done = await planAndExecute(ctx, { namespace, name, uid }, desired, failures, log);
    applied = done.applied;
    fetched = done.fetched;
    conflicts = done.plan.conflicts;
    unservedKind = done.plan.skipped.some((s) => s.why === "unserved");
    reportSkipped(done.plan.skipped, done.readErrors, failures, name, log);
  }
  if (failures.terminating) return { result: "gone" };
  const { permanent, transient: transientError } = failures;
  const transientSince = persistingSince(ctx, uid, transientError !== undefined);
  const nowMs = (ctx.now?.() ?? new Date()).getTime();
  // A transient failure that persisted is reported (and still retried); a permanent one wins.
  const transientPersisted = !permanent && transientSince !== undefined && nowMs - transientSince >= (ctx.transientReportMs ?? TRANSIENT_REPORT_MS);
  const applyError = permanent ?? (transientPersisted ? transientError : undefined);

  // 5. Status, from the caches. A Deployment just applied is taken from the apply's answer: its
  // generation is ahead of its observedGeneration, so the status says the rollout is in progress
  // instead of trusting the stale cached copy.
  const deployKind = ctx.children.find((c) => c.kind.kind === "Deployment");
  const deployment = (applied.get("Deployment") ?? deployKind?.cache.get(namespace, childNames(name).deployment) ?? fetched.get("Deployment")) as
    | V1Deployment
    | undefined;
  const ownedDeployment = deployment && isControlledBy(deployment, uid) ? deployment : undefined;
  if (ownedDeployment) await deleteStrayReplicaSets(ctx, namespace, name, ownedDeployment, log);
  const lwsKind = ctx.children.find((c) => c.kind.kind === "LeaderWorkerSet");
  const lws = applied.get("LeaderWorkerSet") ?? lwsKind?.cache.get(namespace, childNames(name).leaderWorkerSet) ?? fetched.get("LeaderWorkerSet");
  const ownedLws = lws && isControlledBy(lws, uid) ? lws : undefined;
  let url: string | undefined;
  try {
    url = refused ? undefined : serviceUrl(ms, ctx.config);
  } catch {
    url = undefined;
  }
  // The route as the gateway controller left it (its status); only ours counts.
  const routeKind = ctx.children.find((c) => c.kind.kind === "HTTPRoute");
  const route = (applied.get("HTTPRoute") ?? routeKind?.cache.get(namespace, childNames(name).httpRoute)) as RouteWithStatus | undefined;
  const gateways = ctx.gateways;
  const exposed =
    refused || !gateways
      ? undefined
      : exposure(ms, route && isControlledBy(route, uid) ? route : undefined, (ns, n) => gateways.get(ns, n) as Gateway | undefined);
  const now = ctx.now?.() ?? new Date();
  const { status, requeueAfterMs } = computeStatus({
    ms,
    config: ctx.config,
    now,
    deployment: ownedDeployment,
    ...(ownedLws ? { leaderWorkerSet: ownedLws, statefulSets: ctx.statefulSets?.list(namespace) ?? [] } : {}),
    replicaSets: ctx.replicaSets.byLabel(namespace, name),
    pods: ctx.pods.byLabel(namespace, name),
    invalidSpec,
    ...(classProblem ? { classProblem } : {}),
    ...(conflicts.length ? { conflicts } : {}),
    applyError,
    ...(transientPersisted ? { applyRetrying: true } : {}),
    url,
    ...(exposed ? { exposure: exposed } : {}),
  });
  // A transient failure not reported yet must not let Ready turn True on a child that was not applied.
  const hideReady = transientError !== undefined && !applyError && isReady(status) && !isReady(ms.status);
  let heldBackMs: number | undefined;
  if (hideReady) log.debug({ err: transientError }, "not writing Ready True while a child fails to apply");
  else {
    const written = await writeStatus(ctx, { namespace, name }, ms, status, now, log);
    if (written === "gone") return { result: "gone" };
    heldBackMs = written;
  }

  // Like an invalid spec, a child whose API is not served is not retried: a change of the spec, or
  // the add-on's CRD becoming established (the controller then reconciles everything again), fixes it.
  if (refused || (unservedKind && !transientError)) return { result: "invalid_spec" };
  if (applyError || transientError) {
    ctx.metrics?.reconcileErrors.inc({ kind: "apply" });
    const reportInMs =
      !applyError && transientSince !== undefined ? Math.max(1, transientSince + (ctx.transientReportMs ?? TRANSIENT_REPORT_MS) - nowMs) : undefined;
    throw new ApplyFailedError((applyError ?? transientError) as string, { reportInMs });
  }
  if (conflicts.length) return { result: "requeue", requeueAfterMs: ctx.nameConflictRequeueMs ?? NAME_CONFLICT_REQUEUE_MS };
  const after = Math.min(requeueAfterMs ?? Number.POSITIVE_INFINITY, heldBackMs ?? Number.POSITIVE_INFINITY);
  return Number.isFinite(after) ? { result: "requeue", requeueAfterMs: after } : { result: "success" };
}

/**
 * ReplicaSets (and so their pods, GPUs included) of an earlier Deployment of the same name that the
 * garbage collector missed. When a Deployment is deleted and re-created under its name while the
 * collector's watch is down (an API server restart), its relist sees an update of that name, not
 * a deletion, and never collects the old one's dependents. The old owner cannot exist (the name
 * now belongs to our Deployment), so they go as the collector would have deleted them.
 */
async function deleteStrayReplicaSets(ctx: ReconcileContext, namespace: string, name: string, deployment: V1Deployment, log: Logger): Promise<void> {
  for (const rs of ctx.replicaSets.byLabel(namespace, name)) {
    const owner = rs.metadata?.ownerReferences?.find((r) => r.controller && r.kind === "Deployment");
    if (!owner || owner.name !== deployment.metadata?.name || owner.uid === deployment.metadata?.uid || rs.metadata?.deletionTimestamp) continue;
    ctx.signal?.throwIfAborted();
    ctx.metrics?.writes.inc({ verb: "delete", resource: "replicasets" });
    const ref = { apiVersion: "apps/v1", plural: "replicasets", namespace, name: rs.metadata?.name as string, uid: rs.metadata?.uid };
    try {
      if (await deleteObject(ctx.client, ref, ctx.signal))
        log.info({ replicaSet: rs.metadata?.name, owner: owner.uid }, "deleted a ReplicaSet of a deleted Deployment the garbage collector missed");
    } catch (e) {
      // A repair, not our child: the status does not depend on it (e.g. an install without this RBAC rule).
      if (ctx.signal?.aborted) throw ctx.signal.reason;
      log.warn({ replicaSet: rs.metadata?.name, err: errorMessage(e) }, "could not delete a ReplicaSet of a deleted Deployment");
    }
  }
}

async function withdrawInterceptorRoute(ctx: ReconcileContext, namespace: string, name: string, uid: string | undefined, log: Logger): Promise<void> {
  const routes = ctx.children.find((c) => c.kind.kind === "InterceptorRoute");
  const route = routes?.cache.get(namespace, childNames(name).interceptorRoute);
  if (!routes || !route || !uid || !isControlledBy(route, uid)) return;
  ctx.signal?.throwIfAborted();
  ctx.metrics?.writes.inc({ verb: "delete", resource: routes.kind.plural });
  const ref = { apiVersion: routes.kind.apiVersion, plural: routes.kind.plural, namespace, name: route.metadata?.name as string, uid: route.metadata?.uid };
  if (await deleteObject(ctx.client, ref, ctx.signal)) log.info({ name: route.metadata?.name }, "deleted InterceptorRoute whose host names are refused");
}

/** The cached ModelService, with the status this operator wrote over it if the watch has not delivered that write yet. */
function withOwnStatus(ctx: ReconcileContext, cached: ModelService): ModelService {
  const uid = cached.metadata.uid;
  const own = uid ? ctx.writtenStatus?.get(uid) : undefined;
  if (!own || !uid) return cached;
  if (own.over === cached.metadata.resourceVersion) return { ...cached, status: own.status };
  ctx.writtenStatus?.delete(uid); // the cache has moved on: it holds our write, or something newer
  return cached;
}

/** When the ModelService's transient failures began (undefined: none now); forgets it once a reconcile succeeds. */
function persistingSince(ctx: ReconcileContext, uid: string | undefined, failing: boolean): number | undefined {
  if (!uid || !ctx.transientFailures) return undefined;
  if (!failing) {
    ctx.transientFailures.delete(uid);
    return undefined;
  }
  const since = ctx.transientFailures.get(uid) ?? (ctx.now?.() ?? new Date()).getTime();
  ctx.transientFailures.set(uid, since);
  return since;
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
