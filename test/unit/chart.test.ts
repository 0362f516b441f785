// The Helm chart's static parts stay in sync with the code: the CRD copy, the version, the operator
// config defaults and their schema, the Dockerfile's entrypoint. (Rendering and installing the chart
// needs helm and a cluster: test/integration/install.test.ts.)
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { z } from "zod";
import { imageEnv } from "../../bench/image-runtime.ts";
import { CLASS_CRD_PATH, CRD_PATH, renderClassCrdYaml, renderCrdYaml } from "../../src/api/crd-file.ts";
import { defaultOperatorConfig, operatorConfigSchema } from "../../src/config/operator-config.ts";

const root = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const read = (p: string) => readFileSync(root(p), "utf8");
const CHART = "charts/modelservice-operator";

type Json = { [k: string]: unknown };

describe("Helm chart", () => {
  it("ships the same CRD bytes as crds/, and both are freshly generated (npm run generate)", () => {
    const chartCrd = readFileSync(root(`${CHART}/crds/modelservices.modelservice.dev.yaml`));
    const crd = readFileSync(CRD_PATH);
    expect(chartCrd.equals(crd)).toBe(true);
    expect(crd.toString("utf8")).toBe(renderCrdYaml());
    const chartClassCrd = readFileSync(root(`${CHART}/crds/modelserviceclasses.modelservice.dev.yaml`));
    expect(chartClassCrd.equals(readFileSync(CLASS_CRD_PATH))).toBe(true);
    expect(chartClassCrd.toString("utf8")).toBe(renderClassCrdYaml());
  });

  it("keeps the CRD small enough for client-side kubectl apply (last-applied annotation < 256 KiB)", () => {
    const json = JSON.stringify(parse(read("crds/modelservices.modelservice.dev.yaml")));
    expect(Buffer.byteLength(json)).toBeLessThan(256 * 1024);
  });

  it("has appVersion and version equal to package.json's version", () => {
    const pkg = JSON.parse(read("package.json")) as { version: string };
    const chart = parse(read(`${CHART}/Chart.yaml`)) as { appVersion: string; version: string };
    expect(chart.appVersion).toBe(pkg.version);
    expect(chart.version).toBe(pkg.version);
  });

  it("defaults the image tag to the appVersion", () => {
    const values = parse(read(`${CHART}/values.yaml`)) as { image: { tag: string } };
    expect(values.image.tag).toBe("");
    expect(read(`${CHART}/templates/_helpers.tpl`)).toContain("default .Chart.AppVersion .Values.image.tag");
  });

  it("carries the operator's built-in config defaults in values.yaml, valid for the operator", () => {
    const values = parse(read(`${CHART}/values.yaml`)) as { config: unknown };
    expect(values.config).toEqual(defaultOperatorConfig);
    expect(operatorConfigSchema.safeParse(values.config).success).toBe(true);
  });

  it("describes every operator config field in values.schema.json (and no others)", () => {
    const schema = JSON.parse(read(`${CHART}/values.schema.json`)) as Json;
    const config = (schema.properties as Json).config as Json;
    const fromZod = z.toJSONSchema(operatorConfigSchema, { io: "input", reused: "inline" }) as Json;
    const definitions = schema.definitions as Record<string, Json>;
    // Compare the tree of property names (with required lists), down to the leaves; follow $refs.
    const shape = (ref: Json): unknown => {
      const node = typeof ref.$ref === "string" ? (definitions[ref.$ref.replace("#/definitions/", "")] ?? {}) : ref;
      const props = node.properties as Record<string, Json> | undefined;
      if (!props) return "leaf";
      return {
        required: [...((node.required as string[]) ?? [])].sort(),
        properties: Object.fromEntries(Object.entries(props).map(([k, v]) => [k, shape(v)])),
      };
    };
    expect(shape(config)).toEqual(shape(fromZod));
  });

  it("is a valid JSON Schema document with no typos in its refs", () => {
    const text = read(`${CHART}/values.schema.json`);
    const schema = JSON.parse(text) as { definitions: Json };
    for (const [, name] of text.matchAll(/"\$ref": "#\/definitions\/([A-Za-z]+)"/g)) expect(schema.definitions).toHaveProperty(name as string);
  });
});

describe("Dockerfile", () => {
  const dockerfile = read("Dockerfile");
  it("runs the package's bin as the non-root user 65532 on a distroless Node 24 image", () => {
    const pkg = JSON.parse(read("package.json")) as { bin: Record<string, string> };
    const main = pkg.bin["modelservice-operator"];
    expect(dockerfile).toContain(`ENTRYPOINT ["/nodejs/bin/node", "${main}"]`);
    expect(dockerfile).toContain('CMD ["run"]');
    expect(dockerfile).toMatch(/^USER 65532:65532$/m);
    expect(dockerfile).toMatch(/^FROM gcr\.io\/distroless\/nodejs24-debian12:nonroot/m);
  });
  it("runs Node as the benchmark measures it: small young generation, few malloc arenas (bench/image-runtime.ts reads this)", () => {
    const env = imageEnv(dockerfile);
    expect(env.NODE_OPTIONS?.split(" ")).toEqual(["--enable-source-maps", "--max-semi-space-size=1"]);
    expect(env.MALLOC_ARENA_MAX).toBe("2");
    expect(env.NODE_ENV).toBe("production");
    // Only the runtime stage counts, and quoting and continued lines are read as Docker reads them.
    expect(imageEnv('FROM a AS b\nENV X=1\nFROM c\nENV Y="a b" \\\n  Z=2\n')).toEqual({ Y: "a b", Z: "2" });
  });
  it("builds with the Node version package.json pins", () => {
    const pkg = JSON.parse(read("package.json")) as { devDependencies: Record<string, string> };
    expect(dockerfile).toMatch(new RegExp(`^ARG NODE_VERSION=${pkg.devDependencies.node?.replaceAll(".", "\\.")}$`, "m"));
    expect(dockerfile).toMatch(/^FROM --platform=\$BUILDPLATFORM node:\$\{NODE_VERSION\}-bookworm-slim AS build$/m);
  });
});
