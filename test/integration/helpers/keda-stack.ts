// The scale-to-zero files' shared set-up: the CRDs (ours, KEDA's, the HTTP add-on's), a test
// namespace, the local stand-in for the engine, the real KEDA components as local processes and an
// operator with KEDA enabled; torn down afterwards, KEDA's cluster-wide CRDs included (the control
// plane is shared by the test files). Registers the file's beforeAll/afterAll.
import { mkdtempSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, inject } from "vitest";
import { defaultOperatorConfig, type OperatorConfig } from "../../../src/config/operator-config.ts";
import type { KubeClient } from "../../../src/kube/client.ts";
import { type LocalKeda, startLocalKeda } from "../../../src/localcluster/keda.ts";
import { installThirdPartyCrds, removeThirdPartyCrds } from "../../../src/localcluster/third-party-crds.ts";
import { installCrd } from "../../../src/operator/install-crd.ts";
import type { RunningOperator } from "../../../src/operator/start.ts";
import { createNamespace, deleteNamespace, kubeconfigPath, startTestOperator } from "../controller-helpers.ts";
import { type Seen, startUpstream } from "./upstream.ts";

export type KedaStackOptions = {
  /** Prefixes of the test namespace and of the add-on's namespace. */
  namespacePrefix: string;
  addOnNamespacePrefix: string;
  /** false: only the HTTP add-on (interceptor and scaler), nothing scales. */
  kedaOperator: boolean;
};

export interface KedaStack {
  readonly ns: string;
  readonly interceptorUrl: string;
  /** Requests the engine's stand-in answered. */
  readonly seen: Seen[];
}

export function useKedaStack(client: KubeClient, o: KedaStackOptions): KedaStack {
  let ns = "";
  let addOnNs = "";
  let keda: LocalKeda | undefined;
  let op: RunningOperator | undefined;
  let upstream: Server | undefined;
  const seen: Seen[] = [];

  beforeAll(async () => {
    const testBinDir = inject("testBinDir");
    if (!testBinDir) throw new Error("the test binaries (KEDA, the HTTP add-on) were not built: see the global setup's output");
    await installCrd(client);
    await installThirdPartyCrds(client, ["keda", "kedaHttpAddOn"]);
    ns = await createNamespace(client, o.namespacePrefix);
    addOnNs = await createNamespace(client, o.addOnNamespacePrefix);
    const up = await startUpstream(seen);
    upstream = up.server;
    keda = await startLocalKeda(client, {
      kubeconfigPath: kubeconfigPath(),
      testBinDir,
      namespace: addOnNs,
      upstreamProxy: up.url,
      logDir: mkdtempSync(join(tmpdir(), `mso-${o.addOnNamespacePrefix}-`)),
      ...(o.kedaOperator ? {} : { kedaOperator: false }),
    });
    process.stderr.write(`[keda] logs: ${keda.processes.map((p) => p.logPath).join(" ")}\n`);
    const httpAddOn = o.kedaOperator ? { ...defaultOperatorConfig.keda.httpAddOn, scalerAddress: keda.scalerAddress } : defaultOperatorConfig.keda.httpAddOn;
    const config: OperatorConfig = { ...defaultOperatorConfig, keda: { ...defaultOperatorConfig.keda, enabled: true, httpAddOn } };
    op = await startTestOperator({ namespaces: [ns], config });
  }, 300_000);

  afterAll(async () => {
    await op?.stop();
    // The namespace goes while KEDA still runs, so KEDA can release its finalizers on what a failed
    // test left behind (removeThirdPartyCrds clears any it could not).
    if (ns) await deleteNamespace(client, ns);
    await keda?.stop();
    upstream?.close();
    if (addOnNs) await deleteNamespace(client, addOnNs);
    await removeThirdPartyCrds(client, ["keda", "kedaHttpAddOn"]);
    client.close();
  });

  return {
    get ns() {
      return ns;
    },
    get interceptorUrl() {
      return keda?.interceptorUrl ?? "";
    },
    seen,
  };
}
