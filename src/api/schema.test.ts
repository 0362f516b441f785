// The cross-field rules live twice: as CEL in the CRD (enforced by the API server) and as zod
// refinements (so `render` reports them without a cluster). These tables pin both copies.
import { describe, expect, it } from "vitest";
import { modelServiceCrd } from "./crd.ts";
import { modelServiceSchema } from "./schema.ts";

const base = () => ({
  apiVersion: "modelservice.dev/v1alpha1",
  kind: "ModelService",
  metadata: { name: "demo" } as Record<string, unknown>,
  spec: { model: { uri: "hf://org/model" }, engine: { type: "vLLM" } } as Record<string, unknown>,
});

const issues = (doc: unknown) => {
  const r = modelServiceSchema.safeParse(doc);
  return r.success ? [] : r.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
};

type Case = [title: string, spec: Record<string, unknown>, path: string, message: string];

// Rules mirrored from CEL: [title, spec fields merged over a valid spec, path, message].
const CEL_RULES: Case[] = [
  ["Custom needs an image", { engine: { type: "Custom" } }, "spec.engine.image", "engine.image is required when engine.type is Custom"],
  ["Custom with an empty image", { engine: { type: "Custom", image: "" } }, "spec.engine.image", "engine.image is required when engine.type is Custom"],
  [
    "two autoscaling targets",
    { autoscaling: { minReplicas: 1, maxReplicas: 2, target: { cpuUtilization: 50, inFlightRequests: 4 } } },
    "spec.autoscaling.target",
    "autoscaling.target must set exactly one of inFlightRequests, cpuUtilization, gpuUtilization",
  ],
  [
    "an empty autoscaling target",
    { autoscaling: { minReplicas: 1, maxReplicas: 2, target: {} } },
    "spec.autoscaling.target",
    "autoscaling.target must set exactly one of inFlightRequests, cpuUtilization, gpuUtilization",
  ],
  [
    "minReplicas above maxReplicas",
    { autoscaling: { minReplicas: 3, maxReplicas: 2, target: { cpuUtilization: 50 } } },
    "spec.autoscaling.minReplicas",
    "autoscaling.minReplicas must be less than or equal to maxReplicas",
  ],
  ["neither target nor metrics", { autoscaling: { minReplicas: 1, maxReplicas: 2 } }, "spec.autoscaling", "autoscaling needs exactly one of target or metrics"],
  [
    "both target and metrics",
    { autoscaling: { minReplicas: 1, maxReplicas: 2, target: { cpuUtilization: 50 }, metrics: [{ type: "Resource" }] } },
    "spec.autoscaling",
    "autoscaling needs exactly one of target or metrics",
  ],
  [
    "rollout that cannot progress",
    { rollout: { maxSurge: 0, maxUnavailable: "0%" } },
    "spec.rollout",
    "rollout.maxSurge and rollout.maxUnavailable cannot both be 0",
  ],
  [
    "replicas with autoscaling",
    { replicas: 2, autoscaling: { minReplicas: 1, maxReplicas: 2, target: { cpuUtilization: 50 } } },
    "spec.replicas",
    "spec.replicas and spec.autoscaling are mutually exclusive: set one",
  ],
  [
    "s3 without a cache",
    { model: { uri: "s3://bucket-a/llama" } },
    "spec.cache",
    "spec.cache is required for s3:// and gs:// models: the weights are downloaded into it",
  ],
  [
    "gs without a cache",
    { model: { uri: "gs://bucket-a/llama" } },
    "spec.cache",
    "spec.cache is required for s3:// and gs:// models: the weights are downloaded into it",
  ],
  ["ollama:// with vLLM", { model: { uri: "ollama://llama3.2:1b" } }, "spec.model.uri", "ollama:// models need engine.type Ollama"],
  [
    "reserved pod label",
    { podMetadata: { labels: { "modelservice.dev/name": "other" } } },
    "spec.podMetadata.labels",
    "podMetadata.labels must not use the reserved modelservice.dev/ prefix",
  ],
  ["GPU products without GPUs", { gpu: { count: 0, products: ["NVIDIA-L4"] } }, "spec.gpu", "gpu.products needs gpu.count > 0"],
  ["GPU memory without GPUs", { gpu: { count: 0, minMemoryMiB: 40000 } }, "spec.gpu", "gpu.minMemoryMiB needs gpu.count > 0"],
  [
    "GPU utilisation target without GPUs",
    { autoscaling: { minReplicas: 1, maxReplicas: 2, target: { gpuUtilization: 70 } } },
    "spec.autoscaling.target",
    "autoscaling.target.gpuUtilization needs gpu.count > 0",
  ],
  [
    "CPU utilisation target without a CPU request",
    { autoscaling: { minReplicas: 1, maxReplicas: 2, target: { cpuUtilization: 70 } } },
    "spec.autoscaling.target",
    "autoscaling.target.cpuUtilization is a percentage of the CPU request: set resources.requests.cpu",
  ],
];

// Field rules (OpenAPI in the CRD).
const FIELD_RULES: Case[] = [
  [
    "unknown URI scheme",
    { model: { uri: "ftp://host/model" } },
    "spec.model.uri",
    "must be hf://ORG/NAME[@REVISION], s3://BUCKET/PATH, gs://BUCKET/PATH, pvc://CLAIM/PATH or ollama://NAME[:TAG]",
  ],
  [
    "Secret name with capitals",
    { model: { uri: "hf://a/b", credentialsSecret: "HF" } },
    "spec.model.credentialsSecret",
    "must be a Secret name (DNS-1123 subdomain)",
  ],
  ["bad quantity", { sharedMemory: "lots" }, "spec.sharedMemory", "must be a Kubernetes quantity such as 16Gi or 500m"],
  ["bad surge", { rollout: { maxSurge: "one" } }, "spec.rollout.maxSurge", "must be an integer or a percentage such as 25%"],
  ["negative quantity", { sharedMemory: "-1Gi" }, "spec.sharedMemory", "must be a Kubernetes quantity such as 16Gi or 500m"],
  ["negative surge", { rollout: { maxSurge: -1 } }, "spec.rollout.maxSurge", "Too small: expected number to be >=0"],
  [
    "scale to zero",
    { autoscaling: { minReplicas: 0, maxReplicas: 2, target: { cpuUtilization: 50 } } },
    "spec.autoscaling.minReplicas",
    "Too small: expected number to be >=1",
  ],
  ["bad GPU resource name", { gpu: { count: 1, resourceName: "gpu" } }, "spec.gpu.resourceName", "must be an extended resource name such as nvidia.com/gpu"],
  [
    "too many node selector entries",
    { scheduling: { nodeSelector: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, "v"])) } },
    "spec.scheduling.nodeSelector",
    "must have at most 32 entries",
  ],
];

describe("schema validation", () => {
  it("accepts a minimal ModelService", () => {
    expect(issues(base())).toEqual([]);
  });

  it.each([...CEL_RULES, ...FIELD_RULES])("%s", (_title, spec, path, message) => {
    const doc = base();
    doc.spec = { ...doc.spec, ...spec };
    expect(issues(doc)).toContainEqual({ path, message });
  });

  it.each([
    ["Abc", "must be a DNS-1035 label: lower-case letters, digits and '-', starting with a letter"],
    ["1abc", "must be a DNS-1035 label: lower-case letters, digits and '-', starting with a letter"],
    ["a".repeat(64), "must be at most 63 characters"],
  ])("metadata.name %s is rejected", (name, message) => {
    const doc = base();
    doc.metadata.name = name;
    expect(issues(doc)).toContainEqual({ path: "metadata.name", message });
  });

  it("range checks on numbers", () => {
    const doc = base();
    doc.spec = { ...doc.spec, gpu: { count: 65 }, startup: { timeoutSeconds: 10 } };
    expect(issues(doc).map((i) => i.path)).toEqual(["spec.gpu.count", "spec.startup.timeoutSeconds"]);
  });

  it("every mirrored rule has the same message as a CEL rule in the CRD", () => {
    const celMessages = new Set<string>();
    const collect = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(collect);
      else if (typeof node === "object" && node !== null) {
        for (const [k, v] of Object.entries(node)) {
          if (k === "x-kubernetes-validations") for (const r of v as { message: string }[]) celMessages.add(r.message);
          collect(v);
        }
      }
    };
    collect(modelServiceCrd());
    for (const [, , , message] of CEL_RULES) expect(celMessages, message).toContain(message);
  });
});
