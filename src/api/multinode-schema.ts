// spec.multiNode, spec.parallelism and spec.adapters: replicas that span several pods (one
// LeaderWorkerSet group each), how the model is split over their GPUs, and LoRA adapters served
// next to the base model. Shapes are zod; rules across fields are CEL only (MULTINODE_RULES, on
// the spec), so admission refuses what an engine cannot do.
//
// Self-contained on purpose: schema.ts imports this module, so importing schema.ts here would be a cycle.
import { z } from "zod";

type CelRule = { rule: string; message: string; fieldPath?: string; reason?: string };
const cel = (...rules: CelRule[]) => ({ "x-kubernetes-validations": rules });

/** A label key: an optional DNS subdomain prefix and '/', then a name of at most 63 characters. */
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
// hf://ORG/NAME[@REV] | s3://BUCKET[/PATH] | gs://BUCKET[/PATH] | pvc://CLAIM[/PATH]: the model's schemes but ollama://.
export const ADAPTER_URI =
  /^(hf:\/\/[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*(@[A-Za-z0-9._/-]+)?|s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^\s]*)?|gs:\/\/[a-z0-9][a-z0-9._-]{1,61}[a-z0-9](\/[^\s]*)?|pvc:\/\/[a-z0-9]([-a-z0-9]*[a-z0-9])?(\/[^\s]*)?)$/;

/** Engines that run one model over several pods (a LeaderWorkerSet group). */
export const MULTI_NODE_ENGINES = ["vLLM", "SGLang"] as const;
/** Engines that serve LoRA adapters given at start. */
export const LORA_ENGINES = ["vLLM", "SGLang", "TGI"] as const;
/** Most adapters per ModelService: each is downloaded and loaded at start. */
export const MAX_ADAPTERS = 16;
/** Most pods per replica. */
export const MAX_NODES = 16;

const celList = (xs: readonly string[]) => `[${xs.map((x) => `'${x}'`).join(", ")}]`;

export const multiNodeSchema = z
  .object({
    nodes: z
      .number()
      .int()
      .min(2)
      .max(MAX_NODES)
      .describe(
        "Pods per replica, each on its own node with gpu.count GPUs. A replica is then one LeaderWorkerSet group: the leader serves the API, the workers join it; if any pod of the group fails, the whole group restarts. Needs the LeaderWorkerSet controller (sigs.k8s.io/lws).",
      ),
    topologyKey: z
      .string()
      .min(1)
      .max(317)
      .regex(LABEL_KEY, "must be a node label key")
      .optional()
      .describe(
        "A node label all pods of one replica must share (e.g. a rack or NVLink domain label), so the replica's traffic between nodes stays within it. The GPU product label is always shared.",
      ),
  })
  .describe("Run each replica over several nodes (vLLM and SGLang only).");

export const parallelismSchema = z
  .object({
    tensor: z.number().int().min(1).max(1024).describe("Tensor-parallel size: GPUs each layer is split over."),
    pipeline: z.number().int().min(1).max(64).optional().describe("Pipeline-parallel size: stages the layers are split into (default 1)."),
  })
  .describe(
    "How one replica's GPUs (gpu.count × multiNode.nodes) split the model; tensor × pipeline must equal them. Default: vLLM tensor = gpu.count and pipeline = nodes (tensor parallel within a node, pipeline across nodes); SGLang tensor = all the GPUs of the replica. vLLM and SGLang only.",
  );

export const adapterSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "must start with a letter or digit and contain only letters, digits and . _ -")
      .describe("The model name clients ask for to use this adapter."),
    uri: z
      .string()
      .max(1024)
      .regex(ADAPTER_URI, "must be hf://ORG/NAME[@REVISION], s3://BUCKET/PATH, gs://BUCKET/PATH or pvc://CLAIM/PATH")
      .meta(cel({ rule: "!self.matches('[/@]\\\\.\\\\.(/|:|$)')", message: "adapters[].uri must not contain '..' path segments" }))
      .describe(
        "Where the adapter's weights come from: hf://ORG/NAME[@REVISION] (with model.credentialsSecret's token), s3:// or gs:// (into spec.cache) are downloaded by an init container before the engine starts; pvc://CLAIM/PATH is mounted read-only.",
      ),
  })
  .describe("A LoRA adapter served under its own model name.");

export const adaptersSchema = z
  .array(adapterSchema)
  .max(MAX_ADAPTERS)
  // The API server enforces this through the list-map key; offline it is checked here, worded alike.
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((a, i) => {
      if (seen.has(a.name)) ctx.addIssue({ code: "custom", path: [i], message: `Duplicate value: adapter name ${a.name} is used twice` });
      seen.add(a.name);
    });
  })
  .describe(
    "LoRA adapters served next to the base model (vLLM, SGLang, TGI). They are loaded at start: changing the list rolls the pods, like any other spec change.",
  )
  .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"] });

const ENGINE = "self.engine.type";
const GPUS = "(has(self.gpu) ? self.gpu.count : 0)";
const NODES = "(has(self.multiNode) ? self.multiNode.nodes : 1)";

export const MULTINODE_RULES: CelRule[] = [
  {
    rule: `!has(self.multiNode) || ${ENGINE} in ${celList(MULTI_NODE_ENGINES)}`,
    message: "multiNode needs engine.type vLLM or SGLang: the other engines cannot run one model over several pods",
    fieldPath: ".multiNode",
  },
  {
    rule: `!has(self.multiNode) || ${GPUS} > 0`,
    message: "multiNode needs gpu.count > 0 (the GPUs of each pod)",
    fieldPath: ".multiNode",
  },
  {
    rule: "!has(self.multiNode) || !has(self.autoscaling)",
    message: "multiNode replicas are not autoscaled yet: set spec.replicas (kubectl scale works)",
    fieldPath: ".autoscaling",
  },
  {
    // The pods of a replica run on different nodes and all mount the cache.
    rule: "!has(self.multiNode) || !has(self.cache) || (has(self.cache.accessMode) && self.cache.accessMode == 'ReadWriteMany')",
    message: "with multiNode the pods of a replica run on different nodes and share the cache: set cache.accessMode to ReadWriteMany",
    fieldPath: ".cache.accessMode",
  },
  {
    rule: `!has(self.parallelism) || ${ENGINE} in ${celList(MULTI_NODE_ENGINES)}`,
    message: "parallelism needs engine.type vLLM or SGLang; other engines split the model over gpu.count themselves",
    fieldPath: ".parallelism",
  },
  {
    rule: `!has(self.parallelism) || self.parallelism.tensor * (has(self.parallelism.pipeline) ? self.parallelism.pipeline : 1) == ${GPUS} * ${NODES}`,
    message: "parallelism.tensor × parallelism.pipeline must equal the GPUs of one replica (gpu.count × multiNode.nodes)",
    fieldPath: ".parallelism",
  },
  {
    rule: `!has(self.adapters) || size(self.adapters) == 0 || ${ENGINE} in ${celList(LORA_ENGINES)}`,
    message: "adapters need engine.type vLLM, SGLang or TGI: the other engines do not load LoRA adapters at start",
    fieldPath: ".adapters",
  },
  {
    rule: "!has(self.adapters) || !self.adapters.exists(a, a.uri.startsWith('s3://') || a.uri.startsWith('gs://')) || has(self.cache)",
    message: "spec.cache is required for s3:// and gs:// adapters: they are downloaded into it",
    fieldPath: ".cache",
  },
  {
    rule: "!has(self.adapters) || !has(self.model.servedName) || self.adapters.all(a, a.name != self.model.servedName)",
    message: "adapters[].name must differ from model.servedName: clients choose the adapter by its name",
    fieldPath: ".adapters",
  },
];
