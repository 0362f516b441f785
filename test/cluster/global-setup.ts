// Global setup of the vitest "integration" project: one local control plane (real etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler; kwok playing the simulated GPU nodes)
// for the whole run. Tests read its coordinates with inject("kubeconfig"), inject("binDir"),
// inject("auditLogPath"), inject("testBinDir") (declared in test/cluster/vitest.d.ts).
//
// MSO_KUBECONFIG=<path> runs the tests against an existing cluster instead (e.g. one from
// `npm run cluster:up`); its audit log is then the one `cluster up` recorded, if any.
import type { TestProject } from "vitest/node";
import { ensureBinaries } from "../../src/localcluster/binaries.ts";
import { type ControlPlane, startControlPlane } from "../../src/localcluster/control-plane.ts";
import { ensureTestBinaries } from "../support/test-binaries.ts";

let controlPlane: ControlPlane | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const external = process.env.MSO_KUBECONFIG;
  // Test-only tools (cyclonus) build alongside the control plane: minutes on a cold cache, instant
  // after. A failed build fails only the tests that need them (testBinDir ""), not the whole run.
  const testBinaries = ensureTestBinaries({ onProgress: log }).catch((e: unknown) => {
    log(`[test-binaries] build failed; tests that need them will fail: ${e instanceof Error ? e.message : String(e)}`);
    return "";
  });
  if (external) {
    project.provide("testBinDir", await testBinaries);
    project.provide("kubeconfig", external);
    project.provide("binDir", await ensureBinaries({ onProgress: log }));
    project.provide("auditLogPath", process.env.MSO_AUDIT_LOG ?? "");
    return async () => {};
  }
  controlPlane = await startControlPlane({ onProgress: log });
  project.provide("testBinDir", await testBinaries);
  project.provide("kubeconfig", controlPlane.kubeconfigPath);
  project.provide("binDir", controlPlane.binDir);
  project.provide("auditLogPath", controlPlane.auditLogPath);
  return async () => {
    const t = performance.now();
    await controlPlane?.stop();
    log(`[control-plane] stopped in ${((performance.now() - t) / 1000).toFixed(1)}s`);
  };
}
