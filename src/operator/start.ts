// Assembles and runs the operator: Kubernetes client, controller, event recorder, HTTP server and
// (optionally) leader election. `modelservice-operator run`, the demo and the tests all start it here.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { type Logger, pino } from "pino";
import { Controller } from "../controller/controller.ts";
import { KubeClient, loadKubeConfig } from "../kube/client.ts";
import { EventRecorder } from "../kube/events.ts";
import { LeaderElector } from "../kube/leader-election.ts";
import { createMetrics, type OperatorMetrics } from "../server/metrics.ts";
import { kubernetesMetricsAuth } from "../server/metrics-auth.ts";
import { startHttpServer } from "../server/server.ts";
import { DEFAULT_OPTIONS, type OperatorOptions } from "./options.ts";

export type StartOptions = Partial<OperatorOptions> & {
  logger?: Logger;
  /** Leader-election identity; default $POD_NAME (or the hostname) + "_" + random. */
  identity?: string;
  /** Informer relist period (tests shorten it). */
  relistPeriodMs?: number;
  /** Informer watch stall timeout (tests shorten it; default 90 s). */
  stallTimeoutMs?: number;
};

export type RunningOperator = {
  identity: string;
  /** Port of the HTTP server (/metrics, /healthz, /readyz). */
  port: number;
  controller: Controller;
  client: KubeClient;
  metrics: OperatorMetrics;
  /** True while this instance runs the reconcilers. */
  isLeader(): boolean;
  /** Graceful: stop taking work, finish in-flight reconciles, release the lease, flush events. */
  stop(): Promise<void>;
  /** Simulates a crash: stops everything at once without releasing the lease or finishing work. */
  kill(): Promise<void>;
};

export async function startOperator(input: StartOptions = {}): Promise<RunningOperator> {
  const o: OperatorOptions = { ...DEFAULT_OPTIONS, ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) };
  const identity = input.identity ?? `${process.env.POD_NAME || hostname()}_${randomBytes(4).toString("hex")}`;
  const logger = input.logger ?? pino({ level: o.logLevel, base: { identity } });
  const client = new KubeClient(loadKubeConfig(o.kubeconfig), { userAgent: `modelservice-operator/${identity}` });
  const metrics = createMetrics();
  const recorder = new EventRecorder({ client, component: "modelservice-operator", instance: identity, logger: logger.child({ component: "events" }) });
  const controller = new Controller({
    client,
    config: o.config,
    namespaces: o.namespaces,
    workers: o.workers,
    resyncPeriodMs: o.resyncPeriodMs,
    logger: logger.child({ component: "controller" }),
    recorder,
    metrics,
    relistPeriodMs: input.relistPeriodMs,
    stallTimeoutMs: input.stallTimeoutMs,
  });

  let leading = false;
  const http = await startHttpServer({
    host: o.httpHost,
    port: o.httpPort,
    registry: metrics.registry,
    // Ready while the caches are synced and being kept up to date: a watch that keeps failing (the
    // API server unreachable, say) makes the caches stale, and /readyz says so until it recovers.
    ready: () => (controller.hasSynced() ? (controller.outage() ?? true) : `caches not synced${((why) => (why ? `: ${why}` : ""))(controller.syncProblem())}`),
    ...(o.metricsAuth === "kubernetes" ? { authorizeMetrics: kubernetesMetricsAuth({ client, logger: logger.child({ component: "metrics-auth" }) }) } : {}),
  });
  metrics.setLeader(() => leading);
  logger.info({ port: http.port, namespaces: o.namespaces ?? "all", leaderElect: o.leaderElect }, "starting");

  try {
    await controller.start();
  } catch (e) {
    controller.stop();
    await http.close();
    throw e;
  }
  logger.info("caches synced");

  const shutdown = new AbortController();
  let elector: LeaderElector | undefined;
  let workers: Promise<void> = Promise.resolve();
  const lead = (signal: AbortSignal) => {
    leading = true;
    logger.info("leading: starting workers");
    workers = controller.runWorkers(AbortSignal.any([signal, shutdown.signal])).finally(() => {
      leading = false;
      logger.info("workers stopped");
    });
    return workers;
  };
  let running: Promise<void>;
  if (o.leaderElect) {
    // An elector leads at most once (like client-go); after losing the lease, finish the in-flight
    // work and campaign again with a new one, keeping the caches warm meanwhile.
    running = (async () => {
      while (!shutdown.signal.aborted) {
        elector = new LeaderElector({
          client,
          namespace: o.leaderElectionNamespace,
          name: o.leaseName,
          identity,
          leaseDurationMs: o.leaseDurationMs,
          renewDeadlineMs: o.renewDeadlineMs,
          retryPeriodMs: o.retryPeriodMs,
          logger: logger.child({ component: "leader-election" }),
          onChange: (isLeader: boolean) => logger.info({ isLeader }, isLeader ? "became leader" : "no longer leader"),
        });
        await elector.run(lead);
        await workers;
        if (!shutdown.signal.aborted) await new Promise((r) => setTimeout(r, o.retryPeriodMs));
      }
    })();
  } else {
    running = lead(shutdown.signal);
  }
  running.catch((e: unknown) => logger.error({ err: e }, "operator loop failed"));

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      logger.info("shutting down: finishing in-flight reconciles");
      shutdown.abort();
      // The workers stop taking keys and return once the in-flight reconciles are done.
      await workers;
      if (elector) await elector.release();
      await running.catch(() => {});
      await recorder.flush();
      controller.stop();
      await http.close();
      client.close();
      logger.info("stopped");
    })();
    return stopped;
  };
  const kill = () => {
    stopped ??= (async () => {
      // As if the process died: stop renewing without giving the lease up, stop everything.
      elector?.abandon();
      shutdown.abort();
      controller.stop();
      await http.close();
      await workers.catch(() => {});
      client.close();
    })();
    return stopped;
  };

  return { identity, port: http.port, controller, client, metrics, isLeader: () => leading, stop, kill };
}
