// The controller: informers feed a work queue of ModelService keys; workers reconcile them.
// Informers watch only what the operator owns (label-filtered), never the whole cluster and never
// Secrets. Workers run only while this instance leads; followers keep their caches warm.
import type { KubernetesObject, V1Pod, V1ReplicaSet } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { API_VERSION, PLURAL } from "../api/schema.ts";
import type { ModelService } from "../api/types.ts";
import type { OperatorConfig } from "../config/operator-config.ts";
import { isApiError, type KubeClient } from "../kube/client.ts";
import type { EventRecorder } from "../kube/events.ts";
import { Informer } from "../kube/informer.ts";
import { runWorkers, WorkQueue } from "../kube/workqueue.ts";
import { MANAGED_BY, NAME_LABEL } from "../model/labels.ts";
import { childKinds } from "../render/index.ts";
import type { OperatorMetrics } from "../server/metrics.ts";
import { trimPod, trimReplicaSet } from "../status/cached.ts";
import { type ChildKind, keyOf, MANAGED_BY_LABEL, ownerKey } from "./keys.ts";
import { type ApplyFailedError, type ChildCache, readyReason, reconcile } from "./reconcile.ts";

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
export const KEDA_NOT_SERVED = "KEDA is enabled in the operator config but the keda.sh/v1alpha1 ScaledObject API is not served";

export class Controller {
  readonly modelServices: Informer<ModelService>;
  readonly children: { kind: ChildKind; informer: Informer<KubernetesObject> }[];
  readonly replicaSets: Informer<V1ReplicaSet>;
  readonly pods: Informer<V1Pod>;
  #opts: ControllerOptions;
  #queue: WorkQueue<string> | undefined;
  #resyncTimer: NodeJS.Timeout | undefined;
  #seenReady = new Set<string>();
  /** Per ModelService uid, since when its writes fail transiently (reconcile.ts reports them once they persist). */
  #transientFailures = new Map<string, number>();
  #started = false;
  #reconciles = 0;
  /** Child kinds whose API the cluster does not serve (kind → why); their informers are not started. */
  #unavailable = new Map<string, string>();

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
    // Only the kinds this config can render (ScaledObjects only with KEDA, whose CRD may be absent).
    this.children = childKinds(opts.config).map((kind) => ({
      kind,
      informer: new Informer<KubernetesObject>({
        ...common(kind.plural),
        apiVersion: kind.apiVersion,
        plural: kind.plural,
        labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}`,
      }),
    }));
    // Labels can be set by anyone: cache only ReplicaSets and pods a controller made, trimmed (status/cached.ts).
    this.replicaSets = new Informer<V1ReplicaSet>({
      ...common("replicasets"),
      apiVersion: "apps/v1",
      plural: "replicasets",
      labelSelector: NAMED_SELECTOR,
      transform: trimReplicaSet,
    });
    this.pods = new Informer<V1Pod>({ ...common("pods"), apiVersion: "v1", plural: "pods", labelSelector: NAMED_SELECTOR, transform: trimPod });

    this.modelServices.onEvent((_type, obj) => {
      if (obj.metadata?.name) this.enqueue(keyOf(obj.metadata.namespace, obj.metadata.name));
    });
    // Children map to their controlling ModelService only (never by label: KEDA's HPA carries our
    // labels but is the ScaledObject's); ReplicaSets and Pods by the name label.
    const byOwner =
      (byLabel: boolean) =>
      (_type: string, obj: KubernetesObject, old?: KubernetesObject): void => {
        const key = ownerKey(obj, { byLabel });
        if (key) this.enqueue(key);
        // A label or owner change moves an object between ModelServices: tell the old one too.
        const oldKey = old ? ownerKey(old, { byLabel }) : undefined;
        if (oldKey && oldKey !== key) this.enqueue(oldKey);
      };
    for (const c of this.children) c.informer.onEvent(byOwner(false));
    this.replicaSets.onEvent(byOwner(true));
    this.pods.onEvent(byOwner(true));

    metrics?.setQueueDepth(() => this.#queue?.len() ?? 0);
    metrics?.setPhaseSource(() =>
      this.modelServices.list().map((ms) => ({ phase: ms.status?.phase ?? "Unknown", reason: readyReason(ms.status) || "Unknown" })),
    );
  }

  /** The children whose API is served (all of them unless KEDA is enabled without its CRD). */
  get #servedChildren(): { kind: ChildKind; informer: Informer<KubernetesObject> }[] {
    return this.children.filter((c) => !this.#unavailable.has(c.kind.kind));
  }

  get #informers(): { hasSynced(): boolean; syncError(): string | undefined; stop(): void; start(): Promise<void> }[] {
    return [this.modelServices, ...this.#servedChildren.map((c) => c.informer), this.replicaSets, this.pods];
  }

  /** Child kinds the config renders but the cluster does not serve, with why (for tests and logs). */
  get unavailableKinds(): ReadonlyMap<string, string> {
    return this.#unavailable;
  }

  /**
   * KEDA's ScaledObject is a CRD that may not be installed even when the config enables KEDA: an
   * informer on it would get 404 forever and start() would never resolve. Ask discovery once at
   * start; if the API is not served, skip that informer and let the ModelServices that need a
   * ScaledObject report ApplyFailed. Installing KEDA later needs an operator restart.
   */
  async #discover(): Promise<void> {
    for (const c of this.children) {
      if (c.kind.apiVersion !== "keda.sh/v1alpha1") continue;
      try {
        const list = await this.#opts.client.request<{ resources?: { name?: string }[] }>("GET", `/apis/${c.kind.apiVersion}`);
        if ((list?.resources ?? []).some((r) => r.name === c.kind.plural)) continue;
      } catch (e) {
        if (!isApiError(e, 404)) {
          // Cannot tell (API server hiccup, discovery forbidden): keep the informer, which retries.
          this.#opts.logger.warn({ err: e, apiVersion: c.kind.apiVersion }, "API discovery failed; assuming the API is served");
          continue;
        }
      }
      this.#unavailable.set(c.kind.kind, KEDA_NOT_SERVED);
      this.#opts.logger.error(
        { apiVersion: c.kind.apiVersion, kind: c.kind.kind },
        `${KEDA_NOT_SERVED}: not watching ${c.kind.plural}; ModelServices that need one report ApplyFailed. Install KEDA and restart the operator, or set keda.enabled to false`,
      );
    }
  }

  /** Starts the informers and resolves once every cache is synced. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    this.#unavailable.clear();
    await this.#discover();
    await Promise.all(this.#informers.map((i) => i.start()));
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

  /** Enqueues every ModelService in the cache. */
  resync(): void {
    for (const ms of this.modelServices.list()) if (ms.metadata.name) this.enqueue(keyOf(ms.metadata.namespace, ms.metadata.name));
  }

  enqueue(key: string): void {
    const q = this.#queue;
    if (!q) return; // follower: the leader-to-be enqueues everything when it starts
    q.add(key);
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
            recorder: this.#opts.recorder,
            logger,
            metrics,
            seenReady: this.#seenReady,
            transientFailures: this.#transientFailures,
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
    for (const i of [this.modelServices, ...this.children.map((c) => c.informer), this.replicaSets, this.pods]) i.stop();
    this.#started = false;
  }
}
