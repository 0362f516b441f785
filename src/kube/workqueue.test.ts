import pino from "pino";
import { describe, expect, it } from "vitest";
import { runWorkers, WorkQueue } from "./workqueue.ts";

const logger = pino({ level: "silent" });

class FakeClock {
  t = 1_000_000;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 0;
  now = () => this.t;
  setTimer = (fn: () => void, ms: number) => {
    const id = this.nextId++;
    this.timers.push({ at: this.t + ms, fn, id });
    return () => {
      this.timers = this.timers.filter((x) => x.id !== id);
    };
  };
  pending(): number {
    return this.timers.length;
  }
  advance(ms: number): void {
    const target = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const first = this.timers[0];
      if (!first || first.at > target) break;
      this.timers.shift();
      this.t = first.at;
      first.fn();
    }
    this.t = target;
  }
}

function fakeQueue(opts: ConstructorParameters<typeof WorkQueue<string>>[0] = {}) {
  const clock = new FakeClock();
  const q = new WorkQueue<string>({ now: clock.now, setTimer: clock.setTimer, ...opts });
  return { q, clock };
}

/** get() that must already be ready (no waiting) */
async function getNow(q: WorkQueue<string>): Promise<string | undefined> {
  const marker = Symbol("pending");
  const r = await Promise.race([q.get(), new Promise<typeof marker>((res) => setTimeout(() => res(marker), 20))]);
  if (r === marker) throw new Error("get() did not return at once");
  return r as string | undefined;
}

describe("WorkQueue", () => {
  it("dedupes keys waiting in the queue and keeps FIFO order", async () => {
    const { q } = fakeQueue();
    q.add("a");
    q.add("b");
    q.add("a");
    q.add("c");
    q.add("b");
    expect(q.len()).toBe(3);
    expect(await q.get()).toBe("a");
    expect(await q.get()).toBe("b");
    expect(await q.get()).toBe("c");
    expect(q.len()).toBe(0);
  });

  it("never hands out a key being processed; re-delivers it after done()", async () => {
    const { q } = fakeQueue();
    q.add("a");
    const k = await q.get();
    expect(k).toBe("a");
    q.add("a"); // while processing
    q.add("a"); // deduped
    expect(q.len()).toBe(0);
    let second: string | undefined;
    const p = q.get().then((x) => {
      second = x;
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(second).toBeUndefined(); // not given out while processing
    q.done("a");
    await p;
    expect(second).toBe("a");
    q.done("a");
    expect(q.len()).toBe(0);
    expect(q.processingLen()).toBe(0);
  });

  it("done() without a re-add does not re-queue", async () => {
    const { q } = fakeQueue();
    q.add("a");
    await q.get();
    q.done("a");
    expect(q.len()).toBe(0);
  });

  it("wakes a waiting get() on add", async () => {
    const { q } = fakeQueue();
    const p = q.get();
    q.add("x");
    expect(await p).toBe("x");
  });

  it("per-key backoff doubles from the base and is capped; forget resets it", () => {
    const { q, clock } = fakeQueue({ baseDelayMs: 5, maxDelayMs: 1000, qps: 0 });
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) {
      q.addRateLimited("k");
      // find when it became ready
      let waited = 0;
      while (q.len() === 0) {
        clock.advance(1);
        waited++;
      }
      delays.push(waited);
      void q.get();
      q.done("k");
    }
    expect(delays).toEqual([5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
    expect(q.numRequeues("k")).toBe(10);
    q.forget("k");
    expect(q.numRequeues("k")).toBe(0);
    q.addRateLimited("k");
    clock.advance(4);
    expect(q.len()).toBe(0);
    clock.advance(1);
    expect(q.len()).toBe(1);
  });

  it("per-key backoff is independent between keys", () => {
    const { q, clock } = fakeQueue({ baseDelayMs: 10, qps: 0 });
    q.addRateLimited("a");
    q.addRateLimited("a");
    expect(q.numRequeues("a")).toBe(2);
    q.addRateLimited("b");
    clock.advance(10);
    // a: first 10 ms, second would be 20 ms, but addAfter keeps the earliest (10)
    expect(q.len()).toBe(2);
    expect(q.numRequeues("b")).toBe(1);
  });

  it("overall token bucket: burst then qps", () => {
    const { q, clock } = fakeQueue({ baseDelayMs: 0.001, qps: 10, burst: 3 });
    for (const k of ["a", "b", "c"]) q.addRateLimited(k); // burst: no delay (per-key 0.001 ms)
    clock.advance(1);
    expect(q.len()).toBe(3);
    q.addRateLimited("d"); // bucket empty: 100 ms
    q.addRateLimited("e"); // 200 ms
    clock.advance(98);
    expect(q.len()).toBe(3);
    clock.advance(2);
    expect(q.len()).toBe(4);
    clock.advance(99);
    expect(q.len()).toBe(5);
    // the bucket refills over time
    clock.advance(10_000);
    for (const k of ["f", "g", "h"]) q.addRateLimited(k);
    clock.advance(1);
    expect(q.len()).toBe(8);
  });

  it("addAfter: ready in time order, earliest time wins for a key", async () => {
    const { q, clock } = fakeQueue();
    q.addAfter("late", 300);
    q.addAfter("early", 100);
    q.addAfter("mid", 200);
    q.addAfter("late", 500); // later than pending: ignored
    q.addAfter("mid", 50); // earlier: moves up
    expect(q.len()).toBe(0);
    expect(q.delayedLen()).toBe(3);
    clock.advance(50);
    expect(q.len()).toBe(1);
    clock.advance(250);
    expect(q.len()).toBe(3);
    expect(await getNow(q)).toBe("mid");
    expect(await getNow(q)).toBe("early");
    expect(await getNow(q)).toBe("late");
    expect(clock.pending()).toBe(0);
  });

  it("addAfter with 0 or a negative delay adds at once; addAfter of a queued key dedupes", () => {
    const { q, clock } = fakeQueue();
    q.addAfter("a", 0);
    q.addAfter("b", -5);
    expect(q.len()).toBe(2);
    q.addAfter("a", 10);
    clock.advance(10);
    expect(q.len()).toBe(2);
  });

  it("shutDown: waiting get() and later get() return undefined, adds are ignored, delayed keys dropped", async () => {
    const { q, clock } = fakeQueue();
    const waiting = q.get();
    q.addAfter("later", 100);
    q.shutDown();
    expect(await waiting).toBeUndefined();
    q.add("x");
    expect(await q.get()).toBeUndefined();
    clock.advance(1000);
    expect(q.len()).toBe(0);
    expect(q.isShuttingDown()).toBe(true);
  });

  it("shutDown stops handing out keys still in the queue", async () => {
    const { q } = fakeQueue();
    q.add("a");
    q.add("b");
    q.shutDown();
    expect(await q.get()).toBeUndefined();
  });

  it("drain resolves when nothing is in processing", async () => {
    const { q } = fakeQueue();
    await q.drain(); // nothing in flight
    q.add("a");
    q.add("b");
    await q.get();
    await q.get();
    let drained = false;
    const d = q.drain().then(() => {
      drained = true;
    });
    q.shutDown();
    q.done("a");
    await new Promise((r) => setTimeout(r, 5));
    expect(drained).toBe(false);
    q.done("b");
    await d;
    expect(drained).toBe(true);
  });

  it("reports metrics (depth, wait time)", async () => {
    const depth: number[] = [];
    const waits: number[] = [];
    const { q, clock } = fakeQueue({ metrics: { depth: (n) => depth.push(n), waitMs: (ms) => waits.push(ms) } });
    q.add("a");
    q.add("b");
    clock.advance(7);
    await q.get();
    expect(depth).toEqual([1, 2, 1]);
    expect(waits).toEqual([7]);
  });

  it("real timers: addAfter delivers after roughly the delay", async () => {
    const q = new WorkQueue<string>();
    const t0 = Date.now();
    q.addAfter("a", 30);
    expect(await q.get()).toBe("a");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
    q.shutDown();
  });
});

describe("runWorkers", () => {
  it("never runs one key in two workers at once, and re-runs a key added while it ran", async () => {
    const q = new WorkQueue<string>();
    const running = new Set<string>();
    let maxConcurrentSameKey = 0;
    let maxConcurrent = 0;
    const runs = new Map<string, number>();
    const handle = async (key: string) => {
      if (running.has(key)) maxConcurrentSameKey = 2;
      running.add(key);
      maxConcurrent = Math.max(maxConcurrent, running.size);
      runs.set(key, (runs.get(key) ?? 0) + 1);
      if (key === "a" && runs.get("a") === 1) q.add("a"); // re-added while processing
      await new Promise((r) => setTimeout(r, 10));
      running.delete(key);
    };
    const done = runWorkers(q, 4, handle, logger);
    for (const k of ["a", "b", "c", "a", "b"]) q.add(k);
    await new Promise((r) => setTimeout(r, 80));
    q.shutDown();
    await done;
    expect(maxConcurrentSameKey).toBe(0);
    expect(maxConcurrent).toBeGreaterThan(1);
    // idle workers take a, b, c at once; the second a and b arrive while they run (dirty, deduped
    // with a's own re-add) and run once more after done()
    expect(runs.get("a")).toBe(2);
    expect(runs.get("b")).toBe(2);
    expect(runs.get("c")).toBe(1);
  });

  it("on throw: rate-limited requeue; on success: forget; requeueAfterMs re-adds later", async () => {
    const q = new WorkQueue<string>({ baseDelayMs: 5, qps: 0 });
    const calls: { key: string; requeues: number; at: number }[] = [];
    const t0 = Date.now();
    let fails = 3;
    let periodic = 0;
    const done = runWorkers(
      q,
      2,
      async (key) => {
        calls.push({ key, requeues: q.numRequeues(key), at: Date.now() - t0 });
        if (key === "flaky" && fails-- > 0) throw new Error("boom");
        if (key === "periodic" && periodic++ < 1) return { requeueAfterMs: 40 };
        return undefined;
      },
      logger,
    );
    q.add("flaky");
    q.add("periodic");
    await new Promise((r) => setTimeout(r, 200));
    q.shutDown();
    await done;
    const flaky = calls.filter((c) => c.key === "flaky");
    expect(flaky.map((c) => c.requeues)).toEqual([0, 1, 2, 3]);
    expect(q.numRequeues("flaky")).toBe(0); // forgotten after the success
    const per = calls.filter((c) => c.key === "periodic");
    expect(per.length).toBe(2);
    expect((per[1]?.at ?? 0) - (per[0]?.at ?? 0)).toBeGreaterThanOrEqual(35);
  });

  it("graceful shutdown: runWorkers resolves after the keys in hand are done", async () => {
    const q = new WorkQueue<string>();
    let finished = false;
    const done = runWorkers(
      q,
      1,
      async () => {
        await new Promise((r) => setTimeout(r, 30));
        finished = true;
      },
      logger,
    );
    q.add("a");
    await new Promise((r) => setTimeout(r, 5));
    q.shutDown();
    await q.drain();
    expect(finished).toBe(true);
    await done;
  });
});
