// Which CEL rules of a CRD a case table leaves uncovered: each rule needs an invalid case it
// rejects (at the case's path, with its message) and a valid case that sets a field at, above or
// below where the rule reports.
import type { CelRule, RuleVisit, Violation } from "../../src/api/cel.ts";
import { patchedPaths, type RuleCase } from "./rule-cases.ts";

const key = (node: string, rule: string) => `${node} ${rule}`;
/** `spec.resources.requests[cpu]` (a map key, as the API server writes it) → `spec.resources.requests.cpu`. */
const dotted = (path: string) => path.replace(/\[([^\]]+)\]/g, (m, k: string) => (/^[0-9]+$/.test(k) ? m : `.${k}`));

export function uncoveredRules(
  cases: RuleCase[],
  objectOf: (c: RuleCase) => unknown,
  problems: (doc: unknown, visit: (v: RuleVisit) => void, old?: unknown) => Violation[],
  rules: { node: string; rule: CelRule }[],
  /** For update cases: the object before (transition rules run only then). */
  beforeOf: (c: RuleCase) => unknown = () => undefined,
): string[] {
  const failedBy = new Set<string>();
  const passedBy = new Set<string>();
  for (const c of cases) {
    const visits: RuleVisit[] = [];
    problems(objectOf(c), (v) => visits.push(v), beforeOf(c));
    const touched = patchedPaths(c.patch);
    for (const v of visits) {
      const k = key(v.node, v.rule.rule);
      if (c.expect === "valid") {
        const at = dotted(v.path);
        if (v.passed && touched.some((p) => p.startsWith(at) || at.startsWith(p))) passedBy.add(k);
      } else if (!v.passed && v.path === c.expect.path && (v.rule.message ?? "").includes(c.expect.message)) {
        failedBy.add(k);
      }
    }
  }
  return rules.flatMap(({ node, rule }) => {
    const k = key(node, rule.rule);
    return [
      ...(failedBy.has(k) ? [] : [`${node}: no invalid case for "${rule.message}"`]),
      ...(passedBy.has(k) ? [] : [`${node}: no valid case for "${rule.message}"`]),
    ];
  });
}
