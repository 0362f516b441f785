// Prometheus metrics of one operator instance. Each instance has its own registry, so two operators
// can run in one process (tests, the demo).
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export type OperatorMetrics = ReturnType<typeof createMetrics>;

export type PhaseSource = () => Iterable<{ phase: string; reason: string }>;

export function createMetrics(opts: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: "modelservice_operator_" });

  let queueDepth: () => number = () => 0;
  let phases: PhaseSource = () => [];
  let leader: () => boolean = () => false;

  const m = {
    registry,
    reconcileTotal: new Counter({
      name: "modelservice_reconcile_total",
      help: "Reconciles by result: success, requeue, invalid_spec, error.",
      labelNames: ["result"] as const,
      registers: [registry],
    }),
    reconcileErrors: new Counter({
      name: "modelservice_reconcile_errors_total",
      help: "Reconciles that failed, by kind of failure: apply, status, internal.",
      labelNames: ["kind"] as const,
      registers: [registry],
    }),
    reconcileDuration: new Histogram({
      name: "modelservice_reconcile_duration_seconds",
      help: "Time one reconcile takes.",
      labelNames: ["result"] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    writes: new Counter({
      name: "modelservice_operator_writes_total",
      help: "Write requests the reconciler sent, by verb and resource.",
      labelNames: ["verb", "resource"] as const,
      registers: [registry],
    }),
    queueWait: new Histogram({
      name: "modelservice_workqueue_wait_seconds",
      help: "Time a key waits in the work queue before a worker picks it up.",
      // Up to 10 min: a bulk create of thousands queues keys for minutes, and a p99 pinned at the top
      // bucket would hide how long.
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600],
      registers: [registry],
    }),
    watchRestarts: new Counter({
      name: "modelservice_watch_restarts_total",
      help: "Times an informer restarted its watch, by resource and reason (gone, error, stall, relist = periodic relist).",
      labelNames: ["resource", "reason"] as const,
      registers: [registry],
    }),
    timeToReady: new Histogram({
      name: "modelservice_time_to_ready_seconds",
      help: "Time from a ModelService's creation to its first Ready seen by this operator.",
      buckets: [1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200],
      registers: [registry],
    }),
    setQueueDepth(fn: () => number) {
      queueDepth = fn;
    },
    setPhaseSource(fn: PhaseSource) {
      phases = fn;
    },
    setLeader(fn: () => boolean) {
      leader = fn;
    },
  };

  new Gauge({
    name: "modelservice_workqueue_depth",
    help: "Keys waiting in the work queue.",
    registers: [registry],
    collect() {
      this.set(queueDepth());
    },
  });
  new Gauge({
    name: "modelservice_operator_leader",
    help: "1 when this instance runs the reconcilers (leader, or leader election off).",
    registers: [registry],
    collect() {
      this.set(leader() ? 1 : 0);
    },
  });
  new Gauge({
    name: "modelservice_modelservices",
    help: "ModelServices by phase and Ready reason.",
    labelNames: ["phase", "reason"] as const,
    registers: [registry],
    collect() {
      this.reset();
      const counts = new Map<string, { phase: string; reason: string; n: number }>();
      for (const p of phases()) {
        const k = `${p.phase}\0${p.reason}`;
        const c = counts.get(k) ?? { ...p, n: 0 };
        c.n++;
        counts.set(k, c);
      }
      for (const c of counts.values()) this.set({ phase: c.phase, reason: c.reason }, c.n);
    },
  });
  return m;
}
