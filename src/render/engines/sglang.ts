import { checkCheckpointEngine, type EngineDef, opt, secretEnv, sslFileArgs } from "./types.ts";

/** Port of torch.distributed's rendezvous on the leader (--dist-init-addr). */
const DIST_INIT_PORT = 20000;
const RENDEZVOUS = ["--dist-init-addr", `$(LWS_LEADER_ADDRESS):${DIST_INIT_PORT}`, "--nnodes", "$(LWS_GROUP_SIZE)", "--node-rank", "$(LWS_WORKER_INDEX)"];

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
    // --tp-size / --pp-size are the full names of the options the docs abbreviate as --tp / --pp.
    ...(ctx.tensor > 1 ? ["--tp-size", String(ctx.tensor)] : []),
    ...(ctx.pipeline > 1 ? ["--pp-size", String(ctx.pipeline)] : []),
    // ServerArgs.lora_paths takes name=path items (nargs *); --max-loras-per-batch defaults to 8.
    ...(ctx.adapters.length > 0 ? ["--enable-lora", "--lora-paths", ...ctx.adapters.map((a) => `${a.name}=${a.path}`)] : []),
    ...ctx.userArgs,
  ],
  env: () => [],
  // SGLang takes the key only as --api-key; $(SGLANG_API_KEY) is expanded by the kubelet, so the pod spec
  // holds a reference only. Its middleware exempts /health and /metrics (sglang/srt/utils add_api_key_middleware).
  apiKey: (ref) => ({ env: [secretEnv("SGLANG_API_KEY", ref)], args: ["--api-key", "$(SGLANG_API_KEY)"] }),
  // ServerArgs.ssl_keyfile / ssl_certfile, passed to uvicorn (sglang/srt/entrypoints/http_server.py); recent releases.
  tls: { args: sslFileArgs },
  multiNode: {
    // One tensor-parallel group over every GPU of the replica, as in SGLang's multi-node examples.
    split: (gpus, nodes) => ({ tensor: gpus * nodes, pipeline: 1 }),
    // Every pod runs the same server with its rank (LeaderWorkerSet's SGLang example); the kubelet expands
    // $(LWS_*), which the LeaderWorkerSet controller sets in each pod. Ranks ≥ 1 serve no API, only
    // a health check on the same port, so the workers keep the probes and the Service selects the leader.
    leader: (_ctx, args) => ({ args: [...args, ...RENDEZVOUS] }),
    worker: (_ctx, args) => ({ args: [...args, ...RENDEZVOUS], serves: true }),
  },
  check: (ctx) => checkCheckpointEngine(ctx, "SGLang", "--model-path"),
};
