// The NetworkPolicy that decides who reaches the model's pods. Ingress only (egress stays open:
// downloads, multi-node traffic). Three rules: callers (and the KEDA HTTP add-on's interceptor when
// it wakes the model) to the serving port, the ModelService's own
// pods to every port, monitoring to the metrics port. NetworkPolicy is L4: where metrics share the
// serving port, monitoring can reach the API too (the engine's key still applies there).
import type { KubernetesObject } from "@kubernetes/client-node";
import type { LabelSelector } from "../api/security-schema.ts";
import { selectorLabels } from "../model/labels.ts";
import type { RenderContext } from "./context.ts";
import { childMeta } from "./meta.ts";

// Our own types: client-node's models name the field `_from` and only fix it in their serialiser,
// while children are written as plain JSON.
type Peer = { namespaceSelector?: LabelSelector; podSelector?: LabelSelector };
type IngressRule = { from: Peer[]; ports?: { protocol: "TCP"; port: number }[] };
export type NetworkPolicy = KubernetesObject & {
  spec: { podSelector: LabelSelector; policyTypes: ["Ingress"]; ingress: IngressRule[] };
};

export type AccessMode = "Explicit" | "Namespace" | "GatewayOnly" | "None";

/** spec.access.allowFrom when set, otherwise the operator's default. */
export const accessMode = (rc: RenderContext): AccessMode => (rc.spec.access?.allowFrom !== undefined ? "Explicit" : rc.config.access.default);

const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

const selector = (s: LabelSelector): LabelSelector => structuredClone(s);

/** Where the gateway's proxies run: the configured selector, or the namespaces of the parentRefs. */
function gatewayPeers(rc: RenderContext): Peer[] {
  const expose = rc.spec.expose;
  if (!expose) return [];
  const configured = rc.config.access.gatewayNamespaceSelector;
  if (configured) return [{ namespaceSelector: selector(configured) }];
  const own = rc.namespace ?? "default";
  const namespaces = [...new Set(expose.parentRefs.map((p) => p.namespace ?? own))].sort();
  return namespaces.map((ns) => ({ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: ns } } }));
}

/**
 * With autoscaling.wake.mode Request every caller arrives through the KEDA HTTP add-on's
 * interceptor, whatever spec.access says: it must reach the serving port (where it runs: keda.httpAddOn).
 */
function interceptorPeers(rc: RenderContext): Peer[] {
  if (rc.wake?.mode !== "Request") return [];
  const addOn = rc.config.keda.httpAddOn;
  return [{ namespaceSelector: selector(addOn.interceptorNamespaceSelector), podSelector: selector(addOn.interceptorPodSelector) }];
}

function callerPeers(rc: RenderContext, mode: AccessMode): Peer[] {
  switch (mode) {
    case "Explicit":
      return (rc.spec.access?.allowFrom ?? []).map((p) => ({
        ...(p.namespaceSelector ? { namespaceSelector: selector(p.namespaceSelector) } : {}),
        ...(p.podSelector ? { podSelector: selector(p.podSelector) } : {}),
      }));
    case "Namespace":
      return [{ podSelector: {} }];
    default:
      return [];
  }
}

export function networkPolicy(rc: RenderContext): NetworkPolicy | undefined {
  const mode = accessMode(rc);
  if (mode === "None") return undefined;
  const port = rc.engineCtx.port;
  const ingress: IngressRule[] = [];
  const callers = [...callerPeers(rc, mode), ...gatewayPeers(rc), ...interceptorPeers(rc)];
  // A rule with no peers would allow every source: leave it out instead.
  if (callers.length > 0) ingress.push({ from: callers, ports: [{ protocol: "TCP", port }] });
  ingress.push({ from: [{ podSelector: { matchLabels: selectorLabels(rc.name) } }] });
  const monitoring = rc.config.access.monitoringNamespaceSelector;
  if (monitoring && rc.engine.metricsPath !== undefined) {
    ingress.push({ from: [{ namespaceSelector: selector(monitoring) }], ports: [{ protocol: "TCP", port: rc.engine.metricsPort ?? port }] });
  }
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: childMeta(rc, rc.names.networkPolicy),
    spec: { podSelector: { matchLabels: selectorLabels(rc.name) }, policyTypes: ["Ingress"], ingress },
  };
}
