// Kubernetes' CEL quantity library (k8s.io/apiserver/pkg/cel/library/quantity.go), offline: the
// functions our CRD rules use, with the API server's semantics (exact comparison of resource
// quantities such as 512Mi, 1.5Gi, 500m, 1e3).
import { CelScalar, type CelValue, celFunc, celMethod, isCelMap, mapType } from "@bufbuild/cel";

/** An exact quantity: numerator / denominator, denominator a positive power of ten. */
type Exact = { num: bigint; den: bigint };

const BINARY: Record<string, bigint> = { Ki: 1n << 10n, Mi: 1n << 20n, Gi: 1n << 30n, Ti: 1n << 40n, Pi: 1n << 50n, Ei: 1n << 60n };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
// Sign, digits with an optional fraction, then a binary suffix, a decimal suffix or an exponent.
const SYNTAX = /^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$/;

const pow10 = (n: number): bigint => 10n ** BigInt(n);

/** Parses a quantity as resource.ParseQuantity does; undefined when it is not one. */
export function parseQuantity(text: string): Exact | undefined {
  const m = SYNTAX.exec(text);
  if (!m) return undefined;
  const [, sign = "", number = "", suffix = ""] = m;
  const [whole = "", fraction = ""] = number.split(".");
  let num = BigInt(`${whole || "0"}${fraction}`) * (sign === "-" ? -1n : 1n);
  let den = pow10(fraction.length);
  let exponent = 0;
  if (suffix in BINARY) num *= BINARY[suffix] as bigint;
  else if (suffix.startsWith("e") || suffix.startsWith("E")) exponent = Number(suffix.slice(1));
  else exponent = DECIMAL[suffix] ?? 0;
  // Kubernetes refuses exponents it cannot represent; so does this (and it bounds BigInt sizes).
  if (Math.abs(exponent) > 100) return undefined;
  if (exponent >= 0) num *= pow10(exponent);
  else den *= pow10(-exponent);
  return { num, den };
}

const compare = (a: Exact, b: Exact): number => {
  const d = a.num * b.den - b.num * a.den;
  return d < 0n ? -1 : d > 0n ? 1 : 0;
};

// A Quantity value travels through the evaluator as a one-entry map holding its text: @bufbuild/cel
// has no opaque custom types, and no rule can build such a map by hand with this key.
const KEY = "k8s.io/quantity";
const QUANTITY = mapType(CelScalar.STRING, CelScalar.STRING);

function exact(v: CelValue): Exact {
  const text = isCelMap(v) ? v.get(KEY) : undefined;
  const q = typeof text === "string" ? parseQuantity(text) : undefined;
  if (!q) throw new Error("not a quantity");
  return q;
}

function quantity(text: string): Map<string, string> {
  if (!parseQuantity(text)) throw new Error(`invalid quantity: ${text}`);
  return new Map([[KEY, text]]);
}

/** quantity(), isQuantity() and the comparisons of Kubernetes' quantity library (sign() is not offered to CRD rules in 1.36). */
export const quantityFuncs = [
  celFunc("quantity", [CelScalar.STRING], QUANTITY, (s) => quantity(s)),
  celFunc("isQuantity", [CelScalar.STRING], CelScalar.BOOL, (s) => parseQuantity(s) !== undefined),
  celMethod("compareTo", QUANTITY, [QUANTITY], CelScalar.INT, function (other) {
    return BigInt(compare(exact(this), exact(other)));
  }),
  celMethod("isLessThan", QUANTITY, [QUANTITY], CelScalar.BOOL, function (other) {
    return compare(exact(this), exact(other)) < 0;
  }),
  celMethod("isGreaterThan", QUANTITY, [QUANTITY], CelScalar.BOOL, function (other) {
    return compare(exact(this), exact(other)) > 0;
  }),
];
