// Property test against the real API server (issue 15, item 5): ModelServices built from random
// combinations of the admission table's valid cases, kept when the schema and the CEL rules accept
// them, render children the API server accepts (server-side dry-run create, strict field
// validation). Seeded and bounded; the seed is printed so a failure can be replayed (FC_SEED=...).
import type { KubernetesObject } from "@kubernetes/client-node";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ModelService } from "../../src/api/types.ts";
import { defaultOperatorConfig } from "../../src/config/operator-config.ts";
import { resourcePath } from "../../src/kube/client.ts";
import { errorMessage } from "../../src/kube/errors.ts";
import { InvalidSpecError } from "../../src/render/errors.ts";
import { CHILD_KINDS, orderedChildren, render } from "../../src/render/index.ts";
import { offlineProblems } from "../support/admission.ts";
import { caseObject, RULE_CASES } from "../support/rule-cases.ts";
import { client, createNamespace, deleteNamespace } from "./kube-helpers.ts";

const c = client();
let namespace = "";
const SEED = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
const RUNS = 40;

beforeAll(async () => {
  namespace = await createNamespace(c, "props");
});
afterAll(async () => {
  if (namespace) await deleteNamespace(c, namespace);
});

const VALID = RULE_CASES.filter((rc) => rc.expect === "valid" && !rc.unknownField);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
function merge(a: unknown, b: unknown): unknown {
  if (!isRecord(a) || !isRecord(b)) return b;
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = merge(a[k], v);
  return out;
}

/** Up to three valid cases merged: combinations the table never lists one by one. */
const combined = fc.array(fc.constantFrom(...VALID), { minLength: 1, maxLength: 3 }).map((cases) => {
  const obj = cases.map(caseObject).reduce((acc, o) => merge(acc, o) as Record<string, unknown>);
  return { names: cases.map((x) => x.name), obj };
});

async function dryRunCreate(child: KubernetesObject): Promise<string> {
  const kind = CHILD_KINDS.find((k) => k.kind === child.kind && k.apiVersion === child.apiVersion);
  if (!kind) return `no child kind for ${child.apiVersion} ${child.kind}`;
  try {
    await c.request("POST", resourcePath({ apiVersion: kind.apiVersion, plural: kind.plural, namespace }), {
      body: { ...child, metadata: { ...child.metadata, namespace } },
      query: { dryRun: "All", fieldValidation: "Strict" },
    });
    return "";
  } catch (e) {
    return `${child.kind} ${child.metadata?.name}: ${errorMessage(e)}`;
  }
}

describe("random admitted ModelServices render children the API server accepts", () => {
  it(`${RUNS} seeded cases`, async () => {
    console.log(`[measure] render properties against the API server: seed ${SEED} (replay with FC_SEED=${SEED}), ${RUNS} runs`);
    let admitted = 0;
    await fc.assert(
      fc.asyncProperty(combined, async ({ names, obj }) => {
        if (offlineProblems(obj).length > 0) return; // a combination admission refuses: not this property
        const ms = { ...obj, metadata: { ...(obj.metadata as object), namespace, uid: "00000000-0000-0000-0000-000000000001" } } as ModelService;
        // Only the kinds the controller applies (the optional ones need third-party CRDs).
        let rendered: KubernetesObject[];
        try {
          rendered = orderedChildren(render(ms, defaultOperatorConfig));
        } catch (e) {
          if (e instanceof InvalidSpecError) return; // refused with the field, as the status would say
          throw e;
        }
        const children = rendered.filter((ch) => CHILD_KINDS.some((k) => k.kind === ch.kind && !k.optional && k.key !== "scaledObject"));
        admitted++;
        const refused = (await Promise.all(children.map(dryRunCreate))).filter(Boolean);
        expect(refused, `combination: ${names.join(" + ")}`).toEqual([]);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    console.log(`[measure] ${admitted} of ${RUNS} combinations admitted offline and dry-run created`);
    expect(admitted).toBeGreaterThan(0);
  });
});
