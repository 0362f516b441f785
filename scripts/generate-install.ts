// `npm run generate:install`: writes dist/install.yaml from the Helm chart (helm template).
// Run it after changing the chart, its values or the CRD; test/integration/install.test.ts fails
// while dist/install.yaml is out of date.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { findHelm, INSTALL_PATH, renderInstallYaml } from "./install-manifest.ts";

const helm = await findHelm();
mkdirSync(dirname(INSTALL_PATH), { recursive: true });
writeFileSync(INSTALL_PATH, renderInstallYaml(helm));
console.log(`wrote ${INSTALL_PATH} (rendered with ${helm})`);
