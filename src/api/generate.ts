// `npm run generate`: writes the CRD generated from the zod schemas.
import { writeFileSync } from "node:fs";
import { CRD_PATH, renderCrdYaml } from "./crd-file.ts";

writeFileSync(CRD_PATH, renderCrdYaml());
console.log(`wrote ${CRD_PATH}`);
