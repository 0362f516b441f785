import { checkCheckpointEngine, type EngineDef, opt, secretEnv, sslFileArgs } from "./types.ts";

// SGLang binds 127.0.0.1 by default and serves metrics only with --enable-metrics.
export const sglang: EngineDef = {
  type: "SGLang",
  defaultPort: 30000,
  healthPath: "/health",
  metricsPath: "/metrics",
  inFlightQuery: (sel) => `(sum(sglang:num_running_reqs{${sel}}) + sum(sglang:num_queue_reqs{${sel}})) or vector(0)`,
  command: () => ["python3", "-m", "sglang.launch_server"],
  args: (ctx) => [
    ...opt("--model-path", ctx.modelRef),
    ...opt("--revision", ctx.revision),
    "--served-model-name",
    ctx.servedName,
    "--host",
    "0.0.0.0",
    "--port",
    String(ctx.port),
    "--enable-metrics",
    // --tp-size is the full name of the option the docs abbreviate as --tp.
    ...(ctx.gpuCount > 1 ? ["--tp-size", String(ctx.gpuCount)] : []),
    ...ctx.userArgs,
  ],
  env: () => [],
  // SGLang takes the key only as --api-key; $(SGLANG_API_KEY) is expanded by the kubelet, so the pod spec
  // holds a reference only. Its middleware exempts /health and /metrics (sglang/srt/utils add_api_key_middleware).
  apiKey: (ref) => ({ env: [secretEnv("SGLANG_API_KEY", ref)], args: ["--api-key", "$(SGLANG_API_KEY)"] }),
  // ServerArgs.ssl_keyfile / ssl_certfile, passed to uvicorn (sglang/srt/entrypoints/http_server.py); recent releases.
  tls: { args: sslFileArgs },
  check: (ctx) => checkCheckpointEngine(ctx, "SGLang", "--model-path"),
};
