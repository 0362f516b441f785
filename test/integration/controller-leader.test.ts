// Two operator instances with leader election: only the leader writes; the follower takes over
// after the leader releases the lease (graceful stop) and after it dies without releasing.
import { afterAll, describe, expect, it } from "vitest";
import type { RunningOperator } from "../../src/operator/start.ts";
import {
  applyModelService,
  auditLogPath,
  auditWrites,
  getDeployment,
  getModelService,
  gpuSpec,
  isReady,
  startTestOperator,
  useTestNamespace,
  waitFor,
} from "./controller-helpers.ts";

const fx = useTestNamespace("ctl-le");
const running: RunningOperator[] = [];

// Short timings keep the test quick; the ratios are client-go's (15 s / 10 s / 2 s), which
// MSO_TEST_DEFAULT_LEASE=1 uses instead (the operator's defaults) to measure real failover times.
const LEASE = process.env.MSO_TEST_DEFAULT_LEASE
  ? { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2000 }
  : { leaseDurationMs: 6000, renewDeadlineMs: 4000, retryPeriodMs: 800 };

const start = async (identity: string) => {
  const op = await startTestOperator({ namespaces: [fx.ns], leaderElect: true, leaderElectionNamespace: fx.ns, leaseName: "mso-test", identity, ...LEASE });
  running.push(op);
  return op;
};

// Registered after useTestNamespace, so it runs before the namespace is deleted.
afterAll(async () => {
  for (const op of running) await op.stop().catch(() => {});
});

type Lease = { spec?: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string } };
const readLease = () => fx.client.request<Lease>("GET", `/apis/coordination.k8s.io/v1/namespaces/${fx.ns}/leases/mso-test`);

const writesBy = (identity: string, since: Date) =>
  auditWrites({ since, userAgent: `modelservice-operator/${identity}`, namespace: fx.ns }).filter((w) => !w.uri.includes("/leases/"));

describe("leader election", () => {
  it("lets only the leader write, and fails over on release and on a crash", async () => {
    const since = new Date();
    const a = await start("op-a");
    await waitFor("op-a to lead", () => a.isLeader(), 20_000, 50);
    const b = await start("op-b");
    // b keeps its caches warm and is ready, but does not reconcile.
    const ready = await fetch(`http://127.0.0.1:${b.port}/readyz`);
    expect(ready.status).toBe(200);
    expect(b.isLeader()).toBe(false);

    await applyModelService(fx.client, fx.ns, "le1", gpuSpec());
    await waitFor("le1 Ready", async () => isReady(await getModelService(fx.client, fx.ns, "le1")), 60_000);
    expect(b.controller.reconciles).toBe(0);
    if (auditLogPath()) {
      expect(writesBy("op-a", since).length).toBeGreaterThan(0);
      expect(writesBy("op-b", since)).toEqual([]);
    }

    // Graceful stop (SIGTERM): a releases the lease; b takes over within about one retry period.
    let t = performance.now();
    await a.stop();
    const tStopped = performance.now();
    const released = await readLease();
    await waitFor("op-b to lead", () => b.isLeader(), 20_000, 20);
    const afterRelease = (performance.now() - tStopped) / 1000;
    console.log(`[measure] failover after release: ${afterRelease.toFixed(2)}s (stop took ${((tStopped - t) / 1000).toFixed(2)}s)`);
    // Order, not time: the graceful stop gave the lease up before b could take it by expiry.
    expect(released?.spec?.holderIdentity).not.toBe("op-a");

    // b now reconciles: a new ModelService gets its children.
    await applyModelService(fx.client, fx.ns, "le2", gpuSpec());
    await waitFor("le2's Deployment from op-b", () => getDeployment(fx.client, fx.ns, "le2"), 30_000);

    // Crash (no release): c takes over once the lease expires.
    const c = await start("op-c");
    expect(c.isLeader()).toBe(false);
    t = performance.now();
    await b.kill();
    // A crash releases nothing: the lease still names b, with b's last renewal.
    const orphaned = await readLease();
    expect(orphaned?.spec?.holderIdentity).toBe("op-b");
    await waitFor("op-c to lead", () => c.isLeader(), 30_000, 20);
    const afterKill = (performance.now() - t) / 1000;
    console.log(`[measure] failover after crash (lease not released): ${afterKill.toFixed(2)}s (lease duration ${LEASE.leaseDurationMs / 1000}s)`);
    // Order, from the lease's own timestamps: c acquired only once b's last renewal had expired.
    const taken = await readLease();
    expect(taken?.spec?.holderIdentity).toBe("op-c");
    const bRenewed = Date.parse(orphaned?.spec?.renewTime ?? "");
    expect(Date.parse(taken?.spec?.acquireTime ?? "")).toBeGreaterThanOrEqual(bRenewed + (orphaned?.spec?.leaseDurationSeconds ?? 0) * 1000);
    await applyModelService(fx.client, fx.ns, "le3", gpuSpec());
    await waitFor("le3's Deployment from op-c", () => getDeployment(fx.client, fx.ns, "le3"), 30_000);
  });
});
