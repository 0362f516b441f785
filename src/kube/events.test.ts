// EventRecorder bookkeeping with a stub client (the real API server is covered by
// test/integration/kube-events.test.ts).
import pino from "pino";
import { describe, expect, it } from "vitest";
import { ApiError, type HttpMethod, KubeClient, type RequestOptions } from "./client.ts";
import { EventRecorder } from "./events.ts";

const logger = pino({ level: "silent" });

class StubClient extends KubeClient {
  calls: { method: HttpMethod; path: string; body: Record<string, unknown> }[] = [];
  failNext = 0;
  constructor() {
    super({ server: new URL("https://127.0.0.1:1"), source: "stub", tls: async () => ({}), headers: async () => ({}) });
  }
  override async request<T = unknown>(method: HttpMethod, path: string, opts?: RequestOptions): Promise<T> {
    await new Promise((r) => setTimeout(r, 1));
    this.calls.push({ method, path, body: opts?.body as Record<string, unknown> });
    if (this.failNext > 0) {
      this.failNext--;
      throw new ApiError(500, "boom");
    }
    return {} as T;
  }
}

const involved = (name: string) => ({ apiVersion: "v1", kind: "ConfigMap", namespace: "ns", name });

describe("EventRecorder (stub client)", () => {
  it("one POST, then PATCHes with the running count; a create queued behind writes the final count once", async () => {
    const client = new StubClient();
    let now = new Date("2026-01-01T00:00:00Z");
    const rec = new EventRecorder({ client, component: "op", instance: "i", logger, now: () => now });
    rec.record(involved("a"), "Normal", "R", "m");
    rec.record(involved("a"), "Normal", "R", "m");
    rec.record(involved("a"), "Normal", "R", "m");
    await rec.flush();
    expect(client.calls.map((c) => c.method)).toEqual(["POST", "PATCH"]);
    expect(client.calls[1]?.body).toMatchObject({ count: 3 });
    now = new Date("2026-01-01T00:05:00Z");
    rec.record(involved("a"), "Normal", "R", "m");
    await rec.flush();
    expect(client.calls.at(-1)).toMatchObject({ method: "PATCH", body: { count: 4, lastTimestamp: "2026-01-01T00:05:00Z" } });
    expect(client.calls.at(-1)?.path).toMatch(/^\/api\/v1\/namespaces\/ns\/events\/a\.[0-9a-f]+$/);
  });

  it("different type, reason, message or object are different events; long messages are truncated", async () => {
    const client = new StubClient();
    const rec = new EventRecorder({ client, component: "op", instance: "i", logger });
    rec.record(involved("a"), "Normal", "R", "m");
    rec.record(involved("a"), "Warning", "R", "m");
    rec.record(involved("a"), "Normal", "R2", "m");
    rec.record(involved("a"), "Normal", "R", "m2");
    rec.record(involved("b"), "Normal", "R", "m");
    rec.record(involved("b"), "Normal", "R", "x".repeat(5000));
    await rec.flush();
    expect(client.calls.filter((c) => c.method === "POST").length).toBe(6);
    expect(String(client.calls.at(-1)?.body.message).length).toBe(1024);
  });

  it("a failed create is retried by the next repeat; errors never throw", async () => {
    const client = new StubClient();
    client.failNext = 1;
    const rec = new EventRecorder({ client, component: "op", instance: "i", logger });
    rec.record(involved("a"), "Normal", "R", "m");
    await rec.flush();
    rec.record(involved("a"), "Normal", "R", "m");
    await rec.flush();
    expect(client.calls.map((c) => c.method)).toEqual(["POST", "POST"]);
    expect(client.calls[1]?.body).toMatchObject({ count: 2 });
  });

  it("bounded memory: the least recently used entries are dropped", async () => {
    const client = new StubClient();
    const rec = new EventRecorder({ client, component: "op", instance: "i", logger, maxEntries: 10 });
    for (let i = 0; i < 100; i++) rec.record(involved(`o${i}`), "Normal", "R", "m");
    await rec.flush();
    expect((rec as unknown as { entries: Map<string, unknown> }).entries.size).toBe(10);
    // o99 is still remembered (PATCH), o0 is not (new POST)
    rec.record(involved("o99"), "Normal", "R", "m");
    rec.record(involved("o0"), "Normal", "R", "m");
    await rec.flush();
    expect(
      client.calls
        .slice(-2)
        .map((c) => c.method)
        .sort(),
    ).toEqual(["PATCH", "POST"]);
  });
});
