// Installs (server-side applies) the ModelService and ModelServiceClass CRDs from crds/ and waits
// until they are served. Used by the demo and the integration tests; in production the Helm chart
// installs them.
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { CLASS_CRD_PATH, CRD_PATH } from "../api/crd-file.ts";
import type { KubeClient } from "../kube/client.ts";

type Crd = {
  metadata: { name: string };
  spec: { group: string; names: { plural: string }; versions: { name: string }[] };
  status?: { conditions?: { type: string; status: string }[] };
};

export async function installCrd(client: KubeClient, opts: { timeoutMs?: number; fieldManager?: string } = {}): Promise<void> {
  for (const file of [CRD_PATH, CLASS_CRD_PATH]) await installOne(client, parse(readFileSync(file, "utf8")) as Crd, opts);
}

async function installOne(client: KubeClient, crd: Crd, opts: { timeoutMs?: number; fieldManager?: string }): Promise<void> {
  const path = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`;
  await client.request("PATCH", path, {
    body: crd,
    contentType: "application/apply-patch+yaml",
    query: { fieldManager: opts.fieldManager ?? "modelservice-operator-installer", force: true },
  });
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    const got = await client.request<Crd>("GET", path);
    if (got.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")) break;
    if (Date.now() > deadline) throw new Error(`CRD ${crd.metadata.name} not established within ${opts.timeoutMs ?? 30_000} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // Established can precede discovery by a moment: wait until the resource answers a list.
  for (;;) {
    try {
      await client.request("GET", `/apis/${crd.spec.group}/${crd.spec.versions[0]?.name}/${crd.spec.names.plural}`, { query: { limit: 1 } });
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
