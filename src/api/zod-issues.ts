// Turns zod issues into `spec.path: rule` lines for people (zod's defaults read "Invalid input").
import type { z } from "zod";

type Issue = z.core.$ZodIssue;

/** `spec.engine.env[0].name` */
export function issuePath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : `${out ? "." : ""}${String(p)}`;
  return out || "(root)";
}

const TYPE_NAMES: Record<string, string> = {
  int: "an integer",
  number: "a number",
  string: "a string",
  boolean: "true or false",
  array: "a list",
  object: "a mapping",
  record: "a mapping",
};

function rule(issue: Issue): string {
  switch (issue.code) {
    case "too_big": {
      const n = String(issue.maximum);
      if (issue.origin === "string") return `must be at most ${n} characters`;
      if (issue.origin === "array") return `must have at most ${n} items`;
      return issue.inclusive === false ? `must be less than ${n}` : `must be at most ${n}`;
    }
    case "too_small": {
      const n = String(issue.minimum);
      if (issue.origin === "string") return n === "1" ? "must not be empty" : `must be at least ${n} characters`;
      if (issue.origin === "array") return `must have at least ${n} items`;
      return issue.inclusive === false ? `must be greater than ${n}` : `must be at least ${n}`;
    }
    case "invalid_type":
      // zod keeps the input only when asked (reportInput); its message says what was received.
      if (issue.input === undefined && /received undefined$/.test(issue.message)) return "is required";
      return `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    case "invalid_value":
      return issue.values.length === 1 ? `must be ${JSON.stringify(issue.values[0])}` : `must be one of: ${issue.values.map(String).join(", ")}`;
    case "invalid_format":
      return issue.message.startsWith("Invalid") && issue.pattern ? `must match ${issue.pattern}` : issue.message;
    case "unrecognized_keys":
      return `unknown fields: ${issue.keys.join(", ")}`;
    case "invalid_union": {
      // Report the branch that got furthest rather than "invalid input".
      const branch = issue.errors.flat().find((i) => i.code !== "invalid_type");
      return branch ? rule(branch) : "has the wrong type";
    }
    default:
      return issue.message;
  }
}

export function formatIssue(issue: Issue): string {
  return `${issuePath(issue.path)}: ${rule(issue)}`;
}

/** Paths present in `input` but dropped by parsing (unknown fields, likely typos). */
export function droppedFields(input: unknown, parsed: unknown, path: PropertyKey[] = []): string[] {
  if (Array.isArray(input) && Array.isArray(parsed)) return input.flatMap((v, i) => droppedFields(v, parsed[i], [...path, i]));
  if (!isRecord(input) || !isRecord(parsed)) return [];
  return Object.entries(input).flatMap(([k, v]) => (k in parsed ? droppedFields(v, parsed[k], [...path, k]) : [issuePath([...path, k])]));
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
