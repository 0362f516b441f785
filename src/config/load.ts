// The one way to read an operator config file (YAML or JSON): merged over the defaults and
// validated, each problem as `config.path: rule`. Used by `run --config` and `render --config`.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { formatIssue } from "../api/zod-issues.ts";
import { defaultOperatorConfig, type OperatorConfig, operatorConfigSchema } from "./operator-config.ts";

/** A config file that cannot be used; `problems` are one line each. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(source: string, problems: string[]) {
    super(`${source}: ${problems.join("; ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Recursively merges plain objects; arrays and scalars from `over` replace those in `base`. */
export function deepMerge<T>(base: T, over: unknown): T {
  if (!isPlainObject(base) || !isPlainObject(over)) return (over === undefined ? base : over) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? deepMerge(out[k], v) : v;
  return out as T;
}

/** Parses config text; `source` names it in errors (a file name, or "stdin"). */
export function parseOperatorConfig(text: string, source: string): OperatorConfig {
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  const values: unknown[] = [];
  for (const doc of list) {
    const error = doc.errors[0];
    if (error) {
      const pos = error.linePos?.[0];
      const reason = (error.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "");
      throw new ConfigError(source, [`invalid YAML${pos ? ` at line ${pos.line}, column ${pos.col}` : ""}: ${reason}`]);
    }
    const v: unknown = doc.toJS();
    if (v !== null && v !== undefined) values.push(v);
  }
  if (values.length > 1) throw new ConfigError(source, [`expected one operator config document, found ${values.length}`]);
  const doc = values[0] ?? {};
  if (!isPlainObject(doc)) throw new ConfigError(source, ["must hold a mapping"]);
  const r = operatorConfigSchema.safeParse(deepMerge(defaultOperatorConfig, doc), { reportInput: true });
  if (!r.success)
    throw new ConfigError(
      source,
      r.error.issues.map((i) => `config.${formatIssue(i)}`),
    );
  return r.data;
}

/** Reads and parses an operator config file. */
export function loadOperatorConfig(file: string): OperatorConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(file, [`cannot read file${code === "ENOENT" ? ": no such file" : code ? ` (${code})` : ""}`]);
  }
  return parseOperatorConfig(text, file);
}
