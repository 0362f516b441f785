// The controller: informers feed a work queue of ModelService keys; workers reconcile them.
// Informers watch only what the operator owns (label-filtered), never the whole cluster and never
// Secrets. Workers run only while this instance leads; followers keep their caches warm.
import type { KubernetesObject, V1Pod, V1ReplicaSet } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { API_VERSION, PLURAL } from "../api/schema.ts";
import type { ModelService } from "../api/types.ts";
import type { OperatorConfig } from "../config/operator-config.ts";
import type { KubeClient } from "../kube/client.ts";
import type { EventRecorder } from "../kube/events.ts";
import { Informer } from "../kube/informer.ts";
import { runWorkers, WorkQueue } from "../kube/workqueue.ts";
import { childKinds } from "../render/index.ts";
import { MANAGED_BY, NAME_LABEL } from "../render/labels.ts";
import type { OperatorMetrics } from "../server/metrics.ts";
import { type ChildKind, keyOf, MANAGED_BY_LABEL, ownerKey } from "./keys.ts";
import { type ChildCache, readyReason, reconcile } from "./reconcile.ts";

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
};

const NAMED_SELECTOR = NAME_LABEL; // "exists"

export class Controller {
  readonly modelServices: Informer<ModelService>;
  readonly children: { kind: ChildKind; informer: Informer<KubernetesObject> }[];
  readonly replicaSets: Informer<V1ReplicaSet>;
  readonly pods: Informer<V1Pod>;
  #opts: ControllerOptions;
  #queue: WorkQueue<string> | undefined;
  #resyncTimer: NodeJS.Timeout | undefined;
  #seenReady = new Set<string>();
  #started = false;
  #reconciles = 0;

  constructor(opts: ControllerOptions) {
    this.#opts = opts;
    const { client, namespaces, logger, metrics } = opts;
    const common = (resource: string) => ({
      client,
      namespaces,
      logger: logger.child({ informer: resource }),
      ...(opts.relistPeriodMs !== undefined ? { relistPeriodMs: opts.relistPeriodMs } : {}),
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
    this.replicaSets = new Informer<V1ReplicaSet>({ ...common("replicasets"), apiVersion: "apps/v1", plural: "replicasets", labelSelector: NAMED_SELECTOR });
    this.pods = new Informer<V1Pod>({ ...common("pods"), apiVersion: "v1", plural: "pods", labelSelector: NAMED_SELECTOR });

    this.modelServices.onEvent((_type, obj) => {
      if (obj.metadata?.name) this.enqueue(keyOf(obj.metadata.namespace, obj.metadata.name));
    });
    const byOwner = (_type: string, obj: KubernetesObject, old?: KubernetesObject) => {
      const key = ownerKey(obj);
      if (key) this.enqueue(key);
      // A label or owner change moves an object between ModelServices: tell the old one too.
      const oldKey = old ? ownerKey(old) : undefined;
      if (oldKey && oldKey !== key) this.enqueue(oldKey);
    };
    for (const c of this.children) c.informer.onEvent(byOwner);
    this.replicaSets.onEvent(byOwner);
    this.pods.onEvent(byOwner);

    metrics?.setQueueDepth(() => this.#queue?.len() ?? 0);
    metrics?.setPhaseSource(() =>
      this.modelServices.list().map((ms) => ({ phase: ms.status?.phase ?? "Unknown", reason: readyReason(ms.status) || "Unknown" })),
    );
  }

  get #informers(): { hasSynced(): boolean; stop(): void; start(): Promise<void> }[] {
    return [this.modelServices, ...this.children.map((c) => c.informer), this.replicaSets, this.pods];
  }

  /** Starts the informers and resolves once every cache is synced. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await Promise.all(this.#informers.map((i) => i.start()));
    this.#resyncTimer = setInterval(() => this.resync(), this.#opts.resyncPeriodMs);
    this.#resyncTimer.unref();
  }

  hasSynced(): boolean {
    return this.#informers.every((i) => i.hasSynced());
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
            children: this.children.map((c): ChildCache => ({ kind: c.kind, cache: c.informer })),
            replicaSets: this.replicaSets,
            pods: this.pods,
            recorder: this.#opts.recorder,
            logger,
            metrics,
            seenReady: this.#seenReady,
          },
          key,
        );
        metrics?.reconcileTotal.inc({ result: r.result });
        end?.({ result: r.result });
        return r.requeueAfterMs !== undefined ? { requeueAfterMs: r.requeueAfterMs } : undefined;
      } catch (e) {
        metrics?.reconcileTotal.inc({ result: "error" });
        end?.({ result: "error" });
        if ((e as Error).name !== "ApplyFailedError") metrics?.reconcileErrors.inc({ kind: "internal" });
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
    for (const i of this.#informers) i.stop();
    this.#started = false;
  }
}
