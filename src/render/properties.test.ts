// Property tests: for any ModelService the schema accepts, render either throws InvalidSpecError or
// returns children Kubernetes would accept, with the invariants the controller relies on.
import type { V1Container, V1PodSpec } from "@kubernetes/client-node";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { modelService as build, inNamespace, withUid, withWholeSpec } from "../../test/support/model-service.ts";
import { celViolations } from "../api/cel.ts";
import { ENGINE_TYPES, modelServiceSchema } from "../api/schema.ts";
import type { ModelService } from "../api/types.ts";
import { defaultOperatorConfig, type OperatorConfig } from "../config/operator-config.ts";
import { InvalidSpecError, orderedChildren, render } from "./index.ts";

const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const validLabelValue = (v: string) => v.length <= 63 && LABEL_VALUE.test(v);
function validLabelKey(k: string): boolean {
  const i = k.indexOf("/");
  const [prefix, name] = i < 0 ? [undefined, k] : [k.slice(0, i), k.slice(i + 1)];
  if (prefix !== undefined && !(prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix))) return false;
  return name.length >= 1 && validLabelValue(name);
}

const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const seg = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,8}$/);
const rarely = <T>(usual: fc.Arbitrary<T>, rare: fc.Arbitrary<T>) => fc.oneof({ weight: 9, arbitrary: usual }, { weight: 1, arbitrary: rare });
const path = fc.array(rarely(fc.constantFrom("a", "b.c", "models", "v1"), fc.constant("..")), { maxLength: 3 }).map((p) => p.join("/"));
const bucket = fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,10}[a-z0-9]$/);

const name = fc.oneof(
  fc.stringMatching(/^[a-z]([-a-z0-9]{0,20}[a-z0-9])?$/),
  fc.integer({ min: 50, max: 63 }).map((n) => `m${"a-".repeat(n).slice(0, n - 2)}z`),
);

const uri = fc.oneof(
  fc.constant(undefined),
  fc.tuple(seg, seg, opt(seg)).map(([o, n, r]) => `hf://${o}/${n}${r ? `@${r}` : ""}`),
  fc.tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/), path).map(([c, p]) => `pvc://${c}${p ? `/${p}` : ""}`),
  fc.tuple(fc.constantFrom("s3", "gs"), bucket, path).map(([s, b, p]) => `${s}://${b}${p ? `/${p}` : ""}`),
  fc.tuple(seg, opt(seg)).map(([n, t]) => `ollama://${n}${t ? `:${t}` : ""}`),
);

// Mostly valid, sometimes what Kubernetes would refuse (render must report it, not emit it).
const labelMap = rarely(
  fc.dictionary(fc.constantFrom("team", "zone", "example.com/tier", "app.kubernetes.io/name"), fc.constantFrom("x", "", "gpu-pool", "ok.v1"), { maxKeys: 3 }),
  fc.dictionary(fc.constantFrom("team", "bad key", "a/b/c"), fc.constantFrom("x", "-bad", "y".repeat(64)), { minKeys: 1, maxKeys: 2 }),
);

const quantity = fc.constantFrom<string | number>("1", "500m", "2Gi", 4);

const spec = fc.record(
  {
    model: fc.record(
      { uri, servedName: opt(fc.constantFrom("chat", "org/model:v1")), credentialsSecret: opt(fc.constantFrom("hf-token", "creds.v1")) },
      { requiredKeys: [] },
    ),
    engine: fc.record(
      {
        type: fc.constantFrom(...ENGINE_TYPES),
        image: opt(fc.constantFrom("acme/engine:1", "")),
        args: opt(fc.array(fc.constantFrom("--model", "--model=/w", "--model-path", "--model-id", "--model-repository=/r", "--x", "1"), { maxLength: 3 })),
        env: opt(fc.array(fc.record({ name: fc.constantFrom("A", "OLLAMA_HOST", "HF_HOME", "PORT"), value: fc.constantFrom("1", "x") }), { maxLength: 2 })),
        port: opt(fc.integer({ min: 1, max: 65535 })),
      },
      { requiredKeys: ["type"] },
    ),
    gpu: fc.record(
      {
        count: fc.integer({ min: 0, max: 9 }),
        resourceName: opt(fc.constantFrom("nvidia.com/gpu", "amd.com/gpu", "nvidia.com/mig-1g.10gb")),
        products: opt(fc.array(fc.constantFrom("NVIDIA-H100-80GB-HBM3", "NVIDIA-L4"), { minLength: 1, maxLength: 2 })),
        minMemoryMiB: opt(fc.integer({ min: 1, max: 100000 })),
      },
      { requiredKeys: ["count"] },
    ),
    resources: fc.record(
      {
        requests: rarely<Record<string, string | number>>(
          fc.record({ cpu: quantity, memory: quantity }, { requiredKeys: [] }),
          fc.constant({ "nvidia.com/gpu": 1 }),
        ),
        // At least any request above: a limit below its request is a CEL rule, tested in the case table.
        limits: rarely<Record<string, string | number>>(
          fc.record({ memory: fc.constantFrom("2Gi", "4Gi") }, { requiredKeys: [] }),
          fc.constant({ "amd.com/gpu": 1 }),
        ),
      },
      { requiredKeys: [] },
    ),
    sharedMemory: quantity,
    startup: fc.record({ timeoutSeconds: fc.integer({ min: 30, max: 86400 }) }),
    rollout: fc.record(
      { maxSurge: fc.constantFrom<string | number>(0, 1, "25%", "0%"), maxUnavailable: fc.constantFrom<string | number>(0, 1, "50%") },
      { requiredKeys: [] },
    ),
    scheduling: fc.record(
      {
        nodeSelector: labelMap,
        tolerations: fc.constant([{ key: "dedicated", operator: "Exists" }]),
        affinity: fc.constantFrom(
          {},
          {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] }] },
            },
          },
          { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] } },
        ),
        priorityClassName: fc.constant("high"),
        runtimeClassName: fc.constant("nvidia"),
      },
      { requiredKeys: [] },
    ),
    service: fc.record({ type: fc.constantFrom("ClusterIP", "NodePort", "LoadBalancer"), port: fc.integer({ min: 1, max: 65535 }) }, { requiredKeys: [] }),
    podMetadata: fc.record({ labels: labelMap, annotations: labelMap }, { requiredKeys: [] }),
    cache: fc.record(
      {
        size: quantity,
        storageClassName: fc.constantFrom("", "fast"),
        accessMode: rarely(fc.constantFrom("ReadWriteOnce", "ReadWriteMany"), fc.constant("ReadWriteOncePod")),
        deleteOnRemoval: fc.boolean(),
      },
      { requiredKeys: ["size"] },
    ),
  },
  { requiredKeys: ["model", "engine"] },
);

const autoscaling = fc
  .record(
    {
      minReplicas: fc.integer({ min: 0, max: 3 }),
      maxReplicas: fc.integer({ min: 1, max: 6 }),
      behavior: fc.constant({ scaleDown: { stabilizationWindowSeconds: 300 } }),
      how: fc.oneof(
        fc.record({ target: fc.record({ inFlightRequests: fc.integer({ min: 1, max: 64 }) }) }),
        fc.record({ target: fc.record({ cpuUtilization: fc.integer({ min: 1, max: 100 }) }) }),
        fc.record({ target: fc.record({ gpuUtilization: fc.integer({ min: 1, max: 100 }) }) }),
        fc.constant({ metrics: [{ type: "Resource", resource: { name: "memory", target: { type: "Utilization", averageUtilization: 80 } } }] }),
      ),
    },
    { requiredKeys: ["minReplicas", "maxReplicas", "how"] },
  )
  .map(({ how, ...rest }) => ({ ...rest, ...how }));

// At most one of replicas and autoscaling (the schema rejects both).
const scaling = fc.oneof(fc.constant({}), fc.record({ replicas: fc.integer({ min: 0, max: 5 }) }), fc.record({ autoscaling }));

const modelService: fc.Arbitrary<ModelService> = fc
  .record({ name, namespace: fc.constantFrom("default", "ml-prod"), spec, scaling })
  .map(({ name, namespace, spec, scaling }) =>
    modelServiceSchema.safeParse(build(name, inNamespace(namespace), withUid("u-1"), withWholeSpec({ ...spec, ...scaling }))),
  )
  // What admission accepts: the field shapes (zod) and the CRD's CEL rules.
  .filter((r) => r.success && celViolations(r.data).length === 0)
  .map((r) => r.data as ModelService);

const config: fc.Arbitrary<OperatorConfig> = fc.boolean().map((enabled) => ({ ...defaultOperatorConfig, keda: { ...defaultOperatorConfig.keda, enabled } }));

function checkChildren(ms: ModelService, cfg: OperatorConfig): void {
  const out = render(ms, cfg);
  const children = orderedChildren(out);
  for (const c of children) {
    const n = c.metadata?.name ?? "";
    expect(n.length, n).toBeLessThanOrEqual(63);
    expect(n).toMatch(DNS1035);
    for (const [k, v] of Object.entries(c.metadata?.labels ?? {})) expect(validLabelKey(k) && validLabelValue(v), `${k}=${v}`).toBe(true);
    expect(c.metadata?.ownerReferences?.[0]).toMatchObject({ uid: "u-1", controller: true, blockOwnerDeletion: true });
  }
  if (!out.deployment) throw new Error("no Deployment");
  const template = out.deployment.spec?.template;
  const templateLabels = template?.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(templateLabels)) expect(validLabelKey(k) && validLabelValue(v), `${k}=${v}`).toBe(true);
  const selectors = [out.deployment.spec?.selector.matchLabels, out.service.spec?.selector, out.pdb?.spec?.selector?.matchLabels];
  for (const sel of selectors) for (const [k, v] of Object.entries(sel ?? {})) expect(templateLabels[k]).toBe(v);
  expect(out.deployment.spec?.selector.matchLabels).toEqual({ "modelservice.dev/name": ms.metadata.name });

  const pod = template?.spec as V1PodSpec;
  const engine = pod.containers.find((c) => c.name === "engine") as V1Container;
  expect(pod.containers).toHaveLength(1);
  for (const init of pod.initContainers ?? []) expect(init.name).toBe("model-download");
  const count = ms.spec.gpu?.count ?? 0;
  const gpuResource = ms.spec.gpu?.resourceName ?? cfg.gpu.resourceName;
  if (count > 0) {
    expect(engine.resources?.limits?.[gpuResource]).toBe(String(count));
    expect(pod.tolerations?.[0]).toEqual({ key: cfg.gpu.taintKey, operator: "Exists", effect: "NoSchedule" });
  } else {
    expect(engine.resources?.limits?.[gpuResource]).toBeUndefined();
    expect(engine.resources?.requests?.[gpuResource]).toBeUndefined();
  }
  for (const init of pod.initContainers ?? []) expect(JSON.stringify(init.resources ?? {})).not.toContain("gpu");
  // Every mount refers to a volume.
  const volumes = new Set((pod.volumes ?? []).map((v) => v.name));
  for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) for (const m of c.volumeMounts ?? []) expect(volumes.has(m.name), m.name).toBe(true);

  const budget = ms.spec.startup?.timeoutSeconds ?? cfg.defaults.startupTimeoutSeconds;
  expect((engine.startupProbe?.failureThreshold ?? 0) * (engine.startupProbe?.periodSeconds ?? 0)).toBeGreaterThanOrEqual(budget);
  expect(out.deployment.spec?.progressDeadlineSeconds ?? 0).toBeGreaterThan(budget);
  expect(out.deployment.spec?.replicas === undefined).toBe(ms.spec.autoscaling !== undefined);
  expect(out.hpa && out.scaledObject).toBeUndefined();
  if (ms.spec.autoscaling) expect(out.hpa ?? out.scaledObject).toBeDefined();
  const { maxSurge, maxUnavailable } = out.deployment.spec?.strategy?.rollingUpdate ?? {};
  expect([maxSurge, maxUnavailable].every((v) => v === 0 || v === "0%")).toBe(false);
}

describe("render properties", () => {
  it("never throws anything but InvalidSpecError, and its output is valid and deterministic", () => {
    let rendered = 0;
    fc.assert(
      fc.property(modelService, config, (ms, cfg) => {
        const before = structuredClone(ms);
        // JSON keeps key order, so equal JSON means byte-identical YAML (childrenYaml is a pure
        // function of it); the YAML itself is compared in render.test.ts, 10x slower to produce.
        let json: string;
        try {
          json = JSON.stringify(orderedChildren(render(ms, cfg)));
        } catch (e) {
          expect(e).toBeInstanceOf(InvalidSpecError);
          const problems = (e as InvalidSpecError).problems;
          expect(problems.length).toBeGreaterThan(0);
          for (const p of problems) expect(p.path).toMatch(/^(spec|metadata)\./);
          return;
        }
        rendered++;
        expect(ms).toEqual(before);
        expect(JSON.stringify(orderedChildren(render(structuredClone(ms), cfg)))).toBe(json);
        checkChildren(ms, cfg);
      }),
      { numRuns: 300 },
    );
    // The arbitrary must exercise the success path, not only rejections.
    expect(rendered).toBeGreaterThan(60);
  });
});
