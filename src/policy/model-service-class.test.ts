import type { V1Deployment } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { modelService, parsed, type SpecPatch, withSpec } from "../../test/support/model-service.ts";
import { DEFAULT_CLASS_ANNOTATION, type ModelServiceClass, type ModelServiceClassSpec } from "../api/class-schema.ts";
import { defaultOperatorConfig } from "../config/operator-config.ts";
import { ClassViolationError, render } from "../render/index.ts";
import { classViolations, resolveClass } from "./model-service-class.ts";

const klass = (name: string, spec: ModelServiceClassSpec = {}, meta: { default?: boolean; created?: string } = {}): ModelServiceClass => ({
  apiVersion: "modelservice.dev/v1alpha1",
  kind: "ModelServiceClass",
  metadata: {
    name,
    ...(meta.default ? { annotations: { [DEFAULT_CLASS_ANNOTATION]: "true" } } : {}),
    ...(meta.created ? { creationTimestamp: meta.created } : {}),
  },
  spec,
});

const TO_ZERO = { minReplicas: 0, maxReplicas: 1, target: { inFlightRequests: 4 } };
const ms = (spec: SpecPatch = {}) => parsed(modelService("m", withSpec({ gpu: { count: 1 }, ...spec })));

describe("resolveClass", () => {
  const shared = klass("gpu-shared");
  const oldDefault = klass("old-default", {}, { default: true, created: "2026-01-01T00:00:00Z" });
  const newDefault = klass("new-default", {}, { default: true, created: "2026-06-01T00:00:00Z" });
  it.each([
    ["named and present", { className: "gpu-shared" }, [shared, newDefault], { kind: "found", name: "gpu-shared" }],
    ["named and missing", { className: "gone" }, [shared, newDefault], { kind: "notFound", name: "gone" }],
    ["unnamed, one default", {}, [shared, oldDefault], { kind: "found", name: "old-default" }],
    ["unnamed, two defaults: the newest", {}, [oldDefault, newDefault, shared], { kind: "found", name: "new-default" }],
    ["unnamed, no default: the operator config alone", {}, [shared], { kind: "none" }],
    ["unnamed, no classes at all", {}, [], { kind: "none" }],
  ] as const)("%s", (_name, spec, classes, want) => {
    const r = resolveClass(ms(spec), classes);
    expect({ kind: r.kind, ...(r.kind === "found" ? { name: r.cls.metadata.name } : r.kind === "notFound" ? { name: r.name } : {}) }).toEqual(want);
  });
});

const POOL: ModelServiceClassSpec = {
  scheduling: {
    nodeSelector: { pool: "h100" },
    tolerations: [{ key: "pool", operator: "Equal", value: "h100", effect: "NoSchedule" }],
    priorityClassName: "gpu-tenant",
    runtimeClassName: "nvidia",
  },
};
const by = "ModelServiceClass gpu-shared";

describe("classViolations: each finding of issue 11, refused with the field and what the class allows", () => {
  it.each<[string, ModelServiceClassSpec, SpecPatch, { path: string; message: string }[]]>([
    ["nothing asked", POOL, {}, []],
    [
      "system-node-critical priority",
      POOL,
      { scheduling: { priorityClassName: "system-node-critical" } },
      [
        {
          path: "spec.scheduling.priorityClassName",
          message: `system-node-critical is not allowed by ${by} (allowed: no tenant scheduling in this class)`,
        },
      ],
    ],
    [
      "an unsandboxed runtime class and a control-plane node selector",
      POOL,
      { scheduling: { runtimeClassName: "runc", nodeSelector: { "node-role.kubernetes.io/control-plane": "" } } },
      [
        {
          path: "spec.scheduling.nodeSelector",
          message: `node-role.kubernetes.io/control-plane= is not allowed by ${by} (allowed: no tenant scheduling in this class)`,
        },
        { path: "spec.scheduling.runtimeClassName", message: `runc is not allowed by ${by} (allowed: no tenant scheduling in this class)` },
      ],
    ],
    [
      "tolerate everything",
      POOL,
      { scheduling: { tolerations: [{ operator: "Exists" }] } },
      [{ path: "spec.scheduling.tolerations", message: `1 toleration(s) is not allowed by ${by} (allowed: no tenant scheduling in this class)` }],
    ],
    [
      "scheduling allowed, but another priority than the class's",
      { ...POOL, allow: { scheduling: true } },
      { scheduling: { priorityClassName: "system-node-critical", nodeSelector: { pool: "b200", zone: "a" } } },
      [
        { path: "spec.scheduling.nodeSelector", message: `pool=b200 is not allowed by ${by} (allowed: pool=h100)` },
        { path: "spec.scheduling.priorityClassName", message: `system-node-critical is not allowed by ${by} (allowed: gpu-tenant)` },
      ],
    ],
    ["scheduling allowed and compatible", { ...POOL, allow: { scheduling: true } }, { scheduling: { nodeSelector: { zone: "a" } } }, []],
    [
      "a NodePort Service",
      {},
      { service: { type: "NodePort" } },
      [{ path: "spec.service.type", message: `NodePort is not allowed by ${by} (allowed: ClusterIP)` }],
    ],
    ["a NodePort Service the class allows", { allow: { serviceTypes: ["ClusterIP", "NodePort"] } }, { service: { type: "NodePort" } }, []],
    [
      "100Ti of a premium storage class",
      { allow: { storageClasses: ["standard"], maxCacheSize: "1Ti" } },
      { cache: { size: "100Ti", storageClassName: "premium-ssd" } },
      [
        { path: "spec.cache.storageClassName", message: `premium-ssd is not allowed by ${by} (allowed: standard, the cluster's default class (unset))` },
        { path: "spec.cache.size", message: `100Ti is not allowed by ${by} (allowed: at most 1Ti)` },
      ],
    ],
    ["a cache within the cap, default storage class", { allow: { maxCacheSize: "1Ti" } }, { cache: { size: "1024Gi" } }, []],
    [
      "an image from another registry",
      { allow: { images: { vLLM: ["registry.example.com/"] } } },
      { engine: { type: "vLLM", image: "evil.example.net/vllm:latest" } },
      [
        {
          path: "spec.engine.image",
          message: `evil.example.net/vllm:latest is not allowed by ${by} (allowed: the operator's ${defaultOperatorConfig.images.vLLM}, registry.example.com/*)`,
        },
      ],
    ],
    [
      "an image under an allowed prefix",
      { allow: { images: { vLLM: ["registry.example.com/"] } } },
      { engine: { type: "vLLM", image: "registry.example.com/vllm:1" } },
      [],
    ],
    ["the operator's own default image, named", {}, { engine: { type: "vLLM", image: defaultOperatorConfig.images.vLLM } }, []],
    [
      "a Custom image with no list",
      {},
      { engine: { type: "Custom", image: "me/server:1" } },
      [{ path: "spec.engine.image", message: `me/server:1 is not allowed by ${by} (allowed: none)` }],
    ],
    ["a Custom image, any allowed", { allow: { images: { Custom: ["*"] } } }, { engine: { type: "Custom", image: "me/server:1" } }, []],
    [
      "a pod label another Service selects on",
      {},
      { podMetadata: { labels: { app: "payments" } } },
      [{ path: "spec.podMetadata.labels", message: expect.stringContaining(`app is not allowed by ${by} (allowed: none of the guarded keys)`) }],
    ],
    [
      "a guarded label the class allows",
      { allow: { podLabelKeys: ["app.kubernetes.io/*"] } },
      { podMetadata: { labels: { "app.kubernetes.io/part-of": "chat" } } },
      [],
    ],
    [
      "AppArmor unconfined and a sidecar opt-out",
      {},
      { podMetadata: { annotations: { "container.apparmor.security.beta.kubernetes.io/engine": "unconfined", "sidecar.istio.io/inject": "false" } } },
      [
        {
          path: "spec.podMetadata.annotations",
          message: expect.stringContaining(`container.apparmor.security.beta.kubernetes.io/engine is not allowed by ${by}`),
        },
        { path: "spec.podMetadata.annotations", message: expect.stringContaining(`sidecar.istio.io/inject is not allowed by ${by}`) },
      ],
    ],
    [
      "an outside wake host the class does not list",
      { allow: { wakeHosts: ["*.team-a.example.com"] } },
      { autoscaling: { ...TO_ZERO, wake: { mode: "Request", hosts: ["m.team-a", "llm.example.com", "chat.team-a.example.com"] } } },
      [{ path: "spec.autoscaling.wake.hosts[1]", message: `llm.example.com is not allowed by ${by} (allowed: *.team-a.example.com)` }],
    ],
    [
      "an outside wake host with no list",
      {},
      { autoscaling: { ...TO_ZERO, wake: { mode: "Request", hosts: ["llm.example.com"] } } },
      [
        {
          path: "spec.autoscaling.wake.hosts[0]",
          message: `llm.example.com is not allowed by ${by} (allowed: names of the ModelService's own namespace only; a ModelServiceClass's allow.wakeHosts can list others)`,
        },
      ],
    ],
  ])("%s", (_name, classSpec, spec, want) => {
    expect(classViolations(ms(spec).spec, klass("gpu-shared", classSpec), defaultOperatorConfig, "team-a")).toEqual(want);
  });
});

const podOf = (d: V1Deployment | undefined) => d?.spec?.template.spec;

describe("render under a class", () => {
  it("imposes the class's scheduling on the pod and merges the tenant's where allowed, the class winning", () => {
    const cls = klass("gpu-shared", {
      ...POOL,
      allow: { scheduling: true },
      scheduling: {
        ...POOL.scheduling,
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: "pool", operator: "In", values: ["a", "b"] }] }],
            },
          },
        },
      },
    });
    const m = ms({
      scheduling: {
        nodeSelector: { zone: "z1" },
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: "x", operator: "Exists" }] }, { matchExpressions: [{ key: "y", operator: "Exists" }] }],
            },
          },
        },
      },
    });
    const pod = podOf(render(m, defaultOperatorConfig, cls).deployment);
    expect(pod?.nodeSelector).toEqual({ zone: "z1", pool: "h100" });
    expect(pod?.priorityClassName).toBe("gpu-tenant");
    expect(pod?.runtimeClassName).toBe("nvidia");
    expect(pod?.tolerations).toContainEqual({ key: "pool", operator: "Equal", value: "h100", effect: "NoSchedule" });
    // (class term) AND (tenant term 1 OR tenant term 2): two terms, each holding both.
    const terms = pod?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
    expect(terms.map((t) => (t.matchExpressions ?? []).map((e) => e.key).filter((k) => k !== "nvidia.com/gpu.product"))).toEqual([
      ["pool", "x"],
      ["pool", "y"],
    ]);
  });

  it("applies the class's default resources only when the ModelService sets none", () => {
    const cls = klass("c", { defaults: { resources: { requests: { cpu: "4", memory: "32Gi" } } } });
    const engine = (spec: SpecPatch) => podOf(render(ms(spec), defaultOperatorConfig, cls).deployment)?.containers[0]?.resources;
    expect(engine({})?.requests).toMatchObject({ cpu: "4", memory: "32Gi" });
    expect(engine({ resources: { requests: { cpu: "1" } } })?.requests?.memory).toBeUndefined();
  });

  it("uses the class's security profile (Restricted unless it says Baseline) and ephemeral-storage limit", () => {
    const baseline = {
      ...defaultOperatorConfig,
      podSecurity: { profile: "Baseline" as const, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, ephemeralStorageLimit: "200Gi" },
    };
    const restricted = podOf(render(ms(), baseline, klass("c", { defaults: { ephemeralStorage: "50Gi" } })).deployment);
    expect(restricted?.securityContext?.runAsNonRoot).toBe(true);
    expect(restricted?.containers[0]?.resources?.limits?.["ephemeral-storage"]).toBe("50Gi");
    const relaxed = podOf(render(ms(), defaultOperatorConfig, klass("c", { securityProfile: "Baseline" })).deployment);
    expect(relaxed?.securityContext?.runAsNonRoot).toBeUndefined();
  });

  it("renders nothing for a spec the class forbids, and says which class", () => {
    let err: unknown;
    try {
      render(ms({ service: { type: "NodePort" } }), defaultOperatorConfig, klass("gpu-shared"));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ClassViolationError);
    expect((err as ClassViolationError).className).toBe("gpu-shared");
    expect((err as Error).message).toBe("spec.service.type: NodePort is not allowed by ModelServiceClass gpu-shared (allowed: ClusterIP)");
  });

  it("without a class, renders exactly as before", () => {
    const m = ms({ scheduling: { priorityClassName: "high" }, service: { type: "NodePort" } });
    expect(render(m, defaultOperatorConfig, undefined)).toEqual(render(m, defaultOperatorConfig));
    expect(render(m, defaultOperatorConfig).service.spec?.type).toBe("NodePort");
  });
});
