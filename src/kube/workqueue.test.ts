import pino from "pino";
import { describe, expect, it, vi } from "vitest";
import { runWorkers, URGENT_STREAK, WorkQueue } from "./workqueue.ts";

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

/**
 * Lets every pending promise continuation run (workers taking keys, handlers starting, done()),
 * without waiting for any timer: setImmediate runs only once the microtask queue is empty.
 */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
}

/** get() that must already be ready (no waiting) */
async function getNow(q: WorkQueue<string>): Promise<string | undefined> {
  const marker = Symbol("pending");
  const r = await Promise.race([q.get(), settle().then(() => marker)]);
  if (r === marker) throw new Error("get() did not return at once");
  return r as string | undefined;
}

/** A promise to resolve by hand: a handler that runs until the test lets it finish. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((r) => {
    open = r;
  });
  return { promise, open };
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
    await settle();
    expect(second).toBeUndefined(); // not given out while processing
    q.done("a");
    await p;
    expect(second).toBe("a");
    q.done("a");
    expect(q.len()).toBe(0);
    expect(q.processingLen()).toBe(0);
  });

  it("serves urgent keys first, moves a queued key up, and lets one normal key through after each streak", async () => {
    const { q } = fakeQueue();
    for (const k of ["n1", "n2", "n3"]) q.add(k);
    q.add("n2", { urgent: true }); // already queued: moved up, not duplicated
    for (let i = 0; i < URGENT_STREAK; i++) q.add(`u${i}`, { urgent: true });
    q.add("n1"); // a normal re-add of a normal key changes nothing
    expect(q.len()).toBe(3 + URGENT_STREAK);
    const order: string[] = [];
    for (let i = 0; i < 3 + URGENT_STREAK; i++) {
      const k = (await q.get()) as string;
      order.push(k);
      q.done(k);
    }
    // n2 and the first URGENT_STREAK - 1 urgent keys, then n1 (the streak is over), then the rest.
    expect(order).toEqual(["n2", ...Array.from({ length: URGENT_STREAK - 1 }, (_, i) => `u${i}`), "n1", `u${URGENT_STREAK - 1}`, "n3"]);
    expect(q.len()).toBe(0);
  });

  it("a key moved up and served keeps its place in line behind older keys when added again normally", async () => {
    const { q } = fakeQueue();
    q.add("a");
    q.add("b");
    q.add("a", { urgent: true });
    expect(await q.get()).toBe("a");
    q.done("a");
    q.add("a"); // normally again: behind b, not at a's old (stale) place ahead of it
    expect(await q.get()).toBe("b");
    expect(await q.get()).toBe("a");
  });

  it("a key re-added urgently while it is processed comes back in the urgent lane", async () => {
    const { q } = fakeQueue();
    q.add("busy");
    expect(await q.get()).toBe("busy");
    q.add("other");
    q.add("busy", { urgent: true });
    q.done("busy");
    expect(await q.get()).toBe("busy");
    expect(await q.get()).toBe("other");
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
    await settle();
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

  it("default timer: addAfter arms a real timer with the computed delay, and the key arrives", async () => {
    // The clock is injected (so the delay handed to setTimeout is exact); the timer is the
    // default one, i.e. Node's setTimeout.
    let t = 1_000_000;
    const armed: number[] = [];
    const real = globalThis.setTimeout;
    const spy = vi.spyOn(globalThis, "setTimeout").mockImplementation(((fn: () => void, ms?: number) => {
      armed.push(ms ?? 0);
      return real(fn, 0);
    }) as typeof setTimeout);
    try {
      const q = new WorkQueue<string>({ now: () => t });
      q.addAfter("a", 30);
      expect(armed).toEqual([30]);
      expect(q.len()).toBe(0);
      expect(q.delayedLen()).toBe(1);
      t += 30; // the delay has passed when the timer fires
      expect(await q.get()).toBe("a");
      expect(q.delayedLen()).toBe(0);
      q.shutDown();
    } finally {
      spy.mockRestore();
    }
  });
});

describe("runWorkers", () => {
  it("never runs one key in two workers at once, and re-runs a key added while it ran", async () => {
    const { q } = fakeQueue();
    const running = new Set<string>();
    let sameKeyTwice = false;
    let maxConcurrent = 0;
    const runs = new Map<string, number>();
    const gates = new Map<string, { promise: Promise<void>; open: () => void }>();
    const handle = async (key: string) => {
      if (running.has(key)) sameKeyTwice = true;
      running.add(key);
      maxConcurrent = Math.max(maxConcurrent, running.size);
      runs.set(key, (runs.get(key) ?? 0) + 1);
      if (key === "a" && runs.get("a") === 1) q.add("a"); // re-added while processing
      const g = gate();
      gates.set(key, g);
      await g.promise;
      running.delete(key);
    };
    const done = runWorkers(q, 4, handle, logger);
    await settle(); // all four workers wait in get()
    for (const k of ["a", "b", "c", "a", "b"]) q.add(k);
    await settle();
    // idle workers took a, b, c at once; the second a and b arrived while they ran (dirty, deduped
    // with a's own re-add), so they wait for done() and no fourth worker may take them
    expect([...running].sort()).toEqual(["a", "b", "c"]);
    expect(q.len()).toBe(0);
    expect(q.processingLen()).toBe(3);
    expect(Object.fromEntries(runs)).toEqual({ a: 1, b: 1, c: 1 });

    gates.get("a")?.open();
    await settle();
    expect(runs.get("a")).toBe(2); // re-run once, after the first run finished
    expect(running.has("a")).toBe(true);
    for (const k of ["a", "b", "c"]) gates.get(k)?.open();
    await settle();
    expect(runs.get("b")).toBe(2);
    for (const k of ["a", "b"]) gates.get(k)?.open();
    await settle();
    expect(running.size).toBe(0);
    expect(q.processingLen()).toBe(0);
    q.shutDown();
    await done;
    expect(sameKeyTwice).toBe(false);
    expect(maxConcurrent).toBe(3);
    expect(Object.fromEntries(runs)).toEqual({ a: 2, b: 2, c: 1 });
  });

  it("on throw: rate-limited requeue with doubling backoff; on success: forget; requeueAfterMs re-adds later", async () => {
    const { q, clock } = fakeQueue({ baseDelayMs: 5, qps: 0 });
    const start = clock.now();
    const calls: { key: string; requeues: number; at: number }[] = [];
    let fails = 3;
    let periodic = 0;
    const done = runWorkers(
      q,
      2,
      async (key) => {
        calls.push({ key, requeues: q.numRequeues(key), at: clock.now() - start });
        if (key === "flaky" && fails-- > 0) throw new Error("boom");
        if (key === "periodic" && periodic++ < 1) return { requeueAfterMs: 40 };
        return undefined;
      },
      logger,
    );
    q.add("flaky");
    q.add("periodic");
    await settle();
    // step the fake clock 1 ms at a time, letting the workers run after each step
    for (let i = 0; i < 100; i++) {
      clock.advance(1);
      await settle();
    }
    q.shutDown();
    await done;
    const flaky = calls.filter((c) => c.key === "flaky");
    expect(flaky.map((c) => c.requeues)).toEqual([0, 1, 2, 3]);
    // retried after 5, 10 and 20 ms: base 5 ms doubling per failure
    expect(flaky.map((c) => c.at)).toEqual([0, 5, 15, 35]);
    expect(q.numRequeues("flaky")).toBe(0); // forgotten after the success
    const per = calls.filter((c) => c.key === "periodic");
    expect(per.map((c) => c.at)).toEqual([0, 40]);
    expect(clock.pending()).toBe(0);
  });

  it("graceful shutdown: drain and runWorkers resolve only after the keys in hand are done", async () => {
    const { q } = fakeQueue();
    const g = gate();
    let started = false;
    let finished = false;
    const done = runWorkers(
      q,
      1,
      async () => {
        started = true;
        await g.promise;
        finished = true;
      },
      logger,
    );
    q.add("a");
    await settle();
    expect(started).toBe(true);
    q.shutDown();
    let drained = false;
    let exited = false;
    const d = q.drain().then(() => {
      drained = true;
    });
    void done.then(() => {
      exited = true;
    });
    await settle();
    expect(drained).toBe(false);
    expect(exited).toBe(false);
    g.open();
    await d;
    expect(finished).toBe(true);
    await done;
    expect(exited).toBe(true);
  });
});
