// One table of admission cases: each is a valid base ModelService with a patch, and the verdict the
// API server gives it. test/unit/rule-cases.test.ts checks the offline verdict (zod shape, then the
// CRD's CEL rules) and that every CEL rule has a valid and an invalid case;
// test/integration/admission-rules.test.ts checks the real API server agrees. A new rule needs one
// CEL rule in src/api/schema.ts and its lines here, nothing else.
import { API_VERSION, KIND } from "../../src/api/schema.ts";
import { deepMerge, modelService, withGpus, withModel } from "./model-service.ts";

type Patch = { [key: string]: unknown };

export type RuleCase = {
  name: string;
  /** Merged into BASE; a field set to undefined is removed. */
  patch: Patch;
  /** "valid", or where admission reports the problem and (a part of) its message. */
  expect: "valid" | { path: string; message: string };
  /** For a per-field (OpenAPI) rule the API server words differently from zod: part of its message. */
  serverMessage?: string;
  /**
   * An unknown field: the API server prunes it by default and refuses it with fieldValidation=Strict
   * (the admission test creates with Strict); offline, parsing drops it (render warns).
   */
  unknownField?: true;
  /** An update: BASE with this patch exists first, and the case changes it by `patch`. */
  before?: Patch;
};

// What a user writes (no namespace: the request's path names it), spec from the shared builder.
export const BASE = {
  apiVersion: API_VERSION,
  kind: KIND,
  metadata: { name: "rule-case" },
  spec: modelService("rule-case", withModel("hf://Qwen/Qwen2.5-0.5B-Instruct"), withGpus(1)).spec,
};

const isPatch = (v: unknown): v is Patch => typeof v === "object" && v !== null && !Array.isArray(v);

/** The case's ModelService (a fresh object). */
export const caseObject = (c: RuleCase): Record<string, unknown> =>
  structuredClone(deepMerge(c.before ? deepMerge(BASE, c.before) : BASE, c.patch)) as Record<string, unknown>;

/** The object an update case changes (undefined for a create). */
export const caseBefore = (c: RuleCase): Record<string, unknown> | undefined =>
  c.before ? (structuredClone(deepMerge(BASE, c.before)) as Record<string, unknown>) : undefined;

/** Dotted paths of the fields the patch sets: `spec.engine.env[0].name`. */
export function patchedPaths(value: unknown, path = ""): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => patchedPaths(v, `${path}[${i}]`));
  if (isPatch(value) && Object.keys(value).length > 0) return Object.entries(value).flatMap(([k, v]) => patchedPaths(v, path ? `${path}.${k}` : k));
  return [path];
}

const spec = (s: Patch): Patch => ({ spec: s });
const invalid = (path: string, message: string) => ({ path, message });
const SECRET_REF = { secretKeyRef: { name: "s", key: "k" } };
const CPU_TARGET = { minReplicas: 1, maxReplicas: 2, target: { cpuUtilization: 80 } };
const CPU_REQUEST = { requests: { cpu: "4" } };
const TO_ZERO = { minReplicas: 0, maxReplicas: 2, target: { inFlightRequests: 4 } };
const RWOP = { size: "20Gi", accessMode: "ReadWriteOncePod" };

const BOTH_ZERO = "rollout.maxSurge and rollout.maxUnavailable cannot both be 0";
const URI_DOTS = "model.uri must not contain '..' path segments";
const KEYS = "keys must be an optional DNS subdomain";
const VALUES = "values must be at most 63 letters";
const RESOURCE_NAMES = "may name cpu, memory, ephemeral-storage, hugepages-<size> or an extended resource";
const RWOP_ROLLOUT = "with a ReadWriteOncePod cache the old replica must stop before the new one starts";

const GENERAL_CASES: RuleCase[] = [
  { name: "the base object", patch: {}, expect: "valid" },

  // metadata.name (ROOT_RULES)
  { name: "a DNS-1035 name", patch: { metadata: { name: "llama-3-8b" } }, expect: "valid" },
  {
    name: "a name starting with a digit",
    patch: { metadata: { name: "9-starts-with-a-digit" } },
    expect: invalid("metadata.name", "metadata.name must be a DNS-1035 label"),
  },
  {
    name: "a 64-character name",
    patch: { metadata: { name: `m${"x".repeat(63)}` } },
    expect: invalid("metadata.name", "metadata.name must be a DNS-1035 label"),
  },

  // spec
  { name: "fixed replicas", patch: spec({ replicas: 2 }), expect: "valid" },
  {
    name: "replicas and autoscaling",
    patch: spec({ replicas: 2, autoscaling: CPU_TARGET, resources: CPU_REQUEST }),
    expect: invalid("spec", "spec.replicas and spec.autoscaling are mutually exclusive"),
  },
  { name: "an s3:// model with a cache", patch: spec({ model: { uri: "s3://models-bucket/qwen" }, cache: { size: "50Gi" } }), expect: "valid" },
  {
    name: "an s3:// model without a cache",
    patch: spec({ model: { uri: "s3://models-bucket/qwen" } }),
    expect: invalid("spec.cache", "spec.cache is required for s3:// and gs:// models"),
  },
  {
    name: "a gs:// model without a cache",
    patch: spec({ model: { uri: "gs://models-bucket/qwen" } }),
    expect: invalid("spec.cache", "spec.cache is required for s3:// and gs:// models"),
  },
  { name: "an ollama:// model on Ollama", patch: spec({ model: { uri: "ollama://llama3.2:1b" }, engine: { type: "Ollama" } }), expect: "valid" },
  {
    name: "an ollama:// model on vLLM",
    patch: spec({ model: { uri: "ollama://llama3.2:1b" } }),
    expect: invalid("spec.model.uri", "ollama:// models need engine.type Ollama"),
  },
  { name: "GPU memory with GPUs", patch: spec({ gpu: { count: 1, minMemoryMiB: 40000 } }), expect: "valid" },
  {
    name: "GPU memory without GPUs",
    patch: spec({ gpu: { count: 0, minMemoryMiB: 1000 } }),
    expect: invalid("spec.gpu", "gpu.minMemoryMiB needs gpu.count > 0"),
  },
  {
    name: "a GPU utilisation target with GPUs",
    patch: spec({ autoscaling: { minReplicas: 1, maxReplicas: 2, target: { gpuUtilization: 70 } } }),
    expect: "valid",
  },
  {
    name: "a GPU utilisation target without GPUs",
    patch: spec({ gpu: { count: 0 }, autoscaling: { minReplicas: 1, maxReplicas: 2, target: { gpuUtilization: 70 } } }),
    expect: invalid("spec.autoscaling.target", "autoscaling.target.gpuUtilization needs gpu.count > 0"),
  },
  { name: "a CPU utilisation target with a CPU request", patch: spec({ autoscaling: CPU_TARGET, resources: CPU_REQUEST }), expect: "valid" },
  {
    name: "a CPU utilisation target without a CPU request",
    patch: spec({ autoscaling: CPU_TARGET }),
    expect: invalid("spec.autoscaling.target", "autoscaling.target.cpuUtilization is a percentage of the CPU request"),
  },
  { name: "GPU products with GPUs", patch: spec({ gpu: { count: 1, products: ["NVIDIA-L4"] } }), expect: "valid" },
  {
    name: "GPU products without GPUs",
    patch: spec({ gpu: { count: 0, products: ["NVIDIA-L4"] } }),
    expect: invalid("spec.gpu", "gpu.products needs gpu.count > 0"),
  },
  { name: "a named GPU resource and a CPU request", patch: spec({ gpu: { count: 1, resourceName: "amd.com/gpu" }, resources: CPU_REQUEST }), expect: "valid" },
  {
    name: "the named GPU resource in resources.limits",
    patch: spec({ gpu: { count: 1, resourceName: "amd.com/gpu" }, resources: { limits: { "amd.com/gpu": 1 } } }),
    expect: invalid("spec.resources", "GPUs are requested with spec.gpu.count, not spec.resources"),
  },
  // Updates of an existing cache (transition rules): what its PersistentVolumeClaim can take.
  {
    name: "an update that grows the cache",
    before: spec({ cache: { size: "20Gi" } }),
    patch: spec({ cache: { size: "40Gi", accessMode: "ReadWriteOnce", storageClassName: "" } }),
    expect: "valid",
  },
  { name: "an update that grows a cache given in bytes", before: spec({ cache: { size: 1000 } }), patch: spec({ cache: { size: "1Ki" } }), expect: "valid" },
  { name: "an update that adds a cache", before: {}, patch: spec({ cache: { size: "20Gi", accessMode: "ReadWriteMany" } }), expect: "valid" },
  {
    name: "an update that shrinks the cache",
    before: spec({ cache: { size: "20Gi" } }),
    patch: spec({ cache: { size: "10Gi" } }),
    expect: invalid("spec.cache.size", "cache.size cannot shrink"),
  },
  {
    name: "an update that changes the cache's access mode",
    before: spec({ cache: { size: "20Gi" } }),
    patch: spec({ cache: { accessMode: "ReadWriteMany" } }),
    expect: invalid("spec.cache.accessMode", "cache.accessMode cannot change on an existing claim"),
  },
  {
    name: "an update that changes the cache's StorageClass",
    before: spec({ cache: { size: "20Gi", storageClassName: "fast" } }),
    patch: spec({ cache: { storageClassName: "slow" } }),
    expect: invalid("spec.cache.storageClassName", "cache.storageClassName cannot change on an existing claim"),
  },
  { name: "a ReadWriteOncePod cache with one replica", patch: spec({ cache: RWOP, replicas: 1 }), expect: "valid" },
  {
    name: "a ReadWriteOncePod cache with two replicas",
    patch: spec({ cache: RWOP, replicas: 2 }),
    expect: invalid("spec.cache.accessMode", "ReadWriteOncePod lets one pod use the cache"),
  },
  {
    name: "a ReadWriteOncePod cache autoscaled to two",
    patch: spec({ cache: RWOP, autoscaling: CPU_TARGET, resources: CPU_REQUEST }),
    expect: invalid("spec.cache.accessMode", "ReadWriteOncePod lets one pod use the cache"),
  },
  { name: "a ReadWriteOncePod cache replaced pod by pod", patch: spec({ cache: RWOP, rollout: { maxSurge: 0, maxUnavailable: 1 } }), expect: "valid" },
  {
    name: "a ReadWriteOncePod cache with maxUnavailable 0",
    patch: spec({ cache: RWOP, rollout: { maxSurge: 1, maxUnavailable: 0 } }),
    expect: invalid("spec.rollout", RWOP_ROLLOUT),
  },
  {
    name: "a ReadWriteOncePod cache with maxSurge 1 (maxUnavailable defaults to 0)",
    patch: spec({ cache: RWOP, rollout: { maxSurge: 1 } }),
    expect: invalid("spec.rollout", RWOP_ROLLOUT),
  },

  // spec.model.uri
  { name: "dots inside path segments", patch: spec({ model: { uri: "pvc://models/qwen..v2/x...y" } }), expect: "valid" },
  { name: "an hf:// revision", patch: spec({ model: { uri: "hf://Qwen/Qwen2.5-0.5B-Instruct@refs/pr/1" } }), expect: "valid" },
  {
    name: "'..' in an s3:// path",
    patch: spec({ model: { uri: "s3://models-bucket/../other" }, cache: { size: "50Gi" } }),
    expect: invalid("spec.model.uri", URI_DOTS),
  },
  {
    name: "'..' in a gs:// path",
    patch: spec({ model: { uri: "gs://models-bucket/a/.." }, cache: { size: "50Gi" } }),
    expect: invalid("spec.model.uri", URI_DOTS),
  },
  { name: "'..' in a pvc:// path", patch: spec({ model: { uri: "pvc://models/qwen/../../etc" } }), expect: invalid("spec.model.uri", URI_DOTS) },
  {
    name: "'..' in an hf:// revision",
    patch: spec({ model: { uri: "hf://Qwen/Qwen2.5-0.5B-Instruct@../main" } }),
    expect: invalid("spec.model.uri", URI_DOTS),
  },
  {
    name: "'..' in an ollama:// name",
    patch: spec({ model: { uri: "ollama://library/..:latest" }, engine: { type: "Ollama" } }),
    expect: invalid("spec.model.uri", URI_DOTS),
  },
  {
    name: "an http:// model URI (schema pattern)",
    patch: spec({ model: { uri: "http://example.com/model" } }),
    expect: invalid("spec.model.uri", "must be hf://ORG/NAME[@REVISION]"),
    serverMessage: "should match",
  },

  // spec.className
  { name: "a class name", patch: spec({ className: "gpu-shared" }), expect: "valid" },
  {
    name: "a class name with capitals (schema pattern)",
    patch: spec({ className: "GPU_Shared" }),
    expect: invalid("spec.className", "must be a ModelServiceClass name"),
    serverMessage: "should match",
  },

  // spec.engine
  {
    name: "an unknown engine type (schema enum)",
    patch: spec({ engine: { type: "llama.cpp" } }),
    expect: invalid("spec.engine.type", "must be one of: vLLM"),
    serverMessage: "Unsupported value",
  },
  { name: "a Custom engine with an image", patch: spec({ engine: { type: "Custom", image: "ghcr.io/acme/server:1.0" } }), expect: "valid" },
  {
    name: "a Custom engine without an image",
    patch: spec({ engine: { type: "Custom" } }),
    expect: invalid("spec.engine.image", "engine.image is required when engine.type is Custom"),
  },
  {
    name: "a Custom engine with an empty image",
    patch: spec({ engine: { type: "Custom", image: "" } }),
    expect: invalid("spec.engine.image", "engine.image is required when engine.type is Custom"),
  },
  {
    name: "an image with a trailing newline",
    patch: spec({ engine: { image: "vllm/vllm-openai:v0.11.0\n" } }),
    expect: invalid("spec.engine.image", "engine.image must not contain whitespace"),
  },
  {
    name: "an image with a space",
    patch: spec({ engine: { image: "vllm/vllm-openai :v0.11.0" } }),
    expect: invalid("spec.engine.image", "engine.image must not contain whitespace"),
  },
  {
    name: "an image with a digest",
    patch: spec({ engine: { image: "vllm/vllm-openai@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" } }),
    expect: "valid",
  },
  {
    name: "env from a Secret, and an empty value beside valueFrom",
    patch: spec({
      engine: {
        env: [
          { name: "TOKEN", valueFrom: SECRET_REF },
          { name: "OTHER", value: "", valueFrom: SECRET_REF },
        ],
      },
    }),
    expect: "valid",
  },
  {
    name: "env with both value and valueFrom",
    patch: spec({ engine: { env: [{ name: "TOKEN", value: "x", valueFrom: SECRET_REF }] } }),
    expect: invalid("spec.engine.env[0].valueFrom", "env valueFrom must not be set when value is not empty"),
  },
  { name: "env names with dots and dashes", patch: spec({ engine: { env: [{ name: "my.setting-1", value: "1" }] } }), expect: "valid" },
  {
    name: "an env name with '='",
    patch: spec({
      engine: {
        env: [
          { name: "A", value: "1" },
          { name: "A=B", value: "1" },
        ],
      },
    }),
    expect: invalid("spec.engine.env[1].name", "env names must be printable ASCII characters other than '='"),
  },
  {
    name: "an env name with a newline",
    patch: spec({ engine: { env: [{ name: "A\nB", value: "1" }] } }),
    expect: invalid("spec.engine.env[0].name", "env names must be printable ASCII characters other than '='"),
  },

  // spec.resources
  {
    name: "limits equal to requests in other units",
    patch: spec({ resources: { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: 1, memory: "1024Mi" } } }),
    expect: "valid",
  },
  {
    name: "a memory limit below its request",
    patch: spec({ resources: { requests: { memory: "2Gi" }, limits: { memory: "1Gi" } } }),
    expect: invalid("spec.resources.limits", "resources.limits must not be below resources.requests"),
  },
  {
    name: "a CPU limit below its request",
    patch: spec({ resources: { requests: { cpu: 2 }, limits: { cpu: "1500m" } } }),
    expect: invalid("spec.resources.limits", "resources.limits must not be below resources.requests"),
  },
  {
    name: "hugepages and an extended resource",
    patch: spec({
      resources: {
        requests: { "hugepages-2Mi": "1Gi", "example.com/foo": 1, "ephemeral-storage": "10Gi", memory: "4Gi" },
        limits: { "hugepages-2Mi": "1Gi", "example.com/foo": 1 },
      },
    }),
    expect: "valid",
  },
  {
    name: "an extended resource requested without a limit",
    patch: spec({ resources: { requests: { "example.com/foo": 1 } } }),
    expect: invalid("spec.resources.limits", "need the same value in resources.limits"),
  },
  {
    name: "hugepages whose limit differs from the request",
    patch: spec({ resources: { requests: { "hugepages-2Mi": "1Gi", memory: "4Gi" }, limits: { "hugepages-2Mi": "2Gi" } } }),
    expect: invalid("spec.resources.limits", "need the same value in resources.limits"),
  },
  {
    name: "hugepages without cpu or memory",
    patch: spec({ resources: { requests: { "hugepages-2Mi": "1Gi" }, limits: { "hugepages-2Mi": "1Gi" } } }),
    expect: invalid("spec.resources", "hugepages need a cpu or memory request or limit"),
  },
  {
    name: "a misspelt resource in requests",
    patch: spec({ resources: { requests: { memroy: "1Gi" } } }),
    expect: invalid("spec.resources.requests", `resources.requests ${RESOURCE_NAMES}`),
  },
  {
    name: "a kubernetes.io resource in limits",
    patch: spec({ resources: { limits: { "kubernetes.io/foo": 1 } } }),
    expect: invalid("spec.resources.limits", `resources.limits ${RESOURCE_NAMES}`),
  },
  {
    name: "a negative CPU request",
    patch: spec({ resources: { requests: { cpu: -1 } } }),
    expect: invalid("spec.resources.requests[cpu]", "must not be negative"),
  },
  {
    name: "a negative memory limit",
    patch: spec({ resources: { limits: { memory: -1 } } }),
    expect: invalid("spec.resources.limits[memory]", "must not be negative"),
  },
  { name: "shared memory as an integer", patch: spec({ sharedMemory: 1073741824 }), expect: "valid" },
  { name: "a negative shared memory", patch: spec({ sharedMemory: -1 }), expect: invalid("spec.sharedMemory", "must not be negative") },

  // spec.autoscaling
  {
    name: "autoscaling on raw metrics",
    patch: spec({
      autoscaling: {
        minReplicas: 1,
        maxReplicas: 3,
        metrics: [{ type: "Resource", resource: { name: "memory", target: { type: "Utilization", averageUtilization: 80 } } }],
      },
    }),
    expect: "valid",
  },
  {
    name: "minReplicas above maxReplicas",
    patch: spec({ autoscaling: { ...CPU_TARGET, minReplicas: 5 }, resources: CPU_REQUEST }),
    expect: invalid("spec.autoscaling", "autoscaling.minReplicas must be less than or equal to maxReplicas"),
  },
  {
    name: "autoscaling without target or metrics",
    patch: spec({ autoscaling: { minReplicas: 1, maxReplicas: 2 } }),
    expect: invalid("spec.autoscaling", "autoscaling needs exactly one of target or metrics"),
  },
  {
    name: "a target with two metrics",
    patch: spec({ autoscaling: { minReplicas: 1, maxReplicas: 2, target: { cpuUtilization: 80, gpuUtilization: 80 } }, resources: CPU_REQUEST }),
    expect: invalid("spec.autoscaling.target", "autoscaling.target must set exactly one of"),
  },

  // spec.autoscaling: scale to zero
  { name: "scale to zero woken by requests", patch: spec({ autoscaling: { ...TO_ZERO, wake: { mode: "Request" } } }), expect: "valid" },
  {
    name: "scale to zero woken by a gateway metric",
    patch: spec({ autoscaling: { ...TO_ZERO, wake: { mode: "Metric", query: "sum(gateway_queue{model='m'})", threshold: 4 } } }),
    expect: "valid",
  },
  {
    name: "scale to zero without a wake path",
    patch: spec({ autoscaling: TO_ZERO }),
    expect: invalid("spec.autoscaling.minReplicas", "autoscaling.minReplicas 0 needs autoscaling.wake"),
  },
  {
    name: "scale to zero with a fixed replica count",
    patch: spec({ replicas: 1, autoscaling: { ...TO_ZERO, wake: { mode: "Request" } } }),
    expect: invalid("spec", "spec.replicas and spec.autoscaling are mutually exclusive"),
  },
  {
    name: "a wake path on raw metrics",
    patch: spec({
      autoscaling: {
        minReplicas: 0,
        maxReplicas: 2,
        wake: { mode: "Request" },
        metrics: [{ type: "Resource", resource: { name: "memory", target: { type: "Utilization", averageUtilization: 80 } } }],
      },
    }),
    expect: invalid("spec.autoscaling.wake", "autoscaling.wake needs autoscaling.target"),
  },
  {
    name: "a Request wake path with hosts and a timeout",
    patch: spec({ autoscaling: { ...TO_ZERO, wake: { mode: "Request", hosts: ["llm.team.svc"], timeoutSeconds: 600 } } }),
    expect: "valid",
  },
  {
    name: "a Metric wake path without a query",
    patch: spec({ autoscaling: { ...TO_ZERO, wake: { mode: "Metric" } } }),
    expect: invalid("spec.autoscaling.wake.query", "autoscaling.wake.query is required with mode Metric"),
  },
  {
    name: "a Request wake path with a query",
    patch: spec({ autoscaling: { ...TO_ZERO, wake: { mode: "Request", query: "up" } } }),
    expect: invalid("spec.autoscaling.wake", "autoscaling.wake.query and threshold apply to mode Metric only"),
  },
  {
    name: "a Metric wake path with an interceptor timeout",
    patch: spec({ autoscaling: { ...TO_ZERO, wake: { mode: "Metric", query: "up", timeoutSeconds: 600 } } }),
    expect: invalid("spec.autoscaling.wake", "autoscaling.wake.hosts and timeoutSeconds apply to mode Request only"),
  },
  {
    name: "a cooldown as long as the startup budget",
    patch: spec({ startup: { timeoutSeconds: 600 }, autoscaling: { ...TO_ZERO, wake: { mode: "Request" }, cooldownSeconds: 600 } }),
    expect: "valid",
  },
  {
    name: "a cooldown shorter than the startup budget",
    patch: spec({ startup: { timeoutSeconds: 600 }, autoscaling: { ...TO_ZERO, wake: { mode: "Request" }, cooldownSeconds: 300 } }),
    expect: invalid("spec.autoscaling.cooldownSeconds", "autoscaling.cooldownSeconds must be at least startup.timeoutSeconds"),
  },
  {
    name: "a cooldown without scale to zero",
    patch: spec({ autoscaling: { minReplicas: 1, maxReplicas: 2, target: { inFlightRequests: 4 }, cooldownSeconds: 600 } }),
    expect: invalid("spec.autoscaling.cooldownSeconds", "autoscaling.cooldownSeconds applies to the last replica only"),
  },
  {
    name: "a cooldown of 30 s",
    patch: spec({ autoscaling: { ...TO_ZERO, wake: { mode: "Request" }, cooldownSeconds: 30 } }),
    expect: invalid("spec.autoscaling.cooldownSeconds", "must be at least 60"),
    serverMessage: "spec.autoscaling.cooldownSeconds in body should be greater than or equal to 60",
  },

  // spec.rollout
  { name: "maxSurge 0 and maxUnavailable 1", patch: spec({ rollout: { maxSurge: 0, maxUnavailable: 1 } }), expect: "valid" },
  { name: "maxSurge '0%' and maxUnavailable '25%'", patch: spec({ rollout: { maxSurge: "0%", maxUnavailable: "25%" } }), expect: "valid" },
  { name: "maxSurge '150%' and maxUnavailable '100%'", patch: spec({ rollout: { maxSurge: "150%", maxUnavailable: "100%" } }), expect: "valid" },
  { name: "maxSurge 0 and maxUnavailable 0", patch: spec({ rollout: { maxSurge: 0, maxUnavailable: 0 } }), expect: invalid("spec.rollout", BOTH_ZERO) },
  { name: "maxSurge '00%' and maxUnavailable 0", patch: spec({ rollout: { maxSurge: "00%", maxUnavailable: 0 } }), expect: invalid("spec.rollout", BOTH_ZERO) },
  {
    name: "maxSurge '0%' and maxUnavailable '000%'",
    patch: spec({ rollout: { maxSurge: "0%", maxUnavailable: "000%" } }),
    expect: invalid("spec.rollout", BOTH_ZERO),
  },
  { name: "a negative maxSurge", patch: spec({ rollout: { maxSurge: -1 } }), expect: invalid("spec.rollout.maxSurge", "must not be negative") },
  {
    name: "a negative maxUnavailable",
    patch: spec({ rollout: { maxUnavailable: -1 } }),
    expect: invalid("spec.rollout.maxUnavailable", "must not be negative"),
  },
  {
    name: "maxUnavailable '150%'",
    patch: spec({ rollout: { maxUnavailable: "150%" } }),
    expect: invalid("spec.rollout.maxUnavailable", "rollout.maxUnavailable must not be more than 100%"),
  },

  // label and annotation maps
  {
    name: "a node selector on a prefixed label",
    patch: spec({ scheduling: { nodeSelector: { "topology.kubernetes.io/zone": "us-east-1a", pool: "" } } }),
    expect: "valid",
  },
  {
    name: "a node selector key with two slashes",
    patch: spec({ scheduling: { nodeSelector: { "a/b/c": "x" } } }),
    expect: invalid("spec.scheduling.nodeSelector", `scheduling.nodeSelector ${KEYS}`),
  },
  {
    name: "a node selector value with a space",
    patch: spec({ scheduling: { nodeSelector: { pool: "gpu pool" } } }),
    expect: invalid("spec.scheduling.nodeSelector", `scheduling.nodeSelector ${VALUES}`),
  },
  { name: "pod labels", patch: spec({ podMetadata: { labels: { "app.kubernetes.io/part-of": "chat", team: "ml" } } }), expect: "valid" },
  {
    name: "a reserved pod label",
    patch: spec({ podMetadata: { labels: { "modelservice.dev/name": "other" } } }),
    expect: invalid("spec.podMetadata", "podMetadata.labels must not use the reserved modelservice.dev/ prefix"),
  },
  {
    name: "a pod label key with a space",
    patch: spec({ podMetadata: { labels: { "my label": "x" } } }),
    expect: invalid("spec.podMetadata.labels", `podMetadata.labels ${KEYS}`),
  },
  {
    name: "a pod label value of 64 characters",
    patch: spec({ podMetadata: { labels: { team: "x".repeat(64) } } }),
    expect: invalid("spec.podMetadata.labels", `podMetadata.labels ${VALUES}`),
  },
  {
    name: "pod annotations with free-form values",
    patch: spec({ podMetadata: { annotations: { "prometheus.io/scrape": "true", note: "any text: at all" } } }),
    expect: "valid",
  },
  {
    name: "a pod annotation key with a 254-character prefix",
    patch: spec({ podMetadata: { annotations: { [`${"a".repeat(254)}/x`]: "1" } } }),
    expect: invalid("spec.podMetadata.annotations", `podMetadata.annotations ${KEYS}`),
  },
  {
    name: "a pod annotation key ending in '-'",
    patch: spec({ podMetadata: { annotations: { "note-": "1" } } }),
    expect: invalid("spec.podMetadata.annotations", `podMetadata.annotations ${KEYS}`),
  },

  {
    name: "a pod label in a Kubernetes domain",
    patch: spec({ podMetadata: { labels: { "statefulset.kubernetes.io/pod-name": "payments-0" } } }),
    expect: invalid("spec.podMetadata", "podMetadata.labels must not use the kubernetes.io/ or k8s.io/ domains"),
  },
  {
    name: "a pod label in the k8s.io domain",
    patch: spec({ podMetadata: { labels: { "k8s.io/role": "x" } } }),
    expect: invalid("spec.podMetadata", "podMetadata.labels must not use the kubernetes.io/ or k8s.io/ domains"),
  },

  // Bounded pass-through objects (src/api/pod-schema.ts).
  {
    name: "tolerations, affinity and a required anti-affinity with a selector",
    patch: spec({
      scheduling: {
        tolerations: [{ key: "dedicated", operator: "Equal", value: "ml", effect: "NoSchedule" }],
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] }] },
          },
          podAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { team: "ml" } }, topologyKey: "kubernetes.io/hostname" }],
          },
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              {
                labelSelector: { matchExpressions: [{ key: "modelservice.dev/name", operator: "In", values: ["rule-case"] }] },
                topologyKey: "kubernetes.io/hostname",
              },
            ],
          },
        },
      },
    }),
    expect: "valid",
  },
  {
    name: "a required pod anti-affinity with an empty selector",
    patch: spec({
      scheduling: {
        affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: {}, topologyKey: "kubernetes.io/hostname" }] } },
      },
    }),
    expect: invalid(
      "spec.scheduling.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution",
      "required pod anti-affinity terms need a non-empty labelSelector",
    ),
  },
  {
    name: "a required pod anti-affinity across every namespace",
    patch: spec({
      scheduling: {
        affinity: {
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              { labelSelector: { matchLabels: { a: "b" } }, namespaceSelector: {}, topologyKey: "kubernetes.io/hostname" },
            ],
          },
        },
      },
    }),
    expect: invalid(
      "spec.scheduling.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution",
      "apply to the ModelService's own namespace only",
    ),
  },
  {
    name: "a required pod affinity without a selector",
    patch: spec({ scheduling: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: "kubernetes.io/hostname" }] } } } }),
    expect: invalid(
      "spec.scheduling.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution",
      "required pod affinity terms need a non-empty labelSelector",
    ),
  },
  {
    name: "1,000 empty node affinity terms",
    patch: spec({
      scheduling: {
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: Array.from({ length: 1000 }, () => ({})) } } },
      },
    }),
    expect: invalid("spec.scheduling.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms", "at most 8"),
    serverMessage: "must have at most 8 items",
  },
  {
    name: "33 tolerations",
    patch: spec({ scheduling: { tolerations: Array.from({ length: 33 }, (_, i) => ({ key: `k${i}`, operator: "Exists" })) } }),
    expect: invalid("spec.scheduling.tolerations", "at most 32"),
    serverMessage: "must have at most 32 items",
  },
  {
    name: "a toleration with an unknown operator",
    patch: spec({ scheduling: { tolerations: [{ operator: "Everything" }] } }),
    expect: invalid("spec.scheduling.tolerations[0].operator", "must be one of"),
    serverMessage: "Unsupported value",
  },
  {
    name: "a fractional stabilization window",
    patch: spec({
      autoscaling: { minReplicas: 1, maxReplicas: 2, target: { inFlightRequests: 8 }, behavior: { scaleDown: { stabilizationWindowSeconds: 30.5 } } },
    }),
    expect: invalid("spec.autoscaling.behavior.scaleDown.stabilizationWindowSeconds", "integer"),
    serverMessage: "must be of type integer",
  },
  {
    name: "env from a field of the pod",
    patch: spec({ engine: { env: [{ name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }] } }),
    expect: "valid",
  },
  {
    name: "env valueFrom with two sources",
    patch: spec({ engine: { env: [{ name: "X", valueFrom: { ...SECRET_REF, fieldRef: { fieldPath: "metadata.name" } } }] } }),
    expect: invalid("spec.engine.env[0].valueFrom", "env valueFrom must set exactly one of secretKeyRef, configMapKeyRef, fieldRef, resourceFieldRef"),
  },
  {
    name: "env valueFrom with no source",
    patch: spec({ engine: { env: [{ name: "X", valueFrom: {} }] } }),
    expect: invalid("spec.engine.env[0].valueFrom", "env valueFrom must set exactly one of"),
  },

  // spec.cache
  { name: "a cache size as an integer", patch: spec({ cache: { size: 53687091200 } }), expect: "valid" },
  { name: "a cache of 0", patch: spec({ cache: { size: 0 } }), expect: invalid("spec.cache.size", "cache.size must be greater than 0") },
  { name: "a cache of '0Gi'", patch: spec({ cache: { size: "0Gi" } }), expect: invalid("spec.cache.size", "cache.size must be greater than 0") },
  { name: "a negative cache size", patch: spec({ cache: { size: -1 } }), expect: invalid("spec.cache.size", "must not be negative") },
];

const gateway = { parentRefs: [{ name: "public", namespace: "gateways" }] };
const issuer = { issuerRef: { name: "cluster-ca", kind: "ClusterIssuer" } };
const key = { apiKeySecret: { name: "llm-key", key: "token" } };
const ollama = { model: { uri: "ollama://qwen2.5:0.5b" }, engine: { type: "Ollama" }, gpu: { count: 0 } };
const triton = { model: { uri: "pvc://models/triton" }, engine: { type: "Triton" } };
const tgi = { engine: { type: "TGI" } };
const custom = { engine: { type: "Custom", image: "example.com/my-engine:1.0" } };
const peer = (p: Record<string, unknown>) => ({ access: { allowFrom: [p] } });

const SECURITY_SPEC_CASES: (Omit<RuleCase, "patch"> & { spec: Patch })[] = [
  // Admitted.
  {
    name: "vLLM with every security field",
    spec: {
      access: { allowFrom: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "apps" } } }], ...key },
      expose: {
        ...gateway,
        hostnames: ["llm.example.com", "*.models.example.com"],
        path: "/llama",
        requestTimeoutSeconds: 600,
        apiKeyAuth: { secretName: "gw-keys" },
      },
      tls: { ...issuer, caConfigMap: "cluster-ca" },
    },
    expect: "valid",
  },
  { name: "SGLang with an API key and TLS", spec: { engine: { type: "SGLang" }, access: key, tls: issuer }, expect: "valid" },
  { name: "TGI with an API key", spec: { ...tgi, access: key }, expect: "valid" },
  { name: "Custom with an API key, its env variable, and TLS", spec: { ...custom, access: { ...key, apiKeyEnv: "API_TOKEN" }, tls: issuer }, expect: "valid" },
  {
    name: "Triton protected at the gateway and by network peers",
    spec: { ...triton, ...peer({ podSelector: {} }), expose: { ...gateway, apiKeyAuth: { secretName: "gw-keys" } } },
    expect: "valid",
  },
  { name: "an empty namespaceSelector (every namespace)", spec: peer({ namespaceSelector: {} }), expect: "valid" },
  { name: "allowFrom [] (only the gateway and the model's own pods)", spec: { access: { allowFrom: [] } }, expect: "valid" },
  {
    name: "matchExpressions In with values, Exists without",
    spec: peer({
      namespaceSelector: {
        matchExpressions: [
          { key: "team", operator: "In", values: ["a", "b"] },
          { key: "example.com/serving", operator: "Exists" },
        ],
      },
    }),
    expect: "valid",
  },
  { name: "TLS without expose needs no caConfigMap", spec: { tls: issuer }, expect: "valid" },
  { name: "expose with the default path", spec: { expose: gateway }, expect: "valid" },
  {
    name: "expose with scale to zero woken by a metric",
    spec: {
      expose: gateway,
      autoscaling: { minReplicas: 0, maxReplicas: 2, target: { inFlightRequests: 4 }, wake: { mode: "Metric", query: "sum(gateway_queue)" } },
    },
    expect: "valid",
  },
  {
    name: "expose with scale to zero woken by the interceptor",
    spec: { expose: gateway, autoscaling: { minReplicas: 0, maxReplicas: 2, target: { inFlightRequests: 4 }, wake: { mode: "Request" } } },
    expect: { path: "spec.expose", message: "cannot wake the model: the gateway routes to its Service" },
  },

  // Rejected: options the engine does not have.
  {
    name: "an API key on Triton",
    spec: { ...triton, access: key },
    expect: { path: "spec.access.apiKeySecret", message: "Triton has no API-key option; protect it at the gateway" },
  },
  {
    name: "an API key on Ollama",
    spec: { ...ollama, access: key },
    expect: { path: "spec.access.apiKeySecret", message: "Ollama has no API-key option; protect it at the gateway" },
  },
  {
    name: "a Custom API key without apiKeyEnv",
    spec: { ...custom, access: key },
    expect: { path: "spec.access.apiKeyEnv", message: "access.apiKeyEnv is required with access.apiKeySecret on a Custom engine" },
  },
  {
    name: "apiKeyEnv on vLLM",
    spec: { access: { ...key, apiKeyEnv: "X" } },
    expect: { path: "spec.access.apiKeyEnv", message: "access.apiKeyEnv is for Custom engines only" },
  },
  {
    name: "apiKeyEnv without apiKeySecret",
    spec: { ...custom, access: { apiKeyEnv: "X" } },
    expect: { path: "spec.access.apiKeyEnv", message: "access.apiKeyEnv needs access.apiKeySecret" },
  },
  { name: "TLS on TGI", spec: { ...tgi, tls: issuer }, expect: { path: "spec.tls", message: "spec.tls: TGI cannot serve HTTPS itself" } },
  { name: "TLS on Ollama", spec: { ...ollama, tls: issuer }, expect: { path: "spec.tls", message: "spec.tls: Ollama cannot serve HTTPS itself" } },
  { name: "TLS on Triton", spec: { ...triton, tls: issuer }, expect: { path: "spec.tls", message: "spec.tls: Triton cannot serve HTTPS itself" } },

  // Rejected: routes and TLS that cannot work.
  {
    name: "a route with an empty parentRefs list",
    spec: { expose: { parentRefs: [] } },
    expect: { path: "spec.expose.parentRefs", message: "must have at least 1 items" },
    serverMessage: "should have at least 1 items",
  },
  {
    name: "a route without parentRefs",
    spec: { expose: { hostnames: ["llm.example.com"] } },
    expect: { path: "spec.expose.parentRefs", message: "is required" },
    serverMessage: "Required value",
  },
  {
    name: "TLS and expose without caConfigMap",
    spec: { expose: gateway, tls: issuer },
    expect: { path: "spec.tls.caConfigMap", message: "spec.tls.caConfigMap is required with spec.expose" },
  },
  {
    name: "a bad hostname",
    spec: { expose: { ...gateway, hostnames: ["LLM.Example.com:443"] } },
    expect: { path: "spec.expose.hostnames[0]", message: "must be a hostname" },
    serverMessage: "should match",
  },
  {
    name: "a path without a leading /",
    spec: { expose: { ...gateway, path: "llama" } },
    expect: { path: "spec.expose.path", message: "must start with '/'" },
    serverMessage: "should match",
  },
  {
    name: "a path with a .. segment",
    spec: { expose: { ...gateway, path: "/llama/../admin" } },
    expect: { path: "spec.expose.path", message: "must not contain '//', '.' or '..' segments" },
  },
  {
    name: "a path ending in ..",
    spec: { expose: { ...gateway, path: "/llama/.." } },
    expect: { path: "spec.expose.path", message: "must not contain '//', '.' or '..' segments" },
  },
  {
    name: "a path with whitespace",
    spec: { expose: { ...gateway, path: "/llama chat" } },
    expect: { path: "spec.expose.path", message: "must start with '/'" },
    serverMessage: "should match",
  },

  // Rejected: selectors.
  {
    name: "an allowFrom item with neither selector",
    spec: peer({}),
    expect: { path: "spec.access.allowFrom[0]", message: "each item needs a namespaceSelector, a podSelector, or both" },
  },
  {
    name: "matchExpressions Exists with values",
    spec: peer({ namespaceSelector: { matchExpressions: [{ key: "team", operator: "Exists", values: ["a"] }] } }),
    expect: { path: "spec.access.allowFrom[0].namespaceSelector.matchExpressions[0]", message: "values must be empty for Exists and DoesNotExist" },
  },
  {
    name: "matchExpressions In without values",
    spec: peer({ podSelector: { matchExpressions: [{ key: "team", operator: "In" }] } }),
    expect: { path: "spec.access.allowFrom[0].podSelector.matchExpressions[0]", message: "non-empty for In and NotIn" },
  },
  {
    name: "a matchLabels key that is not a label key",
    spec: peer({ podSelector: { matchLabels: { "bad key!": "x" } } }),
    expect: { path: "spec.access.allowFrom[0].podSelector.matchLabels", message: "matchLabels keys must be label keys" },
  },
  {
    name: "a namespaceSelector matchLabels key that is not a label key",
    spec: peer({ namespaceSelector: { matchLabels: { "team/a/b": "x" } } }),
    expect: { path: "spec.access.allowFrom[0].namespaceSelector.matchLabels", message: "matchLabels keys must be label keys" },
  },
  {
    name: "a podSelector with label-key matchLabels and In/Exists matchExpressions",
    spec: peer({
      podSelector: {
        matchLabels: { "app.kubernetes.io/name": "frontend" },
        matchExpressions: [
          { key: "tier", operator: "In", values: ["web"] },
          { key: "canary", operator: "DoesNotExist" },
        ],
      },
    }),
    expect: "valid",
  },
  {
    name: "a Secret key with a slash",
    spec: { access: { apiKeySecret: { name: "llm-key", key: "a/b" } } },
    expect: { path: "spec.access.apiKeySecret.key", message: "must be a Secret key" },
    serverMessage: "should match",
  },
];

// Shapes the OpenAPI schema refuses before any CEL rule runs: wrong types, missing required fields,
// out-of-range numbers, huge lists and strings, unknown fields. serverMessage is the API server's
// wording, kept whole so a change shows up.
const QUANTITY_PATTERN = (path: string) =>
  `${path} in body should match '^(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$'`;
const many = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
const unknown = (path: string): RuleCase["expect"] => invalid(path, "unknown field");
const SHAPE_CASES: RuleCase[] = [
  // wrong types
  {
    name: "replicas as a string",
    patch: spec({ replicas: "2" }),
    expect: invalid("spec.replicas", "must be a number"),
    serverMessage: 'spec.replicas in body must be of type integer: "string"',
  },
  {
    name: "a fractional GPU count",
    patch: spec({ gpu: { count: 1.5 } }),
    expect: invalid("spec.gpu.count", "must be an integer"),
    serverMessage: 'spec.gpu.count in body must be of type integer: "number"',
  },
  {
    name: "gpu as a boolean",
    patch: { spec: { ...BASE.spec, gpu: true } },
    expect: invalid("spec.gpu", "must be a mapping"),
    serverMessage: 'spec.gpu in body must be of type object: "boolean"',
  },
  {
    name: "model.uri as a number",
    patch: spec({ model: { uri: 42 } }),
    expect: invalid("spec.model.uri", "must be a string"),
    serverMessage: 'spec.model.uri in body must be of type string: "integer"',
  },
  {
    name: "env as a string",
    patch: spec({ engine: { env: "A=1" } }),
    expect: invalid("spec.engine.env", "must be a list"),
    serverMessage: 'spec.engine.env in body must be of type array: "string"',
  },
  {
    name: "gpu.minMemoryMiB with a unit",
    patch: spec({ gpu: { count: 1, minMemoryMiB: "40G" } }),
    expect: invalid("spec.gpu.minMemoryMiB", "must be a number"),
    serverMessage: 'spec.gpu.minMemoryMiB in body must be of type integer: "string"',
  },
  {
    name: "resources.requests as a list",
    patch: spec({ resources: { requests: ["cpu"] } }),
    expect: invalid("spec.resources.requests", "must be a mapping"),
    serverMessage: 'spec.resources.requests in body must be of type object: "array"',
  },
  {
    name: "a node selector as a list",
    patch: spec({ scheduling: { nodeSelector: ["a"] } }),
    expect: invalid("spec.scheduling.nodeSelector", "must be a mapping"),
    serverMessage: 'spec.scheduling.nodeSelector in body must be of type object: "array"',
  },
  {
    name: "maxSurge as a word",
    patch: spec({ rollout: { maxSurge: "many" } }),
    expect: invalid("spec.rollout.maxSurge", "must be an integer or a percentage such as 25%"),
    serverMessage: "spec.rollout.maxSurge in body should match '^[0-9]{1,3}%$'",
  },
  {
    name: "sharedMemory in words",
    patch: spec({ sharedMemory: "1 GB" }),
    expect: invalid("spec.sharedMemory", "must be a Kubernetes quantity such as 16Gi or 500m"),
    serverMessage: QUANTITY_PATTERN("spec.sharedMemory"),
  },
  {
    name: "a cache size in words",
    patch: spec({ cache: { size: "lots" } }),
    expect: invalid("spec.cache.size", "must be a Kubernetes quantity such as 16Gi or 500m"),
    serverMessage: QUANTITY_PATTERN("spec.cache.size"),
  },
  // missing required fields
  { name: "no model", patch: spec({ model: undefined }), expect: invalid("spec.model", "is required"), serverMessage: "spec.model: Required value" },
  { name: "no engine", patch: spec({ engine: undefined }), expect: invalid("spec.engine", "is required"), serverMessage: "spec.engine: Required value" },
  {
    name: "an engine without a type",
    patch: spec({ engine: { type: undefined } }),
    expect: invalid("spec.engine.type", "must be one of: vLLM, SGLang, TGI, Ollama, Triton, Custom"),
    serverMessage: "spec.engine.type: Required value",
  },
  {
    name: "an env entry without a name",
    patch: spec({ engine: { env: [{ value: "1" }] } }),
    expect: invalid("spec.engine.env[0].name", "is required"),
    serverMessage: "spec.engine.env[0].name: Required value",
  },
  // enums and ranges
  {
    name: "an engine type in lower case",
    patch: spec({ engine: { type: "vllm" } }),
    expect: invalid("spec.engine.type", "must be one of: vLLM, SGLang, TGI, Ollama, Triton, Custom"),
    serverMessage: 'spec.engine.type: Unsupported value: "vllm"',
  },
  {
    name: "negative replicas",
    patch: spec({ replicas: -1 }),
    expect: invalid("spec.replicas", "must be at least 0"),
    serverMessage: "spec.replicas in body should be greater than or equal to 0",
  },
  {
    name: "a million replicas",
    patch: spec({ replicas: 1000000 }),
    expect: invalid("spec.replicas", "must be at most 1000"),
    serverMessage: "spec.replicas in body should be less than or equal to 1000",
  },
  {
    name: "65 GPUs per replica",
    patch: spec({ gpu: { count: 65 } }),
    expect: invalid("spec.gpu.count", "must be at most 64"),
    serverMessage: "spec.gpu.count in body should be less than or equal to 64",
  },
  {
    name: "maxReplicas 0",
    patch: spec({ autoscaling: { ...CPU_TARGET, maxReplicas: 0 }, resources: CPU_REQUEST }),
    expect: invalid("spec.autoscaling.maxReplicas", "must be at least 1"),
    serverMessage: "spec.autoscaling.maxReplicas in body should be greater than or equal to 1",
  },
  {
    name: "a startup timeout of 5 s",
    patch: spec({ startup: { timeoutSeconds: 5 } }),
    expect: invalid("spec.startup.timeoutSeconds", "must be at least 30"),
    serverMessage: "spec.startup.timeoutSeconds in body should be greater than or equal to 30",
  },
  {
    name: "a startup timeout over a day",
    patch: spec({ startup: { timeoutSeconds: 86401 } }),
    expect: invalid("spec.startup.timeoutSeconds", "must be at most 86400"),
    serverMessage: "spec.startup.timeoutSeconds in body should be less than or equal to 86400",
  },
  // huge lists and strings
  {
    name: "65 engine arguments",
    patch: spec({ engine: { args: many(65, () => "--x") } }),
    expect: invalid("spec.engine.args", "must have at most 64 items"),
    serverMessage: "spec.engine.args: Too many: 65: must have at most 64 items",
  },
  {
    name: "an engine argument of 1025 characters",
    patch: spec({ engine: { args: ["x".repeat(1025)] } }),
    expect: invalid("spec.engine.args[0]", "must be at most 1024 characters"),
    serverMessage: "spec.engine.args[0]: Too long: may not be more than 1024 bytes",
  },
  {
    name: "65 env entries",
    patch: spec({ engine: { env: many(65, (i) => ({ name: `E${i}`, value: "1" })) } }),
    expect: invalid("spec.engine.env", "must have at most 64 items"),
    serverMessage: "spec.engine.env: Too many: 65: must have at most 64 items",
  },
  {
    name: "an image of 600 characters",
    patch: spec({ engine: { image: `a/${"b".repeat(598)}` } }),
    expect: invalid("spec.engine.image", "must be at most 512 characters"),
    serverMessage: "spec.engine.image: Too long: may not be more than 512 bytes",
  },
  {
    name: "a model URI of 5000 characters",
    patch: spec({ model: { uri: `hf://a/${"b".repeat(4993)}` } }),
    expect: invalid("spec.model.uri", "must be at most 1024 characters"),
    serverMessage: "spec.model.uri: Too long: may not be more than 1024 bytes",
  },
  {
    name: "33 tolerations",
    patch: spec({ scheduling: { tolerations: many(33, () => ({ key: "a", operator: "Exists" })) } }),
    expect: invalid("spec.scheduling.tolerations", "must have at most 32 items"),
    serverMessage: "spec.scheduling.tolerations: Too many: 33: must have at most 32 items",
  },
  {
    name: "17 GPU products",
    patch: spec({ gpu: { count: 1, products: many(17, (i) => `p${i}`) } }),
    expect: invalid("spec.gpu.products", "must have at most 16 items"),
    serverMessage: "spec.gpu.products: Too many: 17: must have at most 16 items",
  },
  {
    name: "17 pod labels",
    patch: spec({ podMetadata: { labels: Object.fromEntries(many(17, (i) => [`k${i}`, "v"])) } }),
    expect: invalid("spec.podMetadata.labels", "must have at most 16 entries"),
    serverMessage: "spec.podMetadata.labels: Too many: 17: must have at most 16 items",
  },
  // unknown fields (a typo would otherwise be dropped without a word)
  {
    name: "a typo at the top of spec",
    patch: spec({ replica: 2 }),
    expect: unknown("spec.replica"),
    serverMessage: 'unknown field "spec.replica"',
    unknownField: true,
  },
  {
    name: "a typo in engine",
    patch: spec({ engine: { imagee: "x" } }),
    expect: unknown("spec.engine.imagee"),
    serverMessage: 'unknown field "spec.engine.imagee"',
    unknownField: true,
  },
  {
    name: "a typo in an env entry",
    patch: spec({ engine: { env: [{ name: "A", vaule: "1" }] } }),
    expect: unknown("spec.engine.env[0].vaule"),
    serverMessage: 'unknown field "spec.engine.env[0].vaule"',
    unknownField: true,
  },
  {
    name: "a typo in gpu",
    patch: spec({ gpu: { count: 1, product: "NVIDIA-L4" } }),
    expect: unknown("spec.gpu.product"),
    serverMessage: 'unknown field "spec.gpu.product"',
    unknownField: true,
  },
];

/** spec.access, spec.expose and spec.tls. */
const SECURITY_CASES: RuleCase[] = SECURITY_SPEC_CASES.map(({ spec, ...c }) => ({ ...c, patch: { spec } }));

/** spec.multiNode, spec.parallelism, spec.adapters. */
const TWO_BY_8 = { gpu: { count: 8 }, multiNode: { nodes: 2 } };
const ADAPTER = { name: "sql", uri: "hf://org/sql-lora" };
const MULTINODE_CASES: RuleCase[] = [
  { name: "two nodes of 8 GPUs on vLLM", patch: spec(TWO_BY_8), expect: "valid" },
  { name: "two nodes on SGLang", patch: spec({ ...TWO_BY_8, engine: { type: "SGLang" } }), expect: "valid" },
  { name: "two nodes sharing a rack", patch: spec({ ...TWO_BY_8, multiNode: { nodes: 2, topologyKey: "example.com/rack" } }), expect: "valid" },
  {
    name: "two nodes on TGI",
    patch: spec({ ...TWO_BY_8, engine: { type: "TGI" } }),
    expect: invalid("spec.multiNode", "multiNode needs engine.type vLLM or SGLang"),
  },
  {
    name: "two nodes without GPUs",
    patch: spec({ gpu: { count: 0 }, multiNode: { nodes: 2 } }),
    expect: invalid("spec.multiNode", "multiNode needs gpu.count > 0"),
  },
  {
    name: "one node in multiNode",
    patch: spec({ ...TWO_BY_8, multiNode: { nodes: 1 } }),
    expect: invalid("spec.multiNode.nodes", "must be at least 2"),
    serverMessage: "spec.multiNode.nodes in body should be greater than or equal to 2",
  },
  {
    name: "a topology key that is not a label key",
    patch: spec({ ...TWO_BY_8, multiNode: { nodes: 2, topologyKey: "rack/a/b" } }),
    expect: invalid("spec.multiNode.topologyKey", "must be a node label key"),
    serverMessage: "spec.multiNode.topologyKey: Invalid value",
  },
  { name: "two nodes with two fixed replicas", patch: spec({ ...TWO_BY_8, replicas: 2 }), expect: "valid" },
  {
    name: "two nodes autoscaled",
    patch: spec({ ...TWO_BY_8, autoscaling: CPU_TARGET, resources: CPU_REQUEST }),
    expect: invalid("spec.autoscaling", "multiNode replicas are not autoscaled yet"),
  },
  { name: "two nodes sharing a ReadWriteMany cache", patch: spec({ ...TWO_BY_8, cache: { size: "1Ti", accessMode: "ReadWriteMany" } }), expect: "valid" },
  {
    name: "two nodes sharing a ReadWriteOnce cache",
    patch: spec({ ...TWO_BY_8, cache: { size: "1Ti" } }),
    expect: invalid("spec.cache.accessMode", "set cache.accessMode to ReadWriteMany"),
  },
  { name: "tensor 8 × pipeline 2 over two nodes of 8", patch: spec({ ...TWO_BY_8, parallelism: { tensor: 8, pipeline: 2 } }), expect: "valid" },
  { name: "tensor 16 over two nodes of 8 (SGLang)", patch: spec({ ...TWO_BY_8, engine: { type: "SGLang" }, parallelism: { tensor: 16 } }), expect: "valid" },
  { name: "pipeline 2 within one node of 4", patch: spec({ gpu: { count: 4 }, parallelism: { tensor: 2, pipeline: 2 } }), expect: "valid" },
  {
    name: "tensor 8 × pipeline 1 over two nodes of 8",
    patch: spec({ ...TWO_BY_8, parallelism: { tensor: 8 } }),
    expect: invalid("spec.parallelism", "parallelism.tensor × parallelism.pipeline must equal the GPUs of one replica"),
  },
  {
    name: "parallelism on TGI",
    patch: spec({ gpu: { count: 2 }, engine: { type: "TGI" }, parallelism: { tensor: 2 } }),
    expect: invalid("spec.parallelism", "parallelism needs engine.type vLLM or SGLang"),
  },
  {
    name: "three adapters on vLLM",
    patch: spec({ adapters: [ADAPTER, { name: "chat", uri: "pvc://loras/chat" }, { name: "de", uri: "hf://org/de@v2" }] }),
    expect: "valid",
  },
  { name: "an adapter on TGI", patch: spec({ engine: { type: "TGI" }, adapters: [ADAPTER] }), expect: "valid" },
  {
    name: "an adapter on Ollama",
    patch: spec({ engine: { type: "Ollama" }, adapters: [ADAPTER] }),
    expect: invalid("spec.adapters", "adapters need engine.type vLLM, SGLang or TGI"),
  },
  { name: "an s3:// adapter with a cache", patch: spec({ adapters: [{ name: "a", uri: "s3://loras-bucket/a" }], cache: { size: "50Gi" } }), expect: "valid" },
  {
    name: "an s3:// adapter without a cache",
    patch: spec({ adapters: [{ name: "a", uri: "s3://loras-bucket/a" }] }),
    expect: invalid("spec.cache", "spec.cache is required for s3:// and gs:// adapters"),
  },
  { name: "an adapter named apart from the served name", patch: spec({ model: { servedName: "base" }, adapters: [ADAPTER] }), expect: "valid" },
  {
    name: "an adapter named like the served name",
    patch: spec({ model: { servedName: "sql" }, adapters: [ADAPTER] }),
    expect: invalid("spec.adapters", "adapters[].name must differ from model.servedName"),
  },
  {
    name: "an adapter URI climbing out of its claim",
    patch: spec({ adapters: [{ name: "a", uri: "pvc://loras/../other" }] }),
    expect: invalid("spec.adapters[0].uri", "adapters[].uri must not contain '..' path segments"),
  },
  {
    name: "an ollama:// adapter",
    patch: spec({ adapters: [{ name: "a", uri: "ollama://x" }] }),
    expect: invalid("spec.adapters[0].uri", "must be hf://ORG/NAME[@REVISION], s3://BUCKET/PATH"),
    serverMessage: "spec.adapters[0].uri: Invalid value",
  },
  {
    name: "two adapters of one name",
    patch: spec({ adapters: [ADAPTER, { ...ADAPTER, uri: "hf://org/other" }] }),
    expect: invalid("spec.adapters[1]", "Duplicate value"),
    serverMessage: "Duplicate value",
  },
  {
    name: "17 adapters",
    patch: spec({ adapters: many(17, (i) => ({ name: `a${i}`, uri: `hf://org/a${i}` })) }),
    expect: invalid("spec.adapters", "must have at most 16 items"),
    serverMessage: "spec.adapters: Too many: 17: must have at most 16 items",
  },
];

export const RULE_CASES: RuleCase[] = [...GENERAL_CASES, ...SHAPE_CASES, ...SECURITY_CASES, ...MULTINODE_CASES];
