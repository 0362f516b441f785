// A user who may create pods but no ModelService cannot fill the operator's memory, nor confuse a
// ModelService's status, with pods that carry our name label: the operator's caches keep only pods
// a ReplicaSet controls (trimmed), and status counts only pods of the ModelService's own
// Deployment. Floods a namespace with labelled pods (held Pending by a scheduling gate, so the
// scheduler does no work) and looks into the operator's caches; prints its memory ([measure]).
import type { V1Pod } from "@kubernetes/client-node";
import { afterAll, describe, expect, it } from "vitest";
import { resourcePath } from "../../src/kube/client.ts";
import type { RunningOperator } from "../../src/operator/start.ts";
import { applyModelService, condition, getModelService, gpuSpec, isReady, startTestOperator, useTestNamespace, waitFor } from "./controller-helpers.ts";

const FLOOD = Number(process.env.MSO_FLOOD_PODS ?? 2000);
const fx = useTestNamespace("ctl-scope");
const ops: RunningOperator[] = [];

afterAll(async () => {
  for (const op of ops) await op.stop();
});

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
function memory(): { heap: number; rss: number } {
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

const gate = [{ name: "example.com/hold" }];
const labelledPod = (name: string): V1Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, labels: { "modelservice.dev/name": "m" }, annotations: { padding: "x".repeat(2048) } },
  spec: { schedulingGates: gate, containers: [{ name: "engine", image: "example.com/not-ours:1", args: ["--pad", "y".repeat(1024)] }] },
});

async function inBatches<T>(items: T[], size: number, fn: (t: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

const podsOf = (op: RunningOperator) => op.controller.pods.list(fx.ns);
const cacheSize = (op: RunningOperator) => JSON.stringify(op.controller.pods.list()).length + JSON.stringify(op.controller.replicaSets.list()).length;

describe("the operator's pod and ReplicaSet caches", () => {
  it(`hold none of ${FLOOD} labelled pods nobody controls, and status ignores a look-alike Deployment`, async () => {
    const c = fx.client;
    const op = await startTestOperator({ namespaces: [fx.ns] });
    ops.push(op);
    await applyModelService(c, fx.ns, "m", gpuSpec({ loadSeconds: 1 }));
    await waitFor("m Ready", async () => isReady(await getModelService(c, fx.ns, "m")), 90_000, 250);
    const ours = podsOf(op).map((p) => p.metadata?.name);
    expect(ours).toHaveLength(1);
    const before = memory();
    console.log(`[measure] operator before the flood: heap ${mib(before.heap)}, rss ${mib(before.rss)} (in-process, test worker included)`);

    const t0 = performance.now();
    const names = Array.from({ length: FLOOD }, (_, i) => `flood-${i}`);
    await inBatches(names, 25, (name) => c.request("POST", resourcePath({ apiVersion: "v1", plural: "pods", namespace: fx.ns }), { body: labelledPod(name) }));
    console.log(`[measure] created ${FLOOD} labelled pods in ${((performance.now() - t0) / 1000).toFixed(1)}s`);

    // A look-alike: the user's own Deployment whose pods carry our name label. Its ReplicaSet and
    // pod are controller-made, so cached; it is created after the flood, so once its pod is in the
    // cache, the pod watch has delivered every flood pod before it.
    await c.request("POST", resourcePath({ apiVersion: "apps/v1", plural: "deployments", namespace: fx.ns }), {
      body: {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "impostor", labels: { "modelservice.dev/name": "m" } },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: "impostor" } },
          template: {
            metadata: { labels: { app: "impostor", "modelservice.dev/name": "m" } },
            spec: { schedulingGates: gate, containers: [{ name: "engine", image: "example.com/not-ours:1" }] },
          },
        },
      },
    });
    const impostor = await waitFor(
      "the look-alike's pod in the operator's cache",
      () => podsOf(op).find((p) => p.metadata?.name?.startsWith("impostor-")),
      60_000,
    );
    const after = memory();
    console.log(
      `[measure] operator after the flood: heap ${mib(after.heap)} (${after.heap >= before.heap ? "+" : ""}${mib(after.heap - before.heap)}), rss ${mib(after.rss)} (${after.rss >= before.rss ? "+" : ""}${mib(after.rss - before.rss)}); cached pods ${op.controller.pods.list().length}, ReplicaSets ${op.controller.replicaSets.list().length}, ${(cacheSize(op) / 1024).toFixed(1)} KiB as JSON`,
    );

    const server = await c.request<{ items: V1Pod[] }>("GET", resourcePath({ apiVersion: "v1", plural: "pods", namespace: fx.ns }), {
      query: { labelSelector: "modelservice.dev/name=m" },
    });
    expect(server.items.length).toBeGreaterThanOrEqual(FLOOD + 2);
    const cached = podsOf(op).map((p) => p.metadata?.name ?? "");
    expect(cached.filter((n) => n.startsWith("flood-"))).toEqual([]);
    expect(cached.sort()).toEqual([...ours, impostor.metadata?.name].sort());
    // Trimmed: no pod spec beyond the node, no annotations, no managedFields.
    for (const p of podsOf(op)) {
      expect(Object.keys(p.spec ?? {}).filter((k) => k !== "nodeName")).toEqual([]);
      expect(p.metadata?.annotations).toBeUndefined();
      expect(p.metadata?.managedFields).toBeUndefined();
    }

    // The look-alike's Pending pod does not count for m: still Ready with one replica.
    op.controller.resync();
    await waitFor("a reconcile after the flood", async () => {
      const ms = await getModelService(c, fx.ns, "m");
      return ms?.status?.replicaPhases?.ready === 1 ? ms : undefined;
    });
    const ms = await getModelService(c, fx.ns, "m");
    expect(condition(ms, "Ready")?.status).toBe("True");
    expect(ms?.status?.replicaPhases).toEqual({ scheduling: 0, loading: 0, ready: 1, failing: 0 });

    // Released by its ReplicaSet (labels no longer match), the look-alike's pod leaves the cache.
    await c.request("PATCH", resourcePath({ apiVersion: "v1", plural: "pods", namespace: fx.ns, name: impostor.metadata?.name }), {
      body: { metadata: { labels: { app: "released" } } },
      contentType: "application/merge-patch+json",
    });
    await waitFor("the released pod to leave the cache", () => !podsOf(op).some((p) => p.metadata?.name === impostor.metadata?.name), 30_000);
  });

  it("hold none of them after a fresh start (initial list)", async () => {
    await ops[0]?.stop();
    const t0 = performance.now();
    const op = await startTestOperator({ namespaces: [fx.ns] });
    ops.push(op);
    const cached = podsOf(op).map((p) => p.metadata?.name ?? "");
    console.log(
      `[measure] operator start with ${FLOOD} foreign labelled pods in the namespace: caches synced in ${((performance.now() - t0) / 1000).toFixed(1)}s, ${cached.length} pods cached`,
    );
    expect(cached.filter((n) => n.startsWith("flood-"))).toEqual([]);
    expect(cached.filter((n) => n.startsWith("m-"))).toHaveLength(1);
    // The released pod (no controller) is not cached; the ReplicaSet's replacement is.
    expect(cached.filter((n) => n.startsWith("impostor-"))).toHaveLength(1);
  });
});
