// `npm run generate`: writes the CRDs generated from the zod schemas, to crds/ and to the Helm
// chart's crds/ (the same bytes; test/unit/chart.test.ts checks they are identical).
import { writeFileSync } from "node:fs";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { CLASS_CRD_PATH, CRD_PATH, renderClassCrdYaml, renderCrdYaml } from "./crd-file.ts";

const chartCopy = (path: string) => fileURLToPath(new URL(`../../charts/modelservice-operator/crds/${basename(path)}`, import.meta.url));

for (const [path, yaml] of [
  [CRD_PATH, renderCrdYaml()],
  [CLASS_CRD_PATH, renderClassCrdYaml()],
] as const) {
  for (const out of [path, chartCopy(path)]) {
    writeFileSync(out, yaml);
    console.log(`wrote ${out}`);
  }
}
