// API-key authentication at the gateway: an Envoy Gateway SecurityPolicy on the HTTPRoute. Field
// names as in envoyproxy/gateway api/v1alpha1 (SecurityPolicy.apiKeyAuth: credentialRefs, extractFrom).
// The Secret holds one entry per client (key: client id, value: its API key); the gateway reads it.
import type { KubernetesObject } from "@kubernetes/client-node";
import type { RenderContext } from "./context.ts";
import { childMeta } from "./meta.ts";
import { GATEWAY_API_GROUP } from "./route.ts";

export const API_KEY_HEADER = "x-api-key";

export type SecurityPolicy = KubernetesObject & {
  spec: {
    targetRefs: { group: string; kind: string; name: string }[];
    apiKeyAuth: { credentialRefs: { group: string; kind: string; name: string }[]; extractFrom: { headers: string[] }[] };
  };
};

export function securityPolicy(rc: RenderContext): SecurityPolicy | undefined {
  const auth = rc.spec.expose?.apiKeyAuth;
  if (!auth) return undefined;
  return {
    apiVersion: "gateway.envoyproxy.io/v1alpha1",
    kind: "SecurityPolicy",
    metadata: childMeta(rc, rc.names.securityPolicy),
    spec: {
      targetRefs: [{ group: GATEWAY_API_GROUP, kind: "HTTPRoute", name: rc.names.httpRoute }],
      apiKeyAuth: {
        credentialRefs: [{ group: "", kind: "Secret", name: auth.secretName }],
        extractFrom: [{ headers: [API_KEY_HEADER] }],
      },
    },
  };
}
