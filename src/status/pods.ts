// What one replica (pod) is doing and, when it is stuck, why — read from the pod's conditions and
// container states, with Events as an extra hint (probe kills, cluster autoscaler scale-ups).
import type { CoreV1Event, V1ContainerStateTerminated, V1ContainerStatus, V1Pod, V1PodCondition } from "@kubernetes/client-node";
import { ADAPTER_DOWNLOAD_CONTAINER, DOWNLOAD_CONTAINER, ENGINE_CONTAINER } from "../model/resolved.ts";
import { lastLine, quote, toMs } from "./format.ts";
import { REASONS, type Reason } from "./reasons.ts";

/** The init containers that download weights or adapters. */
const isDownload = (container: string): boolean => container === DOWNLOAD_CONTAINER || container.startsWith(`${ADAPTER_DOWNLOAD_CONTAINER}-`);

/** How a message names a container: "container engine", "init container model-download", "container <name>". */
export const containerLabel = (container: string | undefined): string =>
  !container || container === ENGINE_CONTAINER ? "container engine" : isDownload(container) ? `init container ${container}` : `container ${container}`;

/**
 * A crash loop (or repeated OOM kill) counts as Stalled from this many restarts on. Earlier
 * restarts may be transient (a hub outage, a node hiccup); by the fifth, the kubelet's back-off has
 * been retrying for about five minutes and the same spec keeps failing.
 */
export const STALL_AFTER_RESTARTS = 5;

/**
 * A container that crashed and runs again is reported by its last crash, not as Loading, once it
 * has restarted this often: otherwise the status would flip between Loading and CrashLoop on every
 * restart (and write the status and emit an Event each time).
 */
export const CRASH_STICKY_RESTARTS = 2;

const IMAGE_PULL_WAITING = new Set([
  "ErrImagePull",
  "ImagePullBackOff",
  "InvalidImageName",
  "ErrImageNeverPull",
  "RegistryUnavailable",
  "SignatureValidationFailed",
]);
/** Image pull errors that waiting does not fix: the image reference or the pull credentials must change. */
const PERMANENT_PULL = /not found|manifest unknown|unauthorized|denied|repository does not exist|invalid reference|no such host/i;

export type Bucket = "scheduling" | "loading" | "ready" | "failing";
/** What a Loading replica is doing: pulling the image / creating the container, downloading the weights, loading them. */
export type Stage = "start" | "download" | "load";

export interface PodDiagnosis {
  pod: string;
  bucket: Bucket;
  reason: Reason;
  /** Waiting cannot fix it: the user must change something. */
  stalled: boolean;
  /** The piece of the message specific to this pod (scheduler summary, exit code, image...). */
  detail?: string;
  container?: string;
  exitCode?: number;
  restarts?: number;
  stage?: Stage;
  /** Loading: since when (ms). */
  since?: number;
  /** Loading: when the startup budget runs out (ms). */
  deadline?: number;
  /** The cluster autoscaler is adding a node for this pod. */
  scaleUp?: boolean;
}

/** A failure on a container, a candidate for status.lastFailure. */
export interface FailureCandidate {
  reason: Reason;
  message: string;
  pod: string;
  container: string;
  exitCode?: number;
  /** When it happened, when the pod says so (a termination's finishedAt); otherwise undefined. */
  time?: number;
}

export interface PodContext {
  now: number;
  budgetMs: number;
  gpuResource: string;
  gpuCount: number;
  namespace?: string;
  /** Name of spec.model.credentialsSecret, to say which field names a missing Secret. */
  credentialsSecret?: string;
  /** Events about this pod (involvedObject.kind Pod, same name). */
  events: CoreV1Event[];
}

const condition = (pod: V1Pod, type: string): V1PodCondition | undefined => pod.status?.conditions?.find((c) => c.type === type);

export const isPodReady = (pod: V1Pod): boolean => condition(pod, "Ready")?.status === "True";

/** Pods that count: not being deleted and not finished (evicted or completed pods are replaced by the ReplicaSet). */
export const isLivePod = (pod: V1Pod): boolean => !pod.metadata?.deletionTimestamp && pod.status?.phase !== "Failed" && pod.status?.phase !== "Succeeded";

const engineStatus = (pod: V1Pod): V1ContainerStatus | undefined => {
  const all = pod.status?.containerStatuses ?? [];
  return all.find((c) => c.name === ENGINE_CONTAINER) ?? all[0];
};

type ProbeKill = "startup" | "liveness" | undefined;

/** Slack around the startup budget when recognising a startup-probe kill by the container's run time. */
const PROBE_KILL_SLACK_MS = 120_000;

/**
 * Whether the kubelet killed this container for failing a probe. Events say so when the controller
 * passes them; without Events, a container that was killed by a signal (exit 137 or 143, not
 * OOMKilled) after running for about the startup budget was killed by its startup probe (its
 * failureThreshold × period is the budget).
 */
function probeKill(events: CoreV1Event[], container: string, t?: V1ContainerStateTerminated, budgetMs?: number): ProbeKill {
  if (t && budgetMs !== undefined && t.reason !== "OOMKilled" && (t.exitCode === 137 || t.exitCode === 143)) {
    const ran = (toMs(t.finishedAt) ?? Number.NaN) - (toMs(t.startedAt) ?? Number.NaN);
    if (ran >= budgetMs - 15_000 && ran <= budgetMs + PROBE_KILL_SLACK_MS) return "startup";
  }
  let kill: ProbeKill;
  for (const e of events) {
    if (e.reason !== "Killing") continue;
    const fieldPath = e.involvedObject?.fieldPath ?? "";
    if (fieldPath && !fieldPath.includes(`{${container}}`)) continue;
    const m = e.message ?? "";
    if (/failed startup probe/i.test(m)) return "startup";
    if (/failed liveness probe/i.test(m)) kill = "liveness";
  }
  return kill;
}

/**
 * The scheduler's summary: the message without what its PostFilter plugins append — the
 * preemption attempt ("preemption: ...") and dynamic resource allocation's "no new claims to
 * deallocate" (on by default, seen with Kubernetes 1.36), which say nothing about why the pod does not fit.
 */
export function schedulerSummary(message: string): string {
  const summary = message
    .split(/\s*preemption:/i)[0]
    ?.replace(/\s*no new claims to deallocate,?\s*$/i, "")
    .replace(/\.\s*$/, "");
  return quote(summary, 400);
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Why the scheduler cannot place the pod, from its Unschedulable message. */
export function unschedulableReason(message: string, gpuResource: string): Reason {
  // Nodes reported "Insufficient <gpu>" passed the taint and affinity filters: the right GPU nodes
  // exist but are full. The taint filter runs before node affinity, so a tainted node may hide a
  // matching one: name the taint before concluding that no node matches.
  if (new RegExp(`Insufficient ${escapeRe(gpuResource)}(?![\\w/-]|\\.\\w)`).test(message)) return REASONS.InsufficientGPU;
  if (/untolerated taint|that the pod didn't tolerate/i.test(message)) return REASONS.TaintNotTolerated;
  if (/didn't match (Pod's )?node affinity|didn't match node selector|didn't match Pod's node affinity\/selector/i.test(message)) return REASONS.NoMatchingNode;
  return REASONS.Unschedulable;
}

/** A CreateContainerConfigError, without ever copying text that could hold a value. */
function configError(message: string, ctx: PodContext): { reason: Reason; detail: string } {
  const field = (name: string) => (name === ctx.credentialsSecret ? " (spec.model.credentialsSecret)" : "");
  const ns = ctx.namespace ? ` in namespace ${ctx.namespace}` : "";
  let m = /secret "([^"]+)" not found/i.exec(message);
  if (m?.[1]) return { reason: REASONS.CredentialsMissing, detail: `Secret "${m[1]}"${field(m[1])} does not exist${ns}` };
  m = /couldn't find key (\S+) in Secret (?:[^/\s]+\/)?(\S+)/i.exec(message);
  if (m?.[1] && m[2]) return { reason: REASONS.CredentialsMissing, detail: `Secret "${m[2]}"${field(m[2])} has no key "${m[1]}"` };
  if (/secret/i.test(message)) return { reason: REASONS.CredentialsMissing, detail: "a Secret the container references is missing or incomplete" };
  m = /configmap "([^"]+)" not found/i.exec(message);
  if (m?.[1]) return { reason: REASONS.ContainerConfigError, detail: `ConfigMap "${m[1]}" does not exist${ns}` };
  m = /couldn't find key (\S+) in ConfigMap (?:[^/\s]+\/)?(\S+)/i.exec(message);
  if (m?.[1] && m[2]) return { reason: REASONS.ContainerConfigError, detail: `ConfigMap "${m[2]}" has no key "${m[1]}"` };
  return { reason: REASONS.ContainerConfigError, detail: quote(message, 200) || "the container's configuration is invalid" };
}

const isOOM = (t: V1ContainerStateTerminated, kill: ProbeKill) => t.reason === "OOMKilled" || (t.exitCode === 137 && kill === undefined);

/** A container that terminated badly: OOMKilled, StartupTimeout (killed by its startup probe) or CrashLoop. */
function crashed(t: V1ContainerStateTerminated, container: string, restarts: number, ctx: PodContext): Omit<PodDiagnosis, "pod"> {
  const kill = probeKill(ctx.events, container, container === ENGINE_CONTAINER ? t : undefined, ctx.budgetMs);
  const again = restarts > 0 ? `, ${restarts === 1 ? "1 restart" : `${restarts} restarts`}` : "";
  if (kill === "startup" && container === ENGINE_CONTAINER) {
    return {
      bucket: "failing",
      reason: REASONS.StartupTimeout,
      stalled: true,
      container,
      exitCode: t.exitCode,
      restarts,
      detail: `killed by its startup probe${again}`,
    };
  }
  if (isOOM(t, kill)) {
    const why = t.reason === "OOMKilled" ? "OOMKilled" : "killed by SIGKILL, most likely out of memory";
    return {
      bucket: "failing",
      reason: REASONS.OOMKilled,
      stalled: restarts >= STALL_AFTER_RESTARTS,
      container,
      exitCode: t.exitCode,
      restarts,
      detail: `exit code ${t.exitCode}, ${why}${again}`,
    };
  }
  const last = lastLine(t.message);
  const how = kill === "liveness" ? "killed after failing its liveness probe" : `exit code ${t.exitCode}`;
  return {
    bucket: "failing",
    reason: REASONS.CrashLoop,
    stalled: restarts >= STALL_AFTER_RESTARTS,
    container,
    exitCode: t.exitCode,
    restarts,
    detail: `${how}${again}${last ? `: ${quote(last, 200)}` : ""}`,
  };
}

/** A container that is waiting: image pull, config, crash loop back-off, or simply being created. */
function waitingContainer(cs: V1ContainerStatus, ctx: PodContext): Omit<PodDiagnosis, "pod"> | undefined {
  const w = cs.state?.waiting;
  if (!w) return undefined;
  const reason = w.reason ?? "";
  const restarts = cs.restartCount ?? 0;
  if (IMAGE_PULL_WAITING.has(reason)) {
    const msg = w.message ?? "";
    const image = cs.image ? `"${cs.image}"` : "the image";
    return {
      bucket: "failing",
      reason: REASONS.ImagePullFailed,
      stalled: reason === "InvalidImageName" || PERMANENT_PULL.test(msg),
      container: cs.name,
      detail: `cannot pull ${image} (${reason}${msg ? `: ${quote(msg, 240)}` : ""})`,
    };
  }
  if (reason === "CreateContainerConfigError") {
    const { reason: r, detail } = configError(w.message ?? "", ctx);
    return { bucket: "failing", reason: r, stalled: false, container: cs.name, detail };
  }
  if (reason === "CrashLoopBackOff") {
    const t = cs.lastState?.terminated ?? { exitCode: 1 };
    return crashed(t, cs.name, restarts, ctx);
  }
  if (reason === "CreateContainerError" || reason === "RunContainerError" || reason === "StartError") {
    return { bucket: "failing", reason: REASONS.ContainerStartFailed, stalled: false, container: cs.name, detail: quote(w.message, 240) || reason };
  }
  return undefined; // ContainerCreating, PodInitializing: still starting
}

/**
 * Diagnose one pod. Order: ready; not scheduled (why); init containers (the model download);
 * the engine container (waiting, terminated, running but not ready).
 */
export function diagnosePod(pod: V1Pod, ctx: PodContext): PodDiagnosis {
  const name = pod.metadata?.name ?? "";
  const d = (x: Omit<PodDiagnosis, "pod">): PodDiagnosis => ({ pod: name, ...x });
  if (isPodReady(pod)) return d({ bucket: "ready", reason: REASONS.Ready, stalled: false });

  const podStart = toMs(pod.status?.startTime) ?? toMs(pod.metadata?.creationTimestamp) ?? ctx.now;
  const scheduled = condition(pod, "PodScheduled");
  if (scheduled?.status === "False" || (!scheduled && !pod.spec?.nodeName)) {
    const scaleUp = ctx.events.some((e) => e.reason === "TriggeredScaleUp");
    if (scheduled?.reason === "Unschedulable") {
      const message = scheduled.message ?? "";
      return d({ bucket: "scheduling", reason: unschedulableReason(message, ctx.gpuResource), stalled: false, detail: schedulerSummary(message), scaleUp });
    }
    const detail = scheduled?.reason === "SchedulingGated" ? "scheduling gated" : undefined;
    return d({ bucket: "scheduling", reason: REASONS.Scheduling, stalled: false, scaleUp, ...(detail ? { detail } : {}) });
  }

  // Init containers run in order; the first one not done tells what the pod is doing.
  for (const ic of pod.status?.initContainerStatuses ?? []) {
    if (ic.state?.terminated?.exitCode === 0) continue;
    const waiting = waitingContainer(ic, ctx);
    if (waiting) return d(waiting);
    if (ic.state?.terminated) return d(crashed(ic.state.terminated, ic.name, ic.restartCount ?? 0, ctx));
    const since = toMs(ic.state?.running?.startedAt) ?? podStart;
    const stage: Stage = isDownload(ic.name) && ic.state?.running ? "download" : "start";
    return d({ bucket: "loading", reason: REASONS.Loading, stalled: false, stage, since, container: ic.name });
  }

  const cs = engineStatus(pod);
  if (!cs) return d({ bucket: "loading", reason: REASONS.Loading, stalled: false, stage: "start", since: podStart });
  const restarts = cs.restartCount ?? 0;
  const waiting = waitingContainer(cs, ctx);
  if (waiting) return d(waiting);
  if (cs.state?.terminated) {
    const t = cs.state.terminated;
    return d(crashed(t.exitCode === 0 && !t.reason ? { ...t, reason: "Completed" } : t, cs.name, restarts, ctx));
  }
  const running = cs.state?.running;
  if (!running) return d({ bucket: "loading", reason: REASONS.Loading, stalled: false, stage: "start", since: podStart, container: cs.name });

  // Running, not ready. After repeated crashes it is a crash loop in its running phase; after a
  // startup-probe kill it stays StartupTimeout (loading again would time out again).
  const last = cs.lastState?.terminated;
  if (last && (last.exitCode !== 0 || last.reason === "OOMKilled")) {
    const c = crashed(last, cs.name, restarts, ctx);
    if (c.reason === REASONS.StartupTimeout || restarts >= CRASH_STICKY_RESTARTS) return d(c);
  }
  const since = toMs(running.startedAt) ?? podStart;
  const deadline = since + ctx.budgetMs;
  if (ctx.now >= deadline && !cs.ready) {
    return d({ bucket: "failing", reason: REASONS.StartupTimeout, stalled: true, container: cs.name, restarts, since, deadline });
  }
  return d({ bucket: "loading", reason: REASONS.Loading, stalled: false, stage: "load", since, deadline, container: cs.name });
}

/** Container failures of a pod, current or past (lastState), for status.lastFailure. */
export function failureCandidates(pod: V1Pod, diagnosis: PodDiagnosis | undefined, ctx: PodContext, describe: (d: PodDiagnosis) => string): FailureCandidate[] {
  const name = pod.metadata?.name ?? "";
  const out: FailureCandidate[] = [];
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const cs of statuses) {
    for (const t of [cs.state?.terminated, cs.lastState?.terminated]) {
      if (!t || (t.exitCode === 0 && t.reason !== "OOMKilled")) continue;
      const c = crashed(t, cs.name, cs.restartCount ?? 0, ctx);
      out.push({
        reason: c.reason,
        message: describe({ pod: name, ...c }),
        pod: name,
        container: cs.name,
        exitCode: t.exitCode,
        ...(toMs(t.finishedAt) !== undefined ? { time: toMs(t.finishedAt) } : {}),
      });
    }
  }
  if (diagnosis && diagnosis.bucket === "failing" && diagnosis.exitCode === undefined) {
    // Image pull, config errors, a startup timeout while still running: no termination to date
    // it. Use a time that does not move: the budget's end, or when the containers stopped being ready.
    const notReadySince = toMs(condition(pod, "ContainersReady")?.lastTransitionTime) ?? toMs(pod.status?.startTime) ?? toMs(pod.metadata?.creationTimestamp);
    const time = diagnosis.reason === REASONS.StartupTimeout ? diagnosis.deadline : notReadySince;
    out.push({
      reason: diagnosis.reason,
      message: describe(diagnosis),
      pod: name,
      container: diagnosis.container ?? ENGINE_CONTAINER,
      ...(time !== undefined ? { time } : {}),
    });
  }
  return out;
}
