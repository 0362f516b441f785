import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CLASS_CRD_PATH, CRD_PATH, renderClassCrdYaml, renderCrdYaml } from "./crd-file.ts";

type Node = { [key: string]: unknown };
const isNode = (v: unknown): v is Node => typeof v === "object" && v !== null && !Array.isArray(v);

/** Every schema node with its JSON path, depth first. */
function* walk(node: unknown, path: string): Generator<[string, Node]> {
  if (!isNode(node)) return;
  yield [path, node];
  for (const [k, v] of Object.entries(isNode(node.properties) ? node.properties : {})) yield* walk(v, `${path}.${k}`);
  if (isNode(node.items)) yield* walk(node.items, `${path}[]`);
  if (isNode(node.additionalProperties)) yield* walk(node.additionalProperties, `${path}{}`);
}

const fileText = readFileSync(CRD_PATH, "utf8");
const crd = parse(fileText);
const schema = crd.spec.versions[0].schema.openAPIV3Schema;

describe("CRD", () => {
  it("the committed file is up to date with src/api/schema.ts", () => {
    expect(fileText === renderCrdYaml(), `${CRD_PATH} is out of date: run \`npm run generate\` and commit the result`).toBe(true);
  });

  // kubectl's client-side apply keeps the object as compact JSON in an annotation (all annotations
  // together at most 256 KiB); the YAML's indentation is not part of it.
  it("stays small enough for client-side kubectl apply (< 100 KiB as JSON)", () => {
    expect(Buffer.byteLength(JSON.stringify(crd))).toBeLessThan(100 * 1024);
  });

  it("describes every property, so kubectl explain teaches the API", () => {
    const missing: string[] = [];
    for (const [path, node] of walk(schema, "")) {
      // Only named fields: list items and map values are explained by their field. metadata is
      // the standard ObjectMeta, documented by Kubernetes itself.
      if (path === "" || path === ".metadata" || path.endsWith("[]") || path.endsWith("{}")) continue;
      if (typeof node.description !== "string" || node.description.length === 0) missing.push(path);
    }
    expect(missing).toEqual([]);
  });

  it("is structural: no $ref, and anyOf only for int-or-string", () => {
    const text = JSON.stringify(schema);
    expect(text).not.toContain('"$ref"');
    for (const key of ["oneOf", "allOf", "not"]) expect(text).not.toContain(`"${key}":`);
    for (const [path, node] of walk(schema, "")) {
      if (node.anyOf === undefined) continue;
      expect(node["x-kubernetes-int-or-string"], path).toBe(true);
      expect(node.anyOf, path).toEqual([{ type: "integer" }, { type: "string" }]);
    }
  });

  it("has a scale subresource pointing at spec.replicas and the short name msvc", () => {
    const version = crd.spec.versions[0];
    expect(version.subresources.scale).toEqual({
      specReplicasPath: ".spec.replicas",
      statusReplicasPath: ".status.replicas",
      labelSelectorPath: ".status.selector",
    });
    expect(crd.spec.names.shortNames).toEqual(["msvc"]);
  });
});

describe("ModelServiceClass CRD", () => {
  const text = readFileSync(CLASS_CRD_PATH, "utf8");
  const classCrd = parse(text);
  const classSchema = classCrd.spec.versions[0].schema.openAPIV3Schema;

  it("the committed file is up to date with src/api/class-schema.ts", () => {
    expect(text === renderClassCrdYaml(), `${CLASS_CRD_PATH} is out of date: run \`npm run generate\` and commit the result`).toBe(true);
  });

  it("is cluster-scoped, with the short name msvcclass, and small enough for client-side apply", () => {
    expect(classCrd.spec.scope).toBe("Cluster");
    expect(classCrd.spec.names.shortNames).toEqual(["msvcclass"]);
    expect(Buffer.byteLength(JSON.stringify(classCrd))).toBeLessThan(100 * 1024);
  });

  it("describes every property and is structural", () => {
    const missing: string[] = [];
    for (const [path, node] of walk(classSchema, "")) {
      if (node.anyOf !== undefined) expect(node["x-kubernetes-int-or-string"], path).toBe(true);
      if (path === "" || path === ".metadata" || path.endsWith("[]") || path.endsWith("{}")) continue;
      if (typeof node.description !== "string" || node.description.length === 0) missing.push(path);
    }
    expect(missing).toEqual([]);
    expect(JSON.stringify(classSchema)).not.toContain('"$ref"');
  });
});
