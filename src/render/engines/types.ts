import type { V1EnvVar, V1SecretKeySelector } from "@kubernetes/client-node";
import type { EngineType } from "../../api/schema.ts";
import type { Problem } from "../errors.ts";
import type { ModelSource } from "../model-source.ts";

/** What an engine needs to build its command line. All defaults are already applied. */
export type EngineContext = {
  source: ModelSource;
  /** Hugging Face repo id, local path of the weights, or Ollama model name; undefined when they are in the image. */
  modelRef: string | undefined;
  /** Hugging Face revision (hf://ORG/NAME@REV). */
  revision: string | undefined;
  servedName: string;
  port: number;
  /** GPUs per pod. */
  gpuCount: number;
  /** Pods per replica (multiNode.nodes; 1 without it). */
  nodes: number;
  /** Tensor- and pipeline-parallel sizes: spec.parallelism, or the engine's split of gpuCount × nodes. */
  tensor: number;
  pipeline: number;
  /** LoRA adapters as the engine finds them: a local directory each. */
  adapters: readonly { name: string; path: string }[];
  /** Directory of the model store shared with the model-download init container (Ollama), if any. */
  storeDir: string | undefined;
  /** spec.engine.args, appended after the generated ones. */
  userArgs: readonly string[];
};

export type EngineDef = {
  type: EngineType;
  defaultPort: number;
  /** Readiness and startup probe path; undefined means a TCP probe (Custom). */
  healthPath: string | undefined;
  /** Liveness probe path when it differs from healthPath. */
  livenessPath?: string;
  /** Where Prometheus metrics are served (path on metricsPort, or on the engine port). */
  metricsPath: string | undefined;
  metricsPort?: number;
  /**
   * PromQL for the requests in flight (running + queued) summed over the pods matched by `selector`
   * (a label matcher list without braces). Undefined when the engine exports no such metric.
   */
  inFlightQuery?: (selector: string) => string;
  /** Overrides the image's entrypoint; undefined keeps it. */
  command?: (ctx: EngineContext) => string[] | undefined;
  /** Generated arguments followed by spec.engine.args. */
  args: (ctx: EngineContext) => string[];
  env: (ctx: EngineContext) => V1EnvVar[];
  /**
   * How the engine takes its API key, given as a Secret reference (never a value): env from the
   * secretKeyRef, plus args that may name it as $(VAR) (Kubernetes expands it; the pod spec never
   * holds the key). `envName` is spec.access.apiKeyEnv (Custom). Absent: the engine has no API key.
   */
  apiKey?: (ref: V1SecretKeySelector, envName: string | undefined) => { env: V1EnvVar[]; args: string[] };
  /** How the engine serves HTTPS from tls.crt and tls.key in `certDir`. Absent: it cannot. */
  tls?: { args: (certDir: string) => string[] };
  /** Directories the image writes to besides /tmp and $HOME: emptyDirs under a read-only root filesystem. */
  writableDirs?: readonly string[];
  /**
   * How the pods of a multi-node replica (a LeaderWorkerSet group) start; absent: the engine runs a
   * replica in one pod only (admission refuses multiNode for it). `split` is the default
   * parallelism of gpus per pod × nodes. The leader serves the API; a worker that `serves` answers
   * the health path too (so it gets the same probes), otherwise it has none.
   */
  multiNode?: {
    split: (gpusPerPod: number, nodes: number) => { tensor: number; pipeline: number };
    leader: (ctx: EngineContext, args: string[]) => { command?: string[]; args: string[] };
    worker: (ctx: EngineContext, args: string[]) => { command?: string[]; args: string[]; serves: boolean };
  };
  /** Combinations the CRD accepts but this engine cannot serve. */
  check: (ctx: EngineContext) => Problem[];
};

/** `flag value` pairs for an optional value. */
export const opt = (flag: string, value: string | number | undefined): string[] => (value === undefined ? [] : [flag, String(value)]);

/** True when the user passes `flag` themselves (as `--flag value` or `--flag=value`). */
export const hasFlag = (args: readonly string[], ...flags: string[]): boolean => args.some((a) => flags.some((f) => a === f || a.startsWith(`${f}=`)));

/** Engines that load Hugging Face-style checkpoints: a repo id or a local directory. */
export function checkCheckpointEngine(ctx: EngineContext, engine: string, modelFlag: string): Problem[] {
  if (ctx.source.kind === "image" && !hasFlag(ctx.userArgs, modelFlag)) {
    return [
      {
        path: "spec.model.uri",
        message: `${engine} needs a model: set spec.model.uri, or pass ${modelFlag} in spec.engine.args when the weights are in the image`,
      },
    ];
  }
  return [];
}

/** The env var `name` read from the Secret key `ref`. */
export const secretEnv = (name: string, ref: V1SecretKeySelector): V1EnvVar => ({ name, valueFrom: { secretKeyRef: { name: ref.name, key: ref.key } } });

/** uvicorn-style flags (vLLM, SGLang) for the mounted certificate. */
export const sslFileArgs = (certDir: string): string[] => ["--ssl-keyfile", `${certDir}/tls.key`, "--ssl-certfile", `${certDir}/tls.crt`];
