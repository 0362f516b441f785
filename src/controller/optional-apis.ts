// Which optional child APIs (add-on CRDs) the cluster serves, from the cached CRDs. Pure, so the
// rule "established and the version served" is unit-tested without an API server.
import type { KubernetesObject } from "@kubernetes/client-node";

type Crd = KubernetesObject & {
  spec?: { versions?: { name?: string; served?: boolean }[] };
  status?: { conditions?: { type?: string; status?: string }[] };
};

/** A kind's API is served when its CRD exists, is Established, and serves the version we write. */
export function isServed(crds: readonly KubernetesObject[], crdName: string, apiVersion: string): boolean {
  const version = apiVersion.split("/")[1] ?? apiVersion;
  const crd = crds.find((c) => c.metadata?.name === crdName) as Crd | undefined;
  if (!crd || crd.metadata?.deletionTimestamp) return false;
  const established = (crd.status?.conditions ?? []).some((c) => c.type === "Established" && c.status === "True");
  return established && (crd.spec?.versions ?? []).some((v) => v.name === version && v.served === true);
}

/** What the controller keeps of a CRD (their schemas are large): name, versions served, conditions. */
export function trimCrd(obj: KubernetesObject): KubernetesObject {
  const crd = obj as Crd;
  return {
    apiVersion: crd.apiVersion,
    kind: crd.kind,
    metadata: {
      name: crd.metadata?.name,
      ...(crd.metadata?.resourceVersion ? { resourceVersion: crd.metadata.resourceVersion } : {}),
      ...(crd.metadata?.deletionTimestamp ? { deletionTimestamp: crd.metadata.deletionTimestamp } : {}),
    },
    spec: { versions: (crd.spec?.versions ?? []).map((v) => ({ name: v.name, served: v.served })) },
    status: { conditions: (crd.status?.conditions ?? []).map((c) => ({ type: c.type, status: c.status })) },
  } as KubernetesObject;
}

/** What the controller keeps of a Gateway: its listeners (name, hostname, port, protocol) and addresses. */
export function trimGateway(obj: KubernetesObject): KubernetesObject {
  const gw = obj as KubernetesObject & {
    spec?: { listeners?: { name?: string; hostname?: string; port?: number; protocol?: string }[] };
    status?: { addresses?: { type?: string; value?: string }[] };
  };
  return {
    apiVersion: gw.apiVersion,
    kind: gw.kind,
    metadata: { name: gw.metadata?.name, namespace: gw.metadata?.namespace, resourceVersion: gw.metadata?.resourceVersion },
    spec: { listeners: (gw.spec?.listeners ?? []).map((l) => ({ name: l.name, hostname: l.hostname, port: l.port, protocol: l.protocol })) },
    status: { addresses: (gw.status?.addresses ?? []).map((a) => ({ type: a.type, value: a.value })) },
  } as KubernetesObject;
}
