// What a caller sees at the real KEDA HTTP add-on interceptor (v0.15.0, a local process) with the
// InterceptorRoute the operator renders, without KEDA's operator (nothing scales here; the
// Deployment keeps its one replica): a request waits while the model has no ready endpoint, and is
// answered 504 when the route's readiness timeout (autoscaling.wake.timeoutSeconds, default the
// startup budget) runs out; once a replica is ready it is forwarded. Readiness comes from the real
// EndpointSlice of the model's Service; the forwarded hop lands on a local stand-in
// (helpers/upstream.ts).
import { mkdtempSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { defaultOperatorConfig, type OperatorConfig } from "../../src/config/operator-config.ts";
import { type LocalKeda, startLocalKeda } from "../../src/localcluster/keda.ts";
import { installThirdPartyCrds, removeThirdPartyCrds } from "../../src/localcluster/third-party-crds.ts";
import { installCrd } from "../../src/operator/install-crd.ts";
import type { RunningOperator } from "../../src/operator/start.ts";
import {
  applyModelService,
  condition,
  createNamespace,
  deleteNamespace,
  get,
  getModelService,
  gpuSpec,
  kubeconfigPath,
  startTestOperator,
  testClient,
  waitFor,
} from "./controller-helpers.ts";
import { callThroughInterceptor, type Seen, startUpstream } from "./helpers/upstream.ts";

const HOLD_SECONDS = 30;

describe("the real interceptor with the rendered InterceptorRoute", () => {
  const client = testClient();
  let ns = "";
  let addOnNs = "";
  let keda: LocalKeda | undefined;
  let op: RunningOperator | undefined;
  let upstream: Server | undefined;
  const seen: Seen[] = [];

  beforeAll(async () => {
    const testBinDir = inject("testBinDir");
    if (!testBinDir) throw new Error("the test binaries (the HTTP add-on) were not built: see the global setup's output");
    await installCrd(client);
    await installThirdPartyCrds(client, ["keda", "kedaHttpAddOn"]);
    ns = await createNamespace(client, "s2z-hold");
    addOnNs = await createNamespace(client, "keda-http");
    const up = await startUpstream(seen);
    upstream = up.server;
    keda = await startLocalKeda(client, {
      kubeconfigPath: kubeconfigPath(),
      testBinDir,
      namespace: addOnNs,
      upstreamProxy: up.url,
      logDir: mkdtempSync(join(tmpdir(), "mso-keda-http-")),
      kedaOperator: false,
    });
    const config: OperatorConfig = { ...defaultOperatorConfig, keda: { ...defaultOperatorConfig.keda, enabled: true } };
    op = await startTestOperator({ namespaces: [ns], config });
  }, 300_000);

  afterAll(async () => {
    await op?.stop();
    await keda?.stop();
    upstream?.close();
    if (ns) await deleteNamespace(client, ns);
    if (addOnNs) await deleteNamespace(client, addOnNs);
    // The CRDs are cluster-wide and the control plane is shared: later files expect no KEDA.
    await removeThirdPartyCrds(client, ["keda", "kedaHttpAddOn"]);
    client.close();
  });

  const wakeSpec = (podAnnotations: Record<string, string>) => ({
    ...gpuSpec(),
    podMetadata: { annotations: podAnnotations },
    startup: { timeoutSeconds: 60 },
    autoscaling: { minReplicas: 0, maxReplicas: 1, target: { inFlightRequests: 1 }, wake: { mode: "Request", timeoutSeconds: HOLD_SECONDS } },
  });

  const routed = (name: string) =>
    waitFor(`the InterceptorRoute ${name}`, () => get(client, "http.keda.sh/v1beta1", "interceptorroutes", ns, name), 60_000, 200);

  it("holds a request while no replica is ready, then answers 504 when the route's timeout runs out", async () => {
    await applyModelService(client, ns, "stuck", wakeSpec({ "modelservice.dev/simulate": "never-ready" }));
    await routed("stuck");
    // The interceptor's route table follows the InterceptorRoute through its watch.
    await new Promise((r) => setTimeout(r, 2000));
    const before = seen.length;
    const answer = await callThroughInterceptor(keda?.interceptorUrl ?? "", `stuck.${ns}.svc.cluster.local`, "/v1/models");
    process.stderr.write(
      `[measure] held request answered ${answer.status} after ${(answer.firstByteMs / 1000).toFixed(1)}s (wake.timeoutSeconds ${HOLD_SECONDS})\n`,
    );
    expect(answer.status).toBe(504);
    expect(seen.length).toBe(before);
    expect(condition(await getModelService(client, ns, "stuck"), "Ready")?.status).toBe("False");
  }, 120_000);

  it("forwards a request to the model's Service once a replica is ready", async () => {
    await applyModelService(client, ns, "quick", wakeSpec({ "modelservice.dev/simulate-load-seconds": "2" }));
    await routed("quick");
    await new Promise((r) => setTimeout(r, 2000));
    const answer = await callThroughInterceptor(keda?.interceptorUrl ?? "", `quick.${ns}.svc`, "/v1/models");
    process.stderr.write(`[measure] request answered ${answer.status} after ${(answer.firstByteMs / 1000).toFixed(1)}s (model loading ~2s)\n`);
    expect(answer.status).toBe(200);
    expect(answer.headers["x-keda-http-cold-start"]).toBeDefined();
    expect(seen.at(-1)?.url).toMatch(new RegExp(`^http://quick\\.${ns}[.:a-z0-9]*/v1/models$`));
  }, 120_000);
});
