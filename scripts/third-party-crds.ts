// Prints third-party CRDs (from their Go modules, versions in src/localcluster/third-party-crds.ts)
// as one YAML stream, e.g. for a cluster from `npm run cluster:up`:
//   npx node scripts/third-party-crds.ts gatewayApi certManager | kubectl apply --server-side -f -
// With no names it lists the sources. How long each took goes to stderr.
import { stringify } from "yaml";
import { loadThirdPartyCrds, THIRD_PARTY_CRDS, type ThirdPartyName } from "../src/localcluster/third-party-crds.ts";

const names = process.argv.slice(2);
const known = Object.keys(THIRD_PARTY_CRDS) as ThirdPartyName[];
if (names.length === 0) {
  for (const n of known) console.error(`${n}: ${THIRD_PARTY_CRDS[n].module}@${THIRD_PARTY_CRDS[n].version} ${THIRD_PARTY_CRDS[n].dir}`);
  process.exit(2);
}
for (const n of names) {
  if (!known.includes(n as ThirdPartyName)) {
    console.error(`unknown source ${n}; known: ${known.join(", ")}`);
    process.exit(2);
  }
}
for (const n of names as ThirdPartyName[]) {
  const t = performance.now();
  const crds = await loadThirdPartyCrds(n);
  console.error(
    `[measure] ${n}: ${crds.length} CRDs from ${THIRD_PARTY_CRDS[n].module}@${THIRD_PARTY_CRDS[n].version} in ${(performance.now() - t).toFixed(0)} ms`,
  );
  for (const crd of crds) process.stdout.write(`---\n${stringify(crd, { lineWidth: 0 })}`);
}
