// Each check of the verdict chain on its own: it answers for its state and passes (undefined) on
// every other. computeStatus end to end is covered in compute.test.ts.
import type { V1Deployment } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { withAutoscaling } from "../../test/support/model-service.ts";
import { deployment, llama, NOW, progressDeadlineExceeded, QUOTA_MESSAGE, replicaSet } from "../../test/support/status-fixtures.ts";
import { defaultOperatorConfig } from "../config/operator-config.ts";
import { resolve } from "../model/resolved.ts";
import type { PodDiagnosis } from "./pods.ts";
import { REASONS } from "./reasons.ts";
import {
  applyFailed,
  classProblem,
  deploymentBehind,
  deploymentMissing,
  invalidSpec,
  nameConflict,
  notReady,
  type ReplicaProblems,
  replicaProblems,
  rolloutBlocked,
  scaledToZero,
  servingVerdict,
  type Verdict,
  type VerdictInput,
  verdict,
} from "./verdict.ts";

const ms = llama();
const input = (o: Partial<VerdictInput> = {}): VerdictInput & { deployment: V1Deployment } => ({
  spec: ms.spec,
  resolved: resolve(ms, defaultOperatorConfig),
  generation: 1,
  now: NOW.getTime(),
  desired: 2,
  diags: [],
  currentReady: 0,
  oldReady: 0,
  oldLive: 0,
  ...o,
  ...({ deployment: "deployment" in o ? o.deployment : deployment() } as { deployment: V1Deployment }),
});
const ready = (pod: string): PodDiagnosis => ({ pod, bucket: "ready", reason: REASONS.Ready, stalled: false });
const waitingForGpu = (pod: string): PodDiagnosis => ({ pod, bucket: "scheduling", reason: REASONS.InsufficientGPU, stalled: false });
const loading = (pod: string): PodDiagnosis => ({
  pod,
  bucket: "loading",
  reason: REASONS.Loading,
  stalled: false,
  stage: "load",
  since: NOW.getTime() - 120_000,
});
const crashing = (pod: string, stalled: boolean): PodDiagnosis => ({
  pod,
  bucket: "failing",
  reason: REASONS.CrashLoop,
  stalled,
  container: "engine",
  detail: "exit code 1",
});
const none: ReplicaProblems = { list: [], stall: undefined };

const summary = (v: Verdict | undefined) =>
  v && {
    phase: v.phase,
    ready: `${v.ready.status}/${v.ready.reason}`,
    reconciling: `${v.reconciling.status}/${v.reconciling.reason}`,
    stalled: `${v.stalled.status}/${v.stalled.reason}`,
  };

describe("invalidSpec", () => {
  it("passes when render accepted the spec", () => {
    expect(invalidSpec(input())).toBeUndefined();
    expect(invalidSpec(input({ invalidSpec: [] }))).toBeUndefined();
  });
  it("is Stalled and Failed, listing each problem with its field", () => {
    const v = invalidSpec(input({ invalidSpec: [{ path: "spec.model.uri", message: "Triton cannot load hf://" }] }));
    expect(summary(v)).toEqual({ phase: "Failed", ready: "False/InvalidSpec", reconciling: "False/InvalidSpec", stalled: "True/InvalidSpec" });
    expect(v?.ready.message).toBe("the spec is invalid: spec.model.uri: Triton cannot load hf://");
  });
  it("is Degraded while the existing Deployment still serves the previous spec", () => {
    const v = invalidSpec(input({ invalidSpec: [{ path: "spec.x", message: "bad" }], currentReady: 2 }));
    expect(v?.phase).toBe("Degraded");
    expect(v?.ready.message).toContain("the existing Deployment keeps serving 2 replicas of the previous spec");
  });
});

describe("classProblem", () => {
  const violation = {
    reason: REASONS.ClassViolation,
    message: "spec.service.type: NodePort is not allowed by ModelServiceClass gpu-shared (allowed: ClusterIP)",
  };
  const missing = { reason: REASONS.ClassNotFound, message: "spec.className: ModelServiceClass gone does not exist" };
  it.each([
    ["no class problem", {}, undefined],
    [
      "a violation: Stalled, nothing can fix it but a change",
      { classProblem: violation },
      { phase: "Failed", ready: "False/ClassViolation", reconciling: "False/ClassViolation", stalled: "True/ClassViolation" },
    ],
    [
      "a violation while the previous spec serves",
      { classProblem: violation, currentReady: 1 },
      { phase: "Degraded", ready: "False/ClassViolation", reconciling: "False/ClassViolation", stalled: "True/ClassViolation" },
    ],
    [
      "a missing class: not Stalled, it may be created next",
      { classProblem: missing },
      { phase: "Failed", ready: "False/ClassNotFound", reconciling: "True/ClassNotFound", stalled: "False/ClassNotFound" },
    ],
  ] as const)("%s", (_name, o, want) => {
    const v = classProblem(input(o as Partial<VerdictInput>));
    expect(v ? summary(v) : undefined).toEqual(want);
  });
  it("says the class's lines as they are, and comes before everything but an invalid spec in the chain", () => {
    expect(verdict(input({ classProblem: violation, conflicts: ["Service ml/x"] })).ready.message).toBe(violation.message);
    expect(verdict(input({ classProblem: violation, invalidSpec: [{ path: "spec.x", message: "bad" }] })).ready.reason).toBe(REASONS.InvalidSpec);
  });
});

describe("nameConflict", () => {
  it("passes without conflicts", () => {
    expect(nameConflict(input({ conflicts: [] }))).toBeUndefined();
  });
  it("names each taken object and what to do", () => {
    const v = nameConflict(input({ conflicts: ["Service ml/m"], deployment: undefined }));
    expect(summary(v)).toEqual({ phase: "Failed", ready: "False/NameConflict", reconciling: "False/NameConflict", stalled: "True/NameConflict" });
    expect(v?.ready.message).toBe("Service ml/m already exists and is not owned by this ModelService; rename or delete it");
  });
});

describe("applyFailed", () => {
  it("passes without an apply error", () => {
    expect(applyFailed(input())).toBeUndefined();
  });
  it("quotes the API server's refusal", () => {
    const v = applyFailed(input({ applyError: "applying Deployment m: 422: no GPUs for you", oldReady: 1 }));
    expect(summary(v)).toEqual({ phase: "Degraded", ready: "False/ApplyFailed", reconciling: "False/ApplyFailed", stalled: "True/ApplyFailed" });
    expect(v?.ready.message).toMatch(/^applying the children failed: .*no GPUs for you.*; the existing Deployment keeps serving 1 replica$/);
  });
  it("keeps Ready False while a persisting transient failure is retried, even with every replica serving", () => {
    const v = verdict(input({ applyError: "applying HorizontalPodAutoscaler m: 500: cannot convert float64 to int32", applyRetrying: true, currentReady: 1 }));
    expect(summary(v)).toEqual({ phase: "Degraded", ready: "False/ApplyFailed", reconciling: "True/ApplyFailed", stalled: "False/ApplyFailed" });
    expect(v.ready.message).toMatch(
      /^applying the children failed: .*cannot convert float64 to int32.*; retrying; the existing Deployment keeps serving 1 replica$/,
    );
  });
});

describe("deploymentMissing", () => {
  it("is Pending until the Deployment exists", () => {
    expect(summary(deploymentMissing(input({ deployment: undefined })))).toEqual({
      phase: "Pending",
      ready: "False/Pending",
      reconciling: "True/Pending",
      stalled: "False/Pending",
    });
    expect(deploymentMissing(input())).toBeUndefined();
  });
});

describe("deploymentBehind", () => {
  it("passes once the Deployment controller observed the current spec", () => {
    expect(deploymentBehind(input())).toBeUndefined();
  });
  it("is Progressing while the Deployment controller has not observed the new generation", () => {
    const v = deploymentBehind(input({ deployment: deployment({ generation: 2, observedGeneration: 1 }), oldReady: 2 }));
    expect(summary(v)).toEqual({ phase: "Pending", ready: "False/Progressing", reconciling: "True/Progressing", stalled: "False/Progressing" });
    expect(v?.ready.message).toBe("waiting for the Deployment controller to observe the new spec; the previous revision still serves 2 replicas");
  });
  it("is Progressing when the cached Deployment was rendered from an older ModelService generation", () => {
    const v = deploymentBehind(input({ generation: 3, deployment: deployment({ annotations: { "modelservice.dev/generation": "2" } }) }));
    expect(v?.ready.message).toBe("the Deployment has not been updated to generation 3 yet");
  });
});

describe("scaledToZero", () => {
  it("is Ready and Idle when zero replicas are desired", () => {
    expect(summary(scaledToZero(input({ desired: 0 })))).toEqual({
      phase: "Idle",
      ready: "True/ScaledToZero",
      reconciling: "False/ScaledToZero",
      stalled: "False/ScaledToZero",
    });
    expect(scaledToZero(input({ desired: 1 }))).toBeUndefined();
  });
});

describe("replicaProblems", () => {
  it("groups replicas by reason, most important first, and marks the first stalled one", () => {
    const p = replicaProblems(input({ diags: [loading("a"), crashing("b", true), ready("c")], currentReady: 1, desired: 3 }));
    expect(p.list.map((q) => q.reason)).toEqual([REASONS.CrashLoop, REASONS.Loading]);
    expect(p.stall?.reason).toBe(REASONS.CrashLoop);
  });
  it("counts replicas not created yet", () => {
    const p = replicaProblems(input({ diags: [ready("a")], currentReady: 1, desired: 3 }));
    expect(p.list).toEqual([{ reason: REASONS.Progressing, parts: ["2 replicas not created yet"], stalled: false }]);
  });
  it("reads a quota refusal from the new ReplicaSet instead", () => {
    const p = replicaProblems(input({ newRs: replicaSet(1, { failure: QUOTA_MESSAGE }), desired: 2 }));
    expect(p.list.map((q) => q.reason)).toEqual([REASONS.QuotaExceeded]);
    expect(p.list[0]?.parts[0]).toMatch(/^2 replicas cannot be created: exceeded quota gpu-quota/);
  });
  it("reports a rollout past its deadline as stalled", () => {
    const dep = deployment();
    dep.status = { ...dep.status, conditions: [progressDeadlineExceeded] };
    const p = replicaProblems(input({ deployment: dep, diags: [ready("a"), ready("b")], currentReady: 2 }));
    expect(p.stall?.reason).toBe(REASONS.ProgressDeadlineExceeded);
  });
});

describe("servingVerdict", () => {
  it("is Ready when every desired replica of the current revision serves", () => {
    expect(summary(servingVerdict(input({ currentReady: 2 }), none))).toEqual({
      phase: "Ready",
      ready: "True/Ready",
      reconciling: "False/Ready",
      stalled: "False/Ready",
    });
  });
  it("passes while fewer serve than required", () => {
    expect(servingVerdict(input({ currentReady: 1 }), none)).toBeUndefined();
  });
  it("with autoscaling, needs only the floor: scaling up is work in progress on a model that serves", () => {
    const auto = llama(withAutoscaling({ minReplicas: 1, maxReplicas: 4, target: { cpuUtilization: 80 } }));
    const x = input({
      spec: auto.spec,
      resolved: resolve(auto, defaultOperatorConfig),
      desired: 3,
      currentReady: 1,
      diags: [ready("a"), loading("b"), loading("c")],
    });
    const v = servingVerdict(x, replicaProblems(x));
    expect(summary(v)).toEqual({ phase: "Ready", ready: "True/Ready", reconciling: "True/Loading", stalled: "False/Ready" });
    expect(v?.reconciling.message).toMatch(/^scaling up to 3 replicas: 2 of 3 replicas loading the model/);
  });
  it("says RollingOut while replicas of the previous revision are being removed", () => {
    expect(servingVerdict(input({ currentReady: 2, oldLive: 1 }), none)?.reconciling).toEqual({
      status: "True",
      reason: REASONS.RollingOut,
      message: "the new revision serves 2/2; 1 replica of the previous revision being removed",
    });
  });
  it("is Degraded when an extra replica fails, and Stalled stays False", () => {
    const x = input({ desired: 2, currentReady: 2, diags: [ready("a"), ready("b"), crashing("c", true)] });
    expect(summary(servingVerdict(x, replicaProblems(x)))).toEqual({
      phase: "Degraded",
      ready: "True/Ready",
      reconciling: "True/CrashLoop",
      stalled: "False/Ready",
    });
  });
});

describe("rolloutBlocked", () => {
  it("keeps Ready True while the previous revision serves every desired replica", () => {
    const x = input({ oldReady: 2, diags: [waitingForGpu("a")] });
    const v = rolloutBlocked(x, replicaProblems(x));
    expect(summary(v)).toEqual({ phase: "Degraded", ready: "True/RolloutBlocked", reconciling: "True/RolloutBlocked", stalled: "False/InsufficientGPU" });
    expect(v?.ready.message).toMatch(/^the previous revision serves 2\/2; the rollout of the new spec is blocked: 1 replica waiting for GPUs/);
  });
  it("is not Ready when the previous revision serves fewer than desired", () => {
    const x = input({ oldReady: 1, diags: [waitingForGpu("a")] });
    expect(summary(rolloutBlocked(x, replicaProblems(x)))?.ready).toBe("False/InsufficientGPU");
  });
  it("passes when nothing old serves, or the new replicas fail rather than wait", () => {
    const noOld = input({ diags: [waitingForGpu("a")] });
    expect(rolloutBlocked(noOld, replicaProblems(noOld))).toBeUndefined();
    const failing = input({ oldReady: 2, diags: [crashing("a", false)] });
    expect(rolloutBlocked(failing, replicaProblems(failing))).toBeUndefined();
  });
});

describe("notReady", () => {
  it("is Loading while the replicas load, with elapsed time against the budget", () => {
    const x = input({ diags: [loading("a"), loading("b")] });
    const v = notReady(x, replicaProblems(x));
    expect(summary(v)).toEqual({ phase: "Loading", ready: "False/Loading", reconciling: "True/Loading", stalled: "False/Loading" });
    expect(v.ready.message).toBe("2 of 2 replicas loading the model for 2m (budget 30m)");
  });
  it("is Failed and Stalled on a stalled failure with nothing serving", () => {
    const x = input({ diags: [crashing("a", true), crashing("b", true)] });
    expect(summary(notReady(x, replicaProblems(x)))).toEqual({
      phase: "Failed",
      ready: "False/CrashLoop",
      reconciling: "False/CrashLoop",
      stalled: "True/CrashLoop",
    });
  });
  it("is Scheduling while replicas wait for GPUs", () => {
    const x = input({ diags: [waitingForGpu("a"), waitingForGpu("b")] });
    expect(notReady(x, replicaProblems(x)).phase).toBe("Scheduling");
  });
});

describe("verdict: the chain", () => {
  it("takes the first check that answers", () => {
    const all = { invalidSpec: [{ path: "spec.x", message: "bad" }], conflicts: ["Service ml/m"], applyError: "422: no" };
    expect(verdict(input(all)).ready.reason).toBe(REASONS.InvalidSpec);
    expect(verdict(input({ ...all, invalidSpec: undefined })).ready.reason).toBe(REASONS.NameConflict);
    expect(verdict(input({ ...all, invalidSpec: undefined, conflicts: undefined })).ready.reason).toBe(REASONS.ApplyFailed);
    expect(verdict(input({ deployment: undefined, desired: 0 })).ready.reason).toBe(REASONS.Pending);
    expect(verdict(input({ deployment: deployment({ generation: 2, observedGeneration: 1 }), desired: 0 })).ready.reason).toBe(REASONS.Progressing);
    expect(verdict(input({ desired: 0, diags: [crashing("a", true)] })).ready.reason).toBe(REASONS.ScaledToZero);
    expect(verdict(input({ currentReady: 2, diags: [ready("a"), ready("b")] })).ready.reason).toBe(REASONS.Ready);
    expect(verdict(input({ oldReady: 2, diags: [waitingForGpu("a")] })).ready.reason).toBe(REASONS.RolloutBlocked);
    expect(verdict(input({ diags: [waitingForGpu("a"), waitingForGpu("b")] })).ready.reason).toBe(REASONS.InsufficientGPU);
  });
});
