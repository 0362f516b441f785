// The manifests the demo applies: read from a directory of YAML files, applied server-side.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { modelServiceSchema } from "../api/schema.ts";
import { defaultOperatorConfig } from "../config/operator-config.ts";
import { type KubeClient, resourcePath } from "../kube/client.ts";
import { CHILD_KINDS, orderedChildren, render } from "../render/index.ts";

export const DEMO_FIELD_MANAGER = "modelservice-demo";

const PLURALS: Record<string, string> = {
  ModelService: "modelservices",
  Namespace: "namespaces",
  Secret: "secrets",
  ConfigMap: "configmaps",
  PersistentVolumeClaim: "persistentvolumeclaims",
  ResourceQuota: "resourcequotas",
  LimitRange: "limitranges",
  PriorityClass: "priorityclasses",
  PersistentVolume: "persistentvolumes",
  ServiceAccount: "serviceaccounts",
};
export const CLUSTER_SCOPED = new Set(["Namespace", "PriorityClass", "PersistentVolume"]);

export type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } } & Record<string, unknown>;

/** The manifests of every *.yaml / *.yml file in `dir`, in file order; kinds the demo does not apply are skipped. */
export function readExamples(dir: string): { manifests: Manifest[]; skipped: string[] } {
  const manifests: Manifest[] = [];
  const skipped: string[] = [];
  if (!existsSync(dir)) return { manifests, skipped: [`${dir} does not exist`] };
  const files = readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f) && statSync(join(dir, f)).isFile())
    .sort();
  for (const f of files) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, f), "utf8"))) {
      const m = doc.toJSON() as Manifest | null;
      if (!m || typeof m !== "object" || !m.kind || !m.metadata?.name) continue;
      if (!PLURALS[m.kind]) {
        skipped.push(`${f}: ${m.kind} ${m.metadata.name} (kind not applied by the demo)`);
        continue;
      }
      manifests.push(m);
    }
  }
  return { manifests, skipped };
}

export const manifestPath = (m: Manifest): string =>
  resourcePath({
    apiVersion: m.apiVersion,
    plural: PLURALS[m.kind] as string,
    namespace: CLUSTER_SCOPED.has(m.kind) ? undefined : m.metadata.namespace,
    name: m.metadata.name,
  });

export async function apply(client: KubeClient, m: Manifest): Promise<void> {
  await client.request("PATCH", manifestPath(m), {
    body: m,
    contentType: "application/apply-patch+yaml",
    query: { fieldManager: DEMO_FIELD_MANAGER, force: true },
  });
}

/**
 * The add-ons (CRD name and what to install) a ModelService manifest needs that are not in `served`:
 * its rendered children of optional kinds (LeaderWorkerSet, cert-manager, Gateway API, KEDA...).
 * A manifest that does not render needs nothing here: the operator reports why in its status.
 */
export function missingAddOns(m: Manifest, served: ReadonlySet<string>): { crd: string; missing: string }[] {
  const parsed = modelServiceSchema.safeParse({ ...m, metadata: { namespace: "default", uid: "demo", ...m.metadata } });
  if (!parsed.success) return [];
  let kinds: string[];
  try {
    kinds = orderedChildren(render(parsed.data, defaultOperatorConfig)).map((c) => c.kind ?? "");
  } catch {
    return [];
  }
  const out: { crd: string; missing: string }[] = [];
  for (const k of CHILD_KINDS) {
    if (k.optional && kinds.includes(k.kind) && !served.has(k.optional.crd) && !out.some((o) => o.crd === k.optional?.crd)) out.push(k.optional);
  }
  return out;
}
