// The admission case table of the ModelServiceClass CRD: a valid base class with a patch, and the
// verdict the API server gives it. test/unit/class-rule-cases.test.ts checks the offline verdict and
// that every CEL rule of the class CRD has a valid and an invalid case;
// test/integration/admission-rules.test.ts checks the real API server agrees.
import { CLASS_API_VERSION, CLASS_KIND } from "../../src/api/class-schema.ts";
import { deepMerge } from "./model-service.ts";
import type { RuleCase } from "./rule-cases.ts";

export const CLASS_BASE = {
  apiVersion: CLASS_API_VERSION,
  kind: CLASS_KIND,
  metadata: { name: "rule-case-class" },
  spec: { scheduling: { nodeSelector: { pool: "h100" } }, allow: { serviceTypes: ["ClusterIP"] } },
};

export const classCaseObject = (c: RuleCase): Record<string, unknown> => structuredClone(deepMerge(CLASS_BASE, c.patch)) as Record<string, unknown>;

const spec = (s: Record<string, unknown>) => ({ spec: s });
const invalid = (path: string, message: string) => ({ path, message });
const sel = { matchLabels: { app: "x" } };
const resources = (r: Record<string, unknown>) => spec({ defaults: { resources: r } });

const REQUIRES_SELECTOR = "terms need a non-empty labelSelector";
const RESOURCE_NAMES = "may name cpu, memory, ephemeral-storage, hugepages-<size> or an extended resource";

export const CLASS_RULE_CASES: RuleCase[] = [
  { name: "class: the base object", patch: {}, expect: "valid" },
  // scheduling (the typed, bounded pass-through shapes of the ModelService, set by the admin here)
  {
    name: "class: a node selector and a toleration",
    patch: spec({ scheduling: { nodeSelector: { "example.com/pool": "h100" }, tolerations: [{ key: "pool", operator: "Exists" }] } }),
    expect: "valid",
  },
  {
    name: "class: a node selector key with a space",
    patch: spec({ scheduling: { nodeSelector: { "bad key": "x" } } }),
    expect: invalid("spec.scheduling.nodeSelector", "scheduling.nodeSelector keys must be an optional DNS subdomain"),
  },
  {
    name: "class: a node selector value with a space",
    patch: spec({ scheduling: { nodeSelector: { pool: "h 100" } } }),
    expect: invalid("spec.scheduling.nodeSelector", "scheduling.nodeSelector values must be at most 63 letters"),
  },
  {
    name: "class: pod affinity and anti-affinity with selectors",
    patch: spec({
      scheduling: {
        affinity: {
          podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: sel, topologyKey: "zone" }] },
          podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: sel, topologyKey: "kubernetes.io/hostname" }] },
        },
      },
    }),
    expect: "valid",
  },
  {
    name: "class: required pod affinity with an empty selector",
    patch: spec({ scheduling: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: "zone" }] } } } }),
    expect: invalid("spec.scheduling.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution", `pod affinity ${REQUIRES_SELECTOR}`),
  },
  {
    name: "class: required pod anti-affinity with an empty selector",
    patch: spec({ scheduling: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: "zone" }] } } } }),
    expect: invalid("spec.scheduling.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution", `pod anti-affinity ${REQUIRES_SELECTOR}`),
  },
  {
    name: "class: required pod anti-affinity across namespaces",
    patch: spec({
      scheduling: {
        affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: sel, topologyKey: "zone", namespaces: ["other"] }] } },
      },
    }),
    expect: invalid(
      "spec.scheduling.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution",
      "apply to the ModelService's own namespace only",
    ),
  },
  // allow
  { name: "class: a cache cap", patch: spec({ allow: { maxCacheSize: "1Ti", storageClasses: ["standard"] } }), expect: "valid" },
  {
    name: "class: a cache cap of 0",
    patch: spec({ allow: { maxCacheSize: "0" } }),
    expect: invalid("spec.allow.maxCacheSize", "allow.maxCacheSize must be greater than 0"),
  },
  {
    name: "class: image prefixes per engine",
    patch: spec({ allow: { images: { vLLM: ["registry.example.com/", "vllm/vllm-openai:"], Custom: ["*"] } } }),
    expect: "valid",
  },
  {
    name: "class: images for an engine that does not exist",
    patch: spec({ allow: { images: { vllm: ["registry.example.com/"] } } }),
    expect: invalid("spec.allow.images", "allow.images keys must be engine types"),
  },
  {
    name: "class: an image prefix that is a bare host name",
    patch: spec({ allow: { images: { vLLM: ["registry.example.com"] } } }),
    expect: invalid("spec.allow.images[vLLM]", "allow.images prefixes must end with '/', ':' or '@'"),
  },
  // defaults
  {
    name: "class: default resources and ephemeral storage",
    patch: spec({ defaults: { resources: { requests: { cpu: "4", memory: "32Gi" }, limits: { cpu: "8", memory: "32Gi" } }, ephemeralStorage: "100Gi" } }),
    expect: "valid",
  },
  {
    name: "class: default hugepages with memory and an equal limit",
    patch: resources({ requests: { memory: "1Gi", "hugepages-2Mi": "1Gi" }, limits: { "hugepages-2Mi": "1Gi" } }),
    expect: "valid",
  },
  {
    name: "class: default ephemeral storage of 0",
    patch: spec({ defaults: { ephemeralStorage: 0 } }),
    expect: invalid("spec.defaults.ephemeralStorage", "defaults.ephemeralStorage must be greater than 0"),
  },
  {
    name: "class: default limits below the requests",
    patch: resources({ requests: { cpu: "8" }, limits: { cpu: "4" } }),
    expect: invalid("spec.defaults.resources.limits", "resources.limits must not be below resources.requests"),
  },
  {
    name: "class: default hugepages without an equal limit",
    patch: resources({ requests: { memory: "1Gi", "hugepages-2Mi": "1Gi" } }),
    expect: invalid("spec.defaults.resources.limits", "need the same value in resources.limits"),
  },
  {
    name: "class: default hugepages alone",
    patch: resources({ requests: { "hugepages-2Mi": "1Gi" }, limits: { "hugepages-2Mi": "1Gi" } }),
    expect: invalid("spec.defaults.resources", "hugepages need a cpu or memory request or limit as well"),
  },
  {
    name: "class: a negative default request",
    patch: resources({ requests: { cpu: -1 } }),
    expect: invalid("spec.defaults.resources.requests[cpu]", "must not be negative"),
  },
  {
    name: "class: a negative default limit",
    patch: resources({ limits: { cpu: -1 } }),
    expect: invalid("spec.defaults.resources.limits[cpu]", "must not be negative"),
  },
  {
    name: "class: a default request of an unknown resource",
    patch: resources({ requests: { gpu: "1" } }),
    expect: invalid("spec.defaults.resources.requests", `resources.requests ${RESOURCE_NAMES}`),
  },
  {
    name: "class: a default limit of an unknown resource",
    patch: resources({ limits: { gpu: "1" } }),
    expect: invalid("spec.defaults.resources.limits", `resources.limits ${RESOURCE_NAMES}`),
  },
  { name: "class: integer default quantities", patch: resources({ requests: { cpu: 2 }, limits: { cpu: 4 } }), expect: "valid" },
];
