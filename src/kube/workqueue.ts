// A rate-limited delaying work queue with client-go's semantics:
// - a key waiting in the queue is not added twice (dirty set);
// - a key being processed is never handed to a second worker: adding it while processing marks
//   it dirty and it is queued again once done(key) is called;
// - addRateLimited waits max(per-key exponential backoff, overall token bucket);
// - addAfter keeps the earliest pending time for a key;
// - add(key, { urgent: true }) puts the key in a lane served first (a queued key is moved up), so
//   work a user is waiting for does not queue behind bulk work; one normal key is still served
//   after every URGENT_STREAK urgent ones, so the normal lane never starves.
// Keys are compared with SameValueZero (use strings).

import type { Logger } from "pino";

export interface WorkQueueMetrics {
  /** number of keys ready in the queue, after every change */
  depth?(n: number): void;
  /** time a key waited in the ready queue before a worker got it */
  waitMs?(ms: number): void;
  /** time a worker spent on a key (reported by runWorkers) */
  workMs?(ms: number): void;
  /** a key was re-queued with rate limiting (i.e. a failure) */
  retry?(): void;
}

export type SetTimer = (fn: () => void, ms: number) => () => void;

export interface WorkQueueOptions {
  /** per-key backoff: base * 2^failures, capped; defaults 5 ms and 1 000 000 ms (client-go) */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** overall token bucket; defaults 10 qps, burst 100 (client-go) */
  qps?: number;
  burst?: number;
  /** clock and timer for tests; setTimer returns a cancel function */
  now?: () => number;
  setTimer?: SetTimer;
  metrics?: WorkQueueMetrics;
}

/** Urgent keys served in a row before one normal key gets its turn. */
export const URGENT_STREAK = 8;

const defaultSetTimer: SetTimer = (fn, ms) => {
  const t = setTimeout(fn, ms);
  t.unref?.();
  return () => clearTimeout(t);
};

export class WorkQueue<K = string> {
  /** Metrics hooks; may also be given as the `metrics` constructor option. */
  onMetrics?: WorkQueueMetrics;

  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly qps: number;
  private readonly burst: number;
  private readonly now: () => number;
  private readonly setTimer: SetTimer;

  /** The two lanes. A queued key has one live entry, the one `lane` names (lane and sequence number); others are stale. */
  private queue: [K, number][] = [];
  private head = 0;
  private urgent: [K, number][] = [];
  private urgentHead = 0;
  private readonly lane = new Map<K, { which: "urgent" | "normal"; seq: number }>();
  private seq = 0;
  /** Keys re-added urgently while being processed: queued urgently once done. */
  private readonly urgentAfterDone = new Set<K>();
  private urgentStreak = 0;
  private readonly queuedAt = new Map<K, number>();
  private readonly dirty = new Set<K>();
  private readonly processing = new Set<K>();
  private readonly failures = new Map<K, number>();
  /** delayed keys: key → ready time */
  private readonly waiting = new Map<K, number>();
  private timerCancel: (() => void) | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private getters: ((k: K | undefined) => void)[] = [];
  private drainers: (() => void)[] = [];
  private shuttingDown = false;
  private tokens: number;
  private tokensAt: number;

  constructor(opts?: WorkQueueOptions) {
    this.baseDelayMs = opts?.baseDelayMs ?? 5;
    this.maxDelayMs = opts?.maxDelayMs ?? 1_000_000;
    this.qps = opts?.qps ?? 10;
    this.burst = opts?.burst ?? 100;
    this.now = opts?.now ?? Date.now;
    this.setTimer = opts?.setTimer ?? defaultSetTimer;
    this.onMetrics = opts?.metrics;
    this.tokens = this.burst;
    this.tokensAt = this.now();
  }

  add(key: K, opts?: { urgent?: boolean }): void {
    if (this.shuttingDown) return;
    const urgent = opts?.urgent === true;
    if (this.dirty.has(key)) {
      if (!urgent) return;
      if (this.processing.has(key)) this.urgentAfterDone.add(key);
      else if (this.lane.get(key)?.which === "normal") {
        // Move it up: the entry in the normal lane becomes stale.
        const seq = ++this.seq;
        this.lane.set(key, { which: "urgent", seq });
        this.urgent.push([key, seq]);
      }
      return;
    }
    this.dirty.add(key);
    if (this.processing.has(key)) {
      if (urgent) this.urgentAfterDone.add(key);
      return;
    }
    this.push(key, urgent);
  }

  addAfter(key: K, delayMs: number): void {
    if (this.shuttingDown) return;
    if (!(delayMs > 0)) {
      this.add(key);
      return;
    }
    const at = this.now() + delayMs;
    const prev = this.waiting.get(key);
    if (prev !== undefined && prev <= at) return;
    this.waiting.set(key, at);
    this.schedule();
  }

  addRateLimited(key: K): void {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const perKey = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.min(n, 62));
    this.onMetrics?.retry?.();
    this.addAfter(key, Math.max(perKey, this.reserveToken()));
  }

  /** Forgets the key's failures (call after a success). */
  forget(key: K): void {
    this.failures.delete(key);
  }

  numRequeues(key: K): number {
    return this.failures.get(key) ?? 0;
  }

  /** The next key; waits for one; undefined once shut down. Call done(key) when finished. */
  get(): Promise<K | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const k = this.pop();
    if (k !== undefined) return Promise.resolve(k.key);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  done(key: K): void {
    if (!this.processing.delete(key)) return;
    const urgent = this.urgentAfterDone.delete(key);
    if (this.dirty.has(key) && !this.shuttingDown) this.push(key, urgent);
    if (this.processing.size === 0) this.resolveDrainers();
  }

  /** keys ready to be handed out (not counting delayed ones nor those in processing) */
  len(): number {
    return this.lane.size;
  }

  /** keys waiting for a delay */
  delayedLen(): number {
    return this.waiting.size;
  }

  processingLen(): number {
    return this.processing.size;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Stops handing out work: pending and future get() resolve undefined, adds are ignored. */
  shutDown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.timerCancel?.();
    this.timerCancel = undefined;
    this.waiting.clear();
    for (const g of this.getters) g(undefined);
    this.getters = [];
    if (this.processing.size === 0) this.resolveDrainers();
  }

  /** Resolves when no key is being processed (after shutDown: when the workers are finished). */
  drain(): Promise<void> {
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainers.push(resolve));
  }

  // ---------------------------------------------------------------------------------------

  private resolveDrainers(): void {
    const d = this.drainers;
    this.drainers = [];
    for (const r of d) r();
  }

  private push(key: K, urgent = false): void {
    const g = this.getters.shift();
    if (g) {
      this.dirty.delete(key);
      this.processing.add(key);
      this.onMetrics?.waitMs?.(0);
      g(key);
      return;
    }
    const seq = ++this.seq;
    (urgent ? this.urgent : this.queue).push([key, seq]);
    this.lane.set(key, { which: urgent ? "urgent" : "normal", seq });
    this.queuedAt.set(key, this.now());
    this.onMetrics?.depth?.(this.len());
  }

  /** The next live entry of a lane, skipping stale ones (keys moved to the other lane). */
  private take(which: "urgent" | "normal"): K | undefined {
    const list = which === "urgent" ? this.urgent : this.queue;
    let head = which === "urgent" ? this.urgentHead : this.head;
    let key: K | undefined;
    while (head < list.length) {
      const [k, seq] = list[head] as [K, number];
      head++;
      if (this.lane.get(k)?.seq === seq) {
        key = k;
        break;
      }
    }
    // Compact once most of the array has been consumed.
    const compact = head > 1024 && head * 2 > list.length;
    const rest = compact ? list.slice(head) : list;
    if (which === "urgent") {
      this.urgent = rest;
      this.urgentHead = compact ? 0 : head;
    } else {
      this.queue = rest;
      this.head = compact ? 0 : head;
    }
    return key;
  }

  private pop(): { key: K } | undefined {
    if (this.lane.size === 0) return undefined;
    let key: K | undefined;
    if (this.urgentStreak < URGENT_STREAK) key = this.take("urgent");
    if (key !== undefined) this.urgentStreak++;
    else {
      key = this.take("normal");
      this.urgentStreak = 0;
      key ??= this.take("urgent");
    }
    if (key === undefined) return undefined;
    this.lane.delete(key);
    this.dirty.delete(key);
    this.processing.add(key);
    const t = this.queuedAt.get(key);
    this.queuedAt.delete(key);
    if (t !== undefined) this.onMetrics?.waitMs?.(this.now() - t);
    this.onMetrics?.depth?.(this.len());
    return { key };
  }

  /** token bucket reservation (like golang.org/x/time/rate Reserve().Delay()) */
  private reserveToken(): number {
    if (!(this.qps > 0)) return 0;
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.tokensAt) / 1000) * this.qps);
    this.tokensAt = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }

  private schedule(): void {
    let next = Number.POSITIVE_INFINITY;
    for (const at of this.waiting.values()) if (at < next) next = at;
    if (next === this.timerAt && this.timerCancel) return;
    this.timerCancel?.();
    this.timerCancel = undefined;
    this.timerAt = next;
    if (!Number.isFinite(next)) return;
    this.timerCancel = this.setTimer(() => this.fire(), Math.max(0, next - this.now()));
  }

  private fire(): void {
    this.timerCancel = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    if (this.shuttingDown) return;
    const now = this.now();
    const ready: [K, number][] = [];
    for (const [k, at] of this.waiting) if (at <= now) ready.push([k, at]);
    ready.sort((a, b) => a[1] - b[1]);
    for (const [k] of ready) {
      this.waiting.delete(k);
      this.add(k);
    }
    this.schedule();
  }
}

/**
 * Runs `workers` loops taking keys from the queue until it is shut down. Never the same key in
 * two workers at once. On success: forget(key) (reset its backoff) and addAfter(key,
 * requeueAfterMs) if asked; on a throw: log and addRateLimited(key). Resolves when every worker
 * has exited (after queue.shutDown() and the keys in hand are done).
 */
export async function runWorkers<K>(
  queue: WorkQueue<K>,
  workers: number,
  // biome-ignore lint/suspicious/noConfusingVoidType: handlers may simply return nothing
  handle: (key: K) => Promise<{ requeueAfterMs?: number } | undefined | void>,
  logger: Logger,
): Promise<void> {
  const worker = async (id: number) => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      const t0 = performance.now();
      try {
        const res = await handle(key);
        queue.forget(key);
        if (res && typeof res.requeueAfterMs === "number" && res.requeueAfterMs >= 0) queue.addAfter(key, res.requeueAfterMs);
      } catch (err) {
        const n = queue.numRequeues(key);
        logger.error({ err, key, worker: id, requeues: n + 1 }, "reconcile failed, requeueing with backoff");
        queue.addRateLimited(key);
      } finally {
        queue.onMetrics?.workMs?.(performance.now() - t0);
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, workers) }, (_, i) => worker(i)));
}
