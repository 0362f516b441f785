import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { needsApply, parseQuantity } from "./apply.ts";
import { resourcePath } from "./client.ts";

describe("needsApply", () => {
  const cases: [string, unknown, unknown, boolean][] = [
    ["identical", { a: 1, b: "x" }, { a: 1, b: "x" }, false],
    ["extra fields in observed are allowed", { a: 1 }, { a: 1, b: 2, metadata: { uid: "u" } }, false],
    ["missing field in observed", { a: 1, b: 2 }, { a: 1 }, true],
    ["changed scalar", { a: 1 }, { a: 2 }, true],
    ["changed nested", { spec: { x: { y: "1" } } }, { spec: { x: { y: "2" } } }, true],
    ["nested subset", { spec: { x: { y: "1" } } }, { spec: { x: { y: "1", z: 3 }, w: 1 } }, false],
    ["labels subset", { metadata: { labels: { a: "1" } } }, { metadata: { labels: { a: "1", b: "2" }, annotations: { c: "3" } } }, false],
    ["label changed by hand", { metadata: { labels: { a: "1" } } }, { metadata: { labels: { a: "2" } } }, true],
    ["desired zero values equal missing", { a: "", b: 0, c: false, d: {}, e: [], f: null, g: { h: {} } }, {}, false],
    ["desired null vs a value", { a: null }, { a: 1 }, true],
    ["undefined desired fields are ignored", { a: undefined, b: 1 }, { b: 1 }, false],
    ["object vs scalar", { a: { b: 1 } }, { a: "x" }, true],
    ["array vs object", { a: [1] }, { a: { 0: 1 } }, true],
    // arrays
    ["arrays equal", { a: [1, 2, 3] }, { a: [1, 2, 3] }, false],
    ["array order matters", { a: [1, 2] }, { a: [2, 1] }, true],
    ["array longer in observed", { a: [1, 2] }, { a: [1, 2, 3] }, true],
    ["array shorter in observed", { a: [1, 2] }, { a: [1] }, true],
    [
      "array elements are subsets (server defaults inside containers)",
      { containers: [{ name: "c", image: "i", ports: [{ containerPort: 80 }] }] },
      { containers: [{ name: "c", image: "i", imagePullPolicy: "IfNotPresent", ports: [{ containerPort: 80, protocol: "TCP" }] }] },
      false,
    ],
    ["nested array element changed", { containers: [{ name: "c", args: ["--a", "--b"] }] }, { containers: [{ name: "c", args: ["--a", "--c"] }] }, true],
    ["array missing in observed", { a: [1] }, {}, true],
    // quantities
    ["cpu 1000m == 1", { cpu: "1000m" }, { cpu: "1" }, false],
    ["cpu 500m == 0.5", { cpu: "0.5" }, { cpu: "500m" }, false],
    ["cpu 1500m != 1", { cpu: "1500m" }, { cpu: "1" }, true],
    ["16Gi == 17179869184 (number)", { memory: 17179869184 }, { memory: "16Gi" }, false],
    ["16Gi == 17179869184 (string)", { memory: "17179869184" }, { memory: "16Gi" }, false],
    ["16Gi == 16384Mi", { memory: "16Gi" }, { memory: "16384Mi" }, false],
    ["1G != 1Gi", { memory: "1G" }, { memory: "1Gi" }, true],
    ["1e3 == 1k", { x: "1e3" }, { x: "1k" }, false],
    ["1E == 1e18 (exa suffix)", { x: "1E" }, { x: "1e18" }, false],
    ["2 (number) == 2000m", { cpu: 2 }, { cpu: "2000m" }, false],
    ["int-or-string 1 vs '1' differ", { port: 1 }, { port: "1" }, true],
    ["int-or-string '1' vs 1 differ", { port: "1" }, { port: 1 }, true],
    ["plain digit strings compare as strings", { v: "01" }, { v: "1" }, true],
    ["non-quantity strings", { image: "a:1" }, { image: "a:2" }, true],
    ["booleans", { a: true }, { a: false }, true],
    ["true vs missing", { a: true }, {}, true],
  ];
  it.each(cases)("%s", (_name, desired, observed, expected) => {
    expect(needsApply(desired, observed)).toBe(expected);
  });

  it("never needs apply against itself or a superset (property)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.dictionary(fc.string(), fc.jsonValue()), (v, extra) => {
        expect(needsApply(v, structuredClone(v))).toBe(false);
        if (v !== null && typeof v === "object" && !Array.isArray(v)) {
          expect(needsApply(v, { ...extra, ...structuredClone(v) })).toBe(false);
        }
      }),
    );
  });
});

describe("parseQuantity", () => {
  const eq = (a: string | number, b: string | number) => {
    const x = parseQuantity(a);
    const y = parseQuantity(b);
    if (!x || !y) throw new Error(`not a quantity: ${a} or ${b}`);
    return x.num * y.den === y.num * x.den;
  };
  it("parses suffixes exactly", () => {
    expect(eq("1Ki", 1024)).toBe(true);
    expect(eq("1.5Gi", 1610612736)).toBe(true);
    expect(eq("100n", "0.0000001")).toBe(true);
    expect(eq("1u", "1000n")).toBe(true);
    expect(eq("-1", "-1000m")).toBe(true);
    expect(eq(".5", "500m")).toBe(true);
    expect(eq("0.1", "100m")).toBe(true);
    expect(eq("1e-3", "1m")).toBe(true);
    expect(eq("1M", "1000k")).toBe(true);
  });
  it("rejects non-quantities", () => {
    for (const s of ["", "abc", "1Kb", "1.2.3", "Gi", "1 Gi", "--1", "1ki"]) expect(parseQuantity(s)).toBeUndefined();
    expect(parseQuantity(Number.NaN)).toBeUndefined();
    expect(parseQuantity({})).toBeUndefined();
  });
});

describe("resourcePath", () => {
  it("builds core, group, namespaced and subresource paths", () => {
    expect(resourcePath({ apiVersion: "v1", plural: "configmaps" })).toBe("/api/v1/configmaps");
    expect(resourcePath({ apiVersion: "v1", plural: "configmaps", namespace: "ns", name: "a" })).toBe("/api/v1/namespaces/ns/configmaps/a");
    expect(resourcePath({ apiVersion: "apps/v1", plural: "deployments", namespace: "ns" })).toBe("/apis/apps/v1/namespaces/ns/deployments");
    expect(resourcePath({ apiVersion: "modelservice.dev/v1alpha1", plural: "modelservices", namespace: "n", name: "m", subresource: "status" })).toBe(
      "/apis/modelservice.dev/v1alpha1/namespaces/n/modelservices/m/status",
    );
    expect(resourcePath({ apiVersion: "v1", plural: "namespaces", name: "x" })).toBe("/api/v1/namespaces/x");
    expect(() => resourcePath({ apiVersion: "v1", plural: "pods", subresource: "status" })).toThrow();
  });
});
