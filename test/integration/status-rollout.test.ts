// Two reasons end to end on the simulated fleet (issue 15, item 6), each as `kubectl describe msvc`
// shows it: RolloutBlocked (the L4 pool is full, a spec change's surge pod cannot be scheduled, the
// old revision keeps serving and Ready stays True; maxSurge 0 lets the rollout proceed), and
// TaintNotTolerated (a GPU node added with a taint the pods do not tolerate; Ready once they do).
import type { V1Node } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ModelService } from "../../src/api/types.ts";
import type { KubeClient } from "../../src/kube/client.ts";
import { fleetNodes } from "../../src/localcluster/fleet.ts";
import { installCrd } from "../../src/operator/install-crd.ts";
import type { RunningOperator } from "../../src/operator/start.ts";
import {
  applyModelService,
  condition,
  createNamespace,
  deleteNamespace,
  getModelService,
  startTestOperator,
  testClient,
  waitFor,
} from "./controller-helpers.ts";

let client: KubeClient;
let op: RunningOperator;
let rolloutNs: string;
let taintNs: string;
const TAINTED = fleetNodes({
  pools: [
    {
      name: "t4-tainted",
      count: 1,
      cpu: "32",
      memory: "128Gi",
      gpu: { resources: { "nvidia.com/gpu": 1 }, product: "NVIDIA-T4-TEST", memoryMiB: 15360 },
      taints: [{ key: "dedicated", value: "team-a", effect: "NoSchedule" }],
    },
  ],
})[0] as V1Node;

beforeAll(async () => {
  client = testClient();
  await installCrd(client);
  rolloutNs = await createNamespace(client, "rollout");
  taintNs = await createNamespace(client, "taint");
  await client.request("POST", "/api/v1/nodes", { body: TAINTED });
  op = await startTestOperator({ namespaces: [rolloutNs, taintNs] });
});

afterAll(async () => {
  await op?.stop();
  await client?.request("DELETE", `/api/v1/nodes/${TAINTED.metadata?.name}`).catch(() => {});
  for (const ns of [rolloutNs, taintNs]) if (ns) await deleteNamespace(client, ns);
  client?.close();
});

const shown = (ms: ModelService) => {
  const c = (t: string) => `${condition(ms, t)?.status}/${condition(ms, t)?.reason}`;
  return { ready: c("Ready"), phase: ms.status?.phase ?? "", reconciling: c("Reconciling"), stalled: c("Stalled") };
};

async function waitUntil(ns: string, name: string, what: string, ok: (ms: ModelService) => boolean, timeoutMs = 90_000): Promise<ModelService> {
  let last: ModelService | undefined;
  try {
    return await waitFor(
      `${ns}/${name}: ${what}`,
      async () => {
        last = await getModelService(client, ns, name);
        return last.status?.observedGeneration === last.metadata.generation && ok(last) ? last : undefined;
      },
      timeoutMs,
      200,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}\nlast status: ${JSON.stringify(last?.status?.conditions)}`);
  }
}

/** The whole L4 node (4 GPUs) for one replica: a surge pod cannot fit beside it. */
const l4 = (env: string, rollout?: Record<string, unknown>) => ({
  model: { uri: "hf://Qwen/Qwen2.5-0.5B-Instruct" },
  engine: { type: "vLLM", env: [{ name: "REVISION", value: env }] },
  gpu: { count: 4, products: ["NVIDIA-L4"] },
  replicas: 1,
  ...(rollout ? { rollout } : {}),
});

describe.concurrent("reasons on the simulated fleet", () => {
  it("RolloutBlocked: a full GPU pool keeps the old revision serving with Ready True; maxSurge 0 lets the rollout proceed", async () => {
    await applyModelService(client, rolloutNs, "m", l4("1"));
    await waitUntil(rolloutNs, "m", "Ready", (ms) => condition(ms, "Ready")?.reason === "Ready");

    await applyModelService(client, rolloutNs, "m", l4("2"));
    const blocked = await waitUntil(rolloutNs, "m", "RolloutBlocked", (ms) => condition(ms, "Ready")?.reason === "RolloutBlocked");
    expect(shown(blocked)).toEqual({ ready: "True/RolloutBlocked", phase: "Degraded", reconciling: "True/RolloutBlocked", stalled: "False/InsufficientGPU" });
    expect(condition(blocked, "Ready")?.message).toMatch(
      /^the previous revision serves 1\/1; the rollout of the new spec is blocked: 1 replica waiting for GPUs: each asks for 4 nvidia\.com\/gpu \(scheduler: .*Insufficient nvidia\.com\/gpu/,
    );

    const t0 = performance.now();
    await applyModelService(client, rolloutNs, "m", l4("2", { maxSurge: 0, maxUnavailable: 1 }));
    const done = await waitUntil(
      rolloutNs,
      "m",
      "Ready on the new revision",
      (ms) => condition(ms, "Ready")?.reason === "Ready" && ms.status?.phase === "Ready",
    );
    console.log(`[measure] RolloutBlocked → Ready after maxSurge 0: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    expect(shown(done)).toEqual({ ready: "True/Ready", phase: "Ready", reconciling: "False/Ready", stalled: "False/Ready" });
  });

  it("TaintNotTolerated on a tainted GPU pool; Ready once the pods tolerate the taint", async () => {
    const base = { model: { uri: "hf://Qwen/Qwen2.5-0.5B-Instruct" }, engine: { type: "vLLM" }, gpu: { count: 1, products: ["NVIDIA-T4-TEST"] }, replicas: 1 };
    await applyModelService(client, taintNs, "m", base);
    const ms = await waitUntil(taintNs, "m", "TaintNotTolerated", (m) => condition(m, "Ready")?.reason === "TaintNotTolerated");
    expect(shown(ms)).toEqual({
      ready: "False/TaintNotTolerated",
      phase: "Scheduling",
      reconciling: "True/TaintNotTolerated",
      stalled: "False/TaintNotTolerated",
    });
    expect(condition(ms, "Ready")?.message).toMatch(
      /^1 replica waiting: the nodes carry taints the pods do not tolerate \(add them to spec\.scheduling\.tolerations\) \(scheduler: 0\/\d+ nodes are available: 1 node\(s\) had untolerated taint\(s\), /,
    );

    const tolerations = [{ key: "dedicated", operator: "Equal", value: "team-a", effect: "NoSchedule" }];
    await applyModelService(client, taintNs, "m", { ...base, scheduling: { tolerations } });
    const ready = await waitUntil(
      taintNs,
      "m",
      "Ready and settled",
      (m) => condition(m, "Ready")?.reason === "Ready" && condition(m, "Reconciling")?.status === "False",
    );
    expect(shown(ready)).toEqual({ ready: "True/Ready", phase: "Ready", reconciling: "False/Ready", stalled: "False/Ready" });
  });
});
