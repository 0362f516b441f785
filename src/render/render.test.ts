import type { V1Container, V1Deployment } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { MS_UID, modelService, parsed, type SpecPatch, withSpec } from "../../test/support/model-service.ts";
import { ENGINE_TYPES, type EngineType, modelServiceSchema } from "../api/schema.ts";
import type { ModelService, ModelServiceSpec } from "../api/types.ts";
import { defaultOperatorConfig, type OperatorConfig } from "../config/operator-config.ts";
import { selectorLabels } from "../model/labels.ts";
import { CHILD_KINDS, childKinds, childrenYaml, InvalidSpecError, orderedChildren, PROGRESS_DEADLINE_MARGIN_SECONDS, render, serviceUrl } from "./index.ts";

const UID = MS_UID;

/** A valid ModelService with `spec` merged over the builder's minimal vLLM spec, defaults applied. */
const ms = (spec: SpecPatch = {}, name = "demo"): ModelService => parsed(modelService(name, withSpec(spec)));

const kedaConfig: OperatorConfig = { ...defaultOperatorConfig, keda: { ...defaultOperatorConfig.keda, enabled: true } };

const podSpec = (d: V1Deployment | undefined) => {
  const spec = d?.spec?.template.spec;
  if (!spec) throw new Error("no pod spec");
  return spec;
};
const engineOf = (d: V1Deployment | undefined): V1Container => {
  const c = podSpec(d).containers.find((x) => x.name === "engine");
  if (!c) throw new Error("no engine container");
  return c;
};
const initOf = (d: V1Deployment | undefined) => podSpec(d).initContainers?.find((x) => x.name === "model-download");
const problemsOf = (fn: () => unknown): { path: string; message: string }[] => {
  try {
    fn();
  } catch (e) {
    if (e instanceof InvalidSpecError) return e.problems;
    throw e;
  }
  return [];
};

type SourceCase = { label: string; uri: string | undefined; cache?: boolean };
const SOURCES: SourceCase[] = [
  { label: "hf", uri: "hf://meta-llama/Llama-3.1-8B-Instruct" },
  { label: "hf@rev", uri: "hf://meta-llama/Llama-3.1-8B-Instruct@0e9e39f" },
  { label: "hf+cache", uri: "hf://meta-llama/Llama-3.1-8B-Instruct", cache: true },
  { label: "pvc", uri: "pvc://models/llama/8b" },
  { label: "s3", uri: "s3://acme-models/llama/8b", cache: true },
  { label: "gs", uri: "gs://acme-models/llama/8b", cache: true },
  { label: "ollama", uri: "ollama://llama3.2:1b" },
  { label: "image", uri: undefined },
];

/** Which pairs cannot work, and the path reported. */
function expectedProblem(engine: EngineType, source: SourceCase): string | undefined {
  const kind = source.label.replace(/[@+].*/, "");
  if (kind === "ollama" && engine !== "Ollama") return "spec.model.uri";
  if (engine === "Triton" && (kind === "hf" || kind === "image")) return "spec.model.uri";
  if (engine === "Ollama" && (kind === "pvc" || kind === "s3" || kind === "gs" || source.label === "hf@rev")) return "spec.model.uri";
  if ((engine === "vLLM" || engine === "SGLang" || engine === "TGI") && kind === "image") return "spec.model.uri";
  return undefined;
}

const SECRET = "model-creds";

describe("every engine × model source", () => {
  for (const engine of ENGINE_TYPES) {
    for (const source of SOURCES) {
      it(`${engine} with ${source.label}`, () => {
        const raw = modelService(
          "m",
          withSpec({
            model: { uri: source.uri, credentialsSecret: SECRET },
            engine: { type: engine, ...(engine === "Custom" ? { image: "ghcr.io/acme/server:1" } : {}) },
            gpu: { count: 1 },
            ...(source.cache ? { cache: { size: "50Gi" } } : {}),
          }),
        );
        const parsed = modelServiceSchema.safeParse(raw);
        const expected = expectedProblem(engine, source);
        if (expected === "schema") {
          expect(parsed.success).toBe(false);
          return;
        }
        expect(parsed.success).toBe(true);
        if (!parsed.success) return;
        if (expected) {
          expect(problemsOf(() => render(parsed.data, defaultOperatorConfig)).map((p) => p.path)).toContain(expected);
          return;
        }
        const out = render(parsed.data, defaultOperatorConfig);
        const engineC = engineOf(out.deployment);
        const init = initOf(out.deployment);
        const text = [...(engineC.command ?? []), ...(engineC.args ?? []), ...(engineC.env ?? []).map((e) => `${e.name}=${e.value}`)].join(" ");
        const yaml = childrenYaml(out);
        // Credentials by reference only.
        expect(yaml).not.toMatch(/HF_TOKEN|AWS_SECRET/);
        const fetcher = init ?? engineC;
        expect(fetcher.envFrom).toEqual([{ secretRef: { name: SECRET } }]);
        if (init) expect(engineC.envFrom).toBeUndefined();

        const kind = source.label.replace(/[@+].*/, "");
        if (kind === "hf") {
          if (engine === "Ollama") expect(init?.env).toContainEqual({ name: "MODEL", value: "hf.co/meta-llama/Llama-3.1-8B-Instruct" });
          else expect(text).toContain("meta-llama/Llama-3.1-8B-Instruct");
          if (source.label === "hf@rev") expect(text).toMatch(/--revision 0e9e39f|MODEL_REVISION=0e9e39f/);
          if (source.cache && engine !== "Ollama") expect(engineC.env).toContainEqual({ name: "HF_HOME", value: "/cache/huggingface" });
          if (!source.cache && engine !== "Ollama") expect(init).toBeUndefined();
        }
        if (kind === "pvc") {
          expect(podSpec(out.deployment).volumes).toContainEqual({ name: "model", persistentVolumeClaim: { claimName: "models", readOnly: true } });
          expect(engineC.volumeMounts).toContainEqual({ name: "model", mountPath: "/mnt/models", readOnly: true });
          expect(text).toContain("/mnt/models/llama/8b");
          expect(init).toBeUndefined();
        }
        if (kind === "s3" || kind === "gs") {
          expect(init?.image).toBe(defaultOperatorConfig.downloaderImages[kind]);
          expect(init?.command).toContain(source.uri);
          const local = `/cache/models/${kind}/acme-models/llama/8b`;
          expect(init?.command).toContain(local);
          expect(text).toContain(local);
          expect(engineC.volumeMounts).toContainEqual({ name: "cache", mountPath: "/cache", readOnly: true });
          expect(out.pvc?.metadata?.name).toBe("m-cache");
        }
        if (kind === "ollama") {
          expect(init?.image).toBe(defaultOperatorConfig.images.Ollama);
          expect(init?.env).toContainEqual({ name: "MODEL", value: "llama3.2:1b" });
          expect(engineC.env).toContainEqual({ name: "OLLAMA_MODELS", value: "/cache/ollama" });
          // No cache PVC: a scratch emptyDir carries the pulled model to the engine.
          expect(podSpec(out.deployment).volumes).toContainEqual({ name: "cache", emptyDir: {} });
        }
        expect(engineC.resources?.limits?.["nvidia.com/gpu"]).toBe("1");
      });
    }
  }
});

describe("engine arguments", () => {
  it.each([
    ["vLLM", "--tensor-parallel-size"],
    ["SGLang", "--tp-size"],
    ["TGI", "--num-shard"],
  ] as const)("%s passes gpu.count as %s only when > 1", (type, flag) => {
    const four = engineOf(render(ms({ engine: { type }, gpu: { count: 4 } }), defaultOperatorConfig).deployment).args ?? [];
    expect(four[four.indexOf(flag) + 1]).toBe("4");
    const one = engineOf(render(ms({ engine: { type }, gpu: { count: 1 } }), defaultOperatorConfig).deployment).args ?? [];
    expect(one).not.toContain(flag);
  });

  it("vLLM: model, served name, port, then the user's args", () => {
    const c = engineOf(
      render(
        ms({ model: { uri: "hf://org/m", servedName: "my-model" }, engine: { type: "vLLM", args: ["--max-model-len", "8192"], port: 9000 } }),
        defaultOperatorConfig,
      ).deployment,
    );
    expect(c.args).toEqual(["--model", "org/m", "--served-model-name", "my-model", "--port", "9000", "--max-model-len", "8192"]);
    expect(c.ports?.[0]).toEqual({ name: "http", containerPort: 9000, protocol: "TCP" });
    expect(c.image).toBe(defaultOperatorConfig.images.vLLM);
  });

  it("served name defaults to metadata.name", () => {
    const args = engineOf(render(ms({}, "chat"), defaultOperatorConfig).deployment).args ?? [];
    expect(args[args.indexOf("--served-model-name") + 1]).toBe("chat");
  });

  it("SGLang runs launch_server on all interfaces with metrics", () => {
    const c = engineOf(render(ms({ engine: { type: "SGLang" } }), defaultOperatorConfig).deployment);
    expect(c.command).toEqual(["python3", "-m", "sglang.launch_server"]);
    expect(c.args).toEqual(expect.arrayContaining(["--model-path", "org/model", "--host", "0.0.0.0", "--port", "30000", "--enable-metrics"]));
  });

  it("TGI uses --model-id and its port", () => {
    const c = engineOf(render(ms({ engine: { type: "TGI" } }), defaultOperatorConfig).deployment);
    expect(c.args?.slice(0, 2)).toEqual(["--model-id", "org/model"]);
    expect(c.args).toEqual(expect.arrayContaining(["--port", "8080"]));
  });

  it("Triton serves the repository on the engine port", () => {
    const c = engineOf(render(ms({ model: { uri: "pvc://repo" }, engine: { type: "Triton" } }), defaultOperatorConfig).deployment);
    expect(c.command).toEqual(["tritonserver"]);
    expect(c.args).toEqual(expect.arrayContaining(["--model-repository=/mnt/models", "--http-port=8000"]));
    expect(c.readinessProbe?.httpGet?.path).toBe("/v2/health/ready");
    expect(c.livenessProbe?.httpGet?.path).toBe("/v2/health/live");
  });

  it("Ollama serves on all interfaces and works on CPU", () => {
    const out = render(ms({ model: { uri: "ollama://qwen2.5:0.5b" }, engine: { type: "Ollama" } }), defaultOperatorConfig);
    const c = engineOf(out.deployment);
    expect(c.args).toEqual(["serve"]);
    expect(c.env).toContainEqual({ name: "OLLAMA_HOST", value: "0.0.0.0:11434" });
    // Pulled weights land on the node's disk (no cache): bounded by the ephemeral-storage limit.
    expect(c.resources?.limits).toEqual({ "ephemeral-storage": "200Gi" });
    // A cap, not a reservation: without an explicit request Kubernetes would request the whole limit.
    expect(c.resources?.requests?.["ephemeral-storage"]).toBe("0");
    expect(podSpec(out.deployment).tolerations).toBeUndefined();
  });

  it("Custom keeps the image's entrypoint, gets the model as env and a TCP probe", () => {
    const c = engineOf(render(ms({ engine: { type: "Custom", image: "acme/srv:1", args: ["--flag"] } }), defaultOperatorConfig).deployment);
    expect(c.image).toBe("acme/srv:1");
    expect(c.command).toBeUndefined();
    expect(c.args).toEqual(["--flag"]);
    expect(c.env).toEqual(
      expect.arrayContaining([
        { name: "MODEL_ID", value: "org/model" },
        { name: "PORT", value: "8000" },
      ]),
    );
    expect(c.startupProbe?.tcpSocket).toEqual({ port: "http" });
  });

  it("weights in the image need the model flag in args", () => {
    expect(problemsOf(() => render(ms({ model: { uri: undefined } }), defaultOperatorConfig))).toEqual([
      { path: "spec.model.uri", message: expect.stringContaining("--model") },
    ]);
    const args = engineOf(
      render(ms({ model: { uri: undefined }, engine: { type: "vLLM", args: ["--model=/weights"] } }), defaultOperatorConfig).deployment,
    ).args;
    expect(args).toContain("--model=/weights");
  });

  it("user env overrides generated env by name", () => {
    const c = engineOf(
      render(
        ms({
          model: { uri: "ollama://x" },
          engine: {
            type: "Ollama",
            env: [
              { name: "OLLAMA_KEEP_ALIVE", value: "10m" },
              { name: "EXTRA", value: "1" },
            ],
          },
        }),
        defaultOperatorConfig,
      ).deployment,
    );
    expect(c.env?.filter((e) => e.name === "OLLAMA_KEEP_ALIVE")).toEqual([{ name: "OLLAMA_KEEP_ALIVE", value: "10m" }]);
    expect(c.env?.at(-1)).toEqual({ name: "EXTRA", value: "1" });
  });
});

describe("GPU scheduling", () => {
  it("requests GPUs, tolerates the taint and requires product and memory", () => {
    const out = render(ms({ gpu: { count: 2, products: ["NVIDIA-H100-80GB-HBM3"], minMemoryMiB: 80000 } }), defaultOperatorConfig);
    const c = engineOf(out.deployment);
    expect(c.resources?.limits?.["nvidia.com/gpu"]).toBe("2");
    expect(c.resources?.requests?.["nvidia.com/gpu"]).toBe("2");
    const spec = podSpec(out.deployment);
    expect(spec.tolerations).toEqual([{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }]);
    expect(spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms).toEqual([
      {
        matchExpressions: [
          { key: "nvidia.com/gpu.product", operator: "In", values: ["NVIDIA-H100-80GB-HBM3"] },
          { key: "nvidia.com/gpu.memory", operator: "Gt", values: ["79999"] },
        ],
      },
    ]);
  });

  it("no GPU resource, toleration or affinity without GPUs", () => {
    for (const gpu of [undefined, { count: 0 }]) {
      const out = render(ms(gpu ? { gpu } : {}), defaultOperatorConfig);
      expect(JSON.stringify(out.deployment)).not.toContain("nvidia.com/gpu");
    }
  });

  it("uses spec.gpu.resourceName, then the config's", () => {
    const mig = engineOf(render(ms({ gpu: { count: 1, resourceName: "nvidia.com/mig-1g.10gb" } }), defaultOperatorConfig).deployment);
    expect(mig.resources?.limits).toEqual({ "nvidia.com/mig-1g.10gb": "1", "ephemeral-storage": "200Gi" });
    const amd: OperatorConfig = { ...defaultOperatorConfig, gpu: { ...defaultOperatorConfig.gpu, resourceName: "amd.com/gpu", taintKey: "amd.com/gpu" } };
    const out = render(ms({ gpu: { count: 1 } }), amd);
    expect(engineOf(out.deployment).resources?.limits).toEqual({ "amd.com/gpu": "1", "ephemeral-storage": "200Gi" });
    expect(podSpec(out.deployment).tolerations?.[0]?.key).toBe("amd.com/gpu");
  });

  it("merges the GPU requirements into every user node selector term and keeps user tolerations", () => {
    const affinity: NonNullable<ModelServiceSpec["scheduling"]>["affinity"] = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] },
            { matchExpressions: [{ key: "zone", operator: "In", values: ["b"] }] },
          ],
        },
      },
      podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] },
    };
    const tolerations: NonNullable<ModelServiceSpec["scheduling"]>["tolerations"] = [
      { key: "dedicated", operator: "Equal", value: "ml", effect: "NoSchedule" },
    ];
    const out = render(
      ms({
        gpu: { count: 1, products: ["NVIDIA-L4"] },
        scheduling: { affinity, tolerations, nodeSelector: { pool: "gpu" }, priorityClassName: "inference", runtimeClassName: "nvidia" },
      }),
      defaultOperatorConfig,
    );
    const spec = podSpec(out.deployment);
    const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
    expect(terms).toHaveLength(2);
    for (const t of terms) expect(t.matchExpressions).toContainEqual({ key: "nvidia.com/gpu.product", operator: "In", values: ["NVIDIA-L4"] });
    expect(spec.affinity?.podAntiAffinity).toEqual({ preferredDuringSchedulingIgnoredDuringExecution: [] });
    expect(spec.tolerations).toHaveLength(2);
    expect(spec.tolerations?.[1]).toEqual(tolerations[0]);
    expect(spec.nodeSelector).toEqual({ pool: "gpu" });
    expect(spec.priorityClassName).toBe("inference");
    expect(spec.runtimeClassName).toBe("nvidia");
    // The input is not mutated.
    expect(affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms[0]?.matchExpressions).toHaveLength(1);
  });

  it("rejects GPUs asked for through spec.resources", () => {
    expect(problemsOf(() => render(ms({ resources: { limits: { "nvidia.com/gpu": 1 } } }), defaultOperatorConfig))[0]?.path).toBe(
      "spec.resources.limits.nvidia.com/gpu",
    );
  });

  it("/dev/shm: the config default for multi-GPU, spec.sharedMemory when set, none otherwise", () => {
    const shm = (spec: Partial<ModelServiceSpec>) =>
      podSpec(render(ms(spec), defaultOperatorConfig).deployment).volumes?.find((v) => v.name === "shm")?.emptyDir;
    expect(shm({ gpu: { count: 2 } })).toEqual({ medium: "Memory", sizeLimit: "16Gi" });
    expect(shm({ gpu: { count: 1 } })).toBeUndefined();
    expect(shm({ gpu: { count: 1 }, sharedMemory: "2Gi" })).toEqual({ medium: "Memory", sizeLimit: "2Gi" });
    expect(engineOf(render(ms({ gpu: { count: 2 } }), defaultOperatorConfig).deployment).volumeMounts).toContainEqual({ name: "shm", mountPath: "/dev/shm" });
  });
});

describe("startup budget", () => {
  it.each([
    [undefined, 1800],
    [45, 45],
    [7200, 7200],
  ])("timeoutSeconds %s drives the startup probe and the progress deadline", (timeoutSeconds, budget) => {
    const out = render(ms(timeoutSeconds ? { startup: { timeoutSeconds } } : {}), defaultOperatorConfig);
    const probe = engineOf(out.deployment).startupProbe;
    expect(probe?.httpGet?.path).toBe("/health");
    expect(probe?.periodSeconds).toBe(10);
    expect(probe?.failureThreshold).toBe(Math.ceil(budget / 10));
    expect((probe?.failureThreshold ?? 0) * 10).toBeGreaterThanOrEqual(budget);
    expect(out.deployment?.spec?.progressDeadlineSeconds).toBe(budget + PROGRESS_DEADLINE_MARGIN_SECONDS);
    expect(engineOf(out.deployment).readinessProbe?.httpGet?.path).toBe("/health");
    expect(engineOf(out.deployment).livenessProbe?.httpGet?.path).toBe("/health");
  });
});

describe("replicas, rollout and autoscaling", () => {
  it("fixed replicas, default 1, no autoscaler, PDB only above 1", () => {
    const one = render(ms(), defaultOperatorConfig);
    expect(one.deployment?.spec?.replicas).toBe(1);
    expect(one.hpa ?? one.scaledObject ?? one.pdb).toBeUndefined();
    const three = render(ms({ replicas: 3 }), defaultOperatorConfig);
    expect(three.deployment?.spec?.replicas).toBe(3);
    expect(three.pdb?.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: selectorLabels("demo") }, unhealthyPodEvictionPolicy: "AlwaysAllow" });
    expect(render(ms({ replicas: 0 }), defaultOperatorConfig).deployment?.spec?.replicas).toBe(0);
  });

  it("default rollout keeps serving; maxSurge 0 alone gets maxUnavailable 1", () => {
    expect(render(ms(), defaultOperatorConfig).deployment?.spec?.strategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
    });
    expect(render(ms({ rollout: { maxSurge: 0 } }), defaultOperatorConfig).deployment?.spec?.strategy?.rollingUpdate).toEqual({
      maxSurge: 0,
      maxUnavailable: 1,
    });
    expect(render(ms({ rollout: { maxSurge: "25%", maxUnavailable: "25%" } }), defaultOperatorConfig).deployment?.spec?.strategy?.rollingUpdate).toEqual({
      maxSurge: "25%",
      maxUnavailable: "25%",
    });
  });

  it("cpuUtilization renders an HPA and leaves Deployment replicas unset", () => {
    const behavior = { scaleDown: { stabilizationWindowSeconds: 600 } };
    const out = render(
      ms({ resources: { requests: { cpu: "4" } }, autoscaling: { minReplicas: 2, maxReplicas: 5, target: { cpuUtilization: 70 }, behavior } }),
      defaultOperatorConfig,
    );
    expect(out.deployment?.spec).not.toHaveProperty("replicas");
    expect(out.scaledObject).toBeUndefined();
    expect(out.hpa?.spec).toEqual({
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "demo" },
      minReplicas: 2,
      maxReplicas: 5,
      metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }],
      behavior,
    });
    expect(out.pdb).toBeDefined();
  });

  it("raw metrics pass through to the HPA", () => {
    const metrics = [{ type: "Pods" as const, pods: { metric: { name: "queue" }, target: { type: "AverageValue" as const, averageValue: "5" } } }];
    expect(render(ms({ autoscaling: { minReplicas: 1, maxReplicas: 2, metrics } }), defaultOperatorConfig).hpa?.spec?.metrics).toEqual(metrics);
  });

  it.each([
    [{ minReplicas: 1, maxReplicas: 4, target: { inFlightRequests: 16 } }, "spec.autoscaling.target.inFlightRequests"],
    [{ minReplicas: 1, maxReplicas: 4, target: { gpuUtilization: 70 } }, "spec.autoscaling.target.gpuUtilization"],
  ])("without KEDA %j is an invalid spec", (autoscaling, path) => {
    const problems = problemsOf(() => render(ms({ gpu: { count: 1 }, resources: { requests: { cpu: "1" } }, autoscaling }), defaultOperatorConfig));
    expect(problems.map((p) => p.path)).toContain(path);
    expect(problems.find((p) => p.path === path)?.message).toMatch(/KEDA/);
  });

  it("with KEDA, inFlightRequests renders a ScaledObject on the engine's metric", () => {
    const out = render(ms({ autoscaling: { minReplicas: 1, maxReplicas: 3, target: { inFlightRequests: 8 } } }), kedaConfig);
    expect(out.hpa).toBeUndefined();
    expect(out.pdb).toBeUndefined();
    expect(out.deployment?.spec).not.toHaveProperty("replicas");
    const so = out.scaledObject;
    expect(so?.apiVersion).toBe("keda.sh/v1alpha1");
    expect(so?.spec.scaleTargetRef.name).toBe("demo");
    expect(so?.spec.minReplicaCount).toBe(1);
    expect(so?.spec.maxReplicaCount).toBe(3);
    const trigger = so?.spec.triggers[0];
    expect(trigger?.type).toBe("prometheus");
    expect(trigger?.metadata.query).toContain('vllm:num_requests_running{namespace="ml",pod=~"demo-[a-z0-9]+-[a-z0-9]+"}');
    expect(trigger?.metadata.threshold).toBe("8");
    expect(trigger?.metadata.serverAddress).toBe(kedaConfig.keda.prometheusAddress);
  });

  it("with KEDA, engines without an in-flight metric are invalid; GPU targets use DCGM", () => {
    const ollama = ms({
      model: { uri: "ollama://x" },
      engine: { type: "Ollama" },
      autoscaling: { minReplicas: 1, maxReplicas: 3, target: { inFlightRequests: 8 } },
    });
    expect(problemsOf(() => render(ollama, kedaConfig))[0]?.message).toMatch(/Ollama exports no in-flight/);
    const gpu = render(ms({ gpu: { count: 1 }, autoscaling: { minReplicas: 1, maxReplicas: 3, target: { gpuUtilization: 80 } } }), kedaConfig);
    expect(gpu.scaledObject?.spec.triggers[0]).toMatchObject({ metricType: "Value", metadata: { threshold: "80" } });
  });
});

describe("children", () => {
  it("all carry the owner reference and common labels; selectors are the name label only", () => {
    const out = render(ms({ replicas: 2, cache: { size: "10Gi" } }), defaultOperatorConfig);
    const children = orderedChildren(out);
    expect(children.map((c) => c.kind)).toEqual(["NetworkPolicy", "PersistentVolumeClaim", "Deployment", "Service", "PodDisruptionBudget"]);
    for (const c of children) {
      expect(c.metadata?.ownerReferences).toEqual([
        { apiVersion: "modelservice.dev/v1alpha1", kind: "ModelService", name: "demo", uid: UID, controller: true, blockOwnerDeletion: true },
      ]);
      expect(c.metadata?.namespace).toBe("ml");
      expect(c.metadata?.labels?.["modelservice.dev/name"]).toBe("demo");
      expect(c.metadata?.labels?.["app.kubernetes.io/managed-by"]).toBe("modelservice-operator");
    }
    expect(out.deployment?.spec?.selector).toEqual({ matchLabels: { "modelservice.dev/name": "demo" } });
    expect(out.service.spec?.selector).toEqual({ "modelservice.dev/name": "demo" });
  });

  it("pod metadata adds labels and annotations but cannot replace the selector labels", () => {
    const out = render(ms({ podMetadata: { labels: { team: "search" }, annotations: { "prometheus.io/scrape": "true" } } }), defaultOperatorConfig);
    const meta = out.deployment?.spec?.template.metadata;
    expect(meta?.labels).toMatchObject({ team: "search", "modelservice.dev/name": "demo", "app.kubernetes.io/name": "modelservice" });
    expect(meta?.annotations).toEqual({ "prometheus.io/scrape": "true" });
  });

  it("refuses pod labels other Services select on and annotations that weaken the pod", () => {
    const problems = problemsOf(() =>
      render(
        ms({
          podMetadata: {
            labels: { app: "payments", "app.kubernetes.io/name": "payments" },
            annotations: {
              "container.apparmor.security.beta.kubernetes.io/engine": "unconfined",
              "sidecar.istio.io/inject": "false",
              "linkerd.io/inject": "disabled",
              "cluster-autoscaler.kubernetes.io/safe-to-evict": "false",
            },
          },
        }),
        defaultOperatorConfig,
      ),
    );
    expect(problems.map((p) => `${p.path}: ${p.message.split(" is not allowed")[0]}`)).toEqual([
      "spec.podMetadata.labels: app",
      "spec.podMetadata.labels: app.kubernetes.io/name",
      "spec.podMetadata.annotations: container.apparmor.security.beta.kubernetes.io/engine",
      "spec.podMetadata.annotations: sidecar.istio.io/inject",
      "spec.podMetadata.annotations: linkerd.io/inject",
      "spec.podMetadata.annotations: cluster-autoscaler.kubernetes.io/safe-to-evict",
    ]);
  });

  it("refuses a rendered child over the size limit, naming it and its size", () => {
    // Bounded by admission in practice; here the limit itself: 64 env values of 32 KiB make a 2 MiB Deployment.
    const env = Array.from({ length: 64 }, (_, i) => ({ name: `V${i}`, value: "x".repeat(32768) }));
    const problems = problemsOf(() => render(ms({ engine: { type: "vLLM", env } }), defaultOperatorConfig));
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toMatch(/^rendered Deployment demo is 20\d\d KiB, over the 512 KiB limit$/);
  });

  it("rejects label keys and values Kubernetes would refuse", () => {
    const problems = problemsOf(() =>
      render(ms({ podMetadata: { labels: { "bad key": "x", ok: "not a valid value" } }, scheduling: { nodeSelector: { pool: "-x" } } }), defaultOperatorConfig),
    );
    // CEL rules of the CRD, reported at the map as the API server does.
    expect(problems.map((p) => `${p.path}: ${p.message.split(" ").slice(0, 2).join(" ")}`).sort()).toEqual([
      "spec.podMetadata.labels: podMetadata.labels keys",
      "spec.podMetadata.labels: podMetadata.labels values",
      "spec.scheduling.nodeSelector: scheduling.nodeSelector values",
    ]);
  });

  it("Service: defaults from the config, targetPort is the engine port", () => {
    const out = render(ms({ engine: { type: "TGI" } }), defaultOperatorConfig);
    expect(out.service.spec).toEqual({
      type: "ClusterIP",
      selector: { "modelservice.dev/name": "demo" },
      ports: [{ name: "http", port: 80, targetPort: 8080, protocol: "TCP", appProtocol: "http" }],
    });
    expect(render(ms({ service: { type: "LoadBalancer", port: 8443 } }), defaultOperatorConfig).service.spec?.type).toBe("LoadBalancer");
  });

  it("cache PVC: name, size, class, access mode and removal policy", () => {
    const pvc = render(
      ms({ cache: { size: "100Gi", storageClassName: "fast", accessMode: "ReadWriteMany", deleteOnRemoval: true } }),
      defaultOperatorConfig,
    ).pvc;
    expect(pvc?.metadata?.name).toBe("demo-cache");
    expect(pvc?.metadata?.annotations).toEqual({ "modelservice.dev/delete-on-removal": "true" });
    expect(pvc?.spec).toEqual({ accessModes: ["ReadWriteMany"], storageClassName: "fast", resources: { requests: { storage: "100Gi" } } });
    const defaults = render(ms({ cache: { size: 1073741824, storageClassName: "" } }), defaultOperatorConfig).pvc;
    expect(defaults?.spec).toEqual({ accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1073741824" } } });
  });

  it("ReadWriteOncePod cache: one replica, old pod stops first", () => {
    const out = render(ms({ cache: { size: "1Gi", accessMode: "ReadWriteOncePod" } }), defaultOperatorConfig);
    expect(out.deployment?.spec?.strategy?.rollingUpdate).toEqual({ maxSurge: 0, maxUnavailable: 1 });
    expect(problemsOf(() => render(ms({ replicas: 2, cache: { size: "1Gi", accessMode: "ReadWriteOncePod" } }), defaultOperatorConfig))[0]?.path).toBe(
      "spec.cache.accessMode",
    );
  });

  it("names stay valid for the longest ModelService name", () => {
    const name = `m${"x".repeat(62)}`;
    const out = render(ms({ cache: { size: "1Gi" } }, name), defaultOperatorConfig);
    expect(out.deployment?.metadata?.name).toBe(name);
    const pvcName = out.pvc?.metadata?.name ?? "";
    expect(pvcName.length).toBeLessThanOrEqual(63);
    expect(pvcName).toMatch(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
    expect(pvcName).toMatch(/-cache-[0-9a-f]{8}$/);
    expect(podSpec(out.deployment).volumes?.[0]?.persistentVolumeClaim?.claimName).toBe(pvcName);
  });

  it("a missing uid is reported, not rendered as an invalid owner reference", () => {
    const noUid = { ...ms(), metadata: { name: "demo" } };
    expect(problemsOf(() => render(noUid, defaultOperatorConfig))[0]?.path).toBe("metadata.uid");
  });

  it("serviceUrl", () => {
    expect(serviceUrl(ms(), defaultOperatorConfig)).toBe("http://demo.ml.svc.cluster.local");
    expect(serviceUrl(ms({ service: { port: 8080 } }), { ...defaultOperatorConfig, clusterDomain: "k8s.example" })).toBe("http://demo.ml.svc.k8s.example:8080");
  });

  it("lists every child kind it may render, ScaledObject only with KEDA", () => {
    expect(CHILD_KINDS.map((k) => k.kind)).toEqual([
      "NetworkPolicy",
      "Certificate",
      "PersistentVolumeClaim",
      "Deployment",
      "LeaderWorkerSet",
      "Service",
      "HorizontalPodAutoscaler",
      "InterceptorRoute",
      "ScaledObject",
      "PodDisruptionBudget",
      "SecurityPolicy",
      "BackendTLSPolicy",
      "HTTPRoute",
    ]);
    expect(childKinds(defaultOperatorConfig).map((k) => k.plural)).not.toContain("scaledobjects");
    expect(childKinds(kedaConfig).map((k) => k.plural)).toContain("scaledobjects");
    expect(childKinds(defaultOperatorConfig).map((k) => k.plural)).not.toContain("interceptorroutes");
    expect(childKinds(kedaConfig).map((k) => k.plural)).toContain("interceptorroutes");
    // Add-on kinds (KEDA, Gateway API, Envoy Gateway, cert-manager) name their CRD and what to install.
    expect(CHILD_KINDS.filter((k) => k.optional).map((k) => k.kind)).toEqual([
      "Certificate",
      "LeaderWorkerSet",
      "InterceptorRoute",
      "ScaledObject",
      "SecurityPolicy",
      "BackendTLSPolicy",
      "HTTPRoute",
    ]);
    for (const k of CHILD_KINDS.filter((k) => k.optional)) {
      expect(k.optional?.crd).toBe(`${k.plural}.${k.apiVersion.split("/")[0]}`);
      expect(k.optional?.missing).toMatch(/install /);
    }
    expect(childKinds(kedaConfig).map((k) => k.kind)).toEqual(expect.arrayContaining(["NetworkPolicy", "HTTPRoute", "Certificate"]));
  });

  it("is deterministic and reports every problem at once", () => {
    const spec: Partial<ModelServiceSpec> = { gpu: { count: 4, products: ["NVIDIA-H100-80GB-HBM3"] }, replicas: 2, cache: { size: "1Gi" } };
    expect(childrenYaml(render(ms(spec), defaultOperatorConfig))).toBe(childrenYaml(render(ms(spec), defaultOperatorConfig)));
    const problems = problemsOf(() =>
      render(
        ms({
          model: { uri: "hf://a/b" },
          engine: { type: "Triton" },
          autoscaling: { minReplicas: 1, maxReplicas: 1, target: { inFlightRequests: 1 } },
        }),
        defaultOperatorConfig,
      ),
    );
    expect(problems.map((p) => p.path).sort()).toEqual(["spec.autoscaling.target.inFlightRequests", "spec.model.uri"]);
  });
});

describe("spec generation on the Deployment", () => {
  it("records the ModelService generation so status can tell a stale Deployment from a current one", () => {
    const m = ms();
    m.metadata.generation = 7;
    const { deployment } = render(m, defaultOperatorConfig);
    expect(deployment?.metadata?.annotations?.["modelservice.dev/generation"]).toBe("7");
    expect(deployment?.spec?.template.metadata?.annotations?.["modelservice.dev/generation"]).toBeUndefined();
  });
});

describe("pod hardening", () => {
  it("gives engine pods no API token and no privilege escalation, in every container", () => {
    const d = render(ms({ model: { uri: "s3://bucket-a/llama" }, cache: { size: "10Gi" } }), defaultOperatorConfig).deployment;
    expect(podSpec(d).automountServiceAccountToken).toBe(false);
    expect(podSpec(d).securityContext?.seccompProfile?.type).toBe("RuntimeDefault");
    const containers = [...(podSpec(d).initContainers ?? []), ...podSpec(d).containers];
    expect(containers.map((c) => c.name)).toEqual(["model-download", "engine"]);
    for (const c of containers)
      expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, readOnlyRootFilesystem: true, runAsNonRoot: true });
  });

  it("Restricted (the default) runs every engine as a non-root user on a read-only root with writable emptyDirs", () => {
    for (const engine of ENGINE_TYPES) {
      const image = engine === "Custom" ? { image: "acme/srv:1" } : {};
      const uri = engine === "Triton" ? "pvc://models/triton" : engine === "Ollama" ? "ollama://qwen2.5:0.5b" : "hf://Qwen/Qwen2.5-0.5B-Instruct";
      const d = render(ms({ model: { uri }, engine: { type: engine, ...image } }), defaultOperatorConfig).deployment;
      const pod = podSpec(d);
      expect(pod.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } });
      const mounts = engineOf(d).volumeMounts?.map((m) => m.mountPath) ?? [];
      expect(mounts).toEqual(expect.arrayContaining(["/tmp", "/home/modelservice", ...(engine === "TGI" ? ["/data"] : [])]));
      expect(engineOf(d).env).toContainEqual({ name: "HOME", value: "/home/modelservice" });
      // Weights downloaded onto the node's disk are capped; weights on a claim are not.
      expect(engineOf(d).resources?.limits?.["ephemeral-storage"]).toBe(engine === "Triton" ? undefined : "200Gi");
    }
  });

  it("Baseline keeps the image's user and root filesystem", () => {
    const config: OperatorConfig = {
      ...defaultOperatorConfig,
      podSecurity: { profile: "Baseline", runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, ephemeralStorageLimit: "50Gi" },
    };
    const d = render(ms({}), config).deployment;
    expect(podSpec(d).securityContext).toEqual({ seccompProfile: { type: "RuntimeDefault" } });
    expect(engineOf(d).securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    expect(engineOf(d).resources?.limits?.["ephemeral-storage"]).toBe("50Gi");
  });
});
