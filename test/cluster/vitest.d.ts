// Values the integration project's global setup (test/cluster/global-setup.ts) provides to tests.
import "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** Path of the admin kubeconfig of the local control plane. */
    kubeconfig: string;
    /** Directory of kubectl, helm and the control-plane binaries. */
    binDir: string;
    /** The API server's audit log (JSON lines, one event per write request); "" when unknown. */
    auditLogPath: string;
    /** Directory of test-only tools (cyclonus), built by scripts/build-test-binaries.sh; "" when that build failed. */
    testBinDir: string;
  }
}
