// Every example, rendered with the default (Restricted) pod security profile, is admitted in a
// namespace enforcing the `restricted` Pod Security Standard: each pod template (the Deployment's,
// or a LeaderWorkerSet's leader and worker) is created as a Pod with dryRun=All, so the API
// server's PodSecurity admission judges it. The Baseline profile is refused there, so this test
// can tell the two apart. The same under the example ModelServiceClass, whose Restricted profile
// wins over an operator config saying Baseline.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type ModelServiceClass, modelServiceClassSchema } from "../../src/api/class-schema.ts";
import { modelServiceSchema } from "../../src/api/schema.ts";
import { PLACEHOLDER_UID } from "../../src/cli/render-command.ts";
import { defaultOperatorConfig, type OperatorConfig } from "../../src/config/operator-config.ts";
import { isApiError, resourcePath } from "../../src/kube/client.ts";
import { podTemplates, render } from "../../src/render/index.ts";
import { DEFAULT_POD_SECURITY } from "../../src/render/pod-security.ts";
import { client, deleteNamespace } from "./kube-helpers.ts";

const c = client();
const namespace = `restricted-${Date.now().toString(36)}`;
const examplesDir = fileURLToPath(new URL("../../examples", import.meta.url));
const examples = readdirSync(examplesDir)
  .filter((f) => f.endsWith(".yaml"))
  .sort();

beforeAll(async () => {
  const labels = { "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest" };
  await c.request("POST", "/api/v1/namespaces", { body: { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace, labels } } });
  // No controller-manager may have made it yet; pods need their ServiceAccount.
  try {
    await c.request("POST", resourcePath({ apiVersion: "v1", plural: "serviceaccounts", namespace }), {
      body: { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default" } },
    });
  } catch (e) {
    if (!isApiError(e, 409)) throw e;
  }
});

// The example class's PriorityClass: admission refuses a pod naming one that does not exist.
let createdPriorityClass = false;
beforeAll(async () => {
  try {
    await c.request("POST", "/apis/scheduling.k8s.io/v1/priorityclasses", {
      body: { apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name: "gpu-tenant" }, value: 1000 },
    });
    createdPriorityClass = true;
  } catch (e) {
    if (!isApiError(e, 409)) throw e;
  }
});

afterAll(async () => {
  await deleteNamespace(c, namespace);
  if (createdPriorityClass) await c.request("DELETE", "/apis/scheduling.k8s.io/v1/priorityclasses/gpu-tenant").catch(() => {});
});

/** The API server's refusals of the example's pods, joined, or "" when every one is admitted. */
async function admitPod(file: string, config: OperatorConfig, cls?: ModelServiceClass): Promise<string> {
  const raw = parse(readFileSync(join(examplesDir, file), "utf8"));
  raw.metadata = { ...raw.metadata, namespace, uid: PLACEHOLDER_UID };
  const templates = podTemplates(render(modelServiceSchema.parse(raw), config, cls));
  expect(templates.length).toBeGreaterThan(0);
  const refusals: string[] = [];
  for (const [i, template] of templates.entries()) {
    const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: `${raw.metadata.name}-pod-${i}`, labels: template.metadata?.labels }, spec: template.spec };
    try {
      await c.request("POST", resourcePath({ apiVersion: "v1", plural: "pods", namespace }), { body: pod, query: { dryRun: "All" } });
    } catch (e) {
      if (!isApiError(e, 403) && !isApiError(e, 422)) throw e;
      refusals.push(String((e.body as { message?: string } | undefined)?.message ?? e.message));
    }
  }
  return refusals.join("; ");
}

describe("a namespace enforcing the restricted Pod Security Standard", () => {
  it("there are examples", () => {
    expect(examples.length).toBeGreaterThanOrEqual(7);
  });

  it.each(examples)("admits the pod of %s (Restricted profile)", async (file) => {
    expect(await admitPod(file, defaultOperatorConfig)).toBe("");
  });

  // The example class says Restricted; a class decides even when the operator config says Baseline.
  const exampleClass = modelServiceClassSchema.parse(parse(readFileSync(join(examplesDir, "classes", "gpu-shared.yaml"), "utf8"))) as ModelServiceClass;
  it.each(examples)("admits the pod of %s under the example ModelServiceClass", async (file) => {
    expect(await admitPod(file, { ...defaultOperatorConfig, podSecurity: { ...DEFAULT_POD_SECURITY, profile: "Baseline" } }, exampleClass)).toBe("");
  });

  it("refuses the same pods under the Baseline profile", async () => {
    const baseline: OperatorConfig = {
      ...defaultOperatorConfig,
      podSecurity: { profile: "Baseline", runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, ephemeralStorageLimit: "200Gi" },
    };
    expect(await admitPod(examples[0] ?? "", baseline)).toMatch(/violates PodSecurity "restricted:latest".*runAsNonRoot/);
  });
});
