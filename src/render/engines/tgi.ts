import { checkCheckpointEngine, type EngineDef, opt, secretEnv } from "./types.ts";

// The TGI image's entrypoint is text-generation-launcher. Its options also read same-named env
// vars, and Kubernetes sets HOSTNAME to the pod name, so the listen address is passed explicitly.
// TGI's OpenAI API accepts any model name, so servedName needs no flag.
export const tgi: EngineDef = {
  type: "TGI",
  defaultPort: 8080,
  healthPath: "/health",
  metricsPath: "/metrics",
  inFlightQuery: (sel) => `(sum(tgi_batch_current_size{${sel}}) + sum(tgi_queue_size{${sel}})) or vector(0)`,
  args: (ctx) => [
    ...opt("--model-id", ctx.modelRef),
    ...opt("--revision", ctx.revision),
    "--hostname",
    "0.0.0.0",
    "--port",
    String(ctx.port),
    ...(ctx.tensor > 1 ? ["--num-shard", String(ctx.tensor)] : []),
    ...ctx.userArgs,
  ],
  // LORA_ADAPTERS (the launcher's --lora-adapters, `#[clap(long, env)]`): comma-separated name=/path items
  // (launcher/src/main.rs; docs/source/conceptual/lora.md).
  env: (ctx) => (ctx.adapters.length > 0 ? [{ name: "LORA_ADAPTERS", value: ctx.adapters.map((a) => `${a.name}=${a.path}`).join(",") }] : []),
  // The image sets HUGGINGFACE_HUB_CACHE=/data (its documented volume).
  writableDirs: ["/data"],
  // The launcher's --api-key is `#[clap(long, env)]`, so it reads API_KEY (launcher/src/main.rs); the router
  // checks it on the generate and /v1 routes only, /health and /metrics stay open (router/src/server.rs).
  // TGI has no TLS option: no `tls`.
  apiKey: (ref) => ({ env: [secretEnv("API_KEY", ref)], args: [] }),
  check: (ctx) => checkCheckpointEngine(ctx, "TGI", "--model-id"),
};
