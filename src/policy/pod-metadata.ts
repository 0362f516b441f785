// Pod labels and annotations a tenant may not set unless the platform team allows them. A label
// such as `app: payments` joins another application's Service endpoints; annotations such as
// AppArmor `unconfined` or a sidecar opt-out weaken the pod. Label keys in Kubernetes' reserved
// domains are refused at admission (CEL in src/api/schema.ts); these are the rest, which an
// allow list (the ModelServiceClass's, once it exists) may permit.
import type { ModelServiceSpec } from "../api/types.ts";
import type { Problem } from "../render/errors.ts";

/** Key patterns: `*` matches any run of characters. */
export type KeyAllowList = readonly string[];

/** Label keys Services commonly select on. */
export const GUARDED_LABEL_KEYS: KeyAllowList = ["app", "app.kubernetes.io/*", "*.kubernetes.io/*", "kubernetes.io/*", "*.k8s.io/*", "k8s.io/*"];

/** Annotations that change a pod's confinement, its sidecars or its eviction. */
export const GUARDED_ANNOTATION_KEYS: KeyAllowList = [
  "container.apparmor.security.beta.kubernetes.io/*",
  "seccomp.security.alpha.kubernetes.io/*",
  "*.kubernetes.io/*",
  "kubernetes.io/*",
  "*.k8s.io/*",
  "k8s.io/*",
  "sidecar.istio.io/*",
  "*.istio.io/*",
  "istio.io/*",
  "linkerd.io/*",
  "*.linkerd.io/*",
  "karpenter.sh/*",
];

const pattern = (glob: string): RegExp => new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*")}$`);
const matchesAny = (key: string, globs: KeyAllowList): boolean => globs.some((g) => pattern(g).test(key));

/**
 * Keys of spec.podMetadata that are guarded and not allowed. `allowed` lists patterns a class
 * permits; `owner` names who decides (in the message).
 */
export function podMetadataViolations(
  spec: Pick<ModelServiceSpec, "podMetadata">,
  allowed: { labels: KeyAllowList; annotations: KeyAllowList },
  owner: string,
): Problem[] {
  const check = (what: "labels" | "annotations", guarded: KeyAllowList, allow: KeyAllowList): Problem[] =>
    Object.keys(spec.podMetadata?.[what] ?? {})
      .filter((k) => matchesAny(k, guarded) && !matchesAny(k, allow))
      .map((k) => ({
        path: `spec.podMetadata.${what}`,
        message: `${k} is not allowed by ${owner} (allowed: ${allow.length ? allow.join(", ") : "none of the guarded keys"}): ${
          what === "labels" ? "a Service selecting it would send its traffic to this model" : "it changes the pod's confinement, sidecars or eviction"
        }`,
      }));
  return [...check("labels", GUARDED_LABEL_KEYS, allowed.labels), ...check("annotations", GUARDED_ANNOTATION_KEYS, allowed.annotations)];
}
