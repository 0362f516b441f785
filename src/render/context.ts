import type { ModelService, ModelServiceSpec } from "../api/types.ts";
import type { OperatorConfig } from "../config/operator-config.ts";
import type { ResolvedModelService } from "../model/resolved.ts";
import type { AdapterParts } from "./adapters.ts";
import type { EngineContext, EngineDef } from "./engines/index.ts";
import type { SourceParts } from "./model-source.ts";
import type { ChildNames } from "./names.ts";

/** Everything the child builders need: the resolved view (shared with status) and what only render uses. */
export type RenderContext = ResolvedModelService & {
  ms: ModelService;
  spec: ModelServiceSpec;
  config: OperatorConfig;
  names: ChildNames;
  engine: EngineDef;
  engineCtx: EngineContext;
  parts: SourceParts;
  adapterParts: AdapterParts;
  image: string;
};
