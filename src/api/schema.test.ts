// zod checks each field's shape and type. Cross-field rules are CEL only: their cases are in
// test/support/rule-cases.ts (run offline by test/unit/rule-cases.test.ts and against the API server).
import { describe, expect, it } from "vitest";
import { manifest, modelService } from "../../test/support/model-service.ts";
import { celViolations } from "./cel.ts";
import { modelServiceSchema } from "./schema.ts";

/** The builder's minimal ModelService as raw input, its parts loosely typed so tests can break them. */
const base = () => {
  const { metadata, spec, ...rest } = manifest(modelService("demo"));
  return { ...rest, metadata: metadata as Record<string, unknown>, spec: spec as Record<string, unknown> };
};

const issues = (doc: unknown) => {
  const r = modelServiceSchema.safeParse(doc);
  return r.success ? [] : r.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
};

type Case = [title: string, spec: Record<string, unknown>, path: string, message: string];

// Field rules (OpenAPI in the CRD).
const FIELD_RULES: Case[] = [
  [
    "unknown URI scheme",
    { model: { uri: "ftp://host/model" } },
    "spec.model.uri",
    "must be hf://ORG/NAME[@REVISION], s3://BUCKET/PATH, gs://BUCKET/PATH, pvc://CLAIM/PATH or ollama://NAME[:TAG]",
  ],
  [
    "Secret name with capitals",
    { model: { uri: "hf://a/b", credentialsSecret: "HF" } },
    "spec.model.credentialsSecret",
    "must be a Secret name (DNS-1123 subdomain)",
  ],
  ["bad quantity", { sharedMemory: "lots" }, "spec.sharedMemory", "must be a Kubernetes quantity such as 16Gi or 500m"],
  ["bad surge", { rollout: { maxSurge: "one" } }, "spec.rollout.maxSurge", "must be an integer or a percentage such as 25%"],
  ["negative quantity", { sharedMemory: "-1Gi" }, "spec.sharedMemory", "must be a Kubernetes quantity such as 16Gi or 500m"],
  [
    "negative minReplicas",
    { autoscaling: { minReplicas: -1, maxReplicas: 2, target: { cpuUtilization: 50 } } },
    "spec.autoscaling.minReplicas",
    "Too small: expected number to be >=0",
  ],
  ["bad GPU resource name", { gpu: { count: 1, resourceName: "gpu" } }, "spec.gpu.resourceName", "must be an extended resource name such as nvidia.com/gpu"],
  [
    "too many node selector entries",
    { scheduling: { nodeSelector: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, "v"])) } },
    "spec.scheduling.nodeSelector",
    "must have at most 32 entries",
  ],
];

describe("schema validation", () => {
  it("accepts a minimal ModelService", () => {
    expect(issues(base())).toEqual([]);
  });

  it.each(FIELD_RULES)("%s", (_title, spec, path, message) => {
    const doc = base();
    doc.spec = { ...doc.spec, ...spec };
    expect(issues(doc)).toContainEqual({ path, message });
  });

  it("range checks on numbers", () => {
    const doc = base();
    doc.spec = { ...doc.spec, gpu: { count: 65 }, startup: { timeoutSeconds: 10 } };
    expect(issues(doc).map((i) => i.path)).toEqual(["spec.gpu.count", "spec.startup.timeoutSeconds"]);
  });

  it("leaves cross-field rules to CEL: zod accepts what only a CEL rule refuses", () => {
    const doc = base();
    doc.spec = { ...doc.spec, replicas: 2, autoscaling: { minReplicas: 1, maxReplicas: 2, metrics: [{ type: "Resource" }] } };
    const parsed = modelServiceSchema.safeParse(doc);
    expect(parsed.success).toBe(true);
    expect(celViolations(parsed.data)).toEqual([{ path: "spec", message: "spec.replicas and spec.autoscaling are mutually exclusive: set one" }]);
  });
});
