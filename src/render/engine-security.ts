// What spec.access.apiKeySecret and spec.tls add to the engine pod: the key as env from a
// secretKeyRef (and args naming it as $(VAR)), the certificate Secret mounted read-only, the
// engine's TLS flags, and HTTPS probes. The operator only references Secrets, never reads them.
import type { V1EnvVar, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import type { ModelServiceSpec } from "../api/types.ts";
import type { RenderContext } from "./context.ts";
import type { EngineDef } from "./engines/index.ts";
import type { Problem } from "./errors.ts";

/** Where the serving certificate (tls.crt, tls.key, ca.crt) is mounted in the engine container. */
export const TLS_DIR = "/etc/modelservice/tls";
const TLS_VOLUME = "tls";
/** World-readable inside the pod: the engine may run as any uid, and only the engine container mounts it. */
const TLS_FILE_MODE = 0o444;

export type EngineSecurity = { env: V1EnvVar[]; args: string[]; volumes: V1Volume[]; mounts: V1VolumeMount[]; https: boolean };

/** Combinations the CRD rejects with CEL, checked again for `render` without an API server. */
export function securityProblems(spec: ModelServiceSpec, engine: EngineDef): Problem[] {
  const problems: Problem[] = [];
  if (spec.access?.apiKeySecret && !engine.apiKey)
    problems.push({
      path: "spec.access.apiKeySecret",
      message: `${engine.type} has no API-key option; protect it at the gateway (spec.expose.apiKeyAuth) and with spec.access.allowFrom`,
    });
  if (spec.access?.apiKeySecret && engine.type === "Custom" && !spec.access.apiKeyEnv)
    problems.push({ path: "spec.access.apiKeyEnv", message: "is required with access.apiKeySecret on a Custom engine" });
  if (spec.tls && !engine.tls) problems.push({ path: "spec.tls", message: `${engine.type} cannot serve HTTPS itself; terminate TLS at the gateway` });
  return problems;
}

export function engineSecurity(rc: RenderContext): EngineSecurity {
  const { spec, engine } = rc;
  const out: EngineSecurity = { env: [], args: [], volumes: [], mounts: [], https: false };
  const ref = spec.access?.apiKeySecret;
  if (ref && engine.apiKey) {
    const key = engine.apiKey({ name: ref.name, key: ref.key }, spec.access?.apiKeyEnv);
    out.env.push(...key.env);
    out.args.push(...key.args);
  }
  if (spec.tls && engine.tls) {
    out.volumes.push({ name: TLS_VOLUME, secret: { secretName: rc.names.certificate, defaultMode: TLS_FILE_MODE } });
    out.mounts.push({ name: TLS_VOLUME, mountPath: TLS_DIR, readOnly: true });
    out.args.push(...engine.tls.args(TLS_DIR));
    out.https = true;
  }
  return out;
}
