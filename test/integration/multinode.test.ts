// Multi-node ModelServices end to end, with the real LeaderWorkerSet controller (sigs.k8s.io/lws
// v0.8.0, test/support/lws-controller.ts) on the local control plane. The operator starts before
// the LeaderWorkerSet CRD exists: the ModelService is Stalled with what to install; once the
// controller is there it converges without a restart. The fleet gets two more 8-GPU nodes of
// another H100 product for this file, so a group could straddle two products if nothing kept it on
// one. The CRD, the webhooks and the extra nodes are removed afterwards (the control plane is
// shared by the test files).

import { execFileSync } from "node:child_process";
import { join } from "node:path";
import type { V1Node, V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { resourcePath } from "../../src/kube/client.ts";
import { fleetNodes } from "../../src/localcluster/fleet.ts";
import { removeThirdPartyCrds } from "../../src/localcluster/third-party-crds.ts";
import { type LwsController, startLwsController } from "../support/lws-controller.ts";
import { applyModelService, auditWrites, condition, getModelService, isReady, kubeconfigPath, sleep, useOperator, waitFor } from "./controller-helpers.ts";

const fx = useOperator("multinode");
const NAME = "llama-405b";
const HBM3 = "NVIDIA-H100-80GB-HBM3";
const HBM3E = "NVIDIA-H100-80GB-HBM3e";
const extraNodes = fleetNodes({
  pools: [{ name: `h100e-${process.pid}`, count: 2, cpu: "192", memory: "2Ti", gpu: { resources: { "nvidia.com/gpu": 8 }, product: HBM3E, memoryMiB: 81559 } }],
});
let lws: LwsController | undefined;

const spec = {
  model: { uri: "hf://meta-llama/Llama-3.1-405B-Instruct" },
  engine: { type: "vLLM" },
  gpu: { count: 8, products: [HBM3, HBM3E] },
  multiNode: { nodes: 2 },
  replicas: 1,
  podMetadata: { annotations: { "modelservice.dev/simulate-load-seconds": "1" } },
};

const pods = async (): Promise<V1Pod[]> =>
  (await fx.client.request<{ items: V1Pod[] }>("GET", resourcePath({ apiVersion: "v1", plural: "pods", namespace: fx.ns }))).items.filter(
    (p) => p.metadata?.labels?.["modelservice.dev/name"] === NAME && !p.metadata?.deletionTimestamp,
  );
const nodeProducts = async (): Promise<Map<string, string>> => {
  const nodes = await fx.client.request<{ items: V1Node[] }>("GET", "/api/v1/nodes");
  return new Map(nodes.items.map((n) => [n.metadata?.name ?? "", n.metadata?.labels?.["nvidia.com/gpu.product"] ?? ""]));
};
const ms = () => getModelService(fx.client, fx.ns, NAME);

beforeAll(async () => {
  // Another file may have left the CRD (it is cluster-scoped): this one starts without it.
  await removeThirdPartyCrds(fx.client, ["lws"]);
  for (const n of extraNodes) await fx.client.request("POST", "/api/v1/nodes", { body: n });
});

afterAll(async () => {
  await lws?.stop();
  await removeThirdPartyCrds(fx.client, ["lws"]);
  for (const n of extraNodes) await fx.client.request("DELETE", `/api/v1/nodes/${n.metadata.name}`).catch(() => {});
});

describe("a ModelService over two nodes of 8 GPUs", () => {
  it("without the LeaderWorkerSet controller is Stalled, saying what to install, and applies nothing", async () => {
    await applyModelService(fx.client, fx.ns, NAME, spec);
    const got = await waitFor("Stalled", async () => {
      const m = await ms();
      return condition(m, "Stalled")?.status === "True" ? m : undefined;
    });
    expect(condition(got, "Ready")).toMatchObject({ status: "False", reason: "ApplyFailed" });
    expect(condition(got, "Ready")?.message).toContain("install LeaderWorkerSet (sigs.k8s.io/lws)");
    const svc = await fx.client.request("GET", resourcePath({ apiVersion: "v1", plural: "services", namespace: fx.ns, name: NAME })).then(
      () => true,
      () => false,
    );
    expect(svc).toBe(false);
  });

  it("once the controller runs, becomes Ready with its two pods on two nodes of one GPU product; the Service reaches the leader only", async () => {
    const t = performance.now();
    lws = await startLwsController(fx.client, { testBinDir: inject("testBinDir"), kubeconfig: kubeconfigPath() });
    console.log(`[measure] LeaderWorkerSet controller started and its webhooks registered in ${((performance.now() - t) / 1000).toFixed(1)}s`);
    const got = await waitFor("Ready", async () => ((m) => (isReady(m) ? m : undefined))(await ms()), 120_000);
    console.log(`[measure] multi-node ModelService Ready ${((performance.now() - t) / 1000).toFixed(1)}s after the controller started`);
    expect(got.status).toMatchObject({ replicaSummary: "1/1", readyReplicas: 1, phase: "Ready" });

    const group = await pods();
    expect(group).toHaveLength(2);
    const nodes = group.map((p) => p.spec?.nodeName ?? "");
    expect(new Set(nodes).size).toBe(2);
    const products = await nodeProducts();
    expect(new Set(nodes.map((n) => products.get(n))).size).toBe(1);
    for (const p of group) expect(p.spec?.containers[0]?.resources?.limits?.["nvidia.com/gpu"]).toBe("8");
    // The LeaderWorkerSet's pod webhook ran: the worker knows its leader.
    const worker = group.find((p) => p.metadata?.labels?.["leaderworkerset.sigs.k8s.io/worker-index"] === "1");
    expect(worker?.spec?.containers[0]?.env?.find((e) => e.name === "LWS_LEADER_ADDRESS")?.value).toMatch(new RegExp(`^${NAME}-group-0\\.`));

    const leader = group.find((p) => p.metadata?.labels?.["leaderworkerset.sigs.k8s.io/worker-index"] === "0");
    const slices = await waitFor("the Service's endpoints", async () => {
      const list = await fx.client.request<{ items: { endpoints?: { targetRef?: { name?: string } }[] }[] }>(
        "GET",
        `/apis/discovery.k8s.io/v1/namespaces/${fx.ns}/endpointslices?labelSelector=kubernetes.io/service-name=${NAME}`,
      );
      const eps = list.items.flatMap((s) => s.endpoints ?? []);
      return eps.length > 0 ? eps : undefined;
    });
    expect(slices.map((e) => e.targetRef?.name)).toEqual([leader?.metadata?.name]);
  });

  it("a resync of the settled group writes nothing (the LeaderWorkerSet's defaults do not look like drift)", async () => {
    await sleep(2000);
    const before = fx.op.controller.reconciles;
    const since = new Date();
    fx.op.controller.resync();
    await waitFor("a resync", () => fx.op.controller.reconciles > before, 20_000, 50);
    await sleep(1500);
    const writes = auditWrites({ since, userAgent: `modelservice-operator/${fx.op.identity}`, namespace: fx.ns }).filter(
      (w) => !w.uri.includes("/leases/") && !w.uri.includes("/events"),
    );
    expect(writes).toEqual([]);
    // The filter does see the operator's writes (the LeaderWorkerSet, the Service, the status), so zero is not vacuous.
    expect(auditWrites({ since: new Date(0), userAgent: `modelservice-operator/${fx.op.identity}`, namespace: fx.ns }).length).toBeGreaterThan(2);
  });

  it("a killed worker takes its group out of service and back, and the status says so meanwhile", async () => {
    const groupPods = await pods();
    const leader = groupPods.find((p) => p.metadata?.labels?.["leaderworkerset.sigs.k8s.io/worker-index"] === "0");
    const worker = groupPods.find((p) => p.metadata?.labels?.["leaderworkerset.sigs.k8s.io/worker-index"] === "1");
    expect(leader && worker).toBeTruthy();
    const t0 = performance.now();
    await fx.client.request("DELETE", resourcePath({ apiVersion: "v1", plural: "pods", namespace: fx.ns, name: worker?.metadata?.name ?? "" }), {
      query: { gracePeriodSeconds: "0" },
    });
    // While the group is recreated the model is not serving, and the status says it.
    const down = await waitFor(
      "Ready False while the group restarts",
      async () => ((m) => (condition(m, "Ready")?.status === "False" ? m : undefined))(await ms()),
      60_000,
      50,
    );
    expect(condition(down, "Ready")?.reason).toMatch(/^(Loading|Scheduling|Progressing|Pending)$/);
    expect(down.status?.readyReplicas ?? 0).toBe(0);
    const back = await waitFor("Ready again", async () => ((m) => (isReady(m) ? m : undefined))(await ms()), 120_000);
    expect(back.status?.replicaSummary).toBe("1/1");
    // A new worker serves in the group. (Whether the LWS controller also recreated the leader
    // depends on whether it saw the deletion before the StatefulSet replaced the pod: not asserted.)
    const newWorker = (await pods()).find((p) => p.metadata?.labels?.["leaderworkerset.sigs.k8s.io/worker-index"] === "1");
    expect(newWorker?.metadata?.uid).toBeDefined();
    expect(newWorker?.metadata?.uid).not.toBe(worker?.metadata?.uid);
    console.log(
      `[measure] worker killed → group Ready again in ${((performance.now() - t0) / 1000).toFixed(1)}s; meanwhile ${condition(down, "Ready")?.reason}: ${condition(down, "Ready")?.message}`,
    );
  });

  it("kubectl scale adds a group; a group that cannot fit reports InsufficientGPU with pods × GPUs", async () => {
    const kubectl = (...args: string[]) =>
      execFileSync(join(inject("binDir"), "kubectl"), ["--kubeconfig", kubeconfigPath(), "-n", fx.ns, ...args], { encoding: "utf8" });
    kubectl("scale", `modelservice/${NAME}`, "--replicas=2");
    const two = await waitFor(
      "two groups Ready",
      async () => ((m) => (isReady(m) && m?.status?.replicaSummary === "2/2" ? m : undefined))(await ms()),
      120_000,
    );
    expect(two.status?.readyReplicas).toBe(2);
    const lwsObj = await fx.client.request<{ spec: { replicas: number } }>(
      "GET",
      `/apis/leaderworkerset.x-k8s.io/v1/namespaces/${fx.ns}/leaderworkersets/${NAME}-group`,
    );
    expect(lwsObj.spec.replicas).toBe(2);
    // Each group on one product, each pod on its own node.
    const products = await nodeProducts();
    const byGroup = new Map<string, V1Pod[]>();
    for (const p of await pods()) {
      const g = p.metadata?.labels?.["leaderworkerset.sigs.k8s.io/group-index"] ?? "";
      byGroup.set(g, [...(byGroup.get(g) ?? []), p]);
    }
    expect([...byGroup.keys()].sort()).toEqual(["0", "1"]);
    for (const group of byGroup.values()) expect(new Set(group.map((p) => products.get(p.spec?.nodeName ?? ""))).size).toBe(1);
    expect(new Set([...byGroup.values()].flat().map((p) => p.spec?.nodeName)).size).toBe(4);

    kubectl("scale", `modelservice/${NAME}`, "--replicas=3");
    const stuck = await waitFor(
      "InsufficientGPU",
      async () => ((m) => (condition(m, "Ready")?.reason === "InsufficientGPU" ? m : undefined))(await ms()),
      60_000,
    );
    const ready = condition(stuck, "Ready");
    expect(ready?.status).toBe("False");
    expect(ready?.message).toContain("1 replica waiting for GPUs: each needs 2 pods × 8 nvidia.com/gpu, all on one GPU product");
    expect(stuck.status).toMatchObject({ replicaSummary: "2/3", phase: "Degraded" });
    expect(condition(stuck, "Stalled")?.status).toBe("False");
  });
});
