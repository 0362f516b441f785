import type { V1EnvVar } from "@kubernetes/client-node";
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
  gpuCount: number;
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
