// The ModelService v1alpha1 API: the single source of truth. The CRD in crds/ is generated from
// these schemas (src/api/crd.ts); the TypeScript types are inferred from them (src/api/types.ts).
//
// zod describes each field's shape and type. Every other rule is a CEL rule
// (`x-kubernetes-validations`), written once here: the API server enforces it at admission and
// src/api/cel.ts evaluates the same rules from the generated CRD for `render` and the operator.
// Each rule has valid and invalid cases in test/support/rule-cases.ts. No defaults live here:
// defaults that depend on the operator's config are applied when rendering, never written into spec.
import { z } from "zod";
import { adaptersSchema, MULTINODE_RULES, multiNodeSchema, parallelismSchema } from "./multinode-schema.ts";
import { affinitySchema, BOUNDS, behaviorSchema, envVarSourceSchema, metricSpecSchema, tolerationSchema } from "./pod-schema.ts";
import { accessSchema, exposeSchema, SECURITY_RULES, tlsSchema } from "./security-schema.ts";

export const GROUP = "modelservice.dev";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = "ModelService";
export const PLURAL = "modelservices";
export const SINGULAR = "modelservice";
export const SHORT_NAMES = ["msvc"];

/** Longest ModelService name: children are named after it, and Service names are DNS-1035 labels. */
export const MAX_NAME_LENGTH = 63;
export const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUANTITY = /^(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$/;
// hf://ORG/NAME[@REV] | s3://BUCKET[/PATH] | gs://BUCKET[/PATH] | pvc://CLAIM[/PATH] | ollama://NAME[:TAG]
export const MODEL_URI =
  /^(hf:\/\/[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*(@[A-Za-z0-9._/-]+)?|s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^\s]*)?|gs:\/\/[a-z0-9][a-z0-9._-]{1,61}[a-z0-9](\/[^\s]*)?|pvc:\/\/[a-z0-9]([-a-z0-9]*[a-z0-9])?(\/[^\s]*)?|ollama:\/\/[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9._-]+)?)$/;

export const ENGINE_TYPES = ["vLLM", "SGLang", "TGI", "Ollama", "Triton", "Custom"] as const;
export type EngineType = (typeof ENGINE_TYPES)[number];

/** CEL rules travel to the CRD through zod metadata. */
type CelRule = { rule: string; message: string; fieldPath?: string; reason?: string };
const cel = (...rules: CelRule[]) => ({ "x-kubernetes-validations": rules });
const CACHE_REPLACE = (field: string) =>
  `${field} cannot change on an existing claim (Kubernetes forbids it): set cache.deleteOnRemoval, remove spec.cache (the claim and its weights go), then add the new cache`;
// An int-or-string's integer branch loses `minimum` in a structural schema; CEL keeps it.
const NON_NEGATIVE: CelRule = { rule: "type(self) != int || self >= 0", message: "must not be negative" };

/** CEL: whether an int-or-percent is zero. Kubernetes reads "0%", "00%" and "000%" as 0 too. */
const isZero = (v: string) => `(type(${v}) == int ? ${v} == 0 : ${v}.matches('^0+%?$'))`;

const quantity = (description: string, ...rules: CelRule[]) =>
  z
    .union([z.number().int(), z.string().max(64).regex(QUANTITY, "must be a Kubernetes quantity such as 16Gi or 500m")])
    .describe(description)
    .meta({ "x-kubernetes-int-or-string": true, ...cel(NON_NEGATIVE, ...rules) });

const intOrPercent = (description: string, ...rules: CelRule[]) =>
  z
    .union([
      z.number().int(),
      z
        .string()
        .max(8)
        .regex(/^[0-9]{1,3}%$/, "must be an integer or a percentage such as 25%"),
    ])
    .describe(description)
    .meta({ "x-kubernetes-int-or-string": true, ...cel(NON_NEGATIVE, ...rules) });

// Kubernetes' label and annotation keys: [DNS-subdomain prefix (at most 253) '/'] name (at most 63).
const QUALIFIED_NAME = "^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$";
const LABEL_VALUE = "^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$";
const validKeys = (what: string): CelRule => ({
  rule: `self.all(k, k.matches('${QUALIFIED_NAME}') && (!k.contains('/') || k.matches('^[^/]{1,253}/')))`,
  message: `${what} keys must be an optional DNS subdomain and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`,
});
const validLabelValues = (what: string): CelRule => ({
  rule: `self.all(k, self[k].matches('${LABEL_VALUE}'))`,
  message: `${what} values must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`,
});

const stringMap = (description: string, maxProperties: number, ...rules: CelRule[]) =>
  z
    .record(z.string().max(317), z.string().max(256))
    .refine((m) => Object.keys(m).length <= maxProperties, `must have at most ${maxProperties} entries`)
    .describe(description)
    .meta({ maxProperties, ...cel(...rules) });

// The container resource names Kubernetes accepts: the standard ones, hugepages-<size>, and
// extended resources (a domain outside kubernetes.io, '/', a name).
const EXTENDED_RESOURCE = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$";
const quantityMap = (description: string, field: string) =>
  z
    .record(z.string().max(253), quantity("A Kubernetes quantity."))
    .refine((m) => Object.keys(m).length <= 16, "must have at most 16 entries")
    .describe(description)
    .meta({
      maxProperties: 16,
      ...cel({
        rule: `self.all(k, k in ['cpu', 'memory', 'ephemeral-storage'] || k.startsWith('hugepages-') || (k.matches('${EXTENDED_RESOURCE}') && !k.contains('kubernetes.io/')))`,
        message: `resources.${field} may name cpu, memory, ephemeral-storage, hugepages-<size> or an extended resource such as example.com/device`,
      }),
    });

export const envVarSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(256)
      .describe("Name of the environment variable.")
      // Kubernetes (1.34+) accepts any printable ASCII but '='.
      .meta(cel({ rule: "self.matches('^[ -<>-~]+$')", message: "env names must be printable ASCII characters other than '='" })),
    value: z.string().max(32768).optional().describe("Literal value. Never put secrets here: use valueFrom.secretKeyRef."),
    valueFrom: envVarSourceSchema.optional(),
  })
  .describe("A core/v1 EnvVar.")
  .meta(
    cel({
      rule: "!has(self.valueFrom) || !has(self.value) || self.value == ''",
      message: "env valueFrom must not be set when value is not empty",
      fieldPath: ".valueFrom",
    }),
  );

export const modelSchema = z
  .object({
    uri: z
      .string()
      .max(1024)
      .regex(MODEL_URI, "must be hf://ORG/NAME[@REVISION], s3://BUCKET/PATH, gs://BUCKET/PATH, pvc://CLAIM/PATH or ollama://NAME[:TAG]")
      .optional()
      .meta(
        cel({
          // '..' would climb out of the bucket prefix, the claim's directory, or name another model.
          rule: "!self.matches('[/@]\\\\.\\\\.(/|:|$)')",
          message: "model.uri must not contain '..' path segments",
        }),
      )
      .describe(
        "Where the weights come from: hf://ORG/NAME[@REVISION] (the engine downloads them), s3://BUCKET/PATH or gs://BUCKET/PATH (downloaded into the cache volume before the engine starts), pvc://CLAIM/PATH (mounted read-only), ollama://NAME[:TAG] (Ollama pulls it). Omit it when the weights are in the image.",
      ),
    servedName: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]*$/, "must start with a letter or digit and contain only letters, digits and . _ : / -")
      .optional()
      .describe("Model name clients put in requests. Defaults to metadata.name."),
    credentialsSecret: z
      .string()
      .min(1)
      .max(253)
      .regex(DNS1123_SUBDOMAIN, "must be a Secret name (DNS-1123 subdomain)")
      .optional()
      .describe(
        "Name of a Secret in the same namespace whose keys become the engine's environment (e.g. HF_TOKEN, AWS_ACCESS_KEY_ID). The operator only references it; it never reads its values.",
      ),
  })
  .describe("The model to serve.");

export const engineSchema = z
  .object({
    type: z.enum(ENGINE_TYPES).describe("Inference engine: vLLM, SGLang, TGI, Ollama, Triton or Custom."),
    image: z
      .string()
      .max(512)
      .optional()
      .describe("Container image. Defaults to the operator's configured image for the engine; required for Custom.")
      .meta(cel({ rule: "!self.matches('[[:space:]]')", message: "engine.image must not contain whitespace" })),
    args: z.array(z.string().max(1024)).max(64).optional().describe("Extra arguments, appended to the ones generated for the engine."),
    env: z.array(envVarSchema).max(64).optional().describe("Extra environment variables for the engine container."),
    port: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .optional()
      .describe("Port the engine listens on. Defaults per engine (vLLM 8000, SGLang 30000, TGI 8080, Ollama 11434, Triton 8000)."),
  })
  .describe("How the model is served.")
  .meta(
    cel({
      rule: "self.type != 'Custom' || (has(self.image) && self.image != '')",
      message: "engine.image is required when engine.type is Custom",
      fieldPath: ".image",
    }),
  );

export const gpuSchema = z
  .object({
    count: z
      .number()
      .int()
      .min(0)
      .max(64)
      .describe(
        "GPUs per replica (per pod with multiNode: a replica then has gpu.count × multiNode.nodes); 0 runs on CPU. For vLLM and SGLang it is also the tensor-parallel size unless spec.parallelism says otherwise.",
      ),
    resourceName: z
      .string()
      .max(253)
      .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, "must be an extended resource name such as nvidia.com/gpu")
      .optional()
      .describe(
        "Extended resource to request, e.g. nvidia.com/gpu, amd.com/gpu or nvidia.com/mig-1g.10gb. Defaults to the operator's configured GPU resource.",
      ),
    products: z
      .array(
        z
          .string()
          .min(1)
          .max(63)
          .regex(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, "must be a valid label value"),
      )
      .max(16)
      .optional()
      .describe("Acceptable GPU products (any of), matched against the node label set by GPU feature discovery (nvidia.com/gpu.product)."),
    minMemoryMiB: z
      .number()
      .int()
      .min(1)
      .max(1048576)
      .optional()
      .describe("Minimum memory per GPU in MiB, matched against the node label nvidia.com/gpu.memory."),
  })
  .describe("GPUs for each replica.");

/** In-cluster host names (no wildcard, no port) the interceptor routes to the model. */
const WAKE_HOST = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const wakeSchema = z
  .object({
    mode: z
      .enum(["Request", "Metric"])
      .describe(
        "Request: callers go through the KEDA HTTP add-on's interceptor, which holds a request while the model wakes. Metric: a Prometheus query (e.g. an inference gateway's queue) wakes it; requests are not held by us.",
      ),
    hosts: z
      .array(z.string().min(1).max(253).regex(WAKE_HOST, "must be a host name such as llm.team.svc (lower case, no port)"))
      .min(1)
      .max(16)
      .optional()
      .describe("Request mode: Host header values the interceptor routes to this model. Default: the model Service's in-cluster names."),
    timeoutSeconds: z
      .number()
      .int()
      .min(30)
      .max(86400)
      .optional()
      .describe("Request mode: how long the interceptor holds a request for a ready replica before answering 504. Default: the startup budget."),
    query: z
      .string()
      .min(1)
      .max(4096)
      .optional()
      .describe("Metric mode: PromQL returning the waiting plus running requests for this model, read outside its pods."),
    threshold: z.number().int().min(1).max(100000).optional().describe("Metric mode: the query's value per replica (default 1)."),
  })
  .describe("How a model scaled to zero is woken.")
  .meta(
    cel(
      { rule: "self.mode != 'Metric' || has(self.query)", message: "autoscaling.wake.query is required with mode Metric", fieldPath: ".query" },
      {
        rule: "self.mode == 'Metric' || (!has(self.query) && !has(self.threshold))",
        message: "autoscaling.wake.query and threshold apply to mode Metric only",
      },
      {
        rule: "self.mode == 'Request' || (!has(self.hosts) && !has(self.timeoutSeconds))",
        message: "autoscaling.wake.hosts and timeoutSeconds apply to mode Request only",
      },
    ),
  );

export const autoscalingSchema = z
  .object({
    minReplicas: z.number().int().min(0).max(1000).describe("Fewest replicas. 0 (scale to zero when idle) needs a wake path: autoscaling.wake."),
    maxReplicas: z.number().int().min(1).max(1000).describe("Most replicas."),
    target: z
      .object({
        inFlightRequests: z
          .number()
          .int()
          .min(1)
          .max(100000)
          .optional()
          .describe("Average in-flight requests per replica, read from the engine's own metrics (needs KEDA and Prometheus)."),
        cpuUtilization: z.number().int().min(1).max(100).optional().describe("Average CPU utilisation per replica, in percent of the request."),
        gpuUtilization: z
          .number()
          .int()
          .min(1)
          .max(100)
          .optional()
          .describe("Average GPU utilisation per replica, in percent (DCGM exporter metric, needs KEDA and Prometheus)."),
      })
      .optional()
      .describe("What to scale on: exactly one of inFlightRequests, cpuUtilization, gpuUtilization.")
      .meta(
        cel({
          rule: "(has(self.inFlightRequests) ? 1 : 0) + (has(self.cpuUtilization) ? 1 : 0) + (has(self.gpuUtilization) ? 1 : 0) == 1",
          message: "autoscaling.target must set exactly one of inFlightRequests, cpuUtilization, gpuUtilization",
        }),
      ),
    metrics: z.array(metricSpecSchema).max(BOUNDS.metrics).optional().describe("Advanced: raw autoscaling/v2 MetricSpec list, used instead of target."),
    behavior: behaviorSchema.optional(),
    wake: wakeSchema.optional(),
    cooldownSeconds: z
      .number()
      .int()
      .min(60)
      .max(86400)
      .optional()
      .describe(
        "With minReplicas 0: seconds without requests before the last replica is removed (KEDA's cooldownPeriod). At least the startup budget, so a replica that is still loading is never removed; that is also the default.",
      ),
  })
  .describe("Autoscaling between minReplicas and maxReplicas. Absent means a fixed replica count.")
  .meta(
    cel(
      { rule: "self.minReplicas <= self.maxReplicas", message: "autoscaling.minReplicas must be less than or equal to maxReplicas" },
      { rule: "has(self.target) != (has(self.metrics) && size(self.metrics) > 0)", message: "autoscaling needs exactly one of target or metrics" },
      {
        rule: "self.minReplicas > 0 || has(self.wake)",
        message:
          "autoscaling.minReplicas 0 needs autoscaling.wake: with no replica left, only a wake path (mode Request: the KEDA HTTP add-on's interceptor; mode Metric: a gateway's queue metric) can start the model again",
        fieldPath: ".minReplicas",
      },
      {
        rule: "!has(self.wake) || has(self.target)",
        message: "autoscaling.wake needs autoscaling.target: raw metrics cannot be combined with a wake path",
        fieldPath: ".wake",
      },
      {
        rule: "!has(self.cooldownSeconds) || self.minReplicas == 0",
        message: "autoscaling.cooldownSeconds applies to the last replica only: set minReplicas 0, or use behavior.scaleDown",
        fieldPath: ".cooldownSeconds",
      },
    ),
  );

export const schedulingSchema = z
  .object({
    nodeSelector: stringMap(
      "Node labels the pods must match, in addition to the GPU product and memory.",
      32,
      validKeys("scheduling.nodeSelector"),
      validLabelValues("scheduling.nodeSelector"),
    ).optional(),
    tolerations: z
      .array(tolerationSchema)
      .max(BOUNDS.tolerations)
      .optional()
      .describe("Extra tolerations. A toleration for the GPU taint is added when gpu.count > 0."),
    affinity: affinitySchema.optional(),
    priorityClassName: z.string().max(253).regex(DNS1123_SUBDOMAIN, "must be a DNS-1123 subdomain").optional().describe("PriorityClass of the pods."),
    runtimeClassName: z
      .string()
      .max(253)
      .regex(DNS1123_SUBDOMAIN, "must be a DNS-1123 subdomain")
      .optional()
      .describe("RuntimeClass of the pods (e.g. nvidia)."),
  })
  .describe("Where the pods may run; passed through to the pod spec.");

const NOT_RWOP = "!has(self.cache) || !has(self.cache.accessMode) || self.cache.accessMode != 'ReadWriteOncePod'";

export const modelServiceSpecSchema = z
  .object({
    className: z
      .string()
      .min(1)
      .max(253)
      .regex(DNS1123_SUBDOMAIN, "must be a ModelServiceClass name (DNS-1123 subdomain)")
      .optional()
      .describe(
        "The ModelServiceClass (set up by the platform team) that decides the GPU pool's scheduling and what this ModelService may ask for. Absent: the class annotated modelservice.dev/is-default-class, if any.",
      ),
    model: modelSchema,
    engine: engineSchema,
    gpu: gpuSchema.optional(),
    resources: z
      .object({
        requests: quantityMap("Minimum CPU, memory and ephemeral storage per replica.", "requests").optional(),
        limits: quantityMap("Maximum CPU, memory and ephemeral storage per replica. GPU limits come from spec.gpu.", "limits").optional(),
      })
      .optional()
      .describe("CPU and memory for the engine container, as core/v1 ResourceRequirements.")
      .meta(
        cel(
          {
            // cpu and memory only: a rule over every key exceeds the API server's cost budget.
            rule: "!has(self.requests) || !has(self.limits) || ['cpu', 'memory'].all(k, !(k in self.requests) || !(k in self.limits) || !quantity(string(self.limits[k])).isLessThan(quantity(string(self.requests[k]))))",
            message: "resources.limits must not be below resources.requests",
            fieldPath: ".limits",
          },
          {
            // Kubernetes does not overcommit these: a request needs an equal limit (compared as
            // written, as a quantity comparison over every key exceeds the cost budget).
            rule: "!has(self.requests) || self.requests.all(k, !(k.startsWith('hugepages-') || k.contains('/')) || (has(self.limits) && k in self.limits && self.limits[k] == self.requests[k]))",
            message: "resources.requests of hugepages or an extended resource need the same value in resources.limits (Kubernetes does not overcommit them)",
            fieldPath: ".limits",
          },
          {
            rule: "!((has(self.requests) && self.requests.exists(k, k.startsWith('hugepages-'))) || (has(self.limits) && self.limits.exists(k, k.startsWith('hugepages-')))) || (has(self.requests) && ('cpu' in self.requests || 'memory' in self.requests)) || (has(self.limits) && ('cpu' in self.limits || 'memory' in self.limits))",
            message: "hugepages need a cpu or memory request or limit as well",
          },
        ),
      ),
    sharedMemory: quantity("Size of /dev/shm, a memory-backed emptyDir. Defaults to the operator's setting when gpu.count > 1.").optional(),
    replicas: z
      .number()
      .int()
      .min(0)
      .max(1000)
      .optional()
      .describe("Fixed number of replicas (default 1). Not allowed together with autoscaling; kubectl scale sets it."),
    autoscaling: autoscalingSchema.optional(),
    startup: z
      .object({
        timeoutSeconds: z
          .number()
          .int()
          .min(30)
          .max(86400)
          .describe(
            "Longest time a replica may take from start to ready (downloading and loading the weights). Drives the startup probe and the Deployment's progress deadline.",
          ),
      })
      .optional()
      .describe("The startup budget. Defaults to the operator's setting (1800 s)."),
    rollout: z
      .object({
        maxSurge: intOrPercent("Extra replicas during a rollout. Use 0 on a full GPU pool.").optional(),
        maxUnavailable: intOrPercent("Replicas that may be unavailable during a rollout.", {
          rule: "type(self) == int || self.matches('^0*([0-9]{1,2}|100)%$')",
          message: "rollout.maxUnavailable must not be more than 100%",
        }).optional(),
      })
      .optional()
      .describe("Rolling update strategy of the Deployment.")
      .meta(
        cel({
          rule: `!has(self.maxSurge) || !has(self.maxUnavailable) || !${isZero("self.maxSurge")} || !${isZero("self.maxUnavailable")}`,
          message: "rollout.maxSurge and rollout.maxUnavailable cannot both be 0",
        }),
      ),
    scheduling: schedulingSchema.optional(),
    service: z
      .object({
        type: z.enum(["ClusterIP", "NodePort", "LoadBalancer"]).optional().describe("Service type (default ClusterIP)."),
        port: z.number().int().min(1).max(65535).optional().describe("Service port (default 80)."),
      })
      .optional()
      .describe("The Service in front of the replicas."),
    podMetadata: z
      .object({
        labels: stringMap(
          "Extra labels on the pods (e.g. for a service mesh or cost allocation). The modelservice.dev/ labels are reserved.",
          16,
          validKeys("podMetadata.labels"),
          validLabelValues("podMetadata.labels"),
        ).optional(),
        annotations: stringMap(
          "Extra annotations on the pods (e.g. Prometheus scraping, sidecar injection).",
          16,
          validKeys("podMetadata.annotations"),
        ).optional(),
      })
      .optional()
      .describe("Labels and annotations added to every replica's pod.")
      .meta(
        cel(
          {
            rule: "!has(self.labels) || self.labels.all(k, !k.startsWith('modelservice.dev/'))",
            message: "podMetadata.labels must not use the reserved modelservice.dev/ prefix",
          },
          {
            // Kubernetes' own controllers set and select on these (statefulset.kubernetes.io/pod-name,
            // batch.kubernetes.io/job-name, ...); app.kubernetes.io/ is left to the class check.
            rule: "!has(self.labels) || self.labels.all(k, k.startsWith('app.kubernetes.io/') || !k.matches('^([^/]+[.])?(kubernetes[.]io|k8s[.]io)/'))",
            message: "podMetadata.labels must not use the kubernetes.io/ or k8s.io/ domains (reserved for Kubernetes' own components)",
          },
        ),
      ),
    cache: z
      .object({
        size: quantity("Size of the PersistentVolumeClaim that caches the weights.", {
          rule: "type(self) == int ? self > 0 : quantity(self).isGreaterThan(quantity('0'))",
          message: "cache.size must be greater than 0",
        }),
        storageClassName: z.string().max(253).optional().describe("StorageClass of the claim; empty uses the cluster default."),
        accessMode: z
          .enum(["ReadWriteOnce", "ReadWriteMany", "ReadWriteOncePod"])
          .optional()
          .describe("Access mode of the claim (default ReadWriteOnce; use ReadWriteMany to share it across replicas on several nodes)."),
        deleteOnRemoval: z.boolean().optional().describe("Delete the claim (and the cached weights) when spec.cache is removed. By default the claim is kept."),
      })
      // Transition rules (they see oldSelf, so they run only on an update of an existing cache): a
      // PersistentVolumeClaim's access mode and class are immutable and it can grow but not shrink,
      // so such a change would be admitted here and then refused on the claim.
      .meta(
        cel(
          {
            rule: "(has(self.accessMode) ? self.accessMode : 'ReadWriteOnce') == (has(oldSelf.accessMode) ? oldSelf.accessMode : 'ReadWriteOnce')",
            message: CACHE_REPLACE("cache.accessMode"),
            fieldPath: ".accessMode",
          },
          {
            rule: "(has(self.storageClassName) ? self.storageClassName : '') == (has(oldSelf.storageClassName) ? oldSelf.storageClassName : '')",
            message: CACHE_REPLACE("cache.storageClassName"),
            fieldPath: ".storageClassName",
          },
          {
            rule: "(type(self.size) == int ? quantity(string(self.size)) : quantity(self.size)).compareTo(type(oldSelf.size) == int ? quantity(string(oldSelf.size)) : quantity(oldSelf.size)) >= 0",
            message: "cache.size cannot shrink: a PersistentVolumeClaim only grows (and only where its StorageClass allows expansion)",
            fieldPath: ".size",
          },
        ),
      )
      .optional()
      .describe("A PersistentVolumeClaim for the weights, mounted where the engine looks for them. Required for s3:// and gs:// models."),
    access: accessSchema.optional(),
    expose: exposeSchema.optional(),
    tls: tlsSchema.optional(),
    multiNode: multiNodeSchema.optional(),
    parallelism: parallelismSchema.optional(),
    adapters: adaptersSchema.optional(),
  })
  .describe("Desired state of a ModelService.")
  .meta(
    cel(
      { rule: "!(has(self.replicas) && has(self.autoscaling))", message: "spec.replicas and spec.autoscaling are mutually exclusive: set one" },
      {
        // Without an explicit budget, render checks against the operator's default one.
        rule: "!has(self.autoscaling) || !has(self.autoscaling.cooldownSeconds) || !has(self.startup) || !has(self.startup.timeoutSeconds) || self.autoscaling.cooldownSeconds >= self.startup.timeoutSeconds",
        message: "autoscaling.cooldownSeconds must be at least startup.timeoutSeconds, so a replica that is still loading is never removed",
        fieldPath: ".autoscaling.cooldownSeconds",
      },
      {
        rule: "!has(self.model.uri) || !(self.model.uri.startsWith('s3://') || self.model.uri.startsWith('gs://')) || has(self.cache)",
        message: "spec.cache is required for s3:// and gs:// models: the weights are downloaded into it",
        fieldPath: ".cache",
      },
      {
        // The route's backend is the model's Service, which has no endpoint at zero replicas: the
        // gateway would answer 503 and nothing would count the request, so the model never wakes.
        rule: "!has(self.expose) || !has(self.autoscaling) || self.autoscaling.minReplicas > 0 || !has(self.autoscaling.wake) || self.autoscaling.wake.mode != 'Request'",
        message:
          "spec.expose with autoscaling.minReplicas 0 and wake.mode Request cannot wake the model: the gateway routes to its Service, which has no endpoint at zero, and never reaches the KEDA interceptor. Use wake.mode Metric with the gateway's queue metric, keep minReplicas at 1 or more, or route your gateway to the interceptor instead of spec.expose",
        fieldPath: ".expose",
      },
      {
        rule: "!has(self.model.uri) || !self.model.uri.startsWith('ollama://') || self.engine.type == 'Ollama'",
        message: "ollama:// models need engine.type Ollama",
        fieldPath: ".model.uri",
      },
      {
        rule: "!has(self.gpu) || !has(self.gpu.minMemoryMiB) || self.gpu.count > 0",
        message: "gpu.minMemoryMiB needs gpu.count > 0",
        fieldPath: ".gpu",
      },
      {
        rule: "!has(self.autoscaling) || !has(self.autoscaling.target) || !has(self.autoscaling.target.gpuUtilization) || (has(self.gpu) && self.gpu.count > 0)",
        message: "autoscaling.target.gpuUtilization needs gpu.count > 0",
        fieldPath: ".autoscaling.target",
      },
      {
        rule: "!has(self.autoscaling) || !has(self.autoscaling.target) || !has(self.autoscaling.target.cpuUtilization) || (has(self.resources) && has(self.resources.requests) && 'cpu' in self.resources.requests)",
        message: "autoscaling.target.cpuUtilization is a percentage of the CPU request: set resources.requests.cpu",
        fieldPath: ".autoscaling.target",
      },
      {
        rule: "!has(self.gpu) || !has(self.gpu.products) || self.gpu.count > 0",
        message: "gpu.products needs gpu.count > 0",
        fieldPath: ".gpu",
      },
      {
        // Only an explicit gpu.resourceName; the operator's default one is checked when rendering.
        rule: "!has(self.gpu) || !has(self.gpu.resourceName) || !has(self.resources) || !((has(self.resources.requests) && self.gpu.resourceName in self.resources.requests) || (has(self.resources.limits) && self.gpu.resourceName in self.resources.limits))",
        message: "GPUs are requested with spec.gpu.count, not spec.resources",
        fieldPath: ".resources",
      },
      {
        rule: `${NOT_RWOP} || (has(self.autoscaling) ? self.autoscaling.maxReplicas : (has(self.replicas) ? self.replicas : 1)) <= 1`,
        message: "ReadWriteOncePod lets one pod use the cache, so at most one replica can run: use ReadWriteMany",
        fieldPath: ".cache.accessMode",
      },
      {
        // The default rollout with such a cache is maxSurge 0, maxUnavailable 1 (src/render/workload.ts).
        rule: `${NOT_RWOP} || !has(self.rollout) || (has(self.rollout.maxUnavailable) ? !${isZero("self.rollout.maxUnavailable")} : (!has(self.rollout.maxSurge) || ${isZero("self.rollout.maxSurge")}))`,
        message: "with a ReadWriteOncePod cache the old replica must stop before the new one starts: set rollout.maxUnavailable to at least 1",
        fieldPath: ".rollout",
      },
      ...SECURITY_RULES,
      ...MULTINODE_RULES,
    ),
  );

/** Whether a rollout.maxSurge / maxUnavailable value is zero, as Kubernetes reads it: 0, "0%", "00%", ... */
export const isZeroRolloutValue = (v: unknown): boolean => v === 0 || (typeof v === "string" && /^0+%?$/.test(v));

export const PHASES = ["Pending", "Scheduling", "Loading", "Ready", "Degraded", "Failed", "Idle"] as const;
export type Phase = (typeof PHASES)[number];

export const conditionSchema = z
  .object({
    type: z
      .string()
      .max(64)
      .describe(
        "Ready, Reconciling, Stalled, or (with spec.expose) Exposed: whether a gateway accepted the route (reasons Exposed, GatewayNotFound, RoutePending, RouteNotAccepted, RouteRefsNotResolved); it never changes Ready.",
      ),
    status: z.enum(["True", "False", "Unknown"]).describe("True, False or Unknown."),
    reason: z.string().max(64).describe("One word, CamelCase, saying why."),
    message: z.string().max(1024).describe("What is going on, for people."),
    observedGeneration: z.number().int().min(0).optional().describe("The metadata.generation this condition was computed for."),
    lastTransitionTime: z.string().max(64).describe("When status last changed (RFC 3339)."),
  })
  .describe("A kstatus-compatible condition.");

export const failureSchema = z
  .object({
    reason: z.string().max(64).describe("Why it failed, e.g. OOMKilled, CrashLoop, ImagePullFailed."),
    message: z.string().max(1024).optional().describe("Details."),
    pod: z.string().max(253).optional().describe("The pod it happened in."),
    container: z.string().max(253).optional().describe("The container it happened in."),
    exitCode: z.number().int().optional().describe("The container's exit code, when it terminated."),
    time: z.string().max(64).optional().describe("When it happened (RFC 3339)."),
  })
  .describe("The newest failure seen on any replica.");

export const modelServiceStatusSchema = z
  .object({
    observedGeneration: z.number().int().min(0).optional().describe("The metadata.generation this status describes."),
    phase: z.enum(PHASES).optional().describe("Pending, Scheduling, Loading, Ready, Degraded, Failed or Idle (parked with replicas: 0)."),
    replicas: z.number().int().min(0).optional().describe("Replicas that exist (scale subresource)."),
    readyReplicas: z.number().int().min(0).optional().describe("Replicas serving requests."),
    updatedReplicas: z.number().int().min(0).optional().describe("Replicas running the current spec."),
    replicaSummary: z.string().max(32).optional().describe("ready/desired replicas, for display."),
    selector: z.string().max(1024).optional().describe("Label selector of the pods (scale subresource)."),
    url: z
      .string()
      .max(1024)
      .optional()
      .describe(
        "URL of the OpenAI-compatible (or engine) endpoint: the external one (from the Gateway's listener, the route's first hostname or the Gateway's address, and spec.expose.path) once a gateway accepted the route (condition Exposed True), otherwise the in-cluster one.",
      ),
    internalURL: z.string().max(1024).optional().describe("In-cluster URL of the endpoint (the Service), always set."),
    replicaPhases: z
      .object({
        scheduling: z.number().int().min(0).describe("Replicas waiting for a node."),
        loading: z.number().int().min(0).describe("Replicas started and loading the model."),
        ready: z.number().int().min(0).describe("Replicas serving."),
        failing: z.number().int().min(0).describe("Replicas failing (crash loop, image pull, OOM, startup timeout)."),
      })
      .optional()
      .describe("How many replicas are in each phase."),
    conditions: z
      .array(conditionSchema)
      .max(8)
      .optional()
      .describe("Ready, Reconciling and Stalled, following kstatus.")
      .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] }),
    lastFailure: failureSchema.optional(),
    adapters: z
      .array(z.string().max(64))
      .max(16)
      .optional()
      .describe("Names of the LoRA adapters the ready replicas serve (spec.adapters, once a replica of the current spec is ready)."),
  })
  .describe("Observed state of a ModelService.");

export const objectMetaSchema = z.looseObject({
  name: z.string().optional(),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  generation: z.number().optional(),
  resourceVersion: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

/** A whole ModelService as read from a file or the API server. */
export const modelServiceSchema = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal(KIND),
  metadata: objectMetaSchema,
  spec: modelServiceSpecSchema,
  status: modelServiceStatusSchema.optional(),
});

/** CEL on the root of the CRD schema: metadata.name must make valid child names. */
export const ROOT_RULES: CelRule[] = [
  {
    rule: `has(self.metadata.name) && self.metadata.name.size() <= ${MAX_NAME_LENGTH} && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')`,
    fieldPath: ".metadata.name",
    message:
      "metadata.name must be a DNS-1035 label (lower-case letters, digits and '-', starting with a letter, at most 63 characters) so every child object name is valid",
  },
];

export const PRINTER_COLUMNS = [
  { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: "Whether the model is serving." },
  { name: "Phase", type: "string", jsonPath: ".status.phase", description: "Lifecycle phase." },
  { name: "Replicas", type: "string", jsonPath: ".status.replicaSummary", description: "Ready/desired replicas." },
  { name: "Model", type: "string", jsonPath: ".spec.model.uri", description: "Where the weights come from." },
  { name: "Engine", type: "string", jsonPath: ".spec.engine.type", description: "Inference engine." },
  { name: "GPUs", type: "integer", jsonPath: ".spec.gpu.count", description: "GPUs per replica." },
  { name: "Reason", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].reason', description: "Why it is (not) ready." },
  {
    name: "URL",
    type: "string",
    jsonPath: ".status.url",
    priority: 1,
    description: "Where to call it: the external URL once exposed through a Gateway, else the in-cluster one.",
  },
  {
    name: "Message",
    type: "string",
    jsonPath: '.status.conditions[?(@.type=="Ready")].message',
    priority: 1,
    description: "What the reason means here: counts, elapsed time against the startup budget, what to do.",
  },
  { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
];
