// The Ready reasons of issue 5, each produced for real and observed end to end: the local control plane
// (real API server, controller-manager and scheduler; kwok playing the GPU nodes and, through the
// pod annotation modelservice.dev/simulate, failing containers), the operator running in-process.
// Each test asserts what `kubectl get msvc` / `kubectl describe msvc` shows: the Ready condition's
// status and reason, a message in user words, the phase, Reconciling/Stalled as documented in
// src/status/compute.ts, and a Warning Event on the ModelService for failures.
//
// One namespace per test; the tests are independent and run concurrently (they mostly wait).
// Not produced here: TaintNotTolerated (the fleet's only taint is the GPU one, which the operator
// tolerates), ContainerConfigError / ContainerStartFailed (no kwok stage for them), probe kills
// (kwok runs no probes).
import { execFile } from "node:child_process";
import { join } from "node:path";
import type { CoreV1Event, V1Pod, V1ResourceQuota } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { ModelService } from "../../src/api/types.ts";
import type { KubeClient } from "../../src/kube/client.ts";
import { installCrd } from "../../src/operator/install-crd.ts";
import type { RunningOperator } from "../../src/operator/start.ts";
import { type Mod, modelService, simulateLoad, withGpus, withModel, withPodAnnotations, withReplicas, withSpec } from "../support/model-service.ts";
import {
  applyModelService,
  condition,
  createNamespace,
  deleteNamespace,
  getModelService,
  kubeconfigPath,
  startTestOperator,
  testClient,
  waitFor,
} from "./controller-helpers.ts";

const TESTS = ["gpu", "nomatch", "quota", "pull", "crash", "oom", "startup", "creds", "loading", "kubectl", "metrics"] as const;
type TestName = (typeof TESTS)[number];

let client: KubeClient;
let op: RunningOperator;
const namespaces = {} as Record<TestName, string>;

beforeAll(async () => {
  client = testClient();
  await installCrd(client);
  for (const t of TESTS) namespaces[t] = await createNamespace(client, `sr-${t}`);
  op = await startTestOperator({ namespaces: Object.values(namespaces) });
});

afterAll(async () => {
  await op?.stop();
  for (const ns of Object.values(namespaces)) await deleteNamespace(client, ns);
  client?.close();
});

const MODEL_URI = "hf://Qwen/Qwen2.5-0.5B-Instruct";

/** The spec of a one-replica vLLM ModelService on one GPU, changed by `mods`. */
const spec = (...mods: Mod[]) => modelService("m", withModel(MODEL_URI), withGpus(1), withReplicas(1), ...mods).spec;
const simulate = (what: string, extra: Record<string, string> = {}) => ({ "modelservice.dev/simulate": what, ...extra });

/** Waits until Ready's reason is `reason`; returns the ModelService as the API server has it. */
async function waitReason(ns: string, name: string, reason: string, timeoutMs = 60_000, intervalMs = 100): Promise<ModelService> {
  let last: ModelService | undefined;
  try {
    return await waitFor(
      `${ns}/${name} Ready reason ${reason}`,
      async () => {
        last = await getModelService(client, ns, name);
        return condition(last, "Ready")?.reason === reason ? last : undefined;
      },
      timeoutMs,
      intervalMs,
    );
  } catch (e) {
    // Say what was seen instead: the status, and what the pods were doing (kwok's simulation).
    const pods = await listPods(ns, name).catch(() => []);
    const podStates = pods.map((p) => {
      const c = p.status?.containerStatuses?.find((x) => x.name === "engine");
      return `${p.metadata?.name} ${p.status?.phase} ${JSON.stringify(c?.state)} restarts=${c?.restartCount}`;
    });
    throw new Error(`${(e as Error).message}\nlast Ready: ${JSON.stringify(condition(last, "Ready"))}\npods: ${podStates.join("; ") || "none"}`);
  }
}

type Shown = { ready: string; phase: string; reconciling: string; stalled: string };
/** Ready, phase, Reconciling and Stalled as `kubectl describe` shows them: "status/reason". */
const shown = (ms: ModelService): Shown => {
  const c = (t: string) => `${condition(ms, t)?.status}/${condition(ms, t)?.reason}`;
  return { ready: c("Ready"), phase: ms.status?.phase ?? "", reconciling: c("Reconciling"), stalled: c("Stalled") };
};
const readyMessage = (ms: ModelService) => condition(ms, "Ready")?.message ?? "";

/** A failure: Ready False, Reconciling True and Stalled False unless `stalled`, in which case the reverse. */
function expectFailure(ms: ModelService, reason: string, phase: string, stalled: boolean) {
  expect(shown(ms)).toEqual({
    ready: `False/${reason}`,
    phase,
    reconciling: stalled ? `False/${reason}` : `True/${reason}`,
    stalled: stalled ? `True/${reason}` : `False/${reason}`,
  });
  expect(ms.status?.observedGeneration).toBe(ms.metadata.generation);
}

function expectReady(ms: ModelService) {
  expect(shown(ms)).toEqual({ ready: "True/Ready", phase: "Ready", reconciling: "False/Ready", stalled: "False/Ready" });
  expect(ms.status?.observedGeneration).toBe(ms.metadata.generation);
  expect(readyMessage(ms)).toBe("1/1 replicas ready");
}

/** The Event of the given type and reason on the ModelService (what `kubectl describe msvc` lists). */
async function waitEvent(ns: string, name: string, reason: string, type = "Warning", timeoutMs = 15_000): Promise<CoreV1Event> {
  return waitFor(
    `a ${type} Event ${reason} on ModelService ${ns}/${name}`,
    async () => {
      const list = await client.request<{ items: CoreV1Event[] }>("GET", `/api/v1/namespaces/${ns}/events`, {
        query: { fieldSelector: `involvedObject.kind=ModelService,involvedObject.name=${name}` },
      });
      return list.items.find((e) => e.type === type && e.reason === reason);
    },
    timeoutMs,
    200,
  );
}

const listPods = async (ns: string, name: string) =>
  (await client.request<{ items: V1Pod[] }>("GET", `/api/v1/namespaces/${ns}/pods`, { query: { labelSelector: `modelservice.dev/name=${name}` } })).items;

type Run = { code: number; stdout: string; stderr: string };
const kubectl = (...args: string[]): Promise<Run> =>
  new Promise((resolve) => {
    execFile(join(inject("binDir"), "kubectl"), args, { env: { ...process.env, KUBECONFIG: kubeconfigPath() }, timeout: 90_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    );
  });

/** `kubectl get msvc` as rows of named columns (no column value of ours contains spaces). */
function table(out: string): Record<string, string>[] {
  const [header, ...rows] = out.trim().split("\n");
  const names = (header ?? "").trim().split(/\s+/);
  return rows.map((r) =>
    Object.fromEntries(
      r
        .trim()
        .split(/\s+/)
        .map((v, i) => [names[i] ?? `col${i}`, v]),
    ),
  );
}

describe.concurrent("status reasons on the simulated GPU cluster", () => {
  it("InsufficientGPU for 16 GPUs per replica; Ready once gpu.count is lowered to 2", async () => {
    const ns = namespaces.gpu;
    await applyModelService(client, ns, "big", spec(withGpus(16)));
    const ms = await waitReason(ns, "big", "InsufficientGPU");
    // Waiting for GPUs is not stalled: GPUs free up, nodes get added.
    expectFailure(ms, "InsufficientGPU", "Scheduling", false);
    expect(readyMessage(ms)).toContain("1 replica waiting for GPUs: each asks for 16 nvidia.com/gpu");
    // The scheduler's summary only: not what its PostFilter plugins append (preemption, DRA).
    expect(readyMessage(ms)).toMatch(/ \(scheduler: 0\/\d+ nodes are available: [^()]*Insufficient nvidia\.com\/gpu\)$/);
    expect(readyMessage(ms)).not.toMatch(/preemption|claims to deallocate/);
    expect(ms.status?.replicaPhases).toEqual({ scheduling: 1, loading: 0, ready: 0, failing: 0 });
    const ev = await waitEvent(ns, "big", "InsufficientGPU");
    expect(ev.message).toContain("each asks for 16 nvidia.com/gpu");

    // The cause removed: 2 GPUs fit on an H100 node.
    const t0 = performance.now();
    const lowered = await applyModelService(client, ns, "big", spec(withGpus(2)));
    const ready = await waitFor(
      "Ready at the new generation",
      async () => {
        const got = await getModelService(client, ns, "big");
        return got.status?.observedGeneration === lowered.metadata.generation && condition(got, "Ready")?.status === "True" ? got : undefined;
      },
      60_000,
      100,
    );
    console.log(`[measure] InsufficientGPU → Ready after lowering gpu.count: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    expect(condition(ready, "Ready")?.reason).toBe("Ready");
    // While the old revision's unschedulable pod is removed, Reconciling says RollingOut; then it settles.
    if (condition(ready, "Reconciling")?.status === "True") expect(condition(ready, "Reconciling")?.reason).toBe("RollingOut");
    const settled = await waitFor(
      "Reconciling False",
      async () => {
        const got = await getModelService(client, ns, "big");
        return condition(got, "Reconciling")?.status === "False" ? got : undefined;
      },
      30_000,
    );
    expectReady(settled);
    await waitEvent(ns, "big", "Ready", "Normal");
  });

  it("NoMatchingNode for a GPU product no node has", async () => {
    const ns = namespaces.nomatch;
    await applyModelService(client, ns, "b200", spec(withGpus(1, { products: ["NVIDIA-B200"] })));
    const ms = await waitReason(ns, "b200", "NoMatchingNode");
    expectFailure(ms, "NoMatchingNode", "Scheduling", false);
    expect(readyMessage(ms)).toContain("1 replica waiting: no node matches GPU product NVIDIA-B200");
    expect(readyMessage(ms)).toMatch(/ \(scheduler: 0\/\d+ nodes are available: \d+ node\(s\) didn't match Pod's node affinity\/selector\)$/);
    expect(readyMessage(ms)).not.toMatch(/preemption|claims to deallocate/);
    const ev = await waitEvent(ns, "b200", "NoMatchingNode");
    expect(ev.message).toContain("NVIDIA-B200");
  });

  it("QuotaExceeded while a ResourceQuota forbids the GPU; Ready once the quota is deleted", async () => {
    const ns = namespaces.quota;
    await client.request("POST", `/api/v1/namespaces/${ns}/resourcequotas`, {
      body: { apiVersion: "v1", kind: "ResourceQuota", metadata: { name: "no-gpus" }, spec: { hard: { "requests.nvidia.com/gpu": "0" } } },
    });
    // As in a namespace whose quota has been there a while: the quota controller has computed its usage.
    await waitFor(
      "the quota's status",
      async () => {
        const q = await client.request<V1ResourceQuota>("GET", `/api/v1/namespaces/${ns}/resourcequotas/no-gpus`);
        return q.status?.hard?.["requests.nvidia.com/gpu"] !== undefined;
      },
      30_000,
    );
    await applyModelService(client, ns, "quota", spec());
    const ms = await waitReason(ns, "quota", "QuotaExceeded");
    // Not stalled: other workloads may shrink, the quota may be raised.
    expectFailure(ms, "QuotaExceeded", "Failed", false);
    expect(readyMessage(ms)).toMatch(/^1 replica cannot be created: exceeded quota no-gpus, requested: requests\.nvidia\.com\/gpu=1/);
    const ev = await waitEvent(ns, "quota", "QuotaExceeded");
    expect(ev.message).toContain("exceeded quota no-gpus");

    const t0 = performance.now();
    await client.request("DELETE", `/api/v1/namespaces/${ns}/resourcequotas/no-gpus`);
    const ready = await waitReason(ns, "quota", "Ready", 60_000);
    console.log(`[measure] quota deleted → Ready: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    expectReady(ready);
  });

  it("ImagePullFailed for an image that does not exist (stalled)", async () => {
    const ns = namespaces.pull;
    await applyModelService(client, ns, "pull", spec(withPodAnnotations(simulate("image-pull-failure"))));
    const ms = await waitReason(ns, "pull", "ImagePullFailed");
    // "not found" cannot be fixed by waiting: Stalled.
    expectFailure(ms, "ImagePullFailed", "Failed", true);
    expect(readyMessage(ms)).toMatch(/^1 replica cannot start \(container engine: cannot pull "[^"]*vllm[^"]*" \((ErrImagePull|ImagePullBackOff)/);
    expect(condition(ms, "Stalled")?.message).toContain("cannot pull");
    expect(ms.status?.replicaPhases).toEqual({ scheduling: 0, loading: 0, ready: 0, failing: 1 });
    expect(ms.status?.lastFailure).toMatchObject({ reason: "ImagePullFailed", container: "engine" });
    await waitEvent(ns, "pull", "ImagePullFailed");
    // The kubelet then backs off (ImagePullBackOff, its message ending with the previous pull
    // error): still the same diagnosis, still Stalled — no flapping between pull attempts.
    const backOff = await waitFor(
      "ImagePullBackOff",
      async () => {
        const got = await getModelService(client, ns, "pull");
        return readyMessage(got).includes("ImagePullBackOff") ? got : undefined;
      },
      30_000,
    );
    expectFailure(backOff, "ImagePullFailed", "Failed", true);
    expect(readyMessage(backOff)).toMatch(/ImagePullBackOff: Back-off pulling image "[^"]+": ErrImagePull: .*not found/);
  });

  it("CrashLoop for an engine that keeps exiting; Stalled from the fifth restart", async () => {
    const ns = namespaces.crash;
    await applyModelService(client, ns, "crash", spec(withPodAnnotations(simulate("crash-loop"))));
    const ms = await waitReason(ns, "crash", "CrashLoop");
    const restarts = Number(/(\d+) restarts?/.exec(readyMessage(ms))?.[1]);
    expect(restarts).toBeGreaterThan(0);
    // Stalled only after STALL_AFTER_RESTARTS (5) restarts: a few crashes may be transient.
    expectFailure(ms, "CrashLoop", "Failed", restarts >= 5);
    expect(readyMessage(ms)).toMatch(/^1 replica crash-looping \(container engine: exit code 1, \d+ restarts?\)/);
    expect(ms.status?.lastFailure).toMatchObject({ reason: "CrashLoop", container: "engine", exitCode: 1 });
    expect(ms.status?.lastFailure?.message).toContain("keeps crashing");
    await waitEvent(ns, "crash", "CrashLoop");
    // kwok restarts the container every 10 s: the fifth restart comes within about 45 s.
    const stalled = await waitFor(
      "Stalled after 5 restarts",
      async () => {
        const got = await getModelService(client, ns, "crash");
        return condition(got, "Stalled")?.status === "True" ? got : undefined;
      },
      90_000,
      500,
    );
    expectFailure(stalled, "CrashLoop", "Failed", true);
    expect(readyMessage(stalled)).toMatch(/exit code 1, ([5-9]|\d\d+) restarts/);
  });

  it("OOMKilled with exit code 137 in status.lastFailure", async () => {
    const ns = namespaces.oom;
    await applyModelService(client, ns, "oom", spec(withPodAnnotations(simulate("oom-kill"))));
    const ms = await waitReason(ns, "oom", "OOMKilled");
    const restarts = Number(/(\d+) restarts?/.exec(readyMessage(ms))?.[1]);
    expectFailure(ms, "OOMKilled", "Failed", restarts >= 5);
    expect(readyMessage(ms)).toMatch(
      /^1 replica out of memory \(container engine: exit code 137, OOMKilled, \d+ restarts?\); raise spec\.resources\.limits\.memory/,
    );
    expect(ms.status?.lastFailure).toMatchObject({ reason: "OOMKilled", container: "engine", exitCode: 137 });
    expect(ms.status?.lastFailure?.message).toContain("ran out of memory");
    expect(ms.status?.lastFailure?.pod).toMatch(/^oom-/);
    const ev = await waitEvent(ns, "oom", "OOMKilled");
    expect(ev.message).toContain("exit code 137");
  });

  it("StartupTimeout right after the startup budget for a pod that never becomes ready", async () => {
    const ns = namespaces.startup;
    // kwok runs no probes: the status function's own budget check and the controller's requeue at
    // the end of the budget report it.
    await applyModelService(client, ns, "slow", spec(withPodAnnotations(simulate("never-ready")), withSpec({ startup: { timeoutSeconds: 30 } })));
    // First Loading, with the elapsed time against the budget.
    const loading = await waitFor(
      "Loading the model",
      async () => {
        const got = await getModelService(client, ns, "slow");
        return /loading the model/.test(readyMessage(got)) ? got : undefined;
      },
      30_000,
    );
    expect(shown(loading)).toEqual({ ready: "False/Loading", phase: "Loading", reconciling: "True/Loading", stalled: "False/Loading" });
    expect(readyMessage(loading)).toBe("1 of 1 replica loading the model for <1m (budget 30s)");
    expect(loading.status?.replicaPhases).toEqual({ scheduling: 0, loading: 1, ready: 0, failing: 0 });

    const [pod] = await listPods(ns, "slow");
    const startedAt = Date.parse(String(pod?.status?.containerStatuses?.find((c) => c.name === "engine")?.state?.running?.startedAt ?? ""));
    expect(Number.isFinite(startedAt)).toBe(true);
    const budgetEnd = startedAt + 30_000;

    const ms = await waitReason(ns, "slow", "StartupTimeout", 60_000, 100);
    const after = (Date.now() - budgetEnd) / 1000;
    // startedAt has one-second resolution (truncated), so the true budget end may be up to 1 s later.
    console.log(`[measure] StartupTimeout after budget: ${after.toFixed(2)} s (budget 30 s from container start; ±1 s timestamp resolution, 0.1 s polling)`);
    expectFailure(ms, "StartupTimeout", "Failed", true);
    // Order, from the timestamps the API server holds: Stalled flipped to True when StartupTimeout
    // was decided, never before the budget's end. Both are truncated to the second, so ≥ holds exactly.
    const decided = Date.parse(condition(ms, "Stalled")?.lastTransitionTime ?? "");
    expect(decided).toBeGreaterThanOrEqual(budgetEnd);
    // ...and after the Loading report seen above, which the flip replaced.
    expect(decided).toBeGreaterThanOrEqual(Date.parse(condition(loading, "Stalled")?.lastTransitionTime ?? ""));
    expect(readyMessage(ms)).toBe("1 replica not ready within the startup budget of 30s; raise spec.startup.timeoutSeconds if the model needs longer to load");
    expect(ms.status?.replicaPhases).toEqual({ scheduling: 0, loading: 0, ready: 0, failing: 1 });
    expect(ms.status?.lastFailure).toMatchObject({ reason: "StartupTimeout", container: "engine" });
    await waitEvent(ns, "slow", "StartupTimeout");
  });

  it("CredentialsMissing names the missing Secret and nothing else", async () => {
    const ns = namespaces.creds;
    // SIMULATED: kwok never checks that referenced Secrets exist, so the pod would run. The
    // create-config-error stage gives the engine container what the kubelet reports for a missing
    // envFrom Secret: waiting CreateContainerConfigError, `secret "hf-token" not found`. Creating the
    // Secret afterwards cannot be observed (kwok would not re-check), so only the report is tested.
    await applyModelService(
      client,
      ns,
      "gated",
      spec(withPodAnnotations(simulate("create-config-error")), withModel("hf://meta-llama/Llama-3.2-1B-Instruct", { credentialsSecret: "hf-token" })),
    );
    const ms = await waitReason(ns, "gated", "CredentialsMissing");
    // Not stalled: the Secret may be created next.
    expectFailure(ms, "CredentialsMissing", "Failed", false);
    // The whole message: it names the Secret and the field, and carries nothing else (no value).
    expect(readyMessage(ms)).toBe(
      `1 replica cannot start (container engine: Secret "hf-token" (spec.model.credentialsSecret) does not exist in namespace ${ns})`,
    );
    expect(ms.status?.lastFailure).toMatchObject({ reason: "CredentialsMissing", container: "engine" });
    const ev = await waitEvent(ns, "gated", "CredentialsMissing");
    expect(ev.message).toContain('Secret "hf-token"');
  });

  it("Loading while a slow pod loads (8 s), then Ready", async () => {
    const ns = namespaces.loading;
    const t0 = performance.now();
    await applyModelService(client, ns, "load", spec(simulateLoad(8)));
    // The pod runs unready while the engine loads: the elapsed time against the startup budget.
    const loading = await waitFor(
      "Loading the model",
      async () => {
        const got = await getModelService(client, ns, "load");
        return /loading the model/.test(readyMessage(got)) ? got : undefined;
      },
      30_000,
      100,
    );
    const tLoading = performance.now();
    expect(shown(loading)).toEqual({ ready: "False/Loading", phase: "Loading", reconciling: "True/Loading", stalled: "False/Loading" });
    expect(readyMessage(loading)).toBe("1 of 1 replica loading the model for <1m (budget 30m)");
    expect(loading.status?.replicaPhases).toEqual({ scheduling: 0, loading: 1, ready: 0, failing: 0 });
    const ready = await waitReason(ns, "load", "Ready", 60_000);
    const tReady = performance.now();
    console.log(
      `[measure] slow load (8 s): create→Loading ${((tLoading - t0) / 1000).toFixed(1)} s, create→Ready ${((tReady - t0) / 1000).toFixed(1)} s (Loading for ≥${((tReady - tLoading) / 1000).toFixed(1)} s)`,
    );
    expectReady(ready);
    // Order, from the API server's timestamps: the engine started, the pod turned Ready after loading,
    // and only then the ModelService turned Ready (Loading, observed above, came first).
    const [pod] = await listPods(ns, "load");
    const engineStarted = Date.parse(String(pod?.status?.containerStatuses?.find((c) => c.name === "engine")?.state?.running?.startedAt ?? ""));
    const podReady = Date.parse(String(pod?.status?.conditions?.find((c) => c.type === "Ready")?.lastTransitionTime ?? ""));
    const msReady = Date.parse(condition(ready, "Ready")?.lastTransitionTime ?? "");
    expect(podReady).toBeGreaterThan(engineStarted);
    expect(msReady).toBeGreaterThanOrEqual(podReady);
    expect(condition(loading, "Ready")?.status).toBe("False");
    // Loading and Ready are progress, not failures: Normal Events only.
    await waitEvent(ns, "load", "Ready", "Normal");
    const events = await client.request<{ items: CoreV1Event[] }>("GET", `/api/v1/namespaces/${ns}/events`, {
      query: { fieldSelector: "involvedObject.kind=ModelService,involvedObject.name=load" },
    });
    expect(events.items.filter((e) => e.type === "Warning")).toEqual([]);
  });

  it("kubectl get msvc shows READY, PHASE and REASON; kubectl wait works; describe shows the Warning", async () => {
    const ns = namespaces.kubectl;
    await applyModelService(client, ns, "broken", spec(withGpus(16)));
    await applyModelService(client, ns, "healthy", spec());
    const wait = await kubectl("wait", "-n", ns, "msvc/healthy", "--for=condition=Ready", "--timeout=60s");
    expect(wait.stderr).toBe("");
    expect(wait.code).toBe(0);
    expect(wait.stdout.trim()).toBe("modelservice.modelservice.dev/healthy condition met");
    await waitReason(ns, "broken", "InsufficientGPU");

    const get = await kubectl("get", "msvc", "-n", ns);
    expect(get.code).toBe(0);
    const rows = table(get.stdout);
    expect(Object.keys(rows[0] ?? {})).toEqual(["NAME", "READY", "PHASE", "REPLICAS", "MODEL", "ENGINE", "GPUS", "REASON", "AGE"]);
    const row = (name: string) => rows.find((r) => r.NAME === name);
    expect(row("broken")).toMatchObject({
      READY: "False",
      PHASE: "Scheduling",
      REPLICAS: "0/1",
      MODEL: MODEL_URI,
      ENGINE: "vLLM",
      GPUS: "16",
      REASON: "InsufficientGPU",
    });
    expect(row("healthy")).toMatchObject({ READY: "True", PHASE: "Ready", REPLICAS: "1/1", MODEL: MODEL_URI, ENGINE: "vLLM", GPUS: "1", REASON: "Ready" });

    await waitEvent(ns, "broken", "InsufficientGPU");
    const describe = await kubectl("describe", "msvc", "-n", ns, "broken");
    expect(describe.code).toBe(0);
    expect(describe.stdout).toMatch(/Reason:\s+InsufficientGPU/);
    expect(describe.stdout).toContain("each asks for 16 nvidia.com/gpu");
    expect(describe.stdout).toMatch(/Warning\s+InsufficientGPU/);
  });

  it("/metrics: ModelServices by phase and reason, and time to ready", async () => {
    const ns = namespaces.metrics;
    await applyModelService(client, ns, "m-ready", spec());
    await applyModelService(client, ns, "m-waiting", spec(withGpus(16)));
    await waitReason(ns, "m-ready", "Ready");
    await waitReason(ns, "m-waiting", "InsufficientGPU");
    const value = (text: string, series: string) => {
      const line = text.split("\n").find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    // The gauge is computed at scrape time from the informer cache, which follows the status writes.
    const text = await waitFor(
      "the gauge to count both",
      async () => {
        const t = await (await fetch(`http://127.0.0.1:${op.port}/metrics`)).text();
        return (value(t, 'modelservice_modelservices{phase="Ready",reason="Ready"}') ?? 0) >= 1 &&
          (value(t, 'modelservice_modelservices{phase="Scheduling",reason="InsufficientGPU"}') ?? 0) >= 1
          ? t
          : undefined;
      },
      10_000,
    );
    expect(text).toContain("# TYPE modelservice_modelservices gauge");
    expect(text).toContain("# TYPE modelservice_time_to_ready_seconds histogram");
    const count = value(text, "modelservice_time_to_ready_seconds_count") ?? 0;
    const sum = value(text, "modelservice_time_to_ready_seconds_sum") ?? 0;
    expect(count).toBeGreaterThanOrEqual(1);
    expect(sum).toBeGreaterThan(0);
    // Every sample is in the +Inf bucket (which buckets the others fall in depends on the machine's speed).
    expect(value(text, 'modelservice_time_to_ready_seconds_bucket{le="+Inf"}')).toBe(count);
    console.log(`[measure] time_to_ready histogram: count ${count}, mean ${(sum / count).toFixed(2)} s`);
  });
});
