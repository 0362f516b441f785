// The operator keeps working when its connections to the API server break. It talks to the real
// API server through a TCP proxy (kube-helpers.ts) that can cut every connection (the client sees
// a reset) or silently stall them (nothing arrives, nothing closes). After each, a ModelService is
// created and another modified: the operator must notice both and reconcile them (children
// created, status written) within a bounded time, and its /metrics must count the watch restarts.
//
// A stall is only noticed after the informers' stall timeout (no event nor bookmark for that
// long). The test shortens it (STALL_MS); MSO_TEST_DEFAULT_STALL=1 uses the operator's default
// (90 s) to measure the real recovery time.
import type { V1Deployment } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningOperator } from "../../src/operator/start.ts";
import { applyModelService, getDeployment, getModelService, gpuSpec, startTestOperator, useTestNamespace, waitFor } from "./controller-helpers.ts";
import { startProxy, type TcpProxy } from "./kube-helpers.ts";

const DEFAULT_STALL = Boolean(process.env.MSO_TEST_DEFAULT_STALL);
const STALL_MS = DEFAULT_STALL ? 90_000 : 5000;
/** Bound on recovery after a cut: the informers reconnect after a backoff of at most a few hundred ms. */
const CUT_BOUND_S = 20;
/** The KubeClient's default request timeout (until the response headers). */
const REQUEST_TIMEOUT_S = 30;

const fx = useTestNamespace("ctl-watch");
let proxy: TcpProxy;
let op: RunningOperator;

// Registered after useTestNamespace: runs once the namespace exists, and cleans up before it is deleted.
beforeAll(async () => {
  const p = await startProxy();
  proxy = p.proxy;
  op = await startTestOperator({ kubeconfig: p.kubeconfig, namespaces: [fx.ns], ...(DEFAULT_STALL ? {} : { stallTimeoutMs: STALL_MS }) });
});

afterAll(async () => {
  await op?.stop();
  await proxy?.close();
});

/** modelservice_watch_restarts_total from the operator's /metrics, per "resource/reason". */
async function watchRestarts(): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${op.port}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line.startsWith("modelservice_watch_restarts_total{")) continue;
    const resource = /resource="([^"]+)"/.exec(line)?.[1];
    const reason = /reason="([^"]+)"/.exec(line)?.[1];
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (resource && reason) out.set(`${resource}/${reason}`, value);
  }
  return out;
}

const envOf = (d: V1Deployment | undefined, name: string) => d?.spec?.template.spec?.containers[0]?.env?.find((e) => e.name === name)?.value;

/** The ModelService's Deployment exists (with `env` if given) and its status is written for its current generation. */
async function reconciled(name: string, env?: { name: string; value: string }): Promise<boolean> {
  const [ms, d] = await Promise.all([getModelService(fx.client, fx.ns, name), getDeployment(fx.client, fx.ns, name)]);
  if (!d || (env && envOf(d, env.name) !== env.value)) return false;
  return ms.status?.observedGeneration === ms.metadata.generation && ms.status?.phase !== undefined;
}

/**
 * Creates `fresh` and changes `existing`; returns the seconds until the operator had created the
 * new ModelService's Deployment (it noticed), and until it had reconciled both (status written).
 */
async function createAndModify(fresh: string, existing: string, marker: string, timeoutMs: number): Promise<{ noticed: number; done: number }> {
  const t0 = performance.now();
  const env = { name: "MARKER", value: marker };
  await Promise.all([applyModelService(fx.client, fx.ns, fresh, gpuSpec()), applyModelService(fx.client, fx.ns, existing, gpuSpec({ env: [env] }))]);
  let noticed: number | undefined;
  await waitFor(
    `${fresh} reconciled and ${existing} updated`,
    async () => {
      if (noticed === undefined && (await getDeployment(fx.client, fx.ns, fresh))) noticed = performance.now();
      return (await reconciled(fresh)) && (await reconciled(existing, env));
    },
    timeoutMs,
    100,
  );
  const done = performance.now();
  return { noticed: ((noticed ?? done) - t0) / 1000, done: (done - t0) / 1000 };
}

const sum = (m: Map<string, number>, reason: string, resource?: string) =>
  [...m].filter(([k]) => k.endsWith(`/${reason}`) && (!resource || k.startsWith(`${resource}/`))).reduce((a, [, v]) => a + v, 0);

describe("watch recovery (the operator behind a proxy that cuts or stalls its connections)", () => {
  it("reconciles through the proxy to begin with", async () => {
    await applyModelService(fx.client, fx.ns, "base", gpuSpec());
    await waitFor("base reconciled", () => reconciled("base"), 30_000);
    expect(proxy.openConnections()).toBeGreaterThan(0);
  });

  it("recovers from every connection being cut", async () => {
    const before = await watchRestarts();
    const cut = proxy.cutAll();
    const took = await createAndModify("after-cut", "base", "cut", CUT_BOUND_S * 1000);
    console.log(`[measure] recovery after cut: ${took.done.toFixed(2)} s (children after ${took.noticed.toFixed(2)} s; ${cut} connections cut)`);
    expect(cut).toBeGreaterThan(0);
    const after = await watchRestarts();
    // Every informer's watch was cut (children, ModelServices, CRDs, ReplicaSets, pods): each restarted (reason "error").
    expect(sum(after, "error", "modelservices") - sum(before, "error", "modelservices")).toBeGreaterThanOrEqual(1);
    expect(sum(after, "error") - sum(before, "error")).toBeGreaterThanOrEqual(op.controller.children.length + 4);
  });

  it("says on /readyz that its caches are stale while the API server is unreachable, and is ready again after", async () => {
    const readyz = async () => {
      const r = await fetch(`http://127.0.0.1:${op.port}/readyz`);
      return { status: r.status, body: await r.text() };
    };
    expect((await readyz()).status).toBe(200);
    proxy.block(true);
    proxy.cutAll();
    const down = await waitFor("/readyz 503", async () => ((r) => (r.status === 503 ? r : undefined))(await readyz()), 20_000, 100);
    console.log(`[measure] /readyz while unreachable: ${down.body.trim()}`);
    expect(down.body).toMatch(/^watch of \S+ failing for [0-9.]+ s: .+\n$/);
    proxy.block(false);
    const t0 = performance.now();
    await waitFor("/readyz 200 again", async () => (await readyz()).status === 200, 60_000, 100);
    console.log(`[measure] /readyz ready again ${((performance.now() - t0) / 1000).toFixed(2)} s after the API server became reachable`);
    await waitFor("base reconciled after the outage", () => reconciled("base"), 30_000);
  });

  it("recovers from every connection being silently stalled, after the stall timeout", { timeout: STALL_MS + REQUEST_TIMEOUT_S * 1000 + 60_000 }, async () => {
    // Let every watch get going again after the cut.
    await waitFor("all watches open", () => proxy.openConnections() >= op.controller.children.length + 4, 10_000);
    const before = await watchRestarts();
    const stalled = proxy.stallAll();
    // The watches notice after the stall timeout. A request in flight when its connection stalls
    // (a reconcile still busy with the pods of the previous step, say) waits for the client's
    // request timeout (30 s) before it fails and is retried, holding its key meanwhile: the bound
    // is the longer of the two, plus slack. Seen in about half the runs: ~5.5 s or ~30 s.
    // The bound is createAndModify's wait deadline, not an assertion: no recovery fails the test.
    const bound = STALL_MS / 1000 + REQUEST_TIMEOUT_S + 10;
    const took = await createAndModify("after-stall", "base", "stall", bound * 1000);
    console.log(
      `[measure] recovery after stall: ${took.done.toFixed(2)} s (children after ${took.noticed.toFixed(2)} s; ${stalled} connections stalled, stall timeout ${STALL_MS / 1000} s)`,
    );
    const after = await watchRestarts();
    expect(sum(after, "stall", "modelservices") - sum(before, "stall", "modelservices")).toBeGreaterThanOrEqual(1);
  });
});
