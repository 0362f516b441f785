// Lease-based leader election with two electors on a real Lease.
// What is asserted is behaviour and order (who leads, who stepped down before whom took over);
// the durations are printed as "[measure]" lines, never asserted: a busy machine must not fail
// these tests. The waits have generous upper bounds only so a broken elector cannot hang them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeClient, loadKubeConfig, resourcePath } from "../../src/kube/client.ts";
import { LeaderElector } from "../../src/kube/leader-election.ts";
import { client, createNamespace, deleteNamespace, logger, startProxy, type TcpProxy, waitFor } from "./kube-helpers.ts";

const c = client();
let ns: string;
const proxies: TcpProxy[] = [];
const electors: LeaderElector[] = [];
/** Every start and stop of leading, in the order the callbacks ran, with the local time. */
const timeline: { lease: string; event: string; at: number }[] = [];
const events = (lease: string) => timeline.filter((e) => e.lease === lease).map((e) => e.event);
const when = (lease: string, event: string) => timeline.find((e) => e.lease === lease && e.event === event)?.at ?? Number.NaN;
const measure = (what: string, ms: number) => console.log(`[measure] ${what}: ${Math.round(ms)} ms`);

beforeAll(async () => {
  ns = await createNamespace(c, "klead");
});
afterAll(async () => {
  for (const e of electors) await e.release();
  for (const p of proxies) await p.close();
  await deleteNamespace(c, ns);
});

interface Candidate {
  elector: LeaderElector;
  id: string;
  leading: boolean;
  signal?: AbortSignal;
  changes: boolean[];
  done: Promise<void>;
}

function candidate(id: string, lease: string, kc: KubeClient, timing = { leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500 }): Candidate {
  const cand: Partial<Candidate> & { changes: boolean[] } = { id, leading: false, changes: [] };
  const elector = new LeaderElector({
    client: kc,
    namespace: ns,
    name: lease,
    identity: id,
    logger,
    ...timing,
    onChange: (v) => cand.changes.push(v),
  });
  electors.push(elector);
  cand.elector = elector;
  cand.done = elector.run((signal) => {
    cand.leading = true;
    cand.signal = signal;
    timeline.push({ lease, event: `${id} leads`, at: Date.now() });
    signal.addEventListener("abort", () => {
      cand.leading = false;
      timeline.push({ lease, event: `${id} stops`, at: Date.now() });
    });
  });
  return cand as Candidate;
}

async function holder(lease: string): Promise<string | undefined> {
  const l = await c.request<{ spec?: { holderIdentity?: string } }>(
    "GET",
    resourcePath({ apiVersion: "coordination.k8s.io/v1", plural: "leases", namespace: ns, name: lease }),
  );
  return l.spec?.holderIdentity || undefined;
}

describe("LeaderElector", () => {
  it("only one of two leads; release() hands over without waiting for the lease to expire (default timings)", async () => {
    const defaults = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2000 };
    const a = candidate("a", "handover", c, defaults);
    await waitFor("a leads", () => a.leading, 10_000);
    const b = candidate("b", "handover", c, defaults);
    // b keeps trying but must not lead while a renews
    await new Promise((r) => setTimeout(r, 4500));
    expect(a.elector.isLeader()).toBe(true);
    expect(b.elector.isLeader()).toBe(false);
    expect(b.leading).toBe(false);
    expect(await holder("handover")).toBe("a");

    const t0 = Date.now();
    await a.elector.release();
    expect(a.elector.isLeader()).toBe(false);
    expect(a.signal?.aborted).toBe(true);
    await a.done;
    // released, not left to expire: the lease names nobody (or already b, if b was quick)
    expect([undefined, "b"]).toContain(await holder("handover"));
    await waitFor("b leads", () => b.leading, 30_000, 20);
    measure("release() to the successor leading (retryPeriod 2000 ms, lease 15000 ms)", when("handover", "b leads") - t0);
    expect(await holder("handover")).toBe("b");
    expect(events("handover")).toEqual(["a leads", "a stops", "b leads"]);
    expect(a.changes).toEqual([true, false]);
    expect(b.changes).toEqual([true]);
    await b.elector.release();
    await b.done;
  });

  it("abandon() (a crash) stops leading at once but keeps the lease held until it expires", async () => {
    const timing = { leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500 };
    const a = candidate("a", "abandon", c, timing);
    await waitFor("a leads", () => a.leading, 10_000);
    const b = candidate("b", "abandon", c, timing);
    await new Promise((r) => setTimeout(r, 1000));
    expect(b.leading).toBe(false);

    const t0 = Date.now();
    a.elector.abandon();
    // a stops at once (its leading signal is aborted, run() resolves)...
    expect(a.elector.isLeader()).toBe(false);
    expect(a.signal?.aborted).toBe(true);
    await a.done;
    expect(a.changes).toEqual([true, false]);
    // ...but the lease is not given up: it still names a, and b must wait for it to expire.
    expect(await holder("abandon")).toBe("a");
    expect(b.leading).toBe(false);
    await waitFor("b takes over", () => b.leading, 30_000, 20);
    measure(`abandon() to the successor leading (lease ${timing.leaseDurationMs} ms)`, when("abandon", "b leads") - t0);
    expect(await holder("abandon")).toBe("b");
    expect(events("abandon")).toEqual(["a leads", "a stops", "b leads"]);
    // Idempotent, and release() after abandon() gives nothing up (a no longer leads).
    a.elector.abandon();
    await a.elector.release();
    expect(await holder("abandon")).toBe("b");
    await b.elector.release();
  });

  it("a leader that can no longer reach the server stops leading after renewDeadline, and is replaced after the lease duration", async () => {
    const { proxy, kubeconfig } = await startProxy();
    proxies.push(proxy);
    const a = candidate("a", "crash", new KubeClient(loadKubeConfig(kubeconfig), { timeoutMs: 1000 }));
    await waitFor("a leads", () => a.leading, 10_000);
    const b = candidate("b", "crash", c);
    await new Promise((r) => setTimeout(r, 1000));
    expect(b.leading).toBe(false);

    // "kill" a: from the server's view it stops renewing (no release).
    const t0 = Date.now();
    proxy.block(true);
    await waitFor("a stops leading", () => !a.leading, 30_000, 20);
    await waitFor("b takes over", () => b.leading, 30_000, 20);
    // a stepped down (renewDeadline 3 s) BEFORE b took over (lease 4 s): never two leaders.
    expect(events("crash")).toEqual(["a leads", "a stops", "b leads"]);
    measure("cut-off leader stepping down (renewDeadline 3000 ms)", when("crash", "a stops") - t0);
    measure("successor taking over (lease 4000 ms)", when("crash", "b leads") - t0);
    measure("gap with no leader", when("crash", "b leads") - when("crash", "a stops"));
    await a.done; // run() resolves once leadership is lost
    expect(a.elector.isLeader()).toBe(false);
    expect(await holder("crash")).toBe("b");
    await b.elector.release();
  });
});
