import type { EngineDef } from "./types.ts";

// The model is pulled by the model-download init container into a store shared with this
// container (see model-source.ts), so the server starts with the model present and the pull shows
// up as loading, not as a running-but-useless replica. Ollama has no API key and no TLS option, so
// there is no `apiKey` or `tls`: the CRD rejects both for Ollama.
export const ollama: EngineDef = {
  type: "Ollama",
  defaultPort: 11434,
  healthPath: "/",
  metricsPath: undefined,
  // The image's entrypoint is /bin/ollama; `serve` is its default command, replaced by args.
  args: (ctx) => ["serve", ...ctx.userArgs],
  env: (ctx) => [
    { name: "OLLAMA_HOST", value: `0.0.0.0:${ctx.port}` },
    ...(ctx.storeDir ? [{ name: "OLLAMA_MODELS", value: ctx.storeDir }] : []),
    // A dedicated server keeps its model loaded instead of unloading it after 5 idle minutes.
    { name: "OLLAMA_KEEP_ALIVE", value: "-1" },
  ],
  check: (ctx) => {
    const kind = ctx.source.kind;
    if (kind === "s3" || kind === "gs" || kind === "pvc") {
      return [{ path: "spec.model.uri", message: `Ollama pulls models from a registry and cannot load ${kind}:// models: use ollama://NAME[:TAG]` }];
    }
    if (ctx.source.kind === "hf" && ctx.source.revision !== undefined) {
      return [{ path: "spec.model.uri", message: "Ollama pulls hf:// GGUF repositories by tag, not revision: remove @REVISION" }];
    }
    return [];
  },
};
