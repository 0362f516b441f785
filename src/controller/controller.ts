// The controller: informers feed a work queue of ModelService keys; workers reconcile them.
// Informers watch only what the operator owns (label-filtered), never the whole cluster and never
// Secrets. Workers run only while this instance leads; followers keep their caches warm.
import type { KubernetesObject, V1Pod, V1ReplicaSet, V1StatefulSet } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { CLASS_API_VERSION, CLASS_PLURAL, type ModelServiceClass, modelServiceClassSchema } from "../api/class-schema.ts";
import { API_VERSION, GROUP, PLURAL } from "../api/schema.ts";
import type { ModelService } from "../api/types.ts";
import type { OperatorConfig } from "../config/operator-config.ts";
import type { KubeClient } from "../kube/client.ts";
import type { EventRecorder } from "../kube/events.ts";
import { Informer } from "../kube/informer.ts";
import { runWorkers, WorkQueue } from "../kube/workqueue.ts";
import { MANAGED_BY, NAME_LABEL } from "../model/labels.ts";
import { CHILD_KINDS, childKinds } from "../render/index.ts";
import type { OperatorMetrics } from "../server/metrics.ts";
import { LWS_NAME_LABEL, trimPod, trimReplicaSet, trimStatefulSet } from "../status/cached.ts";
import { ClassIndex } from "./class-index.ts";
import { keyOf, MANAGED_BY_LABEL, ownerKey } from "./keys.ts";
import { isServed, trimCrd, trimGateway } from "./optional-apis.ts";
import { type ApplyFailedError, type ChildCache, readyReason, reconcile } from "./reconcile.ts";
import { worthReconciling } from "./relevant.ts";

export type ControllerOptions = {
  client: KubeClient;
  config: OperatorConfig;
  namespaces?: string[];
  workers: number;
  resyncPeriodMs: number;
  logger: Logger;
  recorder: EventRecorder;
  metrics?: OperatorMetrics;
  /** Informer relist period (default: the informer's own). */
  relistPeriodMs?: number;
  /** Informer watch stall timeout (default: the informer's own, 90 s). */
  stallTimeoutMs?: number;
  /** Requeue delay of a ModelService with a name conflict (default 60 s; tests shorten it). */
  nameConflictRequeueMs?: number;
};

const NAMED_SELECTOR = NAME_LABEL; // "exists"

/** Why a ModelService that needs a ScaledObject cannot get one. */
export const KEDA_NOT_SERVED = CHILD_KINDS.find((k) => k.key === "scaledObject")?.optional?.missing as string;

type RenderKind = ReturnType<typeof childKinds>[number];
type ChildInformer = { kind: RenderKind; informer: Informer<KubernetesObject> };

export class Controller {
  readonly modelServices: Informer<ModelService>;
  /** Add-on CRDs (cluster-scoped, trimmed): an optional child kind is watched while its CRD is established. */
  readonly crds: Informer<KubernetesObject>;
  readonly replicaSets: Informer<V1ReplicaSet>;
  readonly pods: Informer<V1Pod>;
  /** StatefulSets of LeaderWorkerSets (they carry its name label only, not ours): for the status of multi-node ModelServices. */
  readonly statefulSets: Informer<V1StatefulSet>;
  #opts: ControllerOptions;
  #queue: WorkQueue<string> | undefined;
  #resyncTimer: NodeJS.Timeout | undefined;
  #seenReady = new Set<string>();
  /** Per ModelService uid, since when its writes fail transiently (reconcile.ts reports them once they persist). */
  #transientFailures = new Map<string, number>();
  /** Per ModelService uid, the status last written and the resourceVersion it was written over (reconcile.ts). */
  #writtenStatus = new Map<string, { over: string | undefined; status: ModelService["status"] & object }>();
  /** Per ModelService uid, when its status was last written (reconcile.ts holds back progress steps). */
  #statusWrittenAt = new Map<string, number>();
  #started = false;
  #crdsSynced = false;
  #reconciles = 0;
  /** Child kinds whose API the cluster does not serve (kind → why); their informers are not started. */
  #unavailable = new Map<string, string>();
  #kinds: RenderKind[];
  /** One informer per child kind being watched (kind → informer); optional kinds only while served. */
  #children = new Map<string, ChildInformer>();
  #common: (resource: string) => Omit<ConstructorParameters<typeof Informer>[0], "apiVersion" | "plural">;

  constructor(opts: ControllerOptions) {
    this.#opts = opts;
    const { client, namespaces, logger, metrics } = opts;
    const common = (resource: string) => ({
      client,
      namespaces,
      logger: logger.child({ informer: resource }),
      ...(opts.relistPeriodMs !== undefined ? { relistPeriodMs: opts.relistPeriodMs } : {}),
      ...(opts.stallTimeoutMs !== undefined ? { stallTimeoutMs: opts.stallTimeoutMs } : {}),
      onRestart: (reason: string) => metrics?.watchRestarts.inc({ resource, reason }),
    });
    this.modelServices = new Informer<ModelService>({ ...common(PLURAL), apiVersion: API_VERSION, plural: PLURAL });
    this.#common = common;
    // Only the kinds this config can render (ScaledObjects only with KEDA); optional ones once served.
    this.#kinds = childKinds(opts.config);
    for (const kind of this.#kinds) if (!kind.optional) this.#watchChild(kind);
    this.crds = new Informer<KubernetesObject>({
      ...common("customresourcedefinitions"),
      namespaces: [],
      apiVersion: "apiextensions.k8s.io/v1",
      plural: "customresourcedefinitions",
      transform: trimCrd,
    });
    this.crds.onEvent(() => {
      if (this.#crdsSynced) this.#syncOptional();
    });
    // Labels can be set by anyone: cache only ReplicaSets and pods a controller made, trimmed (status/cached.ts).
    this.replicaSets = new Informer<V1ReplicaSet>({
      ...common("replicasets"),
      apiVersion: "apps/v1",
      plural: "replicasets",
      labelSelector: NAMED_SELECTOR,
      indexLabel: NAME_LABEL,
      transform: trimReplicaSet,
    });
    this.pods = new Informer<V1Pod>({
      ...common("pods"),
      apiVersion: "v1",
      plural: "pods",
      labelSelector: NAMED_SELECTOR,
      indexLabel: NAME_LABEL,
      transform: trimPod,
    });
    this.statefulSets = new Informer<V1StatefulSet>({
      ...common("statefulsets"),
      apiVersion: "apps/v1",
      plural: "statefulsets",
      labelSelector: LWS_NAME_LABEL,
      transform: trimStatefulSet,
    });

    // Only events that can change what a reconcile writes (relevant.ts): not our own status writes
    // coming back, nor status rewrites of children whose status is never read.
    this.modelServices.onEvent((type, obj, old) => {
      this.#classIndex.update(obj, type === "DELETED");
      if (type === "DELETED") this.#forget(obj.metadata.uid);
      if (type === "MODIFIED" && !worthReconciling("modelService", obj, old)) return;
      // Urgent: a user is waiting on a spec change (observedGeneration), children's progress can wait.
      if (obj.metadata?.name) this.enqueue(keyOf(obj.metadata.namespace, obj.metadata.name), { urgent: true });
    });
    // Children map to their controlling ModelService only (never by label: KEDA's HPA carries our
    // labels but is the ScaledObject's); ReplicaSets and Pods by the name label.
    const byOwner =
      (byLabel: boolean) =>
      (type: string, obj: KubernetesObject, old?: KubernetesObject): void => {
        if (type === "MODIFIED" && !worthReconciling(byLabel ? "trimmed" : "child", obj, old)) return;
        const key = ownerKey(obj, { byLabel });
        if (key) this.enqueue(key);
        // A label or owner change moves an object between ModelServices: tell the old one too.
        const oldKey = old ? ownerKey(old, { byLabel }) : undefined;
        if (oldKey && oldKey !== key) this.enqueue(oldKey);
      };
    this.#byOwner = byOwner(false);
    this.replicaSets.onEvent(byOwner(true));
    this.pods.onEvent(byOwner(true));

    metrics?.setQueueDepth(() => this.#queue?.len() ?? 0);
    metrics?.setPhaseSource(() =>
      this.modelServices.list().map((ms) => ({ phase: ms.status?.phase ?? "Unknown", reason: readyReason(ms.status) || "Unknown" })),
    );
  }

  /** What is kept per ModelService uid goes with it, so creating and deleting ModelServices grows nothing. */
  #forget(uid: string | undefined): void {
    if (!uid) return;
    this.#seenReady.delete(uid);
    this.#transientFailures.delete(uid);
    this.#writtenStatus.delete(uid);
    this.#statusWrittenAt.delete(uid);
  }

  /** ModelServiceClasses (cluster-scoped), while their CRD is established; parsed, so render trusts their shape. */
  #classes: Informer<KubernetesObject> | undefined;
  #classesSynced = false;
  #classIndex = new ClassIndex();

  /** Starts or stops the class informer with the class CRD (an operator upgraded before its CRD keeps working). */
  #syncClasses(served: boolean): Promise<void> | undefined {
    if (served && !this.#classes) {
      const informer = new Informer<KubernetesObject>({
        ...this.#common(CLASS_PLURAL),
        namespaces: [],
        apiVersion: CLASS_API_VERSION,
        plural: CLASS_PLURAL,
        // A class the schema does not accept is not a class: its ModelServices report ClassNotFound.
        transform: (obj) => {
          const parsed = modelServiceClassSchema.safeParse(obj);
          if (!parsed.success)
            this.#opts.logger.warn({ class: obj.metadata?.name, err: parsed.error.message }, "ignoring a ModelServiceClass that does not parse");
          return parsed.success ? (parsed.data as KubernetesObject) : undefined;
        },
      });
      informer.onEvent((_t, obj, old) => {
        for (const key of this.#classIndex.affectedBy(obj, old)) this.enqueue(key);
      });
      this.#classes = informer;
      return informer.start().then(
        () => {
          if (this.#classes !== informer) return;
          this.#classesSynced = true;
          this.resync();
        },
        (e: unknown) => this.#opts.logger.debug({ err: e }, "class informer stopped before it synced"),
      );
    }
    if (!served && this.#classes) {
      this.#classes.stop();
      this.#classes = undefined;
      this.#classesSynced = false;
      this.resync();
    }
    return undefined;
  }

  /** For reconcile: undefined when the class API is not served; a function answering undefined until synced. */
  #classList(): (() => ModelServiceClass[] | undefined) | undefined {
    const informer = this.#classes;
    if (!informer) return undefined;
    return () => (this.#classesSynced ? (informer.list() as unknown as ModelServiceClass[]) : undefined);
  }

  /** Gateways, cluster-wide, while their CRD is established (read-only; for the Exposed condition). */
  #gateways: Informer<KubernetesObject> | undefined;
  #gatewaysSynced = false;

  /** A Gateway changed: reconcile the ModelServices whose spec.expose names it. */
  #onGateway(gw: KubernetesObject): void {
    for (const ms of this.modelServices.list()) {
      const ns = ms.metadata.namespace ?? "";
      const hit = (ms.spec.expose?.parentRefs ?? []).some((r) => r.name === gw.metadata?.name && (r.namespace ?? ns) === gw.metadata?.namespace);
      if (hit && ms.metadata.name) this.enqueue(keyOf(ns, ms.metadata.name));
    }
  }

  /** Starts or stops the Gateway informer with the Gateway CRD. */
  #syncGateways(served: boolean): Promise<void> | undefined {
    if (served && !this.#gateways) {
      const informer = new Informer<KubernetesObject>({
        ...this.#common("gateways"),
        namespaces: [],
        apiVersion: "gateway.networking.k8s.io/v1",
        plural: "gateways",
        transform: trimGateway,
      });
      informer.onEvent((_t, obj) => this.#onGateway(obj));
      this.#gateways = informer;
      return informer.start().then(
        () => {
          if (this.#gateways !== informer) return;
          this.#gatewaysSynced = true;
          this.resync();
        },
        (e: unknown) => this.#opts.logger.debug({ err: e }, "gateway informer stopped before it synced"),
      );
    }
    if (!served && this.#gateways) {
      this.#gateways.stop();
      this.#gateways = undefined;
      this.#gatewaysSynced = false;
      this.resync();
    }
    return undefined;
  }

  #byOwner: (type: string, obj: KubernetesObject, old?: KubernetesObject) => void = () => {};

  /** The child kinds being watched, with their informers. */
  get children(): readonly ChildInformer[] {
    return [...this.#children.values()];
  }

  /** Child informers that are synced (an optional kind's informer counts once its first list is in). */
  get #servedChildren(): ChildInformer[] {
    return this.children.filter((c) => !this.#unavailable.has(c.kind.kind));
  }

  get #informers(): { hasSynced(): boolean; syncError(): string | undefined; stop(): void; start(): Promise<void> }[] {
    // The class informer too: without it a ModelService cannot be checked against its class (and
    // /readyz then says why, e.g. RBAC).
    const classes = this.#classes ? [this.#classes] : [];
    return [this.modelServices, this.crds, ...classes, ...this.#servedChildren.map((c) => c.informer), this.replicaSets, this.pods, this.statefulSets];
  }

  /** Child kinds the config renders but the cluster does not serve, with why (for tests and logs). */
  get unavailableKinds(): ReadonlyMap<string, string> {
    return this.#unavailable;
  }

  #watchChild(kind: RenderKind): ChildInformer {
    const informer = new Informer<KubernetesObject>({
      ...this.#common(kind.plural),
      apiVersion: kind.apiVersion,
      plural: kind.plural,
      labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}`,
      indexLabel: NAME_LABEL,
    });
    informer.onEvent((type, obj, old) => this.#byOwner(type, obj, old));
    const c = { kind, informer };
    this.#children.set(kind.kind, c);
    return c;
  }

  /**
   * Starts watching an optional kind when its CRD becomes established and stops when it goes away,
   * without a restart; then every ModelService is reconciled again (those blocked on the kind
   * converge, and those that had one report it missing). Until the new informer has synced, the
   * kind counts as unserved, so no reconcile trusts an empty cache.
   */
  #syncOptional(): Promise<void>[] {
    const crds = this.crds.list();
    const starting: Promise<void>[] = [];
    const gateways = this.#syncGateways(isServed(crds, "gateways.gateway.networking.k8s.io", "gateway.networking.k8s.io/v1"));
    if (gateways) starting.push(gateways);
    const classes = this.#syncClasses(isServed(crds, `${CLASS_PLURAL}.${GROUP}`, CLASS_API_VERSION));
    if (classes) starting.push(classes);
    for (const kind of this.#kinds) {
      if (!kind.optional) continue;
      const served = isServed(crds, kind.optional.crd, kind.apiVersion);
      const watched = this.#children.get(kind.kind);
      if (served && !watched) {
        this.#unavailable.set(kind.kind, kind.optional.missing);
        const c = this.#watchChild(kind);
        this.#opts.logger.info({ kind: kind.kind, crd: kind.optional.crd }, "API is served: watching it");
        starting.push(
          c.informer.start().then(
            () => {
              if (this.#children.get(kind.kind) !== c) return;
              this.#unavailable.delete(kind.kind);
              this.resync();
            },
            (e: unknown) => this.#opts.logger.debug({ err: e, kind: kind.kind }, "informer stopped before it synced"),
          ),
        );
      } else if (!served) {
        if (watched) {
          watched.informer.stop();
          this.#children.delete(kind.kind);
          this.#opts.logger.warn({ kind: kind.kind, crd: kind.optional.crd }, "API no longer served: stopped watching it");
          this.#unavailable.set(kind.kind, kind.optional.missing);
          this.resync();
        } else if (!this.#unavailable.has(kind.kind)) {
          this.#unavailable.set(kind.kind, kind.optional.missing);
          this.#opts.logger.info({ kind: kind.kind, crd: kind.optional.crd }, `not served: ${kind.optional.missing}`);
        }
      }
    }
    return starting;
  }

  /** Starts the informers and resolves once every cache is synced. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    this.#unavailable.clear();
    await this.crds.start();
    this.#crdsSynced = true;
    const optional = this.#syncOptional();
    await Promise.all([...this.#informers.map((i) => i.start()), ...optional]);
    this.#resyncTimer = setInterval(() => this.resync(), this.#opts.resyncPeriodMs);
    this.#resyncTimer.unref();
  }

  hasSynced(): boolean {
    return this.#informers.every((i) => i.hasSynced());
  }

  /** Why the caches have not synced, when a list keeps failing (a missing CRD, RBAC): for /readyz. */
  syncProblem(): string | undefined {
    for (const i of this.#informers) {
      const why = i.hasSynced() ? undefined : i.syncError();
      if (why) return why;
    }
    return undefined;
  }

  /** Why a synced cache is stale right now (its list/watch keeps failing), with for how long: for /readyz. */
  outage(now = Date.now()): string | undefined {
    let worst: { since: number; why: string; what: string } | undefined;
    for (const c of [
      { what: PLURAL, i: this.modelServices },
      { what: "customresourcedefinitions", i: this.crds },
      ...this.#servedChildren.map((c) => ({ what: c.kind.plural, i: c.informer })),
      { what: "replicasets", i: this.replicaSets },
      { what: "pods", i: this.pods },
    ]) {
      const o = c.i.outage();
      if (o && (!worst || o.since < worst.since)) worst = { ...o, what: c.what };
    }
    return worst && `watch of ${worst.what} failing for ${((now - worst.since) / 1000).toFixed(1)} s: ${worst.why}`;
  }

  /** Enqueues every ModelService in the cache. */
  resync(): void {
    for (const ms of this.modelServices.list()) if (ms.metadata.name) this.enqueue(keyOf(ms.metadata.namespace, ms.metadata.name));
  }

  enqueue(key: string, opts?: { urgent?: boolean }): void {
    const q = this.#queue;
    if (!q) return; // follower: the leader-to-be enqueues everything when it starts
    q.add(key, opts);
  }

  /** Number of reconciles run so far (for tests and the demo). */
  get reconciles(): number {
    return this.#reconciles;
  }

  /**
   * Runs the workers until `signal` aborts (leadership lost or shutdown), then stops taking work and
   * waits for in-flight reconciles to finish.
   */
  async runWorkers(signal: AbortSignal): Promise<void> {
    const { logger, metrics } = this.#opts;
    const queue = new WorkQueue<string>({
      baseDelayMs: 5,
      maxDelayMs: 300_000,
      qps: 10,
      burst: 100,
      metrics: { waitMs: (ms) => metrics?.queueWait.observe(ms / 1000) },
    });
    this.#queue = queue;
    this.resync();
    const handle = async (key: string) => {
      const end = metrics?.reconcileDuration.startTimer();
      this.#reconciles++;
      try {
        const r = await reconcile(
          {
            client: this.#opts.client,
            config: this.#opts.config,
            modelServices: this.modelServices,
            children: this.#servedChildren.map((c): ChildCache => ({ kind: c.kind, cache: c.informer })),
            replicaSets: this.replicaSets,
            pods: this.pods,
            statefulSets: this.statefulSets,
            ...(this.#gateways && this.#gatewaysSynced ? { gateways: this.#gateways } : {}),
            ...(this.#classes ? { classes: this.#classList() } : {}),
            recorder: this.#opts.recorder,
            logger,
            metrics,
            seenReady: this.#seenReady,
            transientFailures: this.#transientFailures,
            writtenStatus: this.#writtenStatus,
            statusWrittenAt: this.#statusWrittenAt,
            unavailable: this.#unavailable,
            signal,
            ...(this.#opts.nameConflictRequeueMs !== undefined ? { nameConflictRequeueMs: this.#opts.nameConflictRequeueMs } : {}),
          },
          key,
        );
        metrics?.reconcileTotal.inc({ result: r.result });
        end?.({ result: r.result });
        return r.requeueAfterMs !== undefined ? { requeueAfterMs: r.requeueAfterMs } : undefined;
      } catch (e) {
        if (signal.aborted) {
          // Leadership lost (or shutting down) mid-reconcile: its requests were cancelled; the next leader redoes it.
          logger.debug({ key, err: e }, "reconcile cancelled");
          end?.({ result: "cancelled" });
          return undefined;
        }
        metrics?.reconcileTotal.inc({ result: "error" });
        end?.({ result: "error" });
        if ((e as Error).name !== "ApplyFailedError") metrics?.reconcileErrors.inc({ kind: "internal" });
        // The backoff may outgrow the moment a persisting transient failure is due in the status.
        else if ((e as ApplyFailedError).reportInMs !== undefined) queue.addAfter(key, (e as ApplyFailedError).reportInMs as number);
        throw e;
      }
    };
    const done = runWorkers(queue, this.#opts.workers, handle, logger);
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener("abort", () => resolve(), { once: true });
    });
    this.#queue = undefined;
    queue.shutDown();
    await queue.drain();
    await done;
  }

  stop(): void {
    if (this.#resyncTimer) clearInterval(this.#resyncTimer);
    this.#resyncTimer = undefined;
    for (const i of [this.modelServices, this.crds, ...this.children.map((c) => c.informer), this.replicaSets, this.pods, this.statefulSets]) i.stop();
    this.#gateways?.stop();
    this.#gateways = undefined;
    this.#gatewaysSynced = false;
    this.#classes?.stop();
    this.#classes = undefined;
    this.#classesSynced = false;
    this.#started = false;
    this.#crdsSynced = false;
  }
}
