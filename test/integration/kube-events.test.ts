// EventRecorder against the real API server: one Event per distinct event, count bumped on repeats.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resourcePath } from "../../src/kube/client.ts";
import { EventRecorder } from "../../src/kube/events.ts";
import { client, createConfigMap, createNamespace, deleteNamespace, logger } from "./kube-helpers.ts";

const c = client();
let ns: string;

beforeAll(async () => {
  ns = await createNamespace(c, "kev");
});
afterAll(async () => {
  await deleteNamespace(c, ns);
});

interface Ev {
  metadata: { name: string };
  count?: number;
  reason?: string;
  message?: string;
  type?: string;
  firstTimestamp?: string;
  lastTimestamp?: string;
  involvedObject: { name: string; uid?: string; kind: string };
  source?: { component?: string; host?: string };
}

async function events(name: string): Promise<Ev[]> {
  const l = await c.request<{ items: Ev[] }>("GET", resourcePath({ apiVersion: "v1", plural: "events", namespace: ns }), {
    query: { fieldSelector: `involvedObject.name=${name}` },
  });
  return l.items;
}

describe("EventRecorder", () => {
  it("dedupes: repeats bump count and lastTimestamp of one Event; a different message makes another", async () => {
    const cm = await createConfigMap(c, ns, "target", {});
    let now = new Date("2026-01-01T00:00:00Z");
    const rec = new EventRecorder({ client: c, component: "modelservice-operator", instance: "test-pod", logger, now: () => now });
    const involved = { apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "target", uid: cm.metadata.uid };
    rec.record(involved, "Warning", "Broken", "it broke");
    rec.record(involved, "Warning", "Broken", "it broke"); // queued behind the create
    await rec.flush();
    now = new Date("2026-01-01T00:01:00Z");
    rec.record(involved, "Warning", "Broken", "it broke");
    rec.record(involved, "Normal", "Fixed", "all good");
    await rec.flush();

    const evs = await events("target");
    expect(evs.length).toBe(2);
    const broken = evs.find((e) => e.reason === "Broken");
    expect(broken).toMatchObject({
      type: "Warning",
      message: "it broke",
      count: 3,
      firstTimestamp: "2026-01-01T00:00:00Z",
      lastTimestamp: "2026-01-01T00:01:00Z",
      involvedObject: { name: "target", kind: "ConfigMap", uid: cm.metadata.uid },
      source: { component: "modelservice-operator", host: "test-pod" },
    });
    expect(evs.find((e) => e.reason === "Fixed")?.count).toBe(1);

    // After the 10 min window the same event starts a new Event object.
    now = new Date("2026-01-01T00:12:00Z");
    rec.record(involved, "Warning", "Broken", "it broke");
    await rec.flush();
    expect((await events("target")).filter((e) => e.reason === "Broken").length).toBe(2);
  });

  it("errors are logged, not thrown; a deleted Event is recreated", async () => {
    const rec = new EventRecorder({ client: c, component: "modelservice-operator", instance: "test-pod", logger });
    rec.record({ apiVersion: "v1", kind: "ConfigMap", namespace: "no-such-namespace-kev", name: "x" }, "Normal", "R", "m");
    await rec.flush(); // no throw
    const involved = { apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "other" };
    rec.record(involved, "Normal", "R", "m");
    await rec.flush();
    const [first] = await events("other");
    expect(first?.count).toBe(1);
    await c.request("DELETE", resourcePath({ apiVersion: "v1", plural: "events", namespace: ns, name: first?.metadata.name ?? "" }));
    rec.record(involved, "Normal", "R", "m");
    await rec.flush();
    const after = await events("other");
    expect(after.length).toBe(1);
    expect(after[0]?.metadata.name).not.toBe(first?.metadata.name);
  });
});
