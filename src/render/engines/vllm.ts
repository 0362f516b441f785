import { checkCheckpointEngine, type EngineDef, opt, secretEnv, sslFileArgs } from "./types.ts";

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
  // VLLM_API_KEY is read when --api-key is absent (vllm/entrypoints/openai/api_server.py build_app); it guards
  // the API routes only: /health and /metrics stay open (AuthenticationMiddleware), so the probes work.
  apiKey: (ref) => ({ env: [secretEnv("VLLM_API_KEY", ref)], args: [] }),
  // --ssl-keyfile / --ssl-certfile are vLLM's frontend args, passed to uvicorn (vllm/entrypoints/openai/cli_args.py).
  tls: { args: sslFileArgs },
  check: (ctx) => checkCheckpointEngine(ctx, "vLLM", "--model"),
};
