// The admission case table (test/support/rule-cases.ts) against the real API server with the
// generated CRD installed: each case is created with dryRun=All (an update case: its object before
// is created, then replaced with dryRun=All), and the API server's verdict, field path and message
// must be those the offline evaluator gives (test/unit/rule-cases.test.ts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLASS_PLURAL } from "../../src/api/class-schema.ts";
import { GROUP, PLURAL, VERSION } from "../../src/api/schema.ts";
import { isApiError, resourcePath } from "../../src/kube/client.ts";
import { installCrd } from "../../src/operator/install-crd.ts";
import { offlineClassProblems, offlineProblems } from "../support/admission.ts";
import { CLASS_RULE_CASES, classCaseObject } from "../support/class-rule-cases.ts";
import { caseBefore, caseObject, RULE_CASES } from "../support/rule-cases.ts";
import { client, createNamespace, deleteNamespace } from "./kube-helpers.ts";

const c = client();
let namespace = "";

beforeAll(async () => {
  await installCrd(c);
  namespace = await createNamespace(c, "admission");
});

afterAll(async () => {
  if (namespace) await deleteNamespace(c, namespace);
});

/** The API server's rejection message for a dry-run create, or "" when it admits the object. */
async function admission(obj: Record<string, unknown>, plural = PLURAL): Promise<string> {
  try {
    // Strict: an unknown field is refused (400) instead of pruned with a warning.
    const ns = plural === CLASS_PLURAL ? {} : { namespace };
    await c.request("POST", resourcePath({ apiVersion: `${GROUP}/${VERSION}`, plural, ...ns }), {
      body: obj,
      query: { dryRun: "All", fieldValidation: "Strict" },
    });
    return "";
  } catch (e) {
    if (!isApiError(e, 422) && !isApiError(e, 400)) throw e;
    return String((e.body as { message?: string } | undefined)?.message ?? e.message);
  }
}

/**
 * For an update case: creates the object before (for real, under its own name), then the API
 * server's verdict on a dry-run replace with the case's object, as `admission` gives it.
 */
async function updateAdmission(before: Record<string, unknown>, after: Record<string, unknown>, name: string): Promise<string> {
  const path = resourcePath({ apiVersion: `${GROUP}/${VERSION}`, plural: PLURAL, namespace });
  const created = await c.request<{ metadata: { resourceVersion: string } }>("POST", path, {
    body: { ...before, metadata: { ...(before.metadata as object), name, namespace } },
  });
  try {
    await c.request("PUT", `${path}/${name}`, {
      body: { ...after, metadata: { ...(after.metadata as object), name, namespace, resourceVersion: created.metadata.resourceVersion } },
      query: { dryRun: "All", fieldValidation: "Strict" },
    });
    return "";
  } catch (e) {
    if (!isApiError(e, 422) && !isApiError(e, 400)) throw e;
    return String((e.body as { message?: string } | undefined)?.message ?? e.message);
  }
}

describe("the API server and the offline evaluator agree on every case", () => {
  it.each(RULE_CASES.map((rc, i) => [rc.name, rc, i] as const))("%s", async (_name, rc, i) => {
    const obj = caseObject(rc);
    const before = caseBefore(rc);
    const server = before
      ? await updateAdmission(before, obj, `update-case-${i}`)
      : await admission({ ...obj, metadata: { ...(obj.metadata as object), namespace } });
    const offline = offlineProblems(obj, undefined, before);
    if (rc.expect === "valid") {
      expect(server).toBe("");
      expect(offline).toEqual([]);
      return;
    }
    if (rc.unknownField) {
      expect(server).toContain(rc.serverMessage);
      return;
    }
    expect(server).toContain(`${rc.expect.path}: `);
    expect(server).toContain(rc.serverMessage ?? rc.expect.message);
    // Every rule the evaluator reports, the API server reports too, at the same path (1.36 prints
    // `path: Invalid value: [value: ]message`).
    if (rc.serverMessage === undefined) {
      for (const p of offline) {
        expect(server).toContain(`${p.path}: Invalid value: `);
        expect(server).toContain(`: ${p.message}`);
      }
    }
  });
});

describe("the API server and the offline evaluator agree on every ModelServiceClass case", () => {
  it.each(CLASS_RULE_CASES.map((rc) => [rc.name, rc] as const))("%s", async (_name, rc) => {
    const obj = classCaseObject(rc);
    const server = await admission(obj, CLASS_PLURAL);
    const offline = offlineClassProblems(obj);
    if (rc.expect === "valid") {
      expect(server).toBe("");
      expect(offline).toEqual([]);
      return;
    }
    expect(server).toContain(`${rc.expect.path}: `);
    expect(server).toContain(rc.expect.message);
    for (const p of offline) expect(server).toContain(`${p.path}: Invalid value: `);
  });
});
