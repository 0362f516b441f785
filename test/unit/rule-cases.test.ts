import { describe, expect, it } from "vitest";
import { crdRules, type RuleVisit } from "../../src/api/cel.ts";
import { modelServiceSchema } from "../../src/api/schema.ts";
import { droppedFields } from "../../src/api/zod-issues.ts";
import { offlineProblems } from "../support/admission.ts";
import { caseObject, patchedPaths, RULE_CASES } from "../support/rule-cases.ts";

const key = (node: string, rule: string) => `${node} ${rule}`;
/** `spec.resources.requests[cpu]` (a map key, as the API server writes it) → `spec.resources.requests.cpu`. */
const dotted = (path: string) => path.replace(/\[([^\]]+)\]/g, (m, k: string) => (/^[0-9]+$/.test(k) ? m : `.${k}`));

describe("the admission case table, offline (zod shape, then the CRD's CEL rules)", () => {
  it.each(RULE_CASES.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const problems = offlineProblems(caseObject(c));
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
    const failedBy = new Map<string, string[]>();
    const passedBy = new Map<string, string[]>();
    for (const c of RULE_CASES) {
      const visits: RuleVisit[] = [];
      offlineProblems(caseObject(c), (v) => visits.push(v));
      const touched = patchedPaths(c.patch);
      for (const v of visits) {
        const k = key(v.node, v.rule.rule);
        if (c.expect === "valid") {
          // A valid case counts for a rule when it sets a field at, above or below where the rule reports.
          const at = dotted(v.path);
          if (v.passed && touched.some((p) => p.startsWith(at) || at.startsWith(p))) passedBy.set(k, [...(passedBy.get(k) ?? []), c.name]);
        } else if (!v.passed && v.path === c.expect.path && (v.rule.message ?? "").includes(c.expect.message)) {
          failedBy.set(k, [...(failedBy.get(k) ?? []), c.name]);
        }
      }
    }
    const rules = crdRules();
    expect(rules.length).toBeGreaterThan(30);
    const uncovered = rules.flatMap(({ node, rule }) => {
      const k = key(node, rule.rule);
      return [
        ...(failedBy.has(k) ? [] : [`${node}: no invalid case for "${rule.message}"`]),
        ...(passedBy.has(k) ? [] : [`${node}: no valid case for "${rule.message}"`]),
      ];
    });
    expect(uncovered).toEqual([]);
  });
});
