// spec.access / spec.expose / spec.tls at admission: every case of test/support/rule-cases-security.ts
// is created (dry run) on the real API server with the generated CRD; valid ones are admitted,
// invalid ones rejected naming the field and the rule.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isApiError } from "../../src/kube/client.ts";
import { installCrd } from "../../src/operator/install-crd.ts";
import { SECURITY_RULE_CASES, specOf } from "../support/rule-cases-security.ts";
import { createNamespace, deleteNamespace, testClient } from "./controller-helpers.ts";

const client = testClient();
let ns = "";

type Cause = { field?: string; message?: string };

/** The causes of a dry-run create's rejection; [] when admitted. */
async function causes(name: string, spec: Record<string, unknown>): Promise<Cause[]> {
  const body = { apiVersion: "modelservice.dev/v1alpha1", kind: "ModelService", metadata: { name, namespace: ns }, spec };
  try {
    await client.request("POST", `/apis/modelservice.dev/v1alpha1/namespaces/${ns}/modelservices`, { body, query: { dryRun: "All" } });
    return [];
  } catch (e) {
    if (!isApiError(e, 422)) throw e;
    const status = e.body as { details?: { causes?: Cause[] } };
    return status.details?.causes ?? [{ message: e.message }];
  }
}

beforeAll(async () => {
  await installCrd(client);
  ns = await createNamespace(client, "security-admission");
});

afterAll(async () => {
  if (ns) await deleteNamespace(client, ns);
});

describe("security fields at admission", () => {
  it.each(SECURITY_RULE_CASES.map((c, i) => [c.name, c, i] as const))("%s", async (_name, c, i) => {
    const got = await causes(`case-${i}`, specOf(c));
    if (c.expect === "valid") {
      expect(got).toEqual([]);
      return;
    }
    const { path, message } = c.expect;
    expect(got, JSON.stringify(got)).toContainEqual(expect.objectContaining({ field: path, message: expect.stringContaining(message) }));
  });
});
