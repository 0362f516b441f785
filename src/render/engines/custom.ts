import type { V1EnvVar } from "@kubernetes/client-node";
import { type EngineDef, secretEnv } from "./types.ts";

// Custom images get the model as environment variables (and their own args verbatim); with no
// known health endpoint the probes are TCP checks on the port.
export const custom: EngineDef = {
  type: "Custom",
  defaultPort: 8000,
  healthPath: undefined,
  metricsPath: undefined,
  args: (ctx) => [...ctx.userArgs],
  env: (ctx) => {
    const env: V1EnvVar[] = [];
    if (ctx.modelRef !== undefined) env.push({ name: ctx.source.kind === "hf" ? "MODEL_ID" : "MODEL_PATH", value: ctx.modelRef });
    if (ctx.revision !== undefined) env.push({ name: "MODEL_REVISION", value: ctx.revision });
    env.push({ name: "SERVED_MODEL_NAME", value: ctx.servedName }, { name: "PORT", value: String(ctx.port) });
    return env;
  },
  // The image reads its key from the variable the user names (spec.access.apiKeyEnv, required by CEL).
  apiKey: (ref, envName) => ({ env: envName ? [secretEnv(envName, ref)] : [], args: [] }),
  // The certificate is mounted; the user passes the image's own TLS flags in spec.engine.args.
  tls: { args: () => [] },
  check: () => [],
};
