// LoRA adapters (spec.adapters): where each one lives in the pod, and what fetches it there before
// the engine starts. They are fetched like the weights are, and the engine is given a local
// directory for each (vLLM --lora-modules, SGLang --lora-paths, TGI LORA_ADAPTERS), so every engine
// sees the same thing whatever the source:
//   hf://   an init container (the engine's image, which has huggingface_hub) downloads each into
//           the cache (spec.cache) or else a scratch volume, with model.credentialsSecret's token;
//   s3://, gs://  an init container (the downloader image) syncs each into the cache (CEL requires it);
//   pvc://  the claim is mounted read-only.
// Adapter names and URIs are passed as arguments, never pasted into a script.
import { posix } from "node:path";
import type { V1Container, V1EnvFromSource, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import type { ModelServiceSpec } from "../api/types.ts";
import type { OperatorConfig } from "../config/operator-config.ts";
import { ADAPTER_DOWNLOAD_CONTAINER } from "../model/resolved.ts";
import { CACHE_MOUNT_PATH, CACHE_VOLUME, parseModelUri } from "./model-source.ts";

const SCRATCH_VOLUME = "adapters";
const SCRATCH_MOUNT_PATH = "/adapters";
const PVC_MOUNT_ROOT = "/mnt/adapters";

export type AdapterParts = {
  adapters: { name: string; path: string }[];
  volumes: V1Volume[];
  /** Mounts the engine needs besides the model's (the cache is added read-only when the model does not mount it). */
  engineMounts: V1VolumeMount[];
  initContainers: V1Container[];
};

// snapshot_download(repo_id, revision, local_dir) exists in every huggingface_hub release; argv holds triples.
const HF_DOWNLOAD = [
  "import sys",
  "from huggingface_hub import snapshot_download",
  "a = sys.argv[1:]",
  "for i in range(0, len(a), 3): snapshot_download(repo_id=a[i], revision=a[i + 1] or None, local_dir=a[i + 2])",
].join("\n");
const SYNC_LOOP = (sync: string) => `set -e\nwhile [ $# -gt 0 ]; do ${sync} "$1" "$2"; shift 2; done`;

export function adapterParts(spec: ModelServiceSpec, config: OperatorConfig, engineImage: string, modelMounts: readonly V1VolumeMount[]): AdapterParts {
  const parts: AdapterParts = { adapters: [], volumes: [], engineMounts: [], initContainers: [] };
  const list = spec.adapters ?? [];
  if (list.length === 0) return parts;
  const secret = spec.model.credentialsSecret;
  const envFrom: V1EnvFromSource[] = secret ? [{ secretRef: { name: secret } }] : [];
  const root = spec.cache ? posix.join(CACHE_MOUNT_PATH, "adapters") : SCRATCH_MOUNT_PATH;
  const downloadMount: V1VolumeMount = spec.cache
    ? { name: CACHE_VOLUME, mountPath: CACHE_MOUNT_PATH }
    : { name: SCRATCH_VOLUME, mountPath: SCRATCH_MOUNT_PATH };
  const hf: string[] = [];
  const sync: Record<"s3" | "gs", string[]> = { s3: [], gs: [] };
  list.forEach((a, i) => {
    const source = parseModelUri(a.uri);
    const dir = posix.join(root, a.name);
    switch (source.kind) {
      case "hf":
        hf.push(source.repo, source.revision ?? "", dir);
        parts.adapters.push({ name: a.name, path: dir });
        break;
      case "s3":
      case "gs":
        sync[source.kind].push(source.uri, dir);
        parts.adapters.push({ name: a.name, path: dir });
        break;
      case "pvc": {
        const volume = `adapter-${i}`;
        const mountPath = posix.join(PVC_MOUNT_ROOT, a.name);
        parts.volumes.push({ name: volume, persistentVolumeClaim: { claimName: source.claim, readOnly: true } });
        parts.engineMounts.push({ name: volume, mountPath, readOnly: true });
        parts.adapters.push({ name: a.name, path: source.path ? posix.join(mountPath, source.path) : mountPath });
        break;
      }
      default:
        break; // the schema admits no other scheme for adapters
    }
  });
  const downloads = hf.length > 0 || sync.s3.length > 0 || sync.gs.length > 0;
  if (downloads && !spec.cache) {
    parts.volumes.push({ name: SCRATCH_VOLUME, emptyDir: {} });
    parts.engineMounts.push({ ...downloadMount, readOnly: true });
  } else if (downloads && !modelMounts.some((m) => m.mountPath === CACHE_MOUNT_PATH)) {
    parts.engineMounts.push({ name: CACHE_VOLUME, mountPath: CACHE_MOUNT_PATH, readOnly: true });
  }
  const init = (suffix: string, image: string, command: string[], args: string[]): V1Container => ({
    name: `${ADAPTER_DOWNLOAD_CONTAINER}-${suffix}`,
    image,
    command,
    args,
    ...(envFrom.length ? { envFrom } : {}),
    volumeMounts: [downloadMount],
  });
  if (hf.length > 0) parts.initContainers.push(init("hf", engineImage, ["python3", "-c", HF_DOWNLOAD], hf));
  if (sync.s3.length > 0)
    parts.initContainers.push(init("s3", config.downloaderImages.s3, ["/bin/sh", "-c", SYNC_LOOP("aws s3 sync --no-progress"), "sync"], sync.s3));
  if (sync.gs.length > 0)
    parts.initContainers.push(init("gs", config.downloaderImages.gs, ["/bin/sh", "-c", SYNC_LOOP("gcloud storage rsync --recursive"), "sync"], sync.gs));
  return parts;
}
