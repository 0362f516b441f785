// What admission says about a ModelService, offline: zod (each field's shape) first, then the
// CRD's CEL rules, as `path: message` problems. The same two steps `render` runs.
import { celViolations, classCelViolations, type RuleVisit, type Violation } from "../../src/api/cel.ts";
import { modelServiceClassSchema } from "../../src/api/class-schema.ts";
import { modelServiceSchema } from "../../src/api/schema.ts";
import { formatIssue } from "../../src/api/zod-issues.ts";

/** With `old`, as an update from it: transition rules (oldSelf) run too. */
export function offlineProblems(doc: unknown, visit?: (v: RuleVisit) => void, old?: unknown): Violation[] {
  const parsed = modelServiceSchema.safeParse(doc);
  if (!parsed.success) {
    return parsed.error.issues.map((i) => {
      const line = formatIssue(i);
      const at = line.indexOf(": ");
      return { path: line.slice(0, at), message: line.slice(at + 2) };
    });
  }
  return celViolations(parsed.data, visit, old);
}

/** The same two steps for a ModelServiceClass. */
export function offlineClassProblems(doc: unknown, visit?: (v: RuleVisit) => void): Violation[] {
  const parsed = modelServiceClassSchema.safeParse(doc);
  if (!parsed.success) {
    return parsed.error.issues.map((i) => {
      const line = formatIssue(i);
      const at = line.indexOf(": ");
      return { path: line.slice(0, at), message: line.slice(at + 2) };
    });
  }
  return classCelViolations(parsed.data, visit);
}
