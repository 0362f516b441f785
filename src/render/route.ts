// The HTTPRoute (Gateway API v1) that attaches the model's Service to a Gateway someone else owns.
// A path prefix other than "/" is rewritten to "/", so the engine sees its own paths (/v1/...).
import type { KubernetesObject } from "@kubernetes/client-node";
import type { RenderContext } from "./context.ts";
import { childMeta } from "./meta.ts";

export const GATEWAY_API_GROUP = "gateway.networking.k8s.io";

type ParentRef = { group: string; kind: string; name: string; namespace?: string; sectionName?: string; port?: number };

export type HTTPRoute = KubernetesObject & {
  spec: {
    parentRefs: ParentRef[];
    hostnames?: string[];
    rules: {
      matches: { path: { type: "PathPrefix"; value: string } }[];
      filters?: { type: "URLRewrite"; urlRewrite: { path: { type: "ReplacePrefixMatch"; replacePrefixMatch: string } } }[];
      backendRefs: { group: string; kind: string; name: string; port: number }[];
      timeouts?: { request: string };
    }[];
  };
};

export function httpRoute(rc: RenderContext): HTTPRoute | undefined {
  const expose = rc.spec.expose;
  if (!expose) return undefined;
  const path = expose.path ?? "/";
  return {
    apiVersion: `${GATEWAY_API_GROUP}/v1`,
    kind: "HTTPRoute",
    metadata: childMeta(rc, rc.names.httpRoute),
    spec: {
      parentRefs: expose.parentRefs.map((p) => ({
        group: GATEWAY_API_GROUP,
        kind: "Gateway",
        name: p.name,
        ...(p.namespace ? { namespace: p.namespace } : {}),
        ...(p.sectionName ? { sectionName: p.sectionName } : {}),
        ...(p.port !== undefined ? { port: p.port } : {}),
      })),
      ...(expose.hostnames?.length ? { hostnames: [...expose.hostnames] } : {}),
      rules: [
        {
          matches: [{ path: { type: "PathPrefix", value: path } }],
          ...(path === "/" ? {} : { filters: [{ type: "URLRewrite", urlRewrite: { path: { type: "ReplacePrefixMatch", replacePrefixMatch: "/" } } }] }),
          backendRefs: [{ group: "", kind: "Service", name: rc.names.service, port: rc.servicePort }],
          ...(expose.requestTimeoutSeconds !== undefined ? { timeouts: { request: `${expose.requestTimeoutSeconds}s` } } : {}),
        },
      ],
    },
  };
}
