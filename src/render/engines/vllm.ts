import { checkCheckpointEngine, type EngineDef, opt, secretEnv, sslFileArgs } from "./types.ts";

/**
 * The Ray helper shipped in the vllm/vllm-openai image (examples/online_serving/multi-node-serving.sh):
 * `leader` starts the Ray head and returns once the cluster has that many nodes; `worker` joins the
 * head and blocks. It is what vLLM's multi-node guide and LeaderWorkerSet's vLLM example use.
 */
const RAY_HELPER = "/vllm-workspace/examples/online_serving/multi-node-serving.sh";

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
    ...(ctx.tensor > 1 ? ["--tensor-parallel-size", String(ctx.tensor)] : []),
    ...(ctx.pipeline > 1 ? ["--pipeline-parallel-size", String(ctx.pipeline)] : []),
    // Across pods vLLM runs its workers as Ray actors; within one pod its own processes.
    ...(ctx.nodes > 1 ? ["--distributed-executor-backend", "ray"] : []),
    // --lora-modules name=path (vllm/entrypoints/openai/cli_args.py); --max-loras is how many may be in
    // one batch (EngineArgs, default 1): all of them, so no request waits for another adapter's turn.
    ...(ctx.adapters.length > 0
      ? ["--enable-lora", "--max-loras", String(ctx.adapters.length), "--lora-modules", ...ctx.adapters.map((a) => `${a.name}=${a.path}`)]
      : []),
    ...ctx.userArgs,
  ],
  env: () => [],
  // VLLM_API_KEY is read when --api-key is absent (vllm/entrypoints/openai/api_server.py build_app); it guards
  // the API routes only: /health and /metrics stay open (AuthenticationMiddleware), so the probes work.
  apiKey: (ref) => ({ env: [secretEnv("VLLM_API_KEY", ref)], args: [] }),
  // --ssl-keyfile / --ssl-certfile are vLLM's frontend args, passed to uvicorn (vllm/entrypoints/openai/cli_args.py).
  tls: { args: sslFileArgs },
  multiNode: {
    // Tensor parallel within a node (NVLink), pipeline parallel across nodes: the split vLLM's guide advises.
    split: (gpus, nodes) => ({ tensor: gpus, pipeline: nodes }),
    // $LWS_GROUP_SIZE and $LWS_LEADER_ADDRESS are set in every pod of the group by the LeaderWorkerSet
    // controller; the flags reach `vllm serve` as "$@", never through the script text.
    leader: (_ctx, args) => ({
      command: ["/bin/sh", "-c", `bash ${RAY_HELPER} leader --ray_cluster_size="$LWS_GROUP_SIZE" && exec vllm serve "$@"`, "vllm"],
      args,
    }),
    worker: () => ({ command: ["/bin/sh", "-c", `exec bash ${RAY_HELPER} worker --ray_address="$LWS_LEADER_ADDRESS"`], args: [], serves: false }),
  },
  check: (ctx) => checkCheckpointEngine(ctx, "vLLM", "--model"),
};
