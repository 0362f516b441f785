// The Exposed condition and the external URL, from the HTTPRoute's status (written by the gateway
// controller) and the Gateways it names. Pure: the shell passes the cached objects.
//
// kstatus: Exposed is its own condition and never changes Ready, Reconciling or Stalled. Ready
// means "serving" (in-cluster callers can use the model whatever the gateway does), and every
// reason below is resolved by someone else (the Gateway's owner, its controller) without a change
// of the ModelService, so the operator is neither reconciling nor stalled on it.
import type { KubernetesObject } from "@kubernetes/client-node";
import type { ModelService } from "../api/types.ts";

export type ExposedReason = "Exposed" | "GatewayNotFound" | "RoutePending" | "RouteNotAccepted" | "RouteRefsNotResolved";
export type Exposure = { condition: { status: "True" | "False"; reason: ExposedReason; message: string }; url?: string };

type RouteCondition = { type?: string; status?: string; reason?: string; message?: string };
type RouteParentStatus = {
  parentRef?: { group?: string; kind?: string; name?: string; namespace?: string; sectionName?: string; port?: number };
  conditions?: RouteCondition[];
};
export type RouteWithStatus = KubernetesObject & { status?: { parents?: RouteParentStatus[] } };
type Listener = { name?: string; hostname?: string; port?: number; protocol?: string };
export type Gateway = KubernetesObject & { spec?: { listeners?: Listener[] }; status?: { addresses?: { value?: string }[] } };

type ParentRef = NonNullable<ModelService["spec"]["expose"]>["parentRefs"][number];

const refName = (ref: ParentRef, ns: string) => `Gateway ${ref.namespace ?? ns}/${ref.name}`;

const sameParent = (ref: ParentRef, ns: string, p: RouteParentStatus["parentRef"]): boolean =>
  !!p &&
  p.name === ref.name &&
  (p.namespace ?? ns) === (ref.namespace ?? ns) &&
  (p.sectionName ?? undefined) === (ref.sectionName ?? undefined) &&
  (p.port ?? undefined) === (ref.port ?? undefined);

const quote = (c: RouteCondition) => `${c.reason ?? "no reason"}${c.message ? `: ${c.message}` : ""}`;

/** Whether a listener hostname (maybe "*.example.com") admits the route hostname. */
const hostMatches = (listener: string | undefined, host: string | undefined): boolean => {
  if (!listener || !host) return true;
  if (listener.startsWith("*.")) return host.endsWith(listener.slice(1)) || host === listener;
  return host === listener;
};

/** https://host[:port]/path from the listener the route attaches to; undefined when no host can be named. */
export function externalUrl(ms: ModelService, ref: ParentRef, gateway: Gateway): string | undefined {
  const expose = ms.spec.expose;
  if (!expose) return undefined;
  const routeHost = expose.hostnames?.find((h) => !h.startsWith("*."));
  const listeners = (gateway.spec?.listeners ?? []).filter((l) => l.protocol === "HTTPS" || l.protocol === "HTTP");
  const listener = listeners.find(
    (l) =>
      (ref.sectionName === undefined || l.name === ref.sectionName) && (ref.port === undefined || l.port === ref.port) && hostMatches(l.hostname, routeHost),
  );
  if (!listener) return undefined;
  const host = routeHost ?? (listener.hostname && !listener.hostname.startsWith("*.") ? listener.hostname : gateway.status?.addresses?.[0]?.value);
  if (!host) return undefined;
  const https = listener.protocol === "HTTPS";
  const port = listener.port !== undefined && listener.port !== (https ? 443 : 80) ? `:${listener.port}` : "";
  const path = expose.path ?? "/";
  return `${https ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}${port}${path}`;
}

/**
 * The Exposed condition of a ModelService with spec.expose (undefined without). The first parent
 * that is not accepted decides; Exposed True only when every parent accepted the route and
 * resolved its references; the URL is that of the first parent.
 */
export function exposure(
  ms: ModelService,
  route: RouteWithStatus | undefined,
  gateway: (namespace: string, name: string) => Gateway | undefined,
): Exposure | undefined {
  const expose = ms.spec.expose;
  if (!expose) return undefined;
  const ns = ms.metadata.namespace ?? "default";
  for (const ref of expose.parentRefs) {
    if (!gateway(ref.namespace ?? ns, ref.name)) {
      return {
        condition: { status: "False", reason: "GatewayNotFound", message: `${refName(ref, ns)} does not exist; create it, or fix spec.expose.parentRefs` },
      };
    }
  }
  if (!route) return { condition: { status: "False", reason: "RoutePending", message: "the HTTPRoute is not created yet" } };
  const parents = route.status?.parents ?? [];
  for (const ref of expose.parentRefs) {
    const conds = parents.find((p) => sameParent(ref, ns, p.parentRef))?.conditions ?? [];
    const accepted = conds.find((c) => c.type === "Accepted");
    if (accepted?.status === "False") {
      return { condition: { status: "False", reason: "RouteNotAccepted", message: `${refName(ref, ns)} did not accept the route: ${quote(accepted)}` } };
    }
    if (accepted?.status !== "True") {
      return {
        condition: {
          status: "False",
          reason: "RoutePending",
          message: `no gateway controller has accepted the route for ${refName(ref, ns)} yet${accepted ? ` (${quote(accepted)})` : ""}`,
        },
      };
    }
    const resolved = conds.find((c) => c.type === "ResolvedRefs");
    if (resolved?.status === "False") {
      return {
        condition: { status: "False", reason: "RouteRefsNotResolved", message: `${refName(ref, ns)} cannot resolve the route's backend: ${quote(resolved)}` },
      };
    }
  }
  const first = expose.parentRefs[0] as ParentRef;
  const url = externalUrl(ms, first, gateway(first.namespace ?? ns, first.name) as Gateway);
  return {
    condition: {
      status: "True",
      reason: "Exposed",
      message: `accepted by ${expose.parentRefs.map((r) => refName(r, ns)).join(", ")}${url ? ` at ${url}` : ""}`,
    },
    ...(url ? { url } : {}),
  };
}
