// Golden files: test/golden/<example>.yaml is what examples/<example>.yaml renders to with the
// default operator config (what `render -f` prints). After an intended change, regenerate with
//   UPDATE_GOLDEN=1 npx vitest run --project unit src/render/golden.test.ts
// and review the diff.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { modelServiceSchema } from "../api/schema.ts";
import { PLACEHOLDER_UID } from "../cli/render-command.ts";
import { defaultOperatorConfig } from "../config/operator-config.ts";
import { childrenYaml, render } from "./index.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const examplesDir = join(root, "examples");
const goldenDir = join(root, "test", "golden");
const examples = readdirSync(examplesDir)
  .filter((f) => f.endsWith(".yaml"))
  .sort();

// Scale to zero needs KEDA: examples/keda/ render with keda.enabled (kept out of examples/, which the
// demo applies with the default config).
const kedaDir = join(examplesDir, "keda");
const kedaExamples = readdirSync(kedaDir)
  .filter((f) => f.endsWith(".yaml"))
  .sort();
const kedaConfig = { ...defaultOperatorConfig, keda: { ...defaultOperatorConfig.keda, enabled: true } };

function checkGolden(source: string, goldenPath: string, config: typeof defaultOperatorConfig): void {
  const raw = parse(readFileSync(source, "utf8"));
  raw.metadata = { namespace: "default", uid: PLACEHOLDER_UID, ...raw.metadata };
  const rendered = childrenYaml(render(modelServiceSchema.parse(raw), config));
  if (process.env.UPDATE_GOLDEN) {
    mkdirSync(dirname(goldenPath), { recursive: true });
    writeFileSync(goldenPath, rendered);
  }
  const golden = readFileSync(goldenPath, "utf8");
  expect(rendered, `${goldenPath} is out of date: rerun with UPDATE_GOLDEN=1 and review the diff`).toBe(golden);
}

describe("golden files", () => {
  it("there are examples", () => {
    expect(examples.length).toBeGreaterThanOrEqual(7);
  });

  for (const file of examples) {
    it(file, () => checkGolden(join(examplesDir, file), join(goldenDir, `${basename(file, ".yaml")}.yaml`), defaultOperatorConfig));
  }
  for (const file of kedaExamples) {
    it(`keda/${file}`, () => checkGolden(join(kedaDir, file), join(goldenDir, "keda", `${basename(file, ".yaml")}.yaml`), kedaConfig));
  }
});
