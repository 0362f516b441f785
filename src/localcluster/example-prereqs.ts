// What the examples need that only a simulated cluster lacks: a visible model load time, stand-in
// credentials for the gated models (kwok runs no containers; on a real cluster the Secrets are
// yours), and volumes (there is no storage provisioner). Pure: returns the manifests to apply.
import { childNames } from "../render/names.ts";

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } } & Record<string, unknown>;

/** The pod annotation kwok's stages read for the simulated load time (src/localcluster/stages/pod.yaml). */
export const SIMULATE_LOAD_ANNOTATION = "modelservice.dev/simulate-load-seconds";

export type Prerequisites = {
  /** The input, ModelServices given a load time, with placeholder Secrets, claims and volumes in front. */
  manifests: Manifest[];
  /** One line per thing added, to tell the user. */
  notes: string[];
};

type MsSpec = {
  model?: { uri?: string; credentialsSecret?: string };
  adapters?: { uri?: string }[];
  cache?: { size?: string | number; accessMode?: string; storageClassName?: string };
  podMetadata?: { annotations?: Record<string, string> };
};

export function simulatedPrerequisites(input: Manifest[], namespace: string, loadSeconds: number): Prerequisites {
  const manifests = input.map((m) => structuredClone(m));
  const notes: string[] = [];
  const models = manifests.filter((m) => m.kind === "ModelService");
  const has = (kind: string, name: string) => manifests.some((m) => m.kind === kind && m.metadata.name === name);
  const front: Manifest[] = [];

  for (const m of models) {
    const spec = (m.spec ?? {}) as MsSpec;
    spec.podMetadata ??= {};
    spec.podMetadata.annotations ??= {};
    spec.podMetadata.annotations[SIMULATE_LOAD_ANNOTATION] ??= String(loadSeconds);
    m.spec = spec;
  }

  const secrets = new Set(models.map((m) => (m.spec as MsSpec).model?.credentialsSecret).filter((x): x is string => !!x));
  for (const name of secrets) {
    if (has("Secret", name)) continue;
    front.push({ apiVersion: "v1", kind: "Secret", metadata: { name }, stringData: { HF_TOKEN: "hf_simulated_cluster_placeholder" } });
    notes.push(`adding a placeholder Secret ${name} (simulated cluster only)`);
  }

  // Pre-bind a PersistentVolume to every claim the examples need (cache claims, and pvc:// claims,
  // which are created empty).
  for (const m of models) {
    const spec = m.spec as MsSpec;
    const claims: { name: string; size: string; mode: string; storageClassName?: string }[] = [];
    if (spec.cache) {
      claims.push({
        name: childNames(m.metadata.name).pvc,
        size: String(spec.cache.size ?? "1Gi"),
        mode: spec.cache.accessMode ?? "ReadWriteOnce",
        storageClassName: spec.cache.storageClassName,
      });
    }
    const uris = [spec.model?.uri, ...(spec.adapters ?? []).map((a) => a.uri)];
    const pvcs = new Set(uris.map((u) => /^pvc:\/\/([^/]+)/.exec(u ?? "")?.[1]).filter((x): x is string => !!x));
    for (const pvc of pvcs) {
      if (has("PersistentVolumeClaim", pvc) || front.some((f) => f.kind === "PersistentVolumeClaim" && f.metadata.name === pvc)) continue;
      claims.push({ name: pvc, size: "10Gi", mode: "ReadWriteMany" });
      front.push({
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name: pvc },
        spec: { accessModes: ["ReadWriteMany"], resources: { requests: { storage: "10Gi" } }, storageClassName: "" },
      });
      notes.push(`adding an empty PersistentVolumeClaim ${pvc} for ${m.metadata.name} (simulated cluster only)`);
    }
    for (const c of claims) {
      front.push({
        apiVersion: "v1",
        kind: "PersistentVolume",
        metadata: { name: `demo-${namespace}-${c.name}` },
        spec: {
          capacity: { storage: c.size },
          accessModes: [c.mode],
          storageClassName: c.storageClassName ?? "",
          persistentVolumeReclaimPolicy: "Delete",
          hostPath: { path: `/var/lib/simulated/${namespace}/${c.name}` },
          claimRef: { namespace, name: c.name },
        },
      });
    }
  }
  return { manifests: [...front, ...manifests], notes };
}
