// Status of multi-node ModelServices: a replica is a LeaderWorkerSet group. The fixtures follow the
// ownership the LeaderWorkerSet controller sets up: LWS → leader StatefulSet → leader pods → one
// worker StatefulSet per leader → worker pods.
import type { V1Pod, V1StatefulSet } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { inNamespace, modelService, withSpec } from "../../test/support/model-service.ts";
import {
  crashLoopShape,
  GPU_MESSAGE,
  loadingShape,
  NOW,
  NS,
  type PodShape,
  pod,
  readyShape,
  terminated,
  unschedulableShape,
} from "../../test/support/status-fixtures.ts";
import { defaultOperatorConfig } from "../config/operator-config.ts";
import { computeStatus, type ObservedState } from "./compute.ts";
import type { LeaderWorkerSetView } from "./groups.ts";

const NAME = "llama-405b";
const LWS = `${NAME}-group`;
const ms = (replicas: number) =>
  modelService(NAME, inNamespace(NS), withSpec({ gpu: { count: 8 }, multiNode: { nodes: 2 }, replicas, adapters: [{ name: "sql", uri: "hf://o/sql" }] }));

const lws = (replicas: number, ready = 0): LeaderWorkerSetView => ({
  metadata: { name: LWS, uid: "lws-uid", generation: 1, annotations: { "modelservice.dev/generation": "1" } },
  spec: { replicas, leaderWorkerTemplate: { size: 2 } },
  status: { replicas, readyReplicas: ready, updatedReplicas: replicas },
});
const sts = (name: string, owner: { apiVersion: string; kind: string; name: string; uid: string }): V1StatefulSet => ({
  apiVersion: "apps/v1",
  kind: "StatefulSet",
  metadata: { name, namespace: NS, uid: `sts-${name}`, ownerReferences: [{ ...owner, controller: true }] },
});
const leaderSts = sts(LWS, { apiVersion: "leaderworkerset.x-k8s.io/v1", kind: "LeaderWorkerSet", name: LWS, uid: "lws-uid" });

/** The pods of group `g` (leader shape, worker shape) and the worker StatefulSet, owned as LWS owns them. */
function group(g: number, leader: PodShape, worker: PodShape | undefined): { pods: V1Pod[]; sets: V1StatefulSet[] } {
  const leaderName = `${LWS}-${g}`;
  const relabel = (p: V1Pod, name: string, index: number, owner: string, ownerUid: string): V1Pod => ({
    ...p,
    metadata: {
      ...p.metadata,
      name,
      uid: `pod-${name}`,
      labels: {
        "modelservice.dev/name": NAME,
        "leaderworkerset.sigs.k8s.io/group-index": String(g),
        "leaderworkerset.sigs.k8s.io/worker-index": String(index),
      },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "StatefulSet", name: owner, uid: ownerUid, controller: true }],
    },
  });
  const l = relabel(pod("x", leader), leaderName, 0, LWS, `sts-${LWS}`);
  const workerSet = sts(leaderName, { apiVersion: "v1", kind: "Pod", name: leaderName, uid: `pod-${leaderName}` });
  const pods = [l, ...(worker ? [relabel(pod("y", worker), `${leaderName}-1`, 1, leaderName, `sts-${leaderName}`)] : [])];
  return { pods, sets: [workerSet] };
}

function observe(replicas: number, groups: { pods: V1Pod[]; sets: V1StatefulSet[] }[], o: Partial<ObservedState> = {}): ObservedState {
  return {
    ms: ms(replicas),
    config: defaultOperatorConfig,
    now: NOW,
    replicaSets: [],
    pods: groups.flatMap((g) => g.pods),
    leaderWorkerSet: lws(replicas),
    statefulSets: [leaderSts, ...groups.flatMap((g) => g.sets)],
    ...o,
  };
}

const ready = (s: ReturnType<typeof computeStatus>["status"]) => s.conditions?.find((c) => c.type === "Ready");

describe("status of a ModelService whose replicas are LeaderWorkerSet groups", () => {
  it("counts a group as one replica, ready once all its pods run and the leader is ready; lists the adapters then", () => {
    const { status } = computeStatus(observe(1, [group(0, readyShape(), readyShape())]));
    expect(ready(status)).toMatchObject({ status: "True", reason: "Ready", message: "1/1 replicas ready" });
    expect(status).toMatchObject({ replicaSummary: "1/1", readyReplicas: 1, phase: "Ready", adapters: ["sql"] });
    expect(status.replicaPhases).toEqual({ scheduling: 0, loading: 0, ready: 1, failing: 0 });
  });

  it("a group whose leader still loads is Loading, and serves no adapter yet", () => {
    const { status } = computeStatus(observe(1, [group(0, loadingShape(120), readyShape())]));
    expect(ready(status)).toMatchObject({ status: "False", reason: "Loading" });
    expect(status.adapters).toBeUndefined();
  });

  it("a group missing its worker is not ready", () => {
    const { status } = computeStatus(observe(1, [group(0, readyShape(), undefined)]));
    expect(ready(status)).toMatchObject({ status: "False", reason: "Loading" });
    expect(status.readyReplicas).toBe(0);
  });

  it("a worker that cannot be scheduled makes its group InsufficientGPU, with pods × GPUs", () => {
    const { status } = computeStatus(observe(1, [group(0, readyShape(), unschedulableShape(GPU_MESSAGE))]));
    expect(ready(status)?.reason).toBe("InsufficientGPU");
    expect(ready(status)?.message).toContain("1 replica waiting for GPUs: each needs 2 pods × 8 nvidia.com/gpu, all on one GPU product");
    expect(status.phase).toBe("Scheduling");
  });

  it("a crashing worker is reported with its pod named, in the message and in lastFailure", () => {
    const { status } = computeStatus(observe(1, [group(0, loadingShape(60), crashLoopShape(terminated(1, "Error"), 3))]));
    expect(ready(status)?.reason).toBe("CrashLoop");
    expect(ready(status)?.message).toContain(`container engine of pod ${LWS}-0-1`);
    expect(status.lastFailure).toMatchObject({ reason: "CrashLoop", pod: `${LWS}-0-1`, container: "engine", exitCode: 1 });
  });

  it("scaled to two groups: one serves, the other waits for GPUs — Ready stays False with the counts", () => {
    const { status } = computeStatus(
      observe(2, [group(0, readyShape(), readyShape()), group(1, unschedulableShape(GPU_MESSAGE), unschedulableShape(GPU_MESSAGE))]),
    );
    expect(status.replicaSummary).toBe("1/2");
    expect(ready(status)).toMatchObject({ status: "False", reason: "InsufficientGPU" });
    expect(ready(status)?.message).toContain("1 replica waiting for GPUs: each needs 2 pods × 8");
    expect(status.phase).toBe("Degraded");
  });

  it("counts only pods that hang off its own LeaderWorkerSet by uid", () => {
    const foreign = group(0, readyShape(), readyShape());
    const otherLeaderSts = sts(LWS, { apiVersion: "leaderworkerset.x-k8s.io/v1", kind: "LeaderWorkerSet", name: LWS, uid: "someone-else" });
    const o = observe(1, [foreign], { statefulSets: [{ ...otherLeaderSts, metadata: { ...otherLeaderSts.metadata, uid: `sts-${LWS}` } }, ...foreign.sets] });
    const { status } = computeStatus(o);
    expect(status.readyReplicas).toBe(0);
    expect(ready(status)?.status).toBe("False");
  });

  it("before the LeaderWorkerSet exists, says it waits for it", () => {
    const { status } = computeStatus(observe(1, [], { leaderWorkerSet: undefined }));
    expect(ready(status)).toMatchObject({ status: "False", reason: "Pending", message: "waiting for the LeaderWorkerSet to be created" });
  });
});
