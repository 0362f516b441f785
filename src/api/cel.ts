// The CRD's CEL rules (`x-kubernetes-validations`), evaluated offline the way the API server does
// at admission: each rule of each schema node runs with `self` bound to the value at that node,
// nodes whose value is absent are skipped, and a failure is reported at the node's field path (plus
// the rule's fieldPath) with the rule's message. The rules are read from the generated CRD itself,
// so `render`, the operator and admission apply one set of rules.
//
// Kubernetes semantics kept here: objects and maps are CEL maps (has(), `in`, all/exists), integer
// fields are CEL ints, int-or-string fields are ints or strings at run time (`type(self) == int`),
// unknown fields are pruned before the rules see the object, regexes are RE2, and the strings
// extension and the quantity library are available (src/api/quantity.ts).
import { type CelInput, celEnv, isCelError, parse, plan } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import { RE2JS } from "@bufbuild/re2";
import { modelServiceClassCrd, modelServiceCrd } from "./crd.ts";
import { quantityFuncs } from "./quantity.ts";

export type CelRule = { rule: string; message?: string; fieldPath?: string; reason?: string };

/** A failed rule, as the API server reports it: `path: message`. */
export type Violation = { path: string; message: string };

export type SchemaNode = {
  type?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  additionalProperties?: SchemaNode;
  "x-kubernetes-validations"?: CelRule[];
  "x-kubernetes-int-or-string"?: boolean;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
};

type Json = unknown;
const isRecord = (v: unknown): v is Record<string, Json> => typeof v === "object" && v !== null && !Array.isArray(v);

// RE2, as in the API server; each pattern compiled once (the default recompiles on every call).
const regexes = new Map<string, RE2JS>();
const re2 = {
  compile(pattern: string) {
    let re = regexes.get(pattern);
    if (!re) {
      re = RE2JS.compile(pattern);
      regexes.set(pattern, re);
    }
    return re;
  },
};
const env = celEnv({ funcs: [...strings, ...quantityFuncs], re2 });
type Program = (self: CelInput, oldSelf?: CelInput) => unknown;
const programs = new Map<string, Program>();

/** Compiles a rule once; a rule that does not parse throws (the API server would refuse the CRD). */
function program(rule: string): Program {
  let p = programs.get(rule);
  if (!p) {
    const run = plan(env, parse(rule));
    p = (self, oldSelf) => run(oldSelf === undefined ? { self } : { self, oldSelf });
    programs.set(rule, p);
  }
  return p;
}

/** A JSON value as CEL sees it under a schema node. */
function toCel(node: SchemaNode, value: Json): CelInput {
  if (node["x-kubernetes-int-or-string"] || node.type === "integer")
    return typeof value === "number" && Number.isInteger(value) ? BigInt(value) : (value as CelInput);
  if (Array.isArray(value)) return value.map((v) => (node.items ? toCel(node.items, v) : untyped(v)));
  if (!isRecord(value)) return value as CelInput;
  const out = new Map<string, CelInput>();
  for (const [k, v] of Object.entries(value)) {
    const child = node.properties?.[k] ?? node.additionalProperties;
    if (child) out.set(k, toCel(child, v));
    else if (node["x-kubernetes-preserve-unknown-fields"]) out.set(k, untyped(v));
    // Anything else is an unknown field: the API server prunes it before validation.
  }
  return out;
}

/** Fields kept as is (x-kubernetes-preserve-unknown-fields): JSON numbers without a fraction are ints. */
function untyped(value: Json): CelInput {
  if (typeof value === "number") return Number.isInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(untyped);
  if (isRecord(value)) return new Map(Object.entries(value).map(([k, v]) => [k, untyped(v)]));
  return value as CelInput;
}

/** `spec.engine` + `.image` → `spec.engine.image`; at the root, the path is the field path alone. */
const join = (path: string, fieldPath: string): string => {
  const rel = fieldPath.replace(/^\./, "");
  return path ? `${path}.${rel}` : rel;
};

export type RuleVisit = { node: string; rule: CelRule; path: string; passed: boolean };

/** A transition rule reads oldSelf: the API server runs it only on an update, where an old value exists. */
const isTransitionRule = (rule: CelRule): boolean => /\boldSelf\b/.test(rule.rule);

/**
 * Every rule that applies to `value`, in schema order; `visit` sees each evaluation (for coverage).
 * `old` is the value at the same node before an update (undefined on a create, and under lists,
 * whose items are not correlated here): transition rules run only where it exists.
 */
function validateNode(node: SchemaNode, value: Json, path: string, out: Violation[], visit?: (v: RuleVisit) => void, schemaPath = path, old?: Json): void {
  if (value === undefined || value === null) return;
  const rules = node["x-kubernetes-validations"] ?? [];
  if (rules.length > 0) {
    const self = toCel(node, value);
    const hasOld = old !== undefined && old !== null;
    const oldSelf = hasOld ? toCel(node, old) : undefined;
    for (const rule of rules) {
      if (isTransitionRule(rule) && !hasOld) continue;
      const result = program(rule.rule)(self, oldSelf);
      const reported = rule.fieldPath ? join(path, rule.fieldPath) : path || "<nil>";
      const passed = result === true;
      visit?.({ node: schemaPath, rule, path: reported, passed });
      if (passed) continue;
      const message = isCelError(result) ? `${result.message} evaluating rule: ${rule.rule}` : (rule.message ?? `failed rule: ${rule.rule}`);
      out.push({ path: reported, message });
    }
  }
  if (Array.isArray(value)) {
    const items = node.items;
    if (items) {
      for (const [i, v] of value.entries()) validateNode(items, v, `${path}[${i}]`, out, visit, `${schemaPath}[]`);
    }
    return;
  }
  if (!isRecord(value)) return;
  const oldRecord = isRecord(old) ? old : undefined;
  for (const [k, v] of Object.entries(value)) {
    const prop = node.properties?.[k];
    if (prop) validateNode(prop, v, path ? `${path}.${k}` : k, out, visit, schemaPath ? `${schemaPath}.${k}` : k, oldRecord?.[k]);
    else if (node.additionalProperties) validateNode(node.additionalProperties, v, `${path}[${k}]`, out, visit, `${schemaPath}{}`, oldRecord?.[k]);
  }
}

let rootSchema: SchemaNode | undefined;
/** The openAPIV3Schema of the generated CRD: the object crds/ is written from. */
export function crdSchema(): SchemaNode {
  if (!rootSchema) {
    const crd = modelServiceCrd() as { spec: { versions: { schema: { openAPIV3Schema: SchemaNode } }[] } };
    rootSchema = crd.spec.versions[0]?.schema.openAPIV3Schema as SchemaNode;
  }
  return rootSchema;
}

let classSchema: SchemaNode | undefined;
/** The openAPIV3Schema of the generated ModelServiceClass CRD. */
export function classCrdSchema(): SchemaNode {
  if (!classSchema) {
    const crd = modelServiceClassCrd() as { spec: { versions: { schema: { openAPIV3Schema: SchemaNode } }[] } };
    classSchema = crd.spec.versions[0]?.schema.openAPIV3Schema as SchemaNode;
  }
  return classSchema;
}

/** The CEL rules a ModelServiceClass breaks, as admission would report them. */
export function classCelViolations(obj: unknown, visit?: (v: RuleVisit) => void): Violation[] {
  if (!isRecord(obj)) return [];
  const out: Violation[] = [];
  validateNode(classCrdSchema(), { spec: obj.spec }, "", out, visit);
  return out;
}

/**
 * The CEL rules a ModelService breaks, as admission would report them; with `old`, as on an update
 * from it (transition rules run too). Status is not validated
 * (the API server ignores it on the main resource), and metadata exposes only name and
 * generateName, as for CRD rules.
 */
export function celViolations(obj: unknown, visit?: (v: RuleVisit) => void, old?: unknown): Violation[] {
  if (!isRecord(obj)) return [];
  const out: Violation[] = [];
  validateNode(crdSchema(), asValidated(obj), "", out, visit, "", isRecord(old) ? asValidated(old) : undefined);
  return out;
}

function asValidated(obj: Record<string, Json>): Record<string, Json> {
  const meta = isRecord(obj.metadata) ? obj.metadata : {};
  const metadata = Object.fromEntries(["name", "generateName"].filter((k) => meta[k] !== undefined).map((k) => [k, meta[k]]));
  const { status: _status, ...rest } = obj;
  return { ...rest, metadata };
}

/** Every rule in the CRD with the schema path of its node (`spec.rollout`, `spec.engine.env[]`). */
export function crdRules(node: SchemaNode = crdSchema(), path = ""): { node: string; rule: CelRule }[] {
  const here = (node["x-kubernetes-validations"] ?? []).map((rule) => ({ node: path, rule }));
  const props = Object.entries(node.properties ?? {}).flatMap(([k, v]) => crdRules(v, path ? `${path}.${k}` : k));
  const items = node.items ? crdRules(node.items, `${path}[]`) : [];
  const values = node.additionalProperties ? crdRules(node.additionalProperties, `${path}{}`) : [];
  return [...here, ...props, ...items, ...values];
}
