import type { EngineType } from "../../api/schema.ts";
import { custom } from "./custom.ts";
import { ollama } from "./ollama.ts";
import { sglang } from "./sglang.ts";
import { tgi } from "./tgi.ts";
import { triton } from "./triton.ts";
import type { EngineDef } from "./types.ts";
import { vllm } from "./vllm.ts";

export type { EngineContext, EngineDef } from "./types.ts";

export const ENGINES: Record<EngineType, EngineDef> = { vLLM: vllm, SGLang: sglang, TGI: tgi, Ollama: ollama, Triton: triton, Custom: custom };
