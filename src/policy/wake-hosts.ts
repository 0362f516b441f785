// Which Host names a ModelService may claim on the KEDA HTTP add-on's interceptor
// (autoscaling.wake.hosts). The interceptor is shared by every namespace and routes by the Host
// header alone, so a name another namespace's callers use would send their requests (prompts, API
// keys) to this model. Names of the ModelService's own namespace are always allowed; a name of
// another namespace, or a bare name that is the same in every namespace, never; any other
// (outside) name only where the ModelService's class allows it.
import type { ModelServiceSpec } from "../api/types.ts";
import type { Problem } from "../render/errors.ts";

export type WakeHost = { kind: "own" } | { kind: "foreign"; namespace: string } | { kind: "bare" } | { kind: "outside" };

/** What a Host name is to a ModelService in `namespace`: NAME.NS, NAME.NS.svc and NAME.NS.svc.DOMAIN are in-cluster names of NS. */
export function classifyWakeHost(host: string, namespace: string, clusterDomain: string): WakeHost {
  const labels = host.split(".");
  if (labels.length === 1) return { kind: "bare" };
  const inCluster = labels.length === 2 || host === `${labels[0]}.${labels[1]}.svc` || host === `${labels[0]}.${labels[1]}.svc.${clusterDomain}`;
  if (!inCluster) return { kind: "outside" };
  const ns = labels[1] as string;
  return ns === namespace ? { kind: "own" } : { kind: "foreign", namespace: ns };
}

const at = (i: number) => `spec.autoscaling.wake.hosts[${i}]`;

/** Names no ModelService in `namespace` may claim, whatever its class. */
export function foreignWakeHosts(spec: ModelServiceSpec, namespace: string, clusterDomain: string): Problem[] {
  const own = `NAME.${namespace}, NAME.${namespace}.svc or NAME.${namespace}.svc.${clusterDomain}`;
  return (spec.autoscaling?.wake?.hosts ?? []).flatMap((host, i): Problem[] => {
    const c = classifyWakeHost(host, namespace, clusterDomain);
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

/** Outside names the class does not list in allow.wakeHosts. */
export function outsideWakeHostViolations(
  spec: ModelServiceSpec,
  allowed: readonly string[],
  namespace: string | undefined,
  clusterDomain: string,
  by: string,
): Problem[] {
  return (spec.autoscaling?.wake?.hosts ?? []).flatMap((host, i): Problem[] => {
    // Offline without a namespace every in-cluster shape is taken as the ModelService's own.
    const c = classifyWakeHost(host, namespace ?? host.split(".")[1] ?? "", clusterDomain);
    if (c.kind !== "outside" || allowed.some((p) => matches(p, host))) return [];
    return [
      {
        path: at(i),
        message: `${host} is not allowed by ${by} (allowed: ${allowed.length ? allowed.join(", ") : "names of the ModelService's own namespace only"})`,
      },
    ];
  });
}
