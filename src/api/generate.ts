// `npm run generate`: writes the CRD generated from the zod schemas, to crds/ and to the Helm
// chart's crds/ (the same bytes; test/unit/chart.test.ts checks they are identical).
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { CRD_PATH, renderCrdYaml } from "./crd-file.ts";

const CHART_CRD_PATH = fileURLToPath(new URL("../../charts/modelservice-operator/crds/modelservices.modelservice.dev.yaml", import.meta.url));

const yaml = renderCrdYaml();
for (const path of [CRD_PATH, CHART_CRD_PATH]) {
  writeFileSync(path, yaml);
  console.log(`wrote ${path}`);
}
