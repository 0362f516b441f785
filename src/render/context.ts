import type { ModelService, ModelServiceSpec } from "../api/types.ts";
import type { OperatorConfig } from "../config/operator-config.ts";
import type { AutoscalerKind } from "./autoscaling.ts";
import type { EngineContext, EngineDef } from "./engines/index.ts";
import type { SourceParts } from "./model-source.ts";
import type { ChildNames } from "./names.ts";

/** Everything the child builders need, with every default already resolved. */
export type RenderContext = {
  ms: ModelService;
  spec: ModelServiceSpec;
  config: OperatorConfig;
  name: string;
  namespace: string | undefined;
  names: ChildNames;
  engine: EngineDef;
  engineCtx: EngineContext;
  parts: SourceParts;
  image: string;
  gpuCount: number;
  gpuResource: string;
  startupBudgetSeconds: number;
  autoscaler: AutoscalerKind;
};
