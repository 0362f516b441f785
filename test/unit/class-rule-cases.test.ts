import { describe, expect, it } from "vitest";
import { classCrdSchema, crdRules } from "../../src/api/cel.ts";
import { offlineClassProblems } from "../support/admission.ts";
import { CLASS_RULE_CASES, classCaseObject } from "../support/class-rule-cases.ts";
import { uncoveredRules } from "../support/rule-coverage.ts";

describe("the ModelServiceClass admission case table, offline (zod shape, then the CRD's CEL rules)", () => {
  it.each(CLASS_RULE_CASES.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const problems = offlineClassProblems(classCaseObject(c));
    if (c.expect === "valid") expect(problems).toEqual([]);
    else expect(problems).toContainEqual({ path: c.expect.path, message: expect.stringContaining(c.expect.message) });
  });

  it("has, for every CEL rule in the class CRD, an invalid case it rejects and a valid case touching its field", () => {
    const rules = crdRules(classCrdSchema());
    expect(rules.length).toBeGreaterThan(10);
    expect(uncoveredRules(CLASS_RULE_CASES, classCaseObject, offlineClassProblems, rules)).toEqual([]);
  });
});
