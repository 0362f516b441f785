// With TLS and a route, the gateway must speak HTTPS to the pods and check their certificate: a
// BackendTLSPolicy (Gateway API v1) on the Service's port, trusting the CA in spec.tls.caConfigMap.
import type { KubernetesObject } from "@kubernetes/client-node";
import { serviceDnsNames } from "./certificate.ts";
import type { RenderContext } from "./context.ts";
import { childMeta } from "./meta.ts";
import { HTTP_PORT_NAME } from "./pod.ts";
import { GATEWAY_API_GROUP } from "./route.ts";

export type BackendTLSPolicy = KubernetesObject & {
  spec: {
    targetRefs: { group: string; kind: string; name: string; sectionName: string }[];
    validation: { caCertificateRefs: { group: string; kind: string; name: string }[]; hostname: string };
  };
};

export function backendTlsPolicy(rc: RenderContext): BackendTLSPolicy | undefined {
  const ca = rc.spec.tls?.caConfigMap;
  if (!rc.spec.expose || !rc.spec.tls || !ca || !rc.engine.tls) return undefined;
  return {
    apiVersion: `${GATEWAY_API_GROUP}/v1`,
    kind: "BackendTLSPolicy",
    metadata: childMeta(rc, rc.names.backendTlsPolicy),
    spec: {
      targetRefs: [{ group: "", kind: "Service", name: rc.names.service, sectionName: HTTP_PORT_NAME }],
      validation: { caCertificateRefs: [{ group: "", kind: "ConfigMap", name: ca }], hostname: serviceDnsNames(rc).at(-1) ?? "" },
    },
  };
}
