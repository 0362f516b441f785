// Every example, rendered with the default (Restricted) pod security profile, is admitted in a
// namespace enforcing the `restricted` Pod Security Standard: each pod template (the Deployment's,
// or a LeaderWorkerSet's leader and worker) is created as a Pod with dryRun=All, so the API server's PodSecurity admission judges it. The
// Baseline profile is refused there, so this test can tell the two apart.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { modelServiceSchema } from "../../src/api/schema.ts";
import { PLACEHOLDER_UID } from "../../src/cli/render-command.ts";
import { defaultOperatorConfig, type OperatorConfig } from "../../src/config/operator-config.ts";
import { isApiError, resourcePath } from "../../src/kube/client.ts";
import { podTemplates, render } from "../../src/render/index.ts";
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

afterAll(async () => {
  await deleteNamespace(c, namespace);
});

/** The API server's refusals of the example's pods, joined, or "" when every one is admitted. */
async function admitPod(file: string, config: OperatorConfig): Promise<string> {
  const raw = parse(readFileSync(join(examplesDir, file), "utf8"));
  raw.metadata = { ...raw.metadata, namespace, uid: PLACEHOLDER_UID };
  const templates = podTemplates(render(modelServiceSchema.parse(raw), config));
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

  it("refuses the same pods under the Baseline profile", async () => {
    const baseline: OperatorConfig = {
      ...defaultOperatorConfig,
      podSecurity: { profile: "Baseline", runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, ephemeralStorageLimit: "200Gi" },
    };
    expect(await admitPod(examples[0] ?? "", baseline)).toMatch(/violates PodSecurity "restricted:latest".*runAsNonRoot/);
  });
});
