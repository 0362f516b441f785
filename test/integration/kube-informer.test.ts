// The informer against the real API server: list + watch, connection cuts and stalls (through a
// TCP proxy), 410 Gone (a real "too old resource version" from the server), periodic relist.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeClient, loadKubeConfig, type Query } from "../../src/kube/client.ts";
import { Informer, type WatchEventType } from "../../src/kube/informer.ts";
import {
  type ConfigMap,
  client,
  createConfigMap,
  createNamespace,
  deleteConfigMap,
  deleteNamespace,
  logger,
  patchConfigMap,
  provokeTooOldResourceVersion,
  startProxy,
  type TcpProxy,
  waitFor,
} from "./kube-helpers.ts";

type Ev = { type: WatchEventType; name: string; data?: Record<string, string>; oldData?: Record<string, string> };

function record(inf: Informer<ConfigMap>): Ev[] {
  const evs: Ev[] = [];
  inf.onEvent((type, obj, old) => evs.push({ type, name: obj.metadata.name, data: obj.data, oldData: old?.data }));
  return evs;
}

const c = client();
const namespaces: string[] = [];
const informers: Informer<ConfigMap>[] = [];
const proxies: TcpProxy[] = [];

async function ns(prefix: string): Promise<string> {
  const n = await createNamespace(c, prefix);
  namespaces.push(n);
  return n;
}

function informer(opts: Partial<ConstructorParameters<typeof Informer<ConfigMap>>[0]> & { namespaces?: string[] }): Informer<ConfigMap> {
  const inf = new Informer<ConfigMap>({ client: c, apiVersion: "v1", plural: "configmaps", logger, ...opts });
  informers.push(inf);
  return inf;
}

/** the informer's cache equals the server's list */
async function consistent(inf: Informer<ConfigMap>, namespace: string): Promise<boolean> {
  const l = await c.request<{ items: ConfigMap[] }>("GET", `/api/v1/namespaces/${namespace}/configmaps`);
  const server = new Map(l.items.map((i) => [i.metadata.name, i.metadata.resourceVersion]));
  const cache = new Map(inf.list(namespace).map((i) => [i.metadata.name, i.metadata.resourceVersion]));
  return server.size === cache.size && [...server].every(([k, v]) => cache.get(k) === v);
}

afterAll(async () => {
  for (const i of informers) i.stop();
  for (const p of proxies) await p.close();
  await Promise.all(namespaces.map((n) => deleteNamespace(c, n)));
});

describe("Informer", () => {
  let nsA: string;
  beforeAll(async () => {
    nsA = await ns("kinf");
  });

  it("lists, then receives add / modify / delete, and strips managedFields", async () => {
    await createConfigMap(c, nsA, "pre", { a: "1" });
    const inf = informer({ namespaces: [nsA] });
    const evs = record(inf);
    await inf.start();
    expect(inf.hasSynced()).toBe(true);
    const pre = inf.get(nsA, "pre");
    expect(pre?.data).toEqual({ a: "1" });
    expect(pre?.kind).toBe("ConfigMap"); // filled in for list items
    expect(pre?.apiVersion).toBe("v1");
    expect(pre?.metadata.managedFields).toBeUndefined();
    expect(evs.filter((e) => e.name !== "kube-root-ca.crt")).toEqual([{ type: "ADDED", name: "pre", data: { a: "1" }, oldData: undefined }]);

    await createConfigMap(c, nsA, "x", { v: "1" });
    await waitFor("x added", () => inf.get(nsA, "x"));
    await patchConfigMap(c, nsA, "x", { v: "2" });
    await waitFor("x modified", () => inf.get(nsA, "x")?.data?.v === "2");
    await deleteConfigMap(c, nsA, "x");
    await waitFor("x deleted", () => !inf.get(nsA, "x"));
    expect(evs.filter((e) => e.name === "x")).toEqual([
      { type: "ADDED", name: "x", data: { v: "1" }, oldData: undefined },
      { type: "MODIFIED", name: "x", data: { v: "2" }, oldData: { v: "1" } },
      { type: "DELETED", name: "x", data: { v: "2" }, oldData: { v: "2" } },
    ]);
    expect(inf.list(nsA).map((o) => o.metadata.name)).toContain("pre");
  });

  it("all namespaces with a label selector; several namespaces at once", async () => {
    const nsB = await ns("kinf-b");
    await createConfigMap(c, nsA, "sel-a", {}, { "kube-test": "yes" });
    await createConfigMap(c, nsB, "sel-b", {}, { "kube-test": "yes" });
    await createConfigMap(c, nsB, "unsel", {});
    const all = informer({ labelSelector: "kube-test=yes" });
    await all.start();
    expect(all.get(nsA, "sel-a")).toBeDefined();
    expect(all.get(nsB, "sel-b")).toBeDefined();
    expect(all.get(nsB, "unsel")).toBeUndefined();
    const two = informer({ namespaces: [nsA, nsB] });
    await two.start();
    expect(two.get(nsB, "unsel")).toBeDefined();
    expect(two.list(nsB).length).toBeGreaterThanOrEqual(2);
    await createConfigMap(c, nsB, "later", {});
    await waitFor("later seen", () => two.get(nsB, "later"));
  });

  it("indexes by a label: byLabel follows adds, label changes and deletes", async () => {
    const nsI = await ns("kinf-idx");
    await createConfigMap(c, nsI, "a1", {}, { owner: "a" });
    await createConfigMap(c, nsI, "a2", {}, { owner: "a" });
    await createConfigMap(c, nsI, "b1", {}, { owner: "b" });
    const inf = informer({ namespaces: [nsI], indexLabel: "owner" });
    await inf.start();
    const names = (v: string) =>
      inf
        .byLabel(nsI, v)
        .map((o) => o.metadata.name)
        .sort();
    expect(names("a")).toEqual(["a1", "a2"]);
    expect(names("b")).toEqual(["b1"]);
    await c.request("PATCH", `/api/v1/namespaces/${nsI}/configmaps/a2`, {
      body: { metadata: { labels: { owner: "b" } } },
      contentType: "application/merge-patch+json",
    });
    await waitFor("a2 moved to b", () => names("b").includes("a2"));
    expect(names("a")).toEqual(["a1"]);
    await deleteConfigMap(c, nsI, "a1");
    await waitFor("a1 gone", () => names("a").length === 0);
    expect(names("b")).toEqual(["a2", "b1"]);
    expect(inf.byLabel("other-namespace", "b")).toEqual([]);
  });

  it("a cut watch connection: notices, reconnects and loses no event", async () => {
    const n = await ns("kinf-cut");
    const { proxy, kubeconfig } = await startProxy();
    proxies.push(proxy);
    const restarts: string[] = [];
    const inf = informer({
      client: new KubeClient(loadKubeConfig(kubeconfig)),
      namespaces: [n],
      backoffBaseMs: 300,
      onRestart: (r) => restarts.push(r),
    });
    const evs = record(inf);
    await createConfigMap(c, n, "keep", { v: "1" });
    await createConfigMap(c, n, "gone", {});
    await inf.start();
    await waitFor("watch connected", () => proxy.openConnections() > 0);
    for (let round = 0; round < 3; round++) {
      expect(proxy.cutAll()).toBeGreaterThan(0);
      // changes while the informer reconnects
      await patchConfigMap(c, n, "keep", { v: String(round + 2) });
      await createConfigMap(c, n, `new-${round}`, {});
      await waitFor(`round ${round} seen`, () => inf.get(n, `new-${round}`) && inf.get(n, "keep")?.data?.v === String(round + 2));
    }
    await deleteConfigMap(c, n, "gone");
    await waitFor("deleted seen", () => !inf.get(n, "gone"));
    expect(await consistent(inf, n)).toBe(true);
    expect(restarts.filter((r) => r === "error").length).toBeGreaterThanOrEqual(3);
    // every change arrived exactly once, in order
    expect(evs.filter((e) => e.name === "keep").map((e) => `${e.type}:${e.data?.v}`)).toEqual(["ADDED:1", "MODIFIED:2", "MODIFIED:3", "MODIFIED:4"]);
    expect(evs.filter((e) => e.type === "DELETED").map((e) => e.name)).toEqual(["gone"]);
  });

  it("a silently stalled watch: reconnects after stallTimeoutMs", async () => {
    const n = await ns("kinf-stall");
    const { proxy, kubeconfig } = await startProxy();
    proxies.push(proxy);
    const restarts: string[] = [];
    const inf = informer({
      client: new KubeClient(loadKubeConfig(kubeconfig)),
      namespaces: [n],
      stallTimeoutMs: 3000,
      onRestart: (r) => restarts.push(r),
    });
    const evs = record(inf);
    // what the informer had restarted for when the change made during the stall reached it
    let restartsWhenSeen: string[] | undefined;
    inf.onEvent((_type, obj) => {
      if (obj.metadata.name === "during-stall" && !restartsWhenSeen) restartsWhenSeen = [...restarts];
    });
    await inf.start();
    await waitFor("watch connected", () => proxy.openConnections() > 0);
    const t0 = Date.now();
    proxy.stallAll();
    await createConfigMap(c, n, "during-stall", { v: "1" });
    await waitFor("event after the stall", () => inf.get(n, "during-stall"), 60_000);
    console.log(`[measure] stalled watch to the change seen (stallTimeoutMs 3000): ${Date.now() - t0} ms`);
    // The stalled connection delivers nothing: the change arrives only through the watch the
    // informer opened after declaring the old one stalled.
    expect(restartsWhenSeen).toContain("stall");
    expect(restarts).toContain("stall");
    expect(evs.filter((e) => e.name === "during-stall").map((e) => e.type)).toEqual(["ADDED"]);
  });

  it("410 Gone from the server (too old resourceVersion) → relist that catches up by diffing", { timeout: 240_000 }, async () => {
    const n = await ns("kinf-gone");
    await provokeTooOldResourceVersion(c, n);
    await createConfigMap(c, n, "stays", {});
    await createConfigMap(c, n, "removed-in-gap", {});
    // A client whose first watch asks for a resourceVersion long gone from the cache ("1"), after
    // changing things behind the informer's back: the real server answers 410, the informer
    // must relist and fire the differences.
    let watches = 0;
    class OldRvClient extends KubeClient {
      override stream(path: string, query: Query, signal: AbortSignal): AsyncIterable<unknown> {
        watches++;
        if (watches !== 1) return super.stream(path, query, signal);
        const parent = (p: string, q: Query, s: AbortSignal) => super.stream(p, q, s);
        return {
          async *[Symbol.asyncIterator]() {
            await createConfigMap(c, n, "added-in-gap", {});
            await deleteConfigMap(c, n, "removed-in-gap");
            yield* parent(path, { ...query, resourceVersion: "1" }, signal);
          },
        };
      }
    }
    const restarts: string[] = [];
    const inf = informer({ client: new OldRvClient(c.access), namespaces: [n], onRestart: (r) => restarts.push(r) });
    const evs = record(inf);
    await inf.start();
    await waitFor("relisted after 410", () => restarts.includes("gone"), 20_000);
    await waitFor("gap caught up", () => inf.get(n, "added-in-gap") && !inf.get(n, "removed-in-gap"));
    expect(evs.filter((e) => e.name.endsWith("-in-gap")).map((e) => `${e.type}:${e.name}`)).toEqual([
      "ADDED:removed-in-gap",
      "ADDED:added-in-gap",
      "DELETED:removed-in-gap",
    ]);
    // and it watches normally afterwards
    await createConfigMap(c, n, "after", {});
    await waitFor("after seen", () => inf.get(n, "after"));
    expect(await consistent(inf, n)).toBe(true);
  });

  it("periodic relist repairs a missed event (DELETED carries the last known object)", async () => {
    const n = await ns("kinf-relist");
    await createConfigMap(c, n, "victim", { last: "known" });
    // A client that swallows DELETED events, as a lossy watch would.
    class LossyClient extends KubeClient {
      override stream(path: string, query: Query, signal: AbortSignal): AsyncIterable<unknown> {
        const inner = super.stream(path, query, signal);
        return {
          async *[Symbol.asyncIterator]() {
            for await (const ev of inner) if ((ev as { type?: string }).type !== "DELETED") yield ev;
          },
        };
      }
    }
    const restarts: string[] = [];
    const inf = informer({ client: new LossyClient(c.access), namespaces: [n], relistPeriodMs: 2000, onRestart: (r) => restarts.push(r) });
    const evs = record(inf);
    await inf.start();
    await deleteConfigMap(c, n, "victim");
    await waitFor("deletion repaired by relist", () => !inf.get(n, "victim"), 15_000);
    expect(restarts).toContain("relist");
    const del = evs.find((e) => e.type === "DELETED");
    expect(del).toEqual({ type: "DELETED", name: "victim", data: { last: "known" }, oldData: { last: "known" } });
    // unchanged objects fire nothing on a relist
    await createConfigMap(c, n, "quiet", {});
    await waitFor("quiet seen", () => inf.get(n, "quiet"));
    const before = evs.length;
    await waitFor("two more relists", () => restarts.filter((r) => r === "relist").length >= 3, 15_000);
    expect(evs.length).toBe(before);
  });

  it("stop() before sync rejects start(); start() keeps retrying while the server is unreachable", async () => {
    const n = await ns("kinf-down");
    const { proxy, kubeconfig } = await startProxy();
    proxies.push(proxy);
    proxy.block(true);
    const restarts: string[] = [];
    const inf = informer({
      client: new KubeClient(loadKubeConfig(kubeconfig)),
      namespaces: [n],
      backoffBaseMs: 100,
      backoffMaxMs: 400,
      onRestart: (r) => restarts.push(r),
    });
    let synced = false;
    const started = inf.start().then(() => {
      synced = true;
    });
    await waitFor("a few retries", () => restarts.length >= 3, 10_000);
    expect(synced).toBe(false);
    proxy.block(false);
    await started;
    expect(inf.hasSynced()).toBe(true);
    const inf2 = informer({ client: new KubeClient(loadKubeConfig(kubeconfig)), namespaces: ["no-such-namespace-but-fine"] });
    proxy.block(true);
    const p = inf2.start();
    inf2.stop();
    await expect(p).rejects.toThrow(/stopped/);
    proxy.block(false);
  });

  it("says why it cannot sync when the API is not served (a missing CRD), and keeps retrying", async () => {
    const inf = informer({ apiVersion: "nothere.modelservice.dev/v1", plural: "widgets", backoffBaseMs: 20, backoffMaxMs: 200 });
    void inf.start().catch(() => {});
    const why = await waitFor("a sync error", () => inf.syncError(), 15_000, 50);
    expect(why).toMatch(/^cannot list widgets\.nothere\.modelservice\.dev\/v1: 404: .*\(is its CustomResourceDefinition installed\?\)$/);
    expect(inf.hasSynced()).toBe(false);
  });
});
