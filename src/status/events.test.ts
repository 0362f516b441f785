import { describe, expect, it } from "vitest";
import {
  crashLoopShape,
  deployment,
  GPU_MESSAGE,
  loadingShape,
  NOT_FOUND_PULL,
  NOW,
  observed,
  pod,
  readyShape,
  terminated,
  unschedulableShape,
  waitingShape,
  withStatus,
} from "../../test/support/status-fixtures.ts";
import type { ModelServiceStatus } from "../api/types.ts";
import { computeStatus } from "./compute.ts";
import { jsonEqual, onlyProgress, statusChanged, transitionEvents } from "./events.ts";

const later = (s: number) => new Date(NOW.getTime() + s * 1000);

describe("statusChanged", () => {
  it("is false for the same status computed twice from the same input", () => {
    const o = observed({ deployment: deployment({ ready: 1 }), pods: [pod("a", readyShape()), pod("b", loadingShape(300))] });
    expect(statusChanged(computeStatus(o).status, computeStatus(o).status)).toBe(false);
  });

  it("ignores key order and undefined properties, sees every real change", () => {
    const a: ModelServiceStatus = { phase: "Ready", replicas: 1, url: undefined };
    expect(statusChanged(a, { replicas: 1, phase: "Ready" })).toBe(false);
    expect(statusChanged(a, { replicas: 2, phase: "Ready" })).toBe(true);
    expect(statusChanged(undefined, { phase: "Pending" })).toBe(true);
    expect(statusChanged(undefined, {})).toBe(false);
  });

  it("compares arrays in order and nested objects deeply", () => {
    expect(jsonEqual({ c: [{ a: 1 }, { b: 2 }] }, { c: [{ a: 1 }, { b: 2 }] })).toBe(true);
    expect(jsonEqual({ c: [{ a: 1 }, { b: 2 }] }, { c: [{ b: 2 }, { a: 1 }] })).toBe(false);
    expect(jsonEqual({ c: [1] }, { c: { 0: 1 } })).toBe(false);
    expect(jsonEqual({ a: null }, { a: undefined })).toBe(false);
  });
});

describe("transitionEvents", () => {
  it("emits nothing when nothing changed", () => {
    const o = observed({ deployment: deployment({ replicas: 1 }), pods: [pod("a", crashLoopShape(terminated(137, "OOMKilled"), 3))] });
    const s = computeStatus(o).status;
    const again = computeStatus(withStatus(o, s, later(10))).status;
    expect(transitionEvents(s, again)).toEqual([]);
  });

  it("a Normal event for a phase change to Ready", () => {
    const o = observed({ deployment: deployment({ replicas: 1 }), pods: [pod("a", loadingShape(60))] });
    const loading = computeStatus(o).status;
    const ready = computeStatus({
      ...withStatus(o, loading, later(600)),
      deployment: deployment({ replicas: 1, ready: 1 }),
      pods: [pod("a", readyShape())],
    }).status;
    expect(transitionEvents(loading, ready)).toEqual([{ type: "Normal", reason: "Ready", message: "Loading -> Ready: 1/1 replicas ready" }]);
  });

  it("a Warning for a failure, plus one for the new lastFailure reason when it differs", () => {
    const o = observed({ deployment: deployment({ replicas: 1 }), pods: [pod("a", loadingShape(60))] });
    const loading = computeStatus(o).status;
    const gpu = computeStatus({ ...withStatus(o, loading, later(60)), pods: [pod("a", unschedulableShape(GPU_MESSAGE))] }).status;
    const ev = transitionEvents(loading, gpu);
    expect(ev).toHaveLength(1);
    expect(ev[0]).toMatchObject({ type: "Warning", reason: "InsufficientGPU" });
    expect(ev[0]?.message).toContain("Loading -> Scheduling: 1 replica waiting for GPUs");

    const pull = computeStatus({ ...withStatus(o, gpu, later(120)), pods: [pod("a", waitingShape("ErrImagePull", NOT_FOUND_PULL))] }).status;
    expect(transitionEvents(gpu, pull).map((e) => `${e.type}/${e.reason}`)).toEqual(["Warning/ImagePullFailed"]);
  });

  it("a Warning for a new kind of failure on a replica even when Ready's reason stays", () => {
    const prev: ModelServiceStatus = {
      phase: "Failed",
      conditions: [{ type: "Ready", status: "False", reason: "CredentialsMissing", message: "m", lastTransitionTime: "2026-11-28T10:00:00Z" }],
    };
    const next: ModelServiceStatus = {
      ...prev,
      lastFailure: {
        reason: "OOMKilled",
        message: "container engine ran out of memory",
        pod: "p",
        container: "engine",
        exitCode: 137,
        time: "2026-11-28T10:00:00Z",
      },
    };
    expect(transitionEvents(prev, next)).toEqual([
      { type: "Warning", reason: "OOMKilled", message: "pod p, container engine: container engine ran out of memory" },
    ]);
    expect(transitionEvents(next, next)).toEqual([]);
  });

  it("the first status emits one event", () => {
    const s = computeStatus(observed({ replicaSets: [] })).status;
    expect(transitionEvents(undefined, s)).toEqual([{ type: "Normal", reason: "Pending", message: "Pending: waiting for the Deployment to be created" }]);
  });

  it("no Event from one progress step to the next (the pods' own Events tell them)", () => {
    const pending = computeStatus(observed({ deployment: deployment({ replicas: 1 }), replicaSets: [] })).status;
    const loading = computeStatus(observed({ deployment: deployment({ replicas: 1 }), pods: [pod("a", loadingShape(60))] })).status;
    expect(loading.conditions?.find((c) => c.type === "Ready")?.reason).toBe("Loading");
    expect(pending.phase).not.toBe(loading.phase);
    expect(transitionEvents(pending, loading)).toEqual([]);
    // Woken from zero is not a mere step: it is written at once and announced.
    const activating: ModelServiceStatus = {
      ...pending,
      conditions: pending.conditions?.map((c) => (c.type === "Ready" ? { ...c, reason: "Activating", message: "woken from zero by KEDA" } : c)),
    };
    expect(onlyProgress(pending, activating)).toBe(false);
    expect(transitionEvents(pending, activating)).toEqual([{ type: "Normal", reason: "Activating", message: `${pending.phase}: woken from zero by KEDA` }]);
  });

  it("RolloutBlocked is a Warning, ScaledToZero is Normal", () => {
    const mk = (phase: ModelServiceStatus["phase"], status: "True" | "False", reason: string): ModelServiceStatus => ({
      phase,
      conditions: [{ type: "Ready", status, reason, message: "", lastTransitionTime: "2026-11-28T10:00:00Z" }],
    });
    expect(transitionEvents(mk("Ready", "True", "Ready"), mk("Degraded", "True", "RolloutBlocked"))[0]?.type).toBe("Warning");
    expect(transitionEvents(mk("Ready", "True", "Ready"), mk("Idle", "True", "ScaledToZero"))[0]?.type).toBe("Normal");
  });
});

describe("onlyProgress", () => {
  const o = observed({ deployment: deployment({ replicas: 2 }), pods: [pod("a", loadingShape(60))] });
  const loading = computeStatus(o).status;

  it("holds for a step between progress reasons or replica counts of the same generation", () => {
    const pending = computeStatus(observed({ deployment: deployment({ replicas: 2 }), replicaSets: [] })).status;
    expect(onlyProgress(pending, loading)).toBe(true);
    const twoLoading = computeStatus({ ...o, pods: [pod("a", loadingShape(60)), pod("b", loadingShape(30))] }).status;
    expect(statusChanged(loading, twoLoading)).toBe(true);
    expect(onlyProgress(loading, twoLoading)).toBe(true);
  });

  it("does not hold for Ready turning, a failure, a replica waiting for GPUs, a new generation, or a first status", () => {
    const ready = computeStatus({ ...o, deployment: deployment({ replicas: 2, ready: 2 }), pods: [pod("a", readyShape()), pod("b", readyShape())] }).status;
    expect(onlyProgress(loading, ready)).toBe(false);
    const crash = computeStatus({ ...o, pods: [pod("a", crashLoopShape(terminated(1, "Error"), 5))] }).status;
    expect(onlyProgress(loading, crash)).toBe(false);
    const gpu = computeStatus({ ...o, pods: [pod("a", unschedulableShape(GPU_MESSAGE))] }).status;
    expect(onlyProgress(loading, gpu)).toBe(false);
    expect(onlyProgress(loading, { ...loading, observedGeneration: (loading.observedGeneration ?? 1) + 1 })).toBe(false);
    expect(onlyProgress(undefined, loading)).toBe(false);
  });

  it("holds while serving during a rollout (Reconciling RollingOut), not once the rollout is done", () => {
    const cond = (type: string, status: "True" | "False", reason: string, message = "") => ({
      type,
      status,
      reason,
      message,
      lastTransitionTime: "2026-11-28T10:00:00Z",
    });
    const rolling = (ready: number): ModelServiceStatus => ({
      phase: "Ready",
      readyReplicas: ready,
      replicaSummary: `${ready}/4`,
      conditions: [
        cond("Ready", "True", "Ready", `${ready}/4 replicas ready`),
        cond("Reconciling", "True", "RollingOut", `the new revision serves ${ready}/4`),
      ],
    });
    expect(onlyProgress(rolling(2), rolling(3))).toBe(true);
    const done: ModelServiceStatus = {
      ...rolling(4),
      conditions: [cond("Ready", "True", "Ready", "4/4 replicas ready"), cond("Reconciling", "False", "Ready")],
    };
    expect(onlyProgress(rolling(3), done)).toBe(false);
  });
});
