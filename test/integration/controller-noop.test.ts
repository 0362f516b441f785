// A reconcile that finds everything in place writes nothing: 20 Ready ModelServices, a full
// resync, and the API server's audit log shows zero write requests from the operator.
import { describe, expect, it } from "vitest";
import { applyModelService, auditLogPath, auditWrites, gpuSpec, isReady, sleep, useOperator, waitFor } from "./controller-helpers.ts";

const N = 20;
const fx = useOperator("ctl-noop");

describe("no-op resync", () => {
  it(`makes zero write requests for ${N} settled ModelServices`, async () => {
    const t0 = performance.now();
    const start = new Date();
    await Promise.all(Array.from({ length: N }, (_, i) => applyModelService(fx.client, fx.ns, `m${i}`, gpuSpec({ loadSeconds: 1 }))));
    await waitFor(
      `${N} Ready`,
      async () => {
        const list = await fx.client.request<{ items: Parameters<typeof isReady>[0][] }>(
          "GET",
          `/apis/modelservice.dev/v1alpha1/namespaces/${fx.ns}/modelservices`,
        );
        return list.items.length === N && list.items.every(isReady);
      },
      110_000,
      250,
    );
    console.log(`[measure] ${N} ModelServices created→all Ready in ${((performance.now() - t0) / 1000).toFixed(1)}s (simulated load 1s)`);
    // Let the last status writes and their watch events settle.
    await sleep(2000);
    const writesBefore = fx.op.metrics.writes;
    const countMetric = async () => (await writesBefore.get()).values.reduce((n, v) => n + v.value, 0);
    const metricBefore = await countMetric();
    const reconcilesBefore = fx.op.controller.reconciles;
    const since = new Date();
    fx.op.controller.resync();
    await waitFor("a full resync", () => fx.op.controller.reconciles - reconcilesBefore >= N, 20_000, 50);
    await sleep(1500);
    const audited = auditWrites({ since, userAgent: `modelservice-operator/${fx.op.identity}`, namespace: fx.ns }).filter(
      (w) => !w.uri.includes("/leases/") && !w.uri.includes("/events"),
    );
    const metricWrites = (await countMetric()) - metricBefore;
    console.log(
      `[measure] no-op resync of ${N}: ${fx.op.controller.reconciles - reconcilesBefore} reconciles, ${audited.length} writes in the audit log${auditLogPath() ? "" : " (no audit log)"}, ${metricWrites} writes by the operator's own count`,
    );
    if (auditLogPath()) {
      // Writes up to the resync: 3 children + status updates per ModelService (events and leases excluded).
      const creation = auditWrites({ since: start, userAgent: `modelservice-operator/${fx.op.identity}`, namespace: fx.ns }).filter(
        (w) => !w.uri.includes("/events"),
      );
      console.log(`[measure] operator writes from create to all Ready: ${creation.length} for ${N} ModelServices (${(creation.length / N).toFixed(1)} each)`);
      // The filter does see the operator's writes (so zero above is not vacuous).
      expect(auditWrites({ since: start, userAgent: `modelservice-operator/${fx.op.identity}`, namespace: fx.ns }).length).toBeGreaterThanOrEqual(2 * N);
    }
    expect(metricWrites).toBe(0);
    expect(audited).toEqual([]);
  });
});
