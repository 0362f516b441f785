import { type EngineDef, hasFlag } from "./types.ts";

const METRICS_PORT = 8002;

// Triton serves a model repository (a directory of models with config.pbtxt); model names come
// from the repository, so servedName does not apply. Its HTTP endpoint has neither an API key nor TLS
// (only gRPC has SSL options), so there is no `apiKey` or `tls`: the CRD rejects both for Triton.
export const triton: EngineDef = {
  type: "Triton",
  defaultPort: 8000,
  healthPath: "/v2/health/ready",
  livenessPath: "/v2/health/live",
  metricsPath: "/metrics",
  metricsPort: METRICS_PORT,
  inFlightQuery: (sel) => `sum(nv_inference_pending_request_count{${sel}}) or vector(0)`,
  command: () => ["tritonserver"],
  args: (ctx) => [
    ...(ctx.modelRef === undefined ? [] : [`--model-repository=${ctx.modelRef}`]),
    `--http-port=${ctx.port}`,
    `--metrics-port=${METRICS_PORT}`,
    ...ctx.userArgs,
  ],
  env: () => [],
  check: (ctx) => {
    if (ctx.source.kind === "hf") {
      return [{ path: "spec.model.uri", message: "Triton cannot load hf:// models: point it at a model repository with pvc://, s3:// or gs://" }];
    }
    if (ctx.source.kind === "image" && !hasFlag(ctx.userArgs, "--model-repository", "--model-store")) {
      return [{ path: "spec.model.uri", message: "Triton needs a model repository: set spec.model.uri, or pass --model-repository in spec.engine.args" }];
    }
    return [];
  },
};
