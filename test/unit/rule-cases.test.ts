import { describe, expect, it } from "vitest";
import { crdRules } from "../../src/api/cel.ts";
import { modelServiceSchema } from "../../src/api/schema.ts";
import { droppedFields } from "../../src/api/zod-issues.ts";
import { offlineProblems } from "../support/admission.ts";
import { caseBefore, caseObject, RULE_CASES } from "../support/rule-cases.ts";
import { uncoveredRules } from "../support/rule-coverage.ts";

describe("the admission case table, offline (zod shape, then the CRD's CEL rules)", () => {
  it.each(RULE_CASES.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const problems = offlineProblems(caseObject(c), undefined, caseBefore(c));
    if (c.unknownField && c.expect !== "valid") {
      // Parsing drops it; render reports what it dropped.
      expect(problems).toEqual([]);
      const parsed = modelServiceSchema.parse(caseObject(c));
      expect(droppedFields(caseObject(c), parsed)).toEqual([c.expect.path]);
    } else if (c.expect === "valid") expect(problems).toEqual([]);
    else expect(problems).toContainEqual({ path: c.expect.path, message: expect.stringContaining(c.expect.message) });
  });

  it("holds at least 60 invalid cases, of every kind", () => {
    expect(RULE_CASES.filter((c) => c.expect !== "valid").length).toBeGreaterThanOrEqual(60);
  });

  it("has, for every CEL rule in the CRD, an invalid case it rejects and a valid case touching its field", () => {
    const rules = crdRules();
    expect(rules.length).toBeGreaterThan(30);
    expect(uncoveredRules(RULE_CASES, caseObject, offlineProblems, rules, caseBefore)).toEqual([]);
  });
});
