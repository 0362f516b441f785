import { checkCheckpointEngine, type EngineDef, opt } from "./types.ts";

// vllm/vllm-openai's entrypoint is `vllm serve`; flags only.
export const vllm: EngineDef = {
  type: "vLLM",
  defaultPort: 8000,
  healthPath: "/health",
  metricsPath: "/metrics",
  inFlightQuery: (sel) => `(sum(vllm:num_requests_running{${sel}}) + sum(vllm:num_requests_waiting{${sel}})) or vector(0)`,
  args: (ctx) => [
    ...opt("--model", ctx.modelRef),
    ...opt("--revision", ctx.revision),
    "--served-model-name",
    ctx.servedName,
    "--port",
    String(ctx.port),
    ...(ctx.gpuCount > 1 ? ["--tensor-parallel-size", String(ctx.gpuCount)] : []),
    ...ctx.userArgs,
  ],
  env: () => [],
  check: (ctx) => checkCheckpointEngine(ctx, "vLLM", "--model"),
};
