// Which Host names a ModelService may claim on the KEDA HTTP add-on's interceptor
// (autoscaling.wake.hosts). The interceptor is shared by every namespace and routes by the Host
// header alone, so a name another namespace's callers use would send their requests (prompts, API
// keys) to this model. Names of the ModelService's own namespace are always allowed; a name of
// another namespace, or a bare name that is the same in every namespace, never; any other
// (outside) name only where the ModelService's class lists it (none without a class).
import type { ModelServiceSpec } from "../api/types.ts";
import type { Problem } from "../render/errors.ts";

export type WakeHost = { kind: "own" } | { kind: "foreign"; namespace: string } | { kind: "bare" } | { kind: "outside" };

/**
 * What a Host name is to a ModelService in `namespace`. In-cluster names: NAME.NS, and anything
 * with a `svc` or `pod` label after NAME.NS (NAME.NS.svc, POD.SVC.NS.svc.DOMAIN, A-B-C-D.NS.pod.DOMAIN,
 * whatever the domain): their namespace is the label before it. Two-label names are always read as
 * NAME.NS, as the cluster's resolver would.
 */
export function classifyWakeHost(host: string, namespace: string): WakeHost {
  const labels = host.split(".");
  if (labels.length === 1) return { kind: "bare" };
  const marker = labels.findIndex((l, i) => i >= 2 && (l === "svc" || l === "pod"));
  const ns = marker >= 2 ? labels[marker - 1] : labels.length === 2 ? labels[1] : undefined;
  if (ns === undefined) return { kind: "outside" };
  return ns === namespace ? { kind: "own" } : { kind: "foreign", namespace: ns };
}

const at = (i: number) => `spec.autoscaling.wake.hosts[${i}]`;

/** Names no ModelService in `namespace` may claim, whatever its class. */
export function foreignWakeHosts(spec: ModelServiceSpec, namespace: string, clusterDomain: string): Problem[] {
  const own = `NAME.${namespace}, NAME.${namespace}.svc or NAME.${namespace}.svc.${clusterDomain}`;
  return (spec.autoscaling?.wake?.hosts ?? []).flatMap((host, i): Problem[] => {
    const c = classifyWakeHost(host, namespace);
    if (c.kind === "foreign")
      return [
        {
          path: at(i),
          message: `${host} is a name of namespace ${c.namespace}: the interceptor is shared, so a ModelService claims only names of its own namespace (${own})`,
        },
      ];
    if (c.kind === "bare") return [{ path: at(i), message: `${host} is the same name in every namespace: write ${host}.${namespace}` }];
    return [];
  });
}

/** Whether a pattern of a class's allow.wakeHosts (a name, or *.SUFFIX for any name under SUFFIX) matches. */
const matches = (pattern: string, host: string): boolean => (pattern.startsWith("*.") ? host.endsWith(pattern.slice(1)) : host === pattern);

/** Outside names not listed in `allowed` (a class's allow.wakeHosts; none without a class). */
export function outsideWakeHostViolations(spec: ModelServiceSpec, allowed: readonly string[], namespace: string | undefined, by: string): Problem[] {
  return (spec.autoscaling?.wake?.hosts ?? []).flatMap((host, i): Problem[] => {
    // Offline without a namespace every in-cluster shape is taken as the ModelService's own.
    const c = classifyWakeHost(host, namespace ?? "");
    if (c.kind !== "outside" || allowed.some((p) => matches(p, host))) return [];
    const allowedText = allowed.length
      ? allowed.join(", ")
      : "names of the ModelService's own namespace only; a ModelServiceClass's allow.wakeHosts can list others";
    return [{ path: at(i), message: `${host} is not allowed by ${by} (allowed: ${allowedText})` }];
  });
}
