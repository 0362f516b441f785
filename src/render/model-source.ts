// Where the weights come from, and what that adds to the pod: volumes, the model-download init
// container, environment. Credentials are only ever referenced (envFrom secretRef), never read.
import { posix } from "node:path";
import type { V1Container, V1EnvFromSource, V1EnvVar, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import type { EngineType } from "../api/schema.ts";
import type { ModelServiceSpec } from "../api/types.ts";
import type { OperatorConfig } from "../config/operator-config.ts";
import { DOWNLOAD_CONTAINER } from "../model/resolved.ts";
import type { Problem } from "./errors.ts";

/** pvc:// claims are mounted read-only here. */
export const MODEL_MOUNT_PATH = "/mnt/models";
/** The cache volume (spec.cache, or a scratch emptyDir for Ollama pulls) is mounted here. */
export const CACHE_MOUNT_PATH = "/cache";
export const MODEL_VOLUME = "model";
export const CACHE_VOLUME = "cache";

export type ModelSource =
  | { kind: "hf"; repo: string; revision: string | undefined }
  | { kind: "pvc"; claim: string; path: string }
  | { kind: "s3" | "gs"; uri: string; bucket: string; path: string }
  | { kind: "ollama"; model: string }
  | { kind: "image" };

/** Parses a URI the schema already accepted (MODEL_URI); no URI means the weights are in the image. */
export function parseModelUri(uri: string | undefined): ModelSource {
  if (!uri) return { kind: "image" };
  const scheme = uri.slice(0, uri.indexOf("://"));
  const rest = uri.slice(scheme.length + 3);
  const slash = rest.indexOf("/");
  const head = slash < 0 ? rest : rest.slice(0, slash);
  const tail = slash < 0 ? "" : rest.slice(slash + 1).replace(/\/+$/, "");
  switch (scheme) {
    case "hf": {
      const at = rest.indexOf("@");
      return at < 0 ? { kind: "hf", repo: rest, revision: undefined } : { kind: "hf", repo: rest.slice(0, at), revision: rest.slice(at + 1) };
    }
    case "pvc":
      return { kind: "pvc", claim: head, path: tail };
    case "s3":
    case "gs":
      return { kind: scheme, uri, bucket: head, path: tail };
    case "ollama":
      return { kind: "ollama", model: rest };
    default:
      throw new Error(`unsupported model URI scheme: ${uri}`);
  }
}

export type SourceParts = {
  modelRef: string | undefined;
  revision: string | undefined;
  /** Ollama's model store, shared by the init container and the engine. */
  storeDir: string | undefined;
  volumes: V1Volume[];
  engineMounts: V1VolumeMount[];
  engineEnv: V1EnvVar[];
  engineEnvFrom: V1EnvFromSource[];
  initContainers: V1Container[];
  problems: Problem[];
};

export type SourceInput = {
  spec: ModelServiceSpec;
  source: ModelSource;
  engineType: EngineType;
  engineImage: string;
  servedName: string;
  pvcName: string;
  config: OperatorConfig;
};

/** Joins a path from a URI under a mount point (CEL refuses `..` segments, which would escape it). */
const under = (root: string, path: string): string => (path ? posix.join(root, path) : root);

// Starts a private server, pulls, and names the model as clients will ask for it. MODEL and
// SERVED_NAME come from env so no user string is interpolated into the script.
const OLLAMA_PULL_SCRIPT = [
  "set -e",
  "ollama serve >/tmp/ollama.log 2>&1 &",
  "i=0; until ollama list >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 120 ] || { cat /tmp/ollama.log; exit 1; }; sleep 1; done",
  'ollama pull "$MODEL"',
  '[ "$MODEL" = "$SERVED_NAME" ] || ollama cp "$MODEL" "$SERVED_NAME"',
].join("\n");

export function modelSourceParts(input: SourceInput): SourceParts {
  const { spec, source, engineType, config } = input;
  const secret = spec.model.credentialsSecret;
  const envFrom: V1EnvFromSource[] = secret ? [{ secretRef: { name: secret } }] : [];
  const parts: SourceParts = {
    modelRef: undefined,
    revision: undefined,
    storeDir: undefined,
    volumes: [],
    engineMounts: [],
    engineEnv: [],
    engineEnvFrom: [],
    initContainers: [],
    problems: [],
  };
  const cacheMount = (readOnly: boolean): V1VolumeMount => ({ name: CACHE_VOLUME, mountPath: CACHE_MOUNT_PATH, ...(readOnly ? { readOnly: true } : {}) });
  // ollama:// always means engine.type Ollama (a CEL rule); Ollama also pulls hf:// models.
  const ollamaPull = source.kind === "ollama" || (engineType === "Ollama" && source.kind === "hf");

  if (spec.cache) {
    parts.volumes.push({ name: CACHE_VOLUME, persistentVolumeClaim: { claimName: input.pvcName } });
  } else if (ollamaPull) {
    parts.volumes.push({ name: CACHE_VOLUME, emptyDir: {} });
  }

  switch (source.kind) {
    case "hf":
    case "ollama": {
      if (ollamaPull) {
        const model = source.kind === "hf" ? `hf.co/${source.repo}` : source.model;
        const storeDir = posix.join(CACHE_MOUNT_PATH, "ollama");
        parts.modelRef = model;
        parts.storeDir = storeDir;
        parts.engineMounts.push(cacheMount(false));
        parts.initContainers.push({
          name: DOWNLOAD_CONTAINER,
          image: input.engineImage,
          command: ["/bin/sh", "-c", OLLAMA_PULL_SCRIPT],
          env: [
            { name: "MODEL", value: model },
            { name: "SERVED_NAME", value: input.servedName },
            { name: "OLLAMA_MODELS", value: storeDir },
          ],
          ...(envFrom.length ? { envFrom } : {}),
          volumeMounts: [cacheMount(false)],
        });
        break;
      }
      parts.modelRef = source.repo;
      parts.revision = source.revision;
      parts.engineEnvFrom = envFrom;
      if (spec.cache) {
        // The engine downloads into the cache, so a restarted replica does not download again.
        const hfHome = posix.join(CACHE_MOUNT_PATH, "huggingface");
        parts.engineEnv.push({ name: "HF_HOME", value: hfHome }, { name: "HUGGINGFACE_HUB_CACHE", value: posix.join(hfHome, "hub") });
        parts.engineMounts.push(cacheMount(false));
      }
      break;
    }
    case "pvc": {
      parts.modelRef = under(MODEL_MOUNT_PATH, source.path);
      parts.engineEnvFrom = envFrom;
      parts.volumes.unshift({ name: MODEL_VOLUME, persistentVolumeClaim: { claimName: source.claim, readOnly: true } });
      parts.engineMounts.push({ name: MODEL_VOLUME, mountPath: MODEL_MOUNT_PATH, readOnly: true });
      if (spec.cache) parts.engineMounts.push(cacheMount(false));
      break;
    }
    case "s3":
    case "gs": {
      // spec.cache is there: a CEL rule requires it for s3:// and gs://.
      const dir = under(posix.join(CACHE_MOUNT_PATH, "models", source.kind, source.bucket), source.path);
      parts.modelRef = dir;
      // sync/rsync copy only what changed, so a restart with a warm cache starts quickly.
      const command =
        source.kind === "s3" ? ["aws", "s3", "sync", "--no-progress", source.uri, dir] : ["gcloud", "storage", "rsync", "--recursive", source.uri, dir];
      parts.initContainers.push({
        name: DOWNLOAD_CONTAINER,
        image: config.downloaderImages[source.kind],
        command,
        ...(envFrom.length ? { envFrom } : {}),
        volumeMounts: [cacheMount(false)],
      });
      // Only the downloader needs the bucket credentials; the engine reads the cache read-only.
      parts.engineMounts.push(cacheMount(true));
      break;
    }
    case "image":
      parts.engineEnvFrom = envFrom;
      if (spec.cache) parts.engineMounts.push(cacheMount(false));
      break;
  }
  return parts;
}
