// The local control plane (test/cluster/global-setup.ts) is a real Kubernetes API: our generated
// CRD is accepted and its CEL/OpenAPI rules reject bad ModelServices; the scheduler places GPU pods
// on the simulated GPU nodes (or leaves them Pending when nothing fits); kwok plays the pods'
// lifecycle, including the failures selected with the modelservice.dev/simulate annotation.
import { readFileSync } from "node:fs";
import { request as httpsRequest, type RequestOptions } from "node:https";
import { setTimeout as sleep } from "node:timers/promises";
import {
  ApiException,
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type V1ContainerStatus,
  type V1CustomResourceDefinition,
  type V1Pod,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parse } from "yaml";
import { CRD_PATH } from "../../src/api/crd-file.ts";
import { API_VERSION, GROUP, KIND, PLURAL, VERSION } from "../../src/api/schema.ts";
import { readAuditEvents } from "../../src/localcluster/audit.ts";

const kc = new KubeConfig();
kc.loadFromFile(inject("kubeconfig"));
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);
const apiext = kc.makeApiClient(ApiextensionsV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);

const namespace = `cp-test-${Date.now().toString(36)}`;
const GPU_TOLERATION = { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" };

const waitFor = async <T>(what: string, get: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 60_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await get();
      if (done(last)) return last;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(last, null, 1)?.slice(0, 3000)}`);
    await sleep(200);
  }
};

const pod = (name: string, opts: { annotations?: Record<string, string>; gpus?: number; sidecar?: boolean } = {}): V1Pod => ({
  metadata: { name, namespace, annotations: opts.annotations },
  spec: {
    containers: [
      {
        name: "engine",
        image: "vllm/vllm-openai:v0.11.0",
        resources: opts.gpus ? { limits: { "nvidia.com/gpu": String(opts.gpus) } } : { requests: { cpu: "100m" } },
      },
      ...(opts.sidecar ? [{ name: "proxy", image: "envoyproxy/envoy:v1.35.0" }] : []),
    ],
    tolerations: opts.gpus ? [GPU_TOLERATION] : undefined,
  },
});

const rawRequest = async (method: string, path: string, body: unknown, contentType: string): Promise<{ status: number; body: string }> => {
  const opts: RequestOptions = { method, headers: { "content-type": contentType, accept: "application/json" } };
  await kc.applyToHTTPSOptions(opts);
  const url = new URL(path, kc.getCurrentCluster()?.server);
  return await new Promise((resolve, reject) => {
    const req = httpsRequest(url, opts, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
};

const readPod = (name: string) => core.readNamespacedPod({ name, namespace });
const engineStatus = (p: V1Pod): V1ContainerStatus | undefined => p.status?.containerStatuses?.find((c) => c.name === "engine");
const condition = (p: V1Pod, type: string) => p.status?.conditions?.find((c) => c.type === type);

const modelService = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: API_VERSION,
  kind: KIND,
  metadata: { name, namespace },
  spec: { model: { uri: "hf://Qwen/Qwen2.5-0.5B-Instruct" }, engine: { type: "vLLM" }, gpu: { count: 1 }, ...spec },
});

/** Creates the object (dry run) and returns the API server's rejection message, or "" if admitted. */
const rejection = async (body: object): Promise<string> => {
  try {
    await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, body, dryRun: "All" });
    return "";
  } catch (err) {
    if (err instanceof ApiException) {
      expect(err.code).toBe(422);
      const status = typeof err.body === "string" ? JSON.parse(err.body) : err.body;
      return String(status.message);
    }
    throw err;
  }
};

beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: namespace } } });
});

afterAll(async () => {
  await core.deleteNamespace({ name: namespace }).catch(() => {});
});

describe("the ModelService CRD", () => {
  beforeAll(async () => {
    // Server-side apply of the file as is, over plain HTTPS: client-node's typed APIs serialise a
    // CRD through their models and would silently drop keys such as x-kubernetes-validations.
    const crd = parse(readFileSync(CRD_PATH, "utf8")) as V1CustomResourceDefinition;
    const name = crd.metadata?.name ?? "";
    const res = await rawRequest(
      "PATCH",
      `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}?fieldManager=control-plane-test&force=true`,
      crd,
      "application/apply-patch+yaml",
    );
    if (res.status >= 300) {
      // A rejected CRD (a CEL rule over the cost budget, a schema that is not structural) lands here with the API server's reason.
      throw new Error(`the API server rejected ${CRD_PATH} (HTTP ${res.status}): ${res.body}`);
    }
    await waitFor(
      "the CRD to be Established",
      () => apiext.readCustomResourceDefinition({ name }),
      (c) => c.status?.conditions?.some((cond) => cond.type === "Established" && cond.status === "True") ?? false,
      30_000,
    );
    // Established precedes the resource's storage being ready (429 "storage is (re)initializing").
    await waitFor(
      "modelservices to be listable",
      () => custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL }),
      () => true,
      30_000,
    );
  });

  it("is Established and serves the modelservices resource", async () => {
    const crd = await apiext.readCustomResourceDefinition({ name: `${PLURAL}.${GROUP}` });
    expect(crd.status?.conditions?.find((c) => c.type === "NamesAccepted")?.status).toBe("True");
    const list = await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL });
    expect(list.items).toEqual([]);
  });

  it("admits a valid ModelService", async () => {
    const body = modelService("qwen-small", {
      engine: { type: "vLLM", args: ["--max-model-len=4096"] },
      gpu: { count: 2, products: ["NVIDIA-H100-80GB-HBM3"] },
      autoscaling: { minReplicas: 1, maxReplicas: 3, target: { inFlightRequests: 16 } },
      rollout: { maxSurge: 0, maxUnavailable: 1 },
      podMetadata: { annotations: { "modelservice.dev/simulate": "crash-loop" } },
    });
    const created = await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, body });
    expect(created.metadata.uid).toBeTruthy();
    expect(created.spec.gpu.count).toBe(2);
  });

  it.each([
    [
      "replicas and autoscaling together",
      modelService("both", { replicas: 2, autoscaling: { minReplicas: 1, maxReplicas: 2, target: { cpuUtilization: 80 } } }),
      "spec.replicas and spec.autoscaling are mutually exclusive",
    ],
    [
      "minReplicas above maxReplicas",
      modelService("min-max", { autoscaling: { minReplicas: 5, maxReplicas: 2, target: { cpuUtilization: 80 } } }),
      "autoscaling.minReplicas must be less than or equal to maxReplicas",
    ],
    [
      "autoscaling without target or metrics",
      modelService("no-target", { autoscaling: { minReplicas: 1, maxReplicas: 2 } }),
      "autoscaling needs exactly one of target or metrics",
    ],
    ["a name longer than 63 characters", modelService(`m${"x".repeat(63)}`, {}), "metadata.name must be a DNS-1035 label"],
    ["a name that is not a DNS-1035 label", modelService("9-starts-with-a-digit", {}), "metadata.name must be a DNS-1035 label"],
    ["a Custom engine without an image", modelService("custom", { engine: { type: "Custom" } }), "engine.image is required when engine.type is Custom"],
    [
      "maxSurge 0 and maxUnavailable 0",
      modelService("zero-zero", { rollout: { maxSurge: 0, maxUnavailable: 0 } }),
      "rollout.maxSurge and rollout.maxUnavailable cannot both be 0",
    ],
    [
      "maxSurge '0%' and maxUnavailable '0'",
      modelService("zero-pct", { rollout: { maxSurge: "0%", maxUnavailable: "0" } }),
      "rollout.maxSurge and rollout.maxUnavailable cannot both be 0",
    ],
    ["an unknown engine type", modelService("bad-engine", { engine: { type: "llama.cpp" } }), "spec.engine.type: Unsupported value"],
    ["a malformed model URI", modelService("bad-uri", { model: { uri: "http://example.com/model" } }), "spec.model.uri"],
    ["a negative integer maxSurge", modelService("neg-surge", { rollout: { maxSurge: -1 } }), "must not be negative"],
    ["a negative sharedMemory", modelService("neg-shm", { sharedMemory: "-1Gi" }), "spec.sharedMemory"],
    [
      "scale to zero",
      modelService("zero", { autoscaling: { minReplicas: 0, maxReplicas: 2, target: { cpuUtilization: 80 } } }),
      "spec.autoscaling.minReplicas",
    ],
    ["GPU memory without GPUs", modelService("mem-no-gpu", { gpu: { count: 0, minMemoryMiB: 1000 } }), "gpu.minMemoryMiB needs gpu.count > 0"],
    [
      "a CPU utilisation target without a CPU request",
      modelService("cpu-no-request", { autoscaling: { minReplicas: 1, maxReplicas: 2, target: { cpuUtilization: 80 } } }),
      "autoscaling.target.cpuUtilization is a percentage of the CPU request",
    ],
  ])("rejects %s", async (_what, body, message) => {
    expect(await rejection(body)).toContain(message);
  });

  it("accepts maxSurge 0 with maxUnavailable 1 (dry run)", async () => {
    expect(await rejection(modelService("surge-zero", { rollout: { maxSurge: 0, maxUnavailable: 1 } }))).toBe("");
  });
});

describe("scheduling on the simulated GPU fleet", () => {
  it("places a Deployment's 2-GPU pod on a GPU node and kwok makes it Ready", async () => {
    const labels = { app: "two-gpus" };
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: "two-gpus", namespace },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              containers: [{ name: "engine", image: "vllm/vllm-openai:v0.11.0", resources: { limits: { "nvidia.com/gpu": "2" } } }],
              tolerations: [GPU_TOLERATION],
            },
          },
        },
      },
    });
    const ready = await waitFor(
      "the two-gpus pod to be Ready",
      async () => (await core.listNamespacedPod({ namespace, labelSelector: "app=two-gpus" })).items,
      (pods) => pods.length === 1 && condition(pods[0] as V1Pod, "Ready")?.status === "True",
    );
    const p = ready[0] as V1Pod;
    const node = await core.readNode({ name: p.spec?.nodeName ?? "" });
    expect(node.metadata?.labels?.["nvidia.com/gpu.present"]).toBe("true");
    expect(Number(node.status?.allocatable?.["nvidia.com/gpu"])).toBeGreaterThanOrEqual(2);
    expect(p.status?.phase).toBe("Running");
    expect(p.status?.podIP).toMatch(/^10\.0\./);
    expect(engineStatus(p)?.state?.running).toBeDefined();
    const deployment = await waitFor(
      "the Deployment to report 1 available replica",
      () => apps.readNamespacedDeployment({ name: "two-gpus", namespace }),
      (d) => d.status?.availableReplicas === 1,
    );
    expect(deployment.status?.readyReplicas).toBe(1);
  });

  it("leaves a 16-GPU pod Pending with the scheduler's Insufficient nvidia.com/gpu", async () => {
    await core.createNamespacedPod({ namespace, body: pod("sixteen-gpus", { gpus: 16 }) });
    const p = await waitFor(
      "the scheduler to give up on sixteen-gpus",
      () => readPod("sixteen-gpus"),
      (p) => condition(p, "PodScheduled")?.status === "False",
    );
    expect(p.status?.phase).toBe("Pending");
    expect(condition(p, "PodScheduled")?.reason).toBe("Unschedulable");
    expect(condition(p, "PodScheduled")?.message).toContain("Insufficient nvidia.com/gpu");
  });

  it("keeps pods without the GPU toleration off the GPU nodes", async () => {
    await core.createNamespacedPod({ namespace, body: pod("cpu-only") });
    const p = await waitFor(
      "cpu-only to be Ready",
      () => readPod("cpu-only"),
      (p) => condition(p, "Ready")?.status === "True",
    );
    const node = await core.readNode({ name: p.spec?.nodeName ?? "" });
    expect(node.metadata?.labels?.["nvidia.com/gpu.present"]).toBeUndefined();
  });

  it("schedules MIG slices on the A100 node", async () => {
    const body = pod("mig-slice");
    const engine = body.spec?.containers[0];
    if (engine) engine.resources = { limits: { "nvidia.com/mig-1g.10gb": "1" } };
    if (body.spec) body.spec.tolerations = [GPU_TOLERATION];
    await core.createNamespacedPod({ namespace, body });
    const p = await waitFor(
      "mig-slice to be Ready",
      () => readPod("mig-slice"),
      (p) => condition(p, "Ready")?.status === "True",
    );
    const node = await core.readNode({ name: p.spec?.nodeName ?? "" });
    expect(node.metadata?.labels?.["nvidia.com/gpu.product"]).toBe("NVIDIA-A100-SXM4-80GB");
  });
});

describe.concurrent("simulated pod lifecycles (annotation modelservice.dev/simulate)", () => {
  it("honours modelservice.dev/simulate-load-seconds", async () => {
    await core.createNamespacedPod({ namespace, body: pod("slow-load", { annotations: { "modelservice.dev/simulate-load-seconds": "3" } }) });
    // While it loads, the pod runs without being ready, as a real engine before its startup probe passes.
    const loading = await waitFor(
      "slow-load to run its containers",
      () => readPod("slow-load"),
      (p) => engineStatus(p)?.state?.running !== undefined,
    );
    expect(loading.status?.phase).toBe("Running");
    expect(condition(loading, "Ready")?.status).toBe("False");
    expect(engineStatus(loading)).toMatchObject({ ready: false, started: false });
    const p = await waitFor(
      "slow-load to be Ready",
      () => readPod("slow-load"),
      (p) => condition(p, "Ready")?.status === "True",
    );
    const startedAt = new Date(engineStatus(p)?.state?.running?.startedAt ?? 0).getTime();
    const readyAt = new Date(condition(p, "Ready")?.lastTransitionTime ?? 0).getTime();
    console.log(`[measure] slow-load: engine start → Ready ${((readyAt - startedAt) / 1000).toFixed(0)} s (1 s timestamp resolution)`);
    // Order, not time: Ready came after the engine started (loading took place in between, seen above).
    expect(readyAt).toBeGreaterThan(startedAt);
  });

  it("crash-loop: CrashLoopBackOff, last terminated with exit code 1, restartCount > 0", async () => {
    await core.createNamespacedPod({ namespace, body: pod("crash-loop", { annotations: { "modelservice.dev/simulate": "crash-loop" }, sidecar: true }) });
    const p = await waitFor(
      "crash-loop to crash",
      () => readPod("crash-loop"),
      (p) => engineStatus(p)?.state?.waiting?.reason === "CrashLoopBackOff",
    );
    const s = engineStatus(p);
    expect(s?.ready).toBe(false);
    expect(s?.restartCount).toBeGreaterThan(0);
    expect(s?.lastState?.terminated?.exitCode).toBe(1);
    expect(s?.lastState?.terminated?.reason).toBe("Error");
    expect(condition(p, "Ready")?.status).toBe("False");
    expect(p.status?.phase).toBe("Running");
    // The other container runs.
    expect(p.status?.containerStatuses?.find((c) => c.name === "proxy")?.ready).toBe(true);
    const later = await waitFor(
      "crash-loop to restart again",
      () => readPod("crash-loop"),
      (p) => (engineStatus(p)?.restartCount ?? 0) >= 2,
      30_000,
    );
    expect(engineStatus(later)?.state?.waiting?.reason).toBe("CrashLoopBackOff");
  });

  it("oom-kill: last terminated OOMKilled with exit code 137, then CrashLoopBackOff", async () => {
    await core.createNamespacedPod({ namespace, body: pod("oom-kill", { annotations: { "modelservice.dev/simulate": "oom-kill" }, gpus: 1 }) });
    const p = await waitFor(
      "oom-kill to be killed",
      () => readPod("oom-kill"),
      (p) => engineStatus(p)?.lastState?.terminated?.reason === "OOMKilled",
    );
    const s = engineStatus(p);
    expect(s?.lastState?.terminated?.exitCode).toBe(137);
    expect(s?.state?.waiting?.reason).toBe("CrashLoopBackOff");
    expect(s?.restartCount).toBeGreaterThan(0);
  });

  it("image-pull-failure: ErrImagePull, then ImagePullBackOff, pod Pending", async () => {
    await core.createNamespacedPod({ namespace, body: pod("image-pull", { annotations: { "modelservice.dev/simulate": "image-pull-failure" } }) });
    const first = await waitFor(
      "image-pull to fail",
      () => readPod("image-pull"),
      (p) => ["ErrImagePull", "ImagePullBackOff"].includes(engineStatus(p)?.state?.waiting?.reason ?? ""),
    );
    expect(engineStatus(first)?.state?.waiting?.message).toContain("vllm/vllm-openai:v0.11.0");
    const p = await waitFor(
      "image-pull to back off",
      () => readPod("image-pull"),
      (p) => engineStatus(p)?.state?.waiting?.reason === "ImagePullBackOff",
    );
    expect(p.status?.phase).toBe("Pending");
    expect(engineStatus(p)?.ready).toBe(false);
  });

  it("never-ready: Running, container running but never ready", async () => {
    await core.createNamespacedPod({ namespace, body: pod("never-ready", { annotations: { "modelservice.dev/simulate": "never-ready" } }) });
    const p = await waitFor(
      "never-ready to run",
      () => readPod("never-ready"),
      (p) => engineStatus(p)?.state?.running !== undefined,
    );
    expect(p.status?.phase).toBe("Running");
    expect(engineStatus(p)?.ready).toBe(false);
    expect(condition(p, "Ready")?.status).toBe("False");
    await sleep(3000);
    expect(condition(await readPod("never-ready"), "Ready")?.status).toBe("False");
  });

  it("create-config-error: CreateContainerConfigError naming the missing Secret", async () => {
    const body = pod("config-error", { annotations: { "modelservice.dev/simulate": "create-config-error" } });
    const engine = body.spec?.containers[0];
    if (engine) engine.envFrom = [{ secretRef: { name: "hf-token" } }];
    await core.createNamespacedPod({ namespace, body });
    const p = await waitFor(
      "config-error to fail",
      () => readPod("config-error"),
      (p) => engineStatus(p)?.state?.waiting?.reason === "CreateContainerConfigError",
    );
    expect(engineStatus(p)?.state?.waiting?.message).toBe('secret "hf-token" not found');
    expect(p.status?.phase).toBe("Pending");
  });

  it("deletes pods at once and records writes in the audit log", async () => {
    await core.createNamespacedPod({ namespace, body: pod("short-lived") });
    await waitFor(
      "short-lived to be Ready",
      () => readPod("short-lived"),
      (p) => condition(p, "Ready")?.status === "True",
    );
    await core.deleteNamespacedPod({ name: "short-lived", namespace });
    await waitFor(
      "short-lived to be gone",
      async () => (await core.listNamespacedPod({ namespace, fieldSelector: "metadata.name=short-lived" })).items.length,
      (n) => n === 0,
      30_000,
    );
    const auditLogPath = inject("auditLogPath");
    if (!auditLogPath) return;
    const events = await waitFor(
      "the audit log to record the pod's create and delete",
      async () => readAuditEvents(auditLogPath).filter((e) => e.objectRef?.namespace === namespace && e.objectRef?.name === "short-lived"),
      (evs) => evs.some((e) => e.verb === "create") && evs.some((e) => e.verb === "delete"),
      10_000,
    );
    expect(events.every((e) => e.stage === "ResponseComplete")).toBe(true);
    expect(events.find((e) => e.verb === "create")?.user.username).toBe("kubernetes-admin");
    // kwok's status patches are writes too, made by its own user.
    expect(events.some((e) => e.verb === "patch" && e.user.username === "kwok-controller")).toBe(true);
    // Reads are not recorded.
    expect(events.some((e) => e.verb === "get" || e.verb === "list" || e.verb === "watch")).toBe(false);
  });
});
