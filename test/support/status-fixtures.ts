// Fixture builders for the status tests: realistic Deployments, ReplicaSets, pods and Events, as the
// API server returns them, so each test reads like the scenario it describes.
import type {
  CoreV1Event,
  V1ContainerState,
  V1ContainerStateTerminated,
  V1ContainerStatus,
  V1Deployment,
  V1DeploymentCondition,
  V1Pod,
  V1PodCondition,
  V1ReplicaSet,
} from "@kubernetes/client-node";
import type { ModelServiceStatus } from "../../src/api/types.ts";
import { defaultOperatorConfig } from "../../src/config/operator-config.ts";
import type { ObservedState } from "../../src/status/compute.ts";
import { inNamespace, type Mod, modelService, withSpec } from "./model-service.ts";

export const NOW = new Date("2026-11-28T10:00:00Z");
export const NAME = "llama-31-8b";
export const NS = "ml";
export const IMAGE = "vllm/vllm-openai:v0.11.0";

/** A time `seconds` before NOW. */
export const ago = (seconds: number): Date => new Date(NOW.getTime() - seconds * 1000);
export const minutes = (m: number): number => m * 60;

// Real scheduler, kubelet and controller messages.
export const GPU_MESSAGE =
  "0/6 nodes are available: 2 Insufficient nvidia.com/gpu, 2 node(s) had untolerated taint {nvidia.com/gpu: present}, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/6 nodes are available: 2 No preemption victims found for incoming pod, 4 Preemption is not helpful for scheduling.";
export const AFFINITY_MESSAGE =
  "0/4 nodes are available: 4 node(s) didn't match Pod's node affinity/selector. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.";
export const TAINT_MESSAGE =
  "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 node(s) had untolerated taint {dedicated: inference}. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.";
export const QUOTA_MESSAGE =
  'pods "llama-31-8b-6d4f7b9c8-x2x4k" is forbidden: exceeded quota: gpu-quota, requested: requests.nvidia.com/gpu=8, used: requests.nvidia.com/gpu=16, limited: requests.nvidia.com/gpu=16';
export const NOT_FOUND_PULL =
  'failed to pull and unpack image "docker.io/vllm/vllm-openai:v0.99.0": failed to resolve reference "docker.io/vllm/vllm-openai:v0.99.0": docker.io/vllm/vllm-openai:v0.99.0: not found';
export const RATE_LIMIT_PULL =
  'failed to pull and unpack image "docker.io/vllm/vllm-openai:v0.11.0": failed to copy: httpReadSeeker: failed open: unexpected status code https://registry-1.docker.io/v2/vllm/vllm-openai/manifests/sha256:4c2a: 429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit.';

/** The ModelService of the status scenarios: two replicas of one GPU each, credentials from a Secret. */
export const llama = (...mods: Mod[]) =>
  modelService(
    NAME,
    inNamespace(NS),
    withSpec({ model: { uri: "hf://meta-llama/Llama-3.1-8B-Instruct", credentialsSecret: "hf-token" }, gpu: { count: 1 }, replicas: 2 }),
    ...mods,
  );

export const rsName = (rev: number) => `${NAME}-${rev}d4f7b9c8`;
const hash = (rev: number) => `${rev}d4f7b9c8`;

export function deployment(
  o: {
    replicas?: number;
    ready?: number;
    updated?: number;
    total?: number;
    revision?: number;
    generation?: number;
    observedGeneration?: number;
    conditions?: V1DeploymentCondition[];
    annotations?: Record<string, string>;
  } = {},
): V1Deployment {
  const replicas = o.replicas ?? 2;
  const generation = o.generation ?? 1;
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: NAME,
      namespace: NS,
      uid: "d-uid",
      generation,
      annotations: { "deployment.kubernetes.io/revision": String(o.revision ?? 1), ...o.annotations },
    },
    spec: {
      replicas,
      progressDeadlineSeconds: 1920,
      selector: { matchLabels: { "modelservice.dev/name": NAME } },
      template: { spec: { containers: [{ name: "engine", image: IMAGE }] } },
    },
    status: {
      observedGeneration: o.observedGeneration ?? generation,
      replicas: o.total ?? replicas,
      updatedReplicas: o.updated ?? replicas,
      readyReplicas: o.ready ?? 0,
      availableReplicas: o.ready ?? 0,
      conditions: o.conditions ?? [
        {
          type: "Available",
          status: (o.ready ?? 0) >= replicas ? "True" : "False",
          reason: "MinimumReplicasAvailable",
          message: "Deployment has minimum availability.",
        },
        { type: "Progressing", status: "True", reason: "ReplicaSetUpdated", message: `ReplicaSet "${rsName(o.revision ?? 1)}" is progressing.` },
      ],
    },
  };
}

export const progressDeadlineExceeded: V1DeploymentCondition = {
  type: "Progressing",
  status: "False",
  reason: "ProgressDeadlineExceeded",
  message: `ReplicaSet "${rsName(1)}" has timed out progressing.`,
};

export function replicaSet(rev: number, o: { replicas?: number; failure?: string } = {}): V1ReplicaSet {
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name: rsName(rev),
      namespace: NS,
      uid: `rs-${rev}`,
      labels: { "modelservice.dev/name": NAME, "pod-template-hash": hash(rev) },
      annotations: { "deployment.kubernetes.io/revision": String(rev) },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: NAME, uid: "d-uid", controller: true }],
    },
    spec: { replicas: o.replicas ?? 2, selector: { matchLabels: { "modelservice.dev/name": NAME } } },
    status: {
      replicas: o.replicas ?? 2,
      ...(o.failure
        ? { conditions: [{ type: "ReplicaFailure", status: "True", reason: "FailedCreate", message: o.failure, lastTransitionTime: ago(60) }] }
        : {}),
    },
  };
}

/** What a pod looks like: its phase, conditions, container statuses. */
export interface PodShape {
  phase: string;
  conditions: V1PodCondition[];
  nodeName?: string;
  startTime?: Date;
  containerStatuses?: V1ContainerStatus[];
  initContainerStatuses?: V1ContainerStatus[];
}

const podConds = (scheduled: boolean, ready: boolean): V1PodCondition[] => [
  { type: "PodScheduled", status: scheduled ? "True" : "False", lastTransitionTime: ago(600) },
  ...(scheduled
    ? ([
        { type: "Initialized", status: "True", lastTransitionTime: ago(590) },
        { type: "ContainersReady", status: ready ? "True" : "False", lastTransitionTime: ago(300) },
        { type: "Ready", status: ready ? "True" : "False", lastTransitionTime: ago(300) },
      ] as V1PodCondition[])
    : []),
];

const engine = (
  state: V1ContainerState,
  o: { ready?: boolean; restarts?: number; lastTerminated?: V1ContainerStateTerminated; started?: boolean } = {},
): V1ContainerStatus => ({
  name: "engine",
  image: IMAGE,
  imageID: "",
  ready: o.ready ?? false,
  started: o.started ?? state.running !== undefined,
  restartCount: o.restarts ?? 0,
  state,
  lastState: o.lastTerminated ? { terminated: o.lastTerminated } : {},
});

export const readyShape = (startedSecondsAgo = minutes(20)): PodShape => ({
  phase: "Running",
  nodeName: "gpu-node-1",
  startTime: ago(startedSecondsAgo + 30),
  conditions: podConds(true, true),
  containerStatuses: [engine({ running: { startedAt: ago(startedSecondsAgo) } }, { ready: true, started: true })],
});

/** Running, startup probe not yet passed: loading the weights. */
export const loadingShape = (startedSecondsAgo: number, o: { restarts?: number; lastTerminated?: V1ContainerStateTerminated } = {}): PodShape => ({
  phase: "Running",
  nodeName: "gpu-node-1",
  startTime: ago(startedSecondsAgo + 30),
  conditions: podConds(true, false),
  containerStatuses: [engine({ running: { startedAt: ago(startedSecondsAgo) } }, { started: false, ...o })],
});

export const unschedulableShape = (message: string): PodShape => ({
  phase: "Pending",
  conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message, lastTransitionTime: ago(120) }],
});

export const pendingShape = (): PodShape => ({ phase: "Pending", conditions: [] });

/** The engine container waits (image pull, config error, crash loop back-off). */
export const waitingShape = (reason: string, message?: string, o: { restarts?: number; lastTerminated?: V1ContainerStateTerminated } = {}): PodShape => ({
  phase: "Pending",
  nodeName: "gpu-node-1",
  startTime: ago(300),
  conditions: podConds(true, false),
  containerStatuses: [engine({ waiting: { reason, ...(message ? { message } : {}) } }, o)],
});

export const terminated = (exitCode: number, reason: string, finishedSecondsAgo = 30, message?: string): V1ContainerStateTerminated => ({
  exitCode,
  reason,
  startedAt: ago(finishedSecondsAgo + 90),
  finishedAt: ago(finishedSecondsAgo),
  ...(message ? { message } : {}),
});

/** CrashLoopBackOff after the engine terminated. */
export const crashLoopShape = (last: V1ContainerStateTerminated, restarts: number): PodShape => ({
  ...waitingShape("CrashLoopBackOff", `back-off 5m0s restarting failed container=engine pod=${NAME}-x_${NS}(uid)`, { restarts, lastTerminated: last }),
  phase: "Running",
});

/** The model-download init container copies the weights. */
export const downloadingShape = (startedSecondsAgo: number): PodShape => ({
  phase: "Pending",
  nodeName: "gpu-node-1",
  startTime: ago(startedSecondsAgo + 10),
  conditions: [
    { type: "PodScheduled", status: "True" },
    { type: "Initialized", status: "False", reason: "ContainersNotInitialized", message: "containers with incomplete status: [model-download]" },
    { type: "Ready", status: "False", reason: "ContainersNotReady", message: "containers with unready status: [engine]" },
  ],
  initContainerStatuses: [
    {
      name: "model-download",
      image: "amazon/aws-cli:2.31.13",
      imageID: "",
      ready: false,
      restartCount: 0,
      started: true,
      state: { running: { startedAt: ago(startedSecondsAgo) } },
    },
  ],
  containerStatuses: [engine({ waiting: { reason: "PodInitializing" } })],
});

/** A pod of ReplicaSet revision `rev`. */
export function pod(suffix: string, shape: PodShape, o: { rev?: number; deleting?: boolean } = {}): V1Pod {
  const rev = o.rev ?? 1;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: `${rsName(rev)}-${suffix}`,
      namespace: NS,
      labels: { "modelservice.dev/name": NAME, "pod-template-hash": hash(rev) },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: rsName(rev), uid: `rs-${rev}`, controller: true }],
      creationTimestamp: ago(3600),
      ...(o.deleting ? { deletionTimestamp: ago(5) } : {}),
    },
    spec: {
      ...(shape.nodeName ? { nodeName: shape.nodeName } : {}),
      containers: [{ name: "engine", image: IMAGE, resources: { limits: { "nvidia.com/gpu": "1" } } }],
    },
    status: {
      phase: shape.phase,
      conditions: shape.conditions,
      ...(shape.startTime ? { startTime: shape.startTime } : {}),
      ...(shape.containerStatuses ? { containerStatuses: shape.containerStatuses } : {}),
      ...(shape.initContainerStatuses ? { initContainerStatuses: shape.initContainerStatuses } : {}),
    },
  };
}

export function podEvent(p: V1Pod, reason: string, message: string, o: { type?: string; container?: string } = {}): CoreV1Event {
  return {
    metadata: { name: `${p.metadata?.name}.18a1b2c3d4e5f6a7`, namespace: NS },
    involvedObject: { kind: "Pod", name: p.metadata?.name, namespace: NS, ...(o.container ? { fieldPath: `spec.containers{${o.container}}` } : {}) },
    reason,
    message,
    type: o.type ?? "Warning",
    count: 1,
    lastTimestamp: ago(20),
  };
}

/** An observation with defaults: generation 1, one ReplicaSet (revision 1), no pods. */
export function observed(o: Partial<ObservedState> = {}): ObservedState {
  return {
    ms: llama(),
    config: defaultOperatorConfig,
    now: NOW,
    replicaSets: [replicaSet(1)],
    pods: [],
    ...o,
  };
}

/** The ModelService as the API returns it after the status was written: for "next pass" tests. */
export const withStatus = (o: ObservedState, status: ModelServiceStatus, now = o.now): ObservedState => ({ ...o, now, ms: { ...o.ms, status } });
