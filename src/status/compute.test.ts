import type { V1ContainerStatus } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { havingStatus, withAutoscaling, withGeneration, withSpec } from "../../test/support/model-service.ts";
import {
  AFFINITY_MESSAGE,
  ago,
  crashLoopShape,
  deployment,
  downloadingShape,
  GPU_MESSAGE,
  llama,
  loadingShape,
  minutes,
  NOT_FOUND_PULL,
  NOW,
  observed,
  pendingShape,
  pod,
  podEvent,
  progressDeadlineExceeded,
  QUOTA_MESSAGE,
  RATE_LIMIT_PULL,
  readyShape,
  replicaSet,
  TAINT_MESSAGE,
  terminated,
  unschedulableShape,
  waitingShape,
  withStatus,
} from "../../test/support/status-fixtures.ts";
import type { Condition, ModelServiceStatus } from "../api/types.ts";
import { computeStatus, LOADING_REFRESH_MS, SPEC_GENERATION_ANNOTATION } from "./compute.ts";
import { statusChanged } from "./events.ts";

const conditionOf = (s: ModelServiceStatus, type: string): Condition => {
  const c = s.conditions?.find((x) => x.type === type);
  if (!c) throw new Error(`no ${type} condition`);
  return c;
};
const summary = (s: ModelServiceStatus) => ({
  phase: s.phase,
  ready: `${conditionOf(s, "Ready").status}/${conditionOf(s, "Ready").reason}`,
  reconciling: `${conditionOf(s, "Reconciling").status}/${conditionOf(s, "Reconciling").reason}`,
  stalled: `${conditionOf(s, "Stalled").status}/${conditionOf(s, "Stalled").reason}`,
});
const readyMessage = (s: ModelServiceStatus) => conditionOf(s, "Ready").message;

describe("computeStatus: one reason at a time", () => {
  const gpu16 = llama(withSpec({ gpu: { count: 16 } }));
  const cases: {
    name: string;
    o: Parameters<typeof computeStatus>[0];
    want: ReturnType<typeof summary>;
    message?: (string | RegExp)[];
    notInMessage?: string[];
    phases?: { scheduling: number; loading: number; ready: number; failing: number };
  }[] = [
    {
      name: "no Deployment yet: Pending",
      o: observed({ replicaSets: [] }),
      want: { phase: "Pending", ready: "False/Pending", reconciling: "True/Pending", stalled: "False/Pending" },
      message: ["waiting for the Deployment to be created"],
    },
    {
      name: "Deployment not yet observed by its controller: Progressing",
      o: observed({ deployment: deployment({ generation: 2, observedGeneration: 1 }) }),
      want: { phase: "Pending", ready: "False/Progressing", reconciling: "True/Progressing", stalled: "False/Progressing" },
    },
    {
      name: "Deployment rendered from an older ModelService generation: Progressing",
      o: observed({
        ms: llama(withGeneration(3)),
        deployment: deployment({ ready: 2, annotations: { [SPEC_GENERATION_ANNOTATION]: "2" } }),
        pods: [pod("a", readyShape()), pod("b", readyShape())],
      }),
      want: { phase: "Pending", ready: "False/Progressing", reconciling: "True/Progressing", stalled: "False/Progressing" },
      message: ["generation 3"],
    },
    {
      name: "all replicas serve: Ready",
      o: observed({ deployment: deployment({ ready: 2 }), pods: [pod("a", readyShape()), pod("b", readyShape())] }),
      want: { phase: "Ready", ready: "True/Ready", reconciling: "False/Ready", stalled: "False/Ready" },
      message: ["2/2 replicas ready"],
      phases: { scheduling: 0, loading: 0, ready: 2, failing: 0 },
    },
    {
      name: "pods not yet scheduled, no reason yet: Scheduling",
      o: observed({ deployment: deployment(), pods: [pod("a", pendingShape()), pod("b", pendingShape())] }),
      want: { phase: "Scheduling", ready: "False/Scheduling", reconciling: "True/Scheduling", stalled: "False/Scheduling" },
      message: ["2 replicas waiting to be scheduled"],
      phases: { scheduling: 2, loading: 0, ready: 0, failing: 0 },
    },
    {
      name: "replicas not created yet: Progressing",
      o: observed({ deployment: deployment(), pods: [] }),
      want: { phase: "Pending", ready: "False/Progressing", reconciling: "True/Progressing", stalled: "False/Progressing" },
      message: ["2 replicas not created yet"],
    },
    {
      name: "GPUs all taken: InsufficientGPU, not stalled",
      o: observed({ ms: gpu16, deployment: deployment(), pods: [pod("a", unschedulableShape(GPU_MESSAGE)), pod("b", unschedulableShape(GPU_MESSAGE))] }),
      want: { phase: "Scheduling", ready: "False/InsufficientGPU", reconciling: "True/InsufficientGPU", stalled: "False/InsufficientGPU" },
      message: [
        "2 replicas waiting for GPUs: each asks for 16 nvidia.com/gpu",
        "0/6 nodes are available: 2 Insufficient nvidia.com/gpu, 2 node(s) had untolerated taint {nvidia.com/gpu: present}, 2 node(s) didn't match Pod's node affinity/selector",
      ],
      notInMessage: ["preemption"],
      phases: { scheduling: 2, loading: 0, ready: 0, failing: 0 },
    },
    {
      name: "a non-default GPU resource: InsufficientGPU names it",
      o: observed({
        ms: llama(withSpec({ replicas: 1, gpu: { count: 2, resourceName: "amd.com/gpu" } })),
        deployment: deployment({ replicas: 1 }),
        pods: [
          pod(
            "a",
            unschedulableShape(
              "0/3 nodes are available: 3 Insufficient amd.com/gpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
            ),
          ),
        ],
      }),
      want: { phase: "Scheduling", ready: "False/InsufficientGPU", reconciling: "True/InsufficientGPU", stalled: "False/InsufficientGPU" },
      message: ["1 replica waiting for GPUs: each asks for 2 amd.com/gpu"],
    },
    {
      name: "no node has the GPU product: NoMatchingNode",
      o: observed({
        ms: llama(withSpec({ gpu: { count: 1, products: ["NVIDIA-H100-80GB-HBM3"], minMemoryMiB: 80000 } })),
        deployment: deployment(),
        pods: [pod("a", unschedulableShape(AFFINITY_MESSAGE)), pod("b", unschedulableShape(AFFINITY_MESSAGE))],
      }),
      want: { phase: "Scheduling", ready: "False/NoMatchingNode", reconciling: "True/NoMatchingNode", stalled: "False/NoMatchingNode" },
      message: ["no node matches GPU product NVIDIA-H100-80GB-HBM3, at least 80000 MiB per GPU", "4 node(s) didn't match"],
    },
    {
      name: "nodes carry a taint the pods do not tolerate: TaintNotTolerated",
      o: observed({ deployment: deployment(), pods: [pod("a", unschedulableShape(TAINT_MESSAGE)), pod("b", unschedulableShape(TAINT_MESSAGE))] }),
      want: { phase: "Scheduling", ready: "False/TaintNotTolerated", reconciling: "True/TaintNotTolerated", stalled: "False/TaintNotTolerated" },
      message: ["spec.scheduling.tolerations", "{dedicated: inference}"],
    },
    {
      name: "other scheduling failures: Unschedulable with the scheduler's words",
      o: observed({
        deployment: deployment({ replicas: 1 }),
        pods: [
          pod(
            "a",
            unschedulableShape(
              "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
            ),
          ),
        ],
      }),
      want: { phase: "Scheduling", ready: "False/Unschedulable", reconciling: "True/Unschedulable", stalled: "False/Unschedulable" },
      message: ["unbound immediate PersistentVolumeClaims"],
    },
    {
      name: "namespace quota exhausted (ReplicaSet ReplicaFailure): QuotaExceeded, not stalled",
      o: observed({
        deployment: deployment(),
        replicaSets: [replicaSet(1, { failure: QUOTA_MESSAGE })],
        pods: [],
      }),
      want: { phase: "Failed", ready: "False/QuotaExceeded", reconciling: "True/QuotaExceeded", stalled: "False/QuotaExceeded" },
      message: ["2 replicas cannot be created: exceeded quota gpu-quota, requested: requests.nvidia.com/gpu=8"],
    },
    {
      name: "quota reported on the Deployment's ReplicaFailure condition",
      o: observed({
        deployment: deployment({
          conditions: [
            { type: "ReplicaFailure", status: "True", reason: "FailedCreate", message: QUOTA_MESSAGE },
            { type: "Progressing", status: "True", reason: "ReplicaSetUpdated" },
          ],
        }),
        pods: [pod("a", readyShape())],
      }),
      want: { phase: "Degraded", ready: "False/QuotaExceeded", reconciling: "True/QuotaExceeded", stalled: "False/QuotaExceeded" },
      message: ["1 replica cannot be created"],
    },
    {
      name: "pod creation forbidden by admission: PodCreationFailed, stalled",
      o: observed({
        deployment: deployment({ replicas: 1 }),
        replicaSets: [
          replicaSet(1, {
            failure: 'pods "llama-31-8b-1d4f7b9c8-abcde" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false',
          }),
        ],
      }),
      want: { phase: "Failed", ready: "False/PodCreationFailed", reconciling: "False/PodCreationFailed", stalled: "True/PodCreationFailed" },
      message: ["violates PodSecurity"],
    },
    {
      name: "image tag does not exist: ImagePullFailed, stalled",
      o: observed({ deployment: deployment({ replicas: 1 }), pods: [pod("a", waitingShape("ErrImagePull", NOT_FOUND_PULL))] }),
      want: { phase: "Failed", ready: "False/ImagePullFailed", reconciling: "False/ImagePullFailed", stalled: "True/ImagePullFailed" },
      message: ['cannot pull "vllm/vllm-openai:v0.11.0" (ErrImagePull: failed to pull', "not found"],
      phases: { scheduling: 0, loading: 0, ready: 0, failing: 1 },
    },
    {
      name: "registry rate limit: ImagePullFailed, not stalled (it clears)",
      o: observed({ deployment: deployment({ replicas: 1 }), pods: [pod("a", waitingShape("ImagePullBackOff", RATE_LIMIT_PULL))] }),
      want: { phase: "Failed", ready: "False/ImagePullFailed", reconciling: "True/ImagePullFailed", stalled: "False/ImagePullFailed" },
      message: ["toomanyrequests"],
    },
    {
      name: "malformed image reference: ImagePullFailed, stalled",
      o: observed({
        deployment: deployment({ replicas: 1 }),
        pods: [pod("a", waitingShape("InvalidImageName", 'Failed to apply default image tag "vllm/VLLM:latest": couldn\'t parse image name'))],
      }),
      want: { phase: "Failed", ready: "False/ImagePullFailed", reconciling: "False/ImagePullFailed", stalled: "True/ImagePullFailed" },
    },
    {
      name: "engine exits with an error: CrashLoop, not yet stalled",
      o: observed({
        deployment: deployment({ replicas: 1 }),
        pods: [
          pod(
            "a",
            crashLoopShape(
              terminated(1, "Error", 30, "Traceback (most recent call last):\n  ...\nValueError: max_model_len 131072 is larger than the KV cache can hold\n"),
              3,
            ),
          ),
        ],
      }),
      want: { phase: "Failed", ready: "False/CrashLoop", reconciling: "True/CrashLoop", stalled: "False/CrashLoop" },
      message: ["1 replica crash-looping (container engine: exit code 1, 3 restarts: ValueError: max_model_len 131072"],
      phases: { scheduling: 0, loading: 0, ready: 0, failing: 1 },
    },
    {
      name: "engine keeps crashing after 5 restarts: CrashLoop, stalled",
      o: observed({ deployment: deployment({ replicas: 1 }), pods: [pod("a", crashLoopShape(terminated(1, "Error"), 6))] }),
      want: { phase: "Failed", ready: "False/CrashLoop", reconciling: "False/CrashLoop", stalled: "True/CrashLoop" },
    },
    {
      name: "killed by the kernel for memory: OOMKilled",
      o: observed({ deployment: deployment({ replicas: 1 }), pods: [pod("a", crashLoopShape(terminated(137, "OOMKilled"), 2))] }),
      want: { phase: "Failed", ready: "False/OOMKilled", reconciling: "True/OOMKilled", stalled: "False/OOMKilled" },
      message: ["out of memory", "exit code 137", "spec.resources.limits.memory"],
    },
    {
      name: "exit code 137 without a reason is treated as OOMKilled",
      o: observed({ deployment: deployment({ replicas: 1 }), pods: [pod("a", crashLoopShape({ exitCode: 137, finishedAt: ago(10) }, 1))] }),
      want: { phase: "Failed", ready: "False/OOMKilled", reconciling: "True/OOMKilled", stalled: "False/OOMKilled" },
      message: ["most likely out of memory"],
    },
    {
      name: "Secret missing: CredentialsMissing names the Secret and its field, not stalled",
      o: observed({ deployment: deployment({ replicas: 1 }), pods: [pod("a", waitingShape("CreateContainerConfigError", 'secret "hf-token" not found'))] }),
      want: { phase: "Failed", ready: "False/CredentialsMissing", reconciling: "True/CredentialsMissing", stalled: "False/CredentialsMissing" },
      message: ['Secret "hf-token" (spec.model.credentialsSecret) does not exist in namespace ml'],
    },
    {
      name: "key missing in the Secret: CredentialsMissing names the key",
      o: observed({
        deployment: deployment({ replicas: 1 }),
        pods: [pod("a", waitingShape("CreateContainerConfigError", "couldn't find key HF_TOKEN in Secret ml/hf-token"))],
      }),
      want: { phase: "Failed", ready: "False/CredentialsMissing", reconciling: "True/CredentialsMissing", stalled: "False/CredentialsMissing" },
      message: ['Secret "hf-token" (spec.model.credentialsSecret) has no key "HF_TOKEN"'],
    },
    {
      name: "missing ConfigMap: ContainerConfigError",
      o: observed({
        deployment: deployment({ replicas: 1 }),
        pods: [pod("a", waitingShape("CreateContainerConfigError", 'configmap "chat-template" not found'))],
      }),
      want: { phase: "Failed", ready: "False/ContainerConfigError", reconciling: "True/ContainerConfigError", stalled: "False/ContainerConfigError" },
      message: ['ConfigMap "chat-template" does not exist'],
    },
    {
      name: "the engine binary cannot start: ContainerStartFailed",
      o: observed({
        deployment: deployment({ replicas: 1 }),
        pods: [pod("a", waitingShape("RunContainerError", 'failed to create containerd task: exec: "vllm": executable file not found in $PATH'))],
      }),
      want: { phase: "Failed", ready: "False/ContainerStartFailed", reconciling: "True/ContainerStartFailed", stalled: "False/ContainerStartFailed" },
      message: ["executable file not found"],
    },
    {
      name: "loading within the budget: Loading",
      o: observed({ deployment: deployment({ ready: 1 }), pods: [pod("a", readyShape()), pod("b", loadingShape(192))] }),
      want: { phase: "Loading", ready: "False/Loading", reconciling: "True/Loading", stalled: "False/Loading" },
      message: ["1 of 2 replicas loading the model for 3m (budget 30m)"],
      phases: { scheduling: 0, loading: 1, ready: 1, failing: 0 },
    },
    {
      name: "downloading the weights in the init container: Loading",
      o: observed({
        ms: llama(withSpec({ replicas: 1, model: { uri: "s3://models/llama" } })),
        deployment: deployment({ replicas: 1 }),
        pods: [pod("a", downloadingShape(minutes(7)))],
      }),
      want: { phase: "Loading", ready: "False/Loading", reconciling: "True/Loading", stalled: "False/Loading" },
      message: ["1 of 1 replica downloading the weights for 7m"],
    },
    {
      name: "pulling the image: Loading (starting)",
      o: observed({ deployment: deployment({ replicas: 1 }), pods: [pod("a", waitingShape("ContainerCreating"))] }),
      want: { phase: "Loading", ready: "False/Loading", reconciling: "True/Loading", stalled: "False/Loading" },
      message: ["1 of 1 replica starting"],
    },
    {
      name: "running but not ready beyond the budget: StartupTimeout, stalled",
      o: observed({ deployment: deployment({ replicas: 1 }), pods: [pod("a", loadingShape(minutes(31)))] }),
      want: { phase: "Failed", ready: "False/StartupTimeout", reconciling: "False/StartupTimeout", stalled: "True/StartupTimeout" },
      message: ["not ready within the startup budget of 30m", "spec.startup.timeoutSeconds"],
      phases: { scheduling: 0, loading: 0, ready: 0, failing: 1 },
    },
    {
      name: "custom budget from spec.startup.timeoutSeconds",
      o: observed({
        ms: llama(withSpec({ replicas: 1, startup: { timeoutSeconds: 600 } })),
        deployment: deployment({ replicas: 1 }),
        pods: [pod("a", loadingShape(minutes(11)))],
      }),
      want: { phase: "Failed", ready: "False/StartupTimeout", reconciling: "False/StartupTimeout", stalled: "True/StartupTimeout" },
      message: ["budget of 10m"],
    },
    {
      name: "Deployment gave up: ProgressDeadlineExceeded, stalled",
      o: observed({ deployment: deployment({ replicas: 1, conditions: [progressDeadlineExceeded] }), pods: [pod("a", loadingShape(minutes(20)))] }),
      want: {
        phase: "Failed",
        ready: "False/ProgressDeadlineExceeded",
        reconciling: "False/ProgressDeadlineExceeded",
        stalled: "True/ProgressDeadlineExceeded",
      },
      message: ["no progress within the Deployment's deadline of 32m", "1 of 1 replica loading"],
    },
    {
      name: "spec.replicas 0: Idle, Ready, not reconciling",
      o: observed({ ms: llama(withSpec({ replicas: 0 })), deployment: deployment({ replicas: 0 }) }),
      want: { phase: "Idle", ready: "True/ScaledToZero", reconciling: "False/ScaledToZero", stalled: "False/ScaledToZero" },
      message: ["parked: spec.replicas is 0"],
    },
    {
      name: "render refused the spec: InvalidSpec, stalled",
      o: observed({
        invalidSpec: [
          { path: "engine.image", message: "engine.image is required when engine.type is Custom" },
          { path: "cache", message: "spec.cache is required for s3:// and gs:// models" },
        ],
      }),
      want: { phase: "Failed", ready: "False/InvalidSpec", reconciling: "False/InvalidSpec", stalled: "True/InvalidSpec" },
      message: ["engine.image: engine.image is required when engine.type is Custom; cache: spec.cache is required"],
    },
    {
      name: "invalid spec while the old Deployment still serves: Degraded",
      o: observed({
        deployment: deployment({ ready: 2 }),
        pods: [pod("a", readyShape()), pod("b", readyShape())],
        invalidSpec: [{ path: "gpu", message: "gpu.products needs gpu.count > 0" }],
      }),
      want: { phase: "Degraded", ready: "False/InvalidSpec", reconciling: "False/InvalidSpec", stalled: "True/InvalidSpec" },
      message: ["keeps serving 2 replicas of the previous spec"],
    },
    {
      name: "apply rejected by admission: ApplyFailed, stalled",
      o: observed({ applyError: 'admission webhook "validate.kyverno.svc" denied the request: resource Deployment/ml/llama-31-8b was blocked' }),
      want: { phase: "Failed", ready: "False/ApplyFailed", reconciling: "False/ApplyFailed", stalled: "True/ApplyFailed" },
      message: ["denied the request"],
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const { status } = computeStatus(c.o);
      expect(summary(status)).toEqual(c.want);
      for (const m of c.message ?? []) expect(readyMessage(status)).toContain(m);
      for (const m of c.notInMessage ?? []) expect(readyMessage(status)).not.toContain(m);
      if (c.phases) expect(status.replicaPhases).toEqual(c.phases);
      for (const cond of status.conditions ?? []) expect(cond.message.length).toBeLessThanOrEqual(1024);
    });
  }
});

describe("computeStatus: status fields", () => {
  it("fills counts, summary, selector, url and observedGeneration everywhere", () => {
    const { status } = computeStatus(
      observed({
        ms: llama(withGeneration(7)),
        deployment: deployment({ ready: 1, updated: 2, total: 2 }),
        pods: [pod("a", readyShape()), pod("b", loadingShape(60))],
        url: "http://llama-31-8b.ml.svc.cluster.local",
      }),
    );
    expect(status).toMatchObject({
      observedGeneration: 7,
      replicas: 2,
      readyReplicas: 1,
      updatedReplicas: 2,
      replicaSummary: "1/2",
      selector: "modelservice.dev/name=llama-31-8b",
      url: "http://llama-31-8b.ml.svc.cluster.local",
    });
    expect(status.conditions?.map((c) => c.type)).toEqual(["Ready", "Reconciling", "Stalled"]);
    for (const c of status.conditions ?? []) {
      expect(c.observedGeneration).toBe(7);
      expect(c.lastTransitionTime).toBe("2026-11-28T10:00:00Z");
    }
  });

  it("without a Deployment reports the replicas the spec asks for", () => {
    const { status } = computeStatus(observed({ ms: llama(withSpec({ replicas: 3 })), replicaSets: [] }));
    expect(status.replicaSummary).toBe("0/3");
    expect(status.replicas).toBe(0);
  });

  it("ignores pods being deleted and evicted pods", () => {
    const evicted = pod("c", { phase: "Failed", conditions: [] });
    const { status } = computeStatus(
      observed({
        deployment: deployment({ ready: 2 }),
        pods: [pod("a", readyShape()), pod("b", readyShape()), pod("x", loadingShape(60), { deleting: true }), evicted],
      }),
    );
    expect(summary(status).ready).toBe("True/Ready");
    expect(status.replicaPhases).toEqual({ scheduling: 0, loading: 0, ready: 2, failing: 0 });
  });

  it("accepts timestamps as RFC 3339 strings (plain JSON from the API)", () => {
    const p = JSON.parse(JSON.stringify(pod("a", loadingShape(minutes(31)))));
    const { status } = computeStatus(observed({ deployment: deployment({ replicas: 1 }), pods: [p] }));
    expect(summary(status).ready).toBe("False/StartupTimeout");
  });

  it("keeps every message under 1024 characters with many failing replicas", () => {
    const long = `Traceback:\n${"x ".repeat(3000)}RuntimeError: ${"y".repeat(2000)}`;
    const pods = Array.from({ length: 40 }, (_, i) =>
      pod(`p${i}`, i % 2 ? crashLoopShape(terminated(1, "Error", 30, long), 2) : unschedulableShape(GPU_MESSAGE.repeat(5))),
    );
    const { status } = computeStatus(observed({ ms: llama(withSpec({ replicas: 40 })), deployment: deployment({ replicas: 40 }), pods }));
    for (const c of status.conditions ?? []) expect(c.message.length).toBeLessThanOrEqual(1024);
    expect((status.lastFailure?.message ?? "").length).toBeLessThanOrEqual(1024);
  });

  it("never copies secret values from container messages or apply errors", () => {
    const leak = "RuntimeError: login failed with token=hf_abcdefghijklmnopqrstuvwxyz012345 for HF_TOKEN";
    const { status } = computeStatus(
      observed({ deployment: deployment({ replicas: 1 }), pods: [pod("a", crashLoopShape(terminated(1, "Error", 30, leak), 3))] }),
    );
    expect(JSON.stringify(status)).not.toContain("hf_abcdefghijklmnopqrstuvwxyz012345");
    expect(readyMessage(status)).toContain("[redacted]");
    const applied = computeStatus(observed({ applyError: "Secret data: password=hunter2 rejected" })).status;
    expect(JSON.stringify(applied)).not.toContain("hunter2");
  });
});

describe("computeStatus: several problems at once (precedence)", () => {
  it("a crash loop outranks replicas waiting for GPUs, and the message counts both", () => {
    const { status } = computeStatus(
      observed({
        ms: llama(withSpec({ replicas: 3, gpu: { count: 16 } })),
        deployment: deployment({ replicas: 3 }),
        pods: [pod("a", unschedulableShape(GPU_MESSAGE)), pod("b", unschedulableShape(GPU_MESSAGE)), pod("c", crashLoopShape(terminated(1, "Error"), 2))],
      }),
    );
    expect(summary(status).ready).toBe("False/CrashLoop");
    expect(readyMessage(status)).toMatch(/^1 replica crash-looping .*; 2 replicas waiting for GPUs: each asks for 16 nvidia\.com\/gpu/);
    expect(status.replicaPhases).toEqual({ scheduling: 2, loading: 0, ready: 0, failing: 1 });
  });

  it("missing credentials outrank an OOM kill", () => {
    const { status } = computeStatus(
      observed({
        deployment: deployment(),
        pods: [pod("a", crashLoopShape(terminated(137, "OOMKilled"), 1)), pod("b", waitingShape("CreateContainerConfigError", 'secret "hf-token" not found'))],
      }),
    );
    expect(summary(status).ready).toBe("False/CredentialsMissing");
    expect(readyMessage(status)).toMatch(/hf-token.*; 1 replica out of memory/);
  });

  it("a pod-level cause outranks ProgressDeadlineExceeded, which still makes it Stalled", () => {
    const { status } = computeStatus(
      observed({ deployment: deployment({ replicas: 1, conditions: [progressDeadlineExceeded] }), pods: [pod("a", unschedulableShape(GPU_MESSAGE))] }),
    );
    expect(summary(status)).toEqual({
      phase: "Scheduling",
      ready: "False/InsufficientGPU",
      reconciling: "False/ProgressDeadlineExceeded",
      stalled: "True/ProgressDeadlineExceeded",
    });
  });

  it("serving fewer than desired because a new replica has no GPU: Degraded", () => {
    const { status } = computeStatus(
      observed({
        deployment: deployment({ replicas: 3, ready: 2 }),
        pods: [pod("a", readyShape()), pod("b", readyShape()), pod("c", unschedulableShape(GPU_MESSAGE))],
      }),
    );
    expect(summary(status)).toEqual({
      phase: "Degraded",
      ready: "False/InsufficientGPU",
      reconciling: "True/InsufficientGPU",
      stalled: "False/InsufficientGPU",
    });
  });

  it("one replica crash-looping next to a ready one: Degraded", () => {
    const { status } = computeStatus(
      observed({ deployment: deployment({ ready: 1 }), pods: [pod("a", readyShape()), pod("b", crashLoopShape(terminated(1, "Error"), 2))] }),
    );
    expect(summary(status).phase).toBe("Degraded");
    expect(summary(status).ready).toBe("False/CrashLoop");
  });

  it("the cluster autoscaler adding a node is mentioned", () => {
    const p = pod("a", unschedulableShape(GPU_MESSAGE));
    const { status } = computeStatus(
      observed({
        deployment: deployment({ replicas: 1 }),
        pods: [p],
        events: [podEvent(p, "TriggeredScaleUp", "pod triggered scale-up: [{gpu-h100 1->2 (max: 4)}]", { type: "Normal" })],
      }),
    );
    expect(readyMessage(status)).toContain("the cluster autoscaler is adding a node");
  });
});

describe("computeStatus: probes and restarts", () => {
  it("a container killed by its startup probe is StartupTimeout, not OOMKilled (Events tell)", () => {
    const p = pod("a", crashLoopShape(terminated(137, "Error"), 1));
    const { status } = computeStatus(
      observed({
        deployment: deployment({ replicas: 1 }),
        pods: [p],
        events: [podEvent(p, "Killing", "Container engine failed startup probe, will be restarted", { type: "Normal", container: "engine" })],
      }),
    );
    expect(summary(status).ready).toBe("False/StartupTimeout");
    expect(summary(status).stalled).toBe("True/StartupTimeout");
  });

  it("a container killed by its liveness probe is a CrashLoop", () => {
    const p = pod("a", crashLoopShape(terminated(137, "Error"), 2));
    const events = [podEvent(p, "Killing", "Container engine failed liveness probe, will be restarted", { type: "Normal", container: "engine" })];
    const { status } = computeStatus(observed({ deployment: deployment({ replicas: 1 }), pods: [p], events }));
    expect(summary(status).ready).toBe("False/CrashLoop");
    expect(readyMessage(status)).toContain("liveness probe");
  });

  it("running again after one crash is Loading; after repeated crashes it stays CrashLoop (no flapping)", () => {
    const once = computeStatus(
      observed({ deployment: deployment({ replicas: 1 }), pods: [pod("a", loadingShape(60, { restarts: 1, lastTerminated: terminated(1, "Error", 70) }))] }),
    );
    expect(summary(once.status).ready).toBe("False/Loading");
    expect(once.status.lastFailure?.reason).toBe("CrashLoop");
    const twice = computeStatus(
      observed({ deployment: deployment({ replicas: 1 }), pods: [pod("a", loadingShape(60, { restarts: 2, lastTerminated: terminated(1, "Error", 70) }))] }),
    );
    expect(summary(twice.status).ready).toBe("False/CrashLoop");
  });

  it("a failed model download is reported on the init container", () => {
    const shape = downloadingShape(60);
    shape.initContainerStatuses = [
      {
        name: "model-download",
        image: "amazon/aws-cli:2.31.13",
        imageID: "",
        ready: false,
        restartCount: 3,
        state: { waiting: { reason: "CrashLoopBackOff" } },
        lastState: { terminated: terminated(1, "Error", 20, "An error occurred (AccessDenied) when calling the GetObject operation: Access Denied") },
      },
    ];
    const { status } = computeStatus(observed({ deployment: deployment({ replicas: 1 }), pods: [pod("a", shape)] }));
    expect(summary(status).ready).toBe("False/CrashLoop");
    expect(readyMessage(status)).toContain("init container model-download");
    expect(readyMessage(status)).toContain("AccessDenied");
    expect(status.lastFailure).toMatchObject({ reason: "CrashLoop", container: "model-download", exitCode: 1 });
  });

  it("a LoRA adapter being fetched counts as downloading, and its failure names its init container", () => {
    const shape = downloadingShape(60);
    const fetching = { ...(shape.initContainerStatuses?.[0] as V1ContainerStatus), name: "adapter-download-hf" };
    shape.initContainerStatuses = [fetching];
    const loading = computeStatus(observed({ deployment: deployment({ replicas: 1 }), pods: [pod("a", shape)] }));
    expect(readyMessage(loading.status)).toContain("downloading the weights");
    shape.initContainerStatuses = [
      {
        ...fetching,
        restartCount: 3,
        state: { waiting: { reason: "CrashLoopBackOff" } },
        lastState: { terminated: terminated(1, "Error", 20, "401 Unauthorized") },
      },
    ];
    const { status } = computeStatus(observed({ deployment: deployment({ replicas: 1 }), pods: [pod("a", shape)] }));
    expect(readyMessage(status)).toContain("init container adapter-download-hf");
  });
});

describe("computeStatus: rollouts", () => {
  const twoRevisions = [replicaSet(1), replicaSet(2)];

  it("new revision cannot get GPUs while the old one serves: Ready stays True, RolloutBlocked", () => {
    const { status } = computeStatus(
      observed({
        ms: llama(withGeneration(2)),
        deployment: deployment({ generation: 2, revision: 2, ready: 2, updated: 1, total: 3 }),
        replicaSets: twoRevisions,
        pods: [pod("a", readyShape(), { rev: 1 }), pod("b", readyShape(), { rev: 1 }), pod("c", unschedulableShape(GPU_MESSAGE), { rev: 2 })],
      }),
    );
    expect(summary(status)).toEqual({ phase: "Degraded", ready: "True/RolloutBlocked", reconciling: "True/RolloutBlocked", stalled: "False/InsufficientGPU" });
    expect(conditionOf(status, "Reconciling").message).toMatch(
      /previous revision serves 2\/2; the rollout of the new spec is blocked: 1 replica waiting for GPUs/,
    );
    expect(status.replicaPhases).toEqual({ scheduling: 1, loading: 0, ready: 2, failing: 0 });
  });

  it("a normal rollout: the new replica loads while the old ones serve", () => {
    const { status } = computeStatus(
      observed({
        ms: llama(withGeneration(2)),
        deployment: deployment({ generation: 2, revision: 2, ready: 2, updated: 1, total: 3 }),
        replicaSets: twoRevisions,
        pods: [pod("a", readyShape(), { rev: 1 }), pod("b", readyShape(), { rev: 1 }), pod("c", loadingShape(120), { rev: 2 })],
      }),
    );
    expect(summary(status)).toEqual({ phase: "Loading", ready: "False/Loading", reconciling: "True/Loading", stalled: "False/Loading" });
    expect(readyMessage(status)).toContain("the previous revision still serves 2 replicas");
  });

  it("old revision failures do not count; the new revision's state does", () => {
    const { status } = computeStatus(
      observed({
        deployment: deployment({ revision: 2, ready: 2 }),
        replicaSets: twoRevisions,
        pods: [pod("a", crashLoopShape(terminated(1, "Error"), 9), { rev: 1 }), pod("b", readyShape(), { rev: 2 }), pod("c", readyShape(), { rev: 2 })],
      }),
    );
    expect(summary(status)).toEqual({ phase: "Ready", ready: "True/Ready", reconciling: "True/RollingOut", stalled: "False/Ready" });
    expect(status.replicaPhases).toEqual({ scheduling: 0, loading: 0, ready: 2, failing: 0 });
  });
});

describe("computeStatus: stability (no hot loops)", () => {
  const scenarios = {
    ready: observed({ deployment: deployment({ ready: 2 }), pods: [pod("a", readyShape()), pod("b", readyShape())] }),
    loading: observed({ deployment: deployment({ ready: 1 }), pods: [pod("a", readyShape()), pod("b", loadingShape(192))] }),
    imagePull: observed({ deployment: deployment({ replicas: 1 }), pods: [pod("a", waitingShape("ImagePullBackOff", NOT_FOUND_PULL))] }),
    gpu: observed({ deployment: deployment(), pods: [pod("a", unschedulableShape(GPU_MESSAGE)), pod("b", unschedulableShape(GPU_MESSAGE))] }),
    crash: observed({ deployment: deployment({ replicas: 1 }), pods: [pod("a", crashLoopShape(terminated(137, "OOMKilled"), 4))] }),
  };
  for (const [name, o] of Object.entries(scenarios)) {
    it(`${name}: recomputing 10 s later with the written status changes nothing`, () => {
      const first = computeStatus(o).status;
      const second = computeStatus(withStatus(o, first, new Date(NOW.getTime() + 10_000))).status;
      expect(statusChanged(first, second)).toBe(false);
      expect(second).toEqual(first);
    });
  }

  it("keeps lastTransitionTime when only the reason changes, updates it when the status flips", () => {
    const o = observed({ deployment: deployment({ replicas: 1 }), pods: [pod("a", unschedulableShape(GPU_MESSAGE))] });
    const first = computeStatus(o).status;
    const later = new Date(NOW.getTime() + minutes(5) * 1000);
    const loading = computeStatus({ ...withStatus(o, first, later), pods: [pod("a", loadingShape(60))] }).status;
    expect(summary(loading).ready).toBe("False/Loading");
    expect(conditionOf(loading, "Ready").lastTransitionTime).toBe("2026-11-28T10:00:00Z");
    const evenLater = new Date(NOW.getTime() + minutes(15) * 1000);
    const ready = computeStatus({
      ...withStatus(o, loading, evenLater),
      deployment: deployment({ replicas: 1, ready: 1 }),
      pods: [pod("a", readyShape())],
    }).status;
    expect(conditionOf(ready, "Ready")).toMatchObject({ status: "True", lastTransitionTime: "2026-11-28T10:15:00Z" });
    expect(conditionOf(ready, "Reconciling")).toMatchObject({ status: "False", lastTransitionTime: "2026-11-28T10:15:00Z" });
    expect(conditionOf(ready, "Stalled")).toMatchObject({ status: "False", lastTransitionTime: "2026-11-28T10:00:00Z" });
  });

  it("conditions carry the new generation after a spec change", () => {
    const o = observed({ deployment: deployment({ ready: 2 }), pods: [pod("a", readyShape()), pod("b", readyShape())] });
    const first = computeStatus(o).status;
    const next = computeStatus({ ...withStatus(o, first), ms: llama(withGeneration(2), havingStatus(first)) }).status;
    expect(next.observedGeneration).toBe(2);
    expect(next.conditions?.every((c) => c.observedGeneration === 2)).toBe(true);
    expect(statusChanged(first, next)).toBe(true);
  });
});

describe("computeStatus: lastFailure", () => {
  it("records the newest failure with pod, container, exit code and time", () => {
    const { status } = computeStatus(
      observed({
        deployment: deployment(),
        pods: [pod("a", crashLoopShape(terminated(137, "OOMKilled", 30), 3)), pod("b", crashLoopShape(terminated(1, "Error", 300), 3))],
      }),
    );
    expect(status.lastFailure).toEqual({
      reason: "OOMKilled",
      message: expect.stringContaining("ran out of memory"),
      pod: "llama-31-8b-1d4f7b9c8-a",
      container: "engine",
      exitCode: 137,
      time: "2026-11-28T09:59:30Z",
    });
  });

  it("keeps the previous failure when nothing new happened (the pod is gone)", () => {
    const prevFailure = { reason: "OOMKilled", pod: "llama-31-8b-1d4f7b9c8-old", container: "engine", exitCode: 137, time: "2026-11-28T09:00:00Z" };
    const { status } = computeStatus(
      observed({
        ms: llama(havingStatus({ lastFailure: prevFailure })),
        deployment: deployment({ ready: 2 }),
        pods: [pod("a", readyShape()), pod("b", readyShape())],
      }),
    );
    expect(status.lastFailure).toEqual(prevFailure);
  });

  it("dates a failure without a termination (image pull) by when the containers stopped being ready", () => {
    const o = observed({ deployment: deployment({ replicas: 1 }), pods: [pod("a", waitingShape("ErrImagePull", NOT_FOUND_PULL))] });
    const first = computeStatus(o).status;
    expect(first.lastFailure).toMatchObject({ reason: "ImagePullFailed", container: "engine", time: "2026-11-28T09:55:00Z" });
    const second = computeStatus(withStatus(o, first, new Date(NOW.getTime() + minutes(3) * 1000))).status;
    expect(second.lastFailure?.time).toBe("2026-11-28T09:55:00Z");
  });

  it("is stable with several replicas failing the same way (no flip-flop between pods)", () => {
    const o = observed({
      deployment: deployment(),
      pods: [pod("a", waitingShape("ImagePullBackOff", NOT_FOUND_PULL)), pod("b", waitingShape("CreateContainerConfigError", 'secret "hf-token" not found'))],
    });
    let status = computeStatus(o).status;
    for (let i = 1; i <= 3; i++) {
      const next = computeStatus(withStatus(o, status, new Date(NOW.getTime() + i * 30_000))).status;
      expect(statusChanged(status, next)).toBe(false);
      status = next;
    }
  });
});

describe("computeStatus: requeueAfterMs", () => {
  it("while loading, wakes up when the budget ends (+1 s)", () => {
    const { requeueAfterMs } = computeStatus(observed({ deployment: deployment({ replicas: 1 }), pods: [pod("a", loadingShape(minutes(30) - 20))] }));
    expect(requeueAfterMs).toBe(21_000);
  });

  it("while loading far from the budget, refreshes the elapsed time once a minute", () => {
    const { requeueAfterMs } = computeStatus(observed({ deployment: deployment({ replicas: 1 }), pods: [pod("a", loadingShape(60))] }));
    expect(requeueAfterMs).toBe(LOADING_REFRESH_MS);
  });

  it("the budget end reported after the requeue is StartupTimeout", () => {
    const o = observed({ deployment: deployment({ replicas: 1 }), pods: [pod("a", loadingShape(minutes(30) - 20))] });
    const { status, requeueAfterMs } = computeStatus(o);
    const after = computeStatus(withStatus(o, status, new Date(NOW.getTime() + (requeueAfterMs ?? 0)))).status;
    expect(summary(after).ready).toBe("False/StartupTimeout");
  });

  it("asks for no requeue when watches will wake the controller", () => {
    for (const o of [
      observed({ deployment: deployment({ ready: 2 }), pods: [pod("a", readyShape()), pod("b", readyShape())] }),
      observed({ deployment: deployment({ replicas: 1 }), pods: [pod("a", unschedulableShape(GPU_MESSAGE))] }),
      observed({ deployment: deployment({ replicas: 1 }), pods: [pod("a", crashLoopShape(terminated(1, "Error"), 3))] }),
      observed({ invalidSpec: [{ path: "x", message: "y" }] }),
    ]) {
      expect(computeStatus(o).requeueAfterMs).toBeUndefined();
    }
  });
});

describe("computeStatus: autoscaling", () => {
  const autoscaled = llama(withAutoscaling({ minReplicas: 1, maxReplicas: 4, target: { inFlightRequests: 16 } }));

  it("scaling up beyond the floor keeps Ready True; the new replica loads in Reconciling", () => {
    const { status } = computeStatus(
      observed({
        ms: autoscaled,
        deployment: deployment({ replicas: 3, ready: 2 }),
        pods: [pod("a", readyShape()), pod("b", readyShape()), pod("c", loadingShape(90))],
      }),
    );
    expect(summary(status)).toEqual({ phase: "Ready", ready: "True/Ready", reconciling: "True/Loading", stalled: "False/Ready" });
    expect(conditionOf(status, "Reconciling").message).toContain("scaling up to 3 replicas: 1 of 3 replicas loading the model");
    expect(status.replicaSummary).toBe("2/3");
  });

  it("counts ready replicas from the pods, not the Deployment's lagging readyReplicas", () => {
    const { status } = computeStatus(
      observed({ ms: autoscaled, deployment: deployment({ replicas: 2, ready: 0 }), pods: [pod("a", readyShape()), pod("b", readyShape())] }),
    );
    expect(readyMessage(status)).toContain("2/2");
    expect(status.readyReplicas).toBe(2);
    expect(status.replicaSummary).toBe("2/2");
  });

  it("a scale-up that cannot get a GPU: Degraded but Ready", () => {
    const { status } = computeStatus(
      observed({
        ms: autoscaled,
        deployment: deployment({ replicas: 2, ready: 1 }),
        pods: [pod("a", readyShape()), pod("b", unschedulableShape(GPU_MESSAGE))],
      }),
    );
    expect(summary(status)).toEqual({ phase: "Degraded", ready: "True/Ready", reconciling: "True/InsufficientGPU", stalled: "False/Ready" });
  });

  it("below the floor it is not Ready", () => {
    const { status } = computeStatus(
      observed({ ms: autoscaled, deployment: deployment({ replicas: 2 }), pods: [pod("a", loadingShape(90)), pod("b", loadingShape(90))] }),
    );
    expect(summary(status).ready).toBe("False/Loading");
  });
});

describe("computeStatus: startup-probe kills without Events", () => {
  it("a container SIGKILLed after running for the whole budget was killed by its startup probe, and stays StartupTimeout", () => {
    const killed = { exitCode: 137, reason: "Error", startedAt: ago(minutes(31) + 60), finishedAt: ago(60) };
    const { status } = computeStatus(
      observed({ deployment: deployment({ replicas: 1 }), pods: [pod("a", loadingShape(50, { restarts: 1, lastTerminated: killed }))] }),
    );
    expect(summary(status)).toEqual({ phase: "Failed", ready: "False/StartupTimeout", reconciling: "False/StartupTimeout", stalled: "True/StartupTimeout" });
    expect(status.lastFailure).toMatchObject({ reason: "StartupTimeout", exitCode: 137 });
  });

  it("a container SIGKILLed after a short run is OOMKilled", () => {
    const killed = { exitCode: 137, reason: "Error", startedAt: ago(400), finishedAt: ago(60) };
    const { status } = computeStatus(observed({ deployment: deployment({ replicas: 1 }), pods: [pod("a", crashLoopShape(killed, 1))] }));
    expect(summary(status).ready).toBe("False/OOMKilled");
  });
});
