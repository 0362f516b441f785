// Lease-based leader election with two electors on a real Lease.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeClient, loadKubeConfig, resourcePath } from "../../src/kube/client.ts";
import { LeaderElector } from "../../src/kube/leader-election.ts";
import { client, createNamespace, deleteNamespace, logger, startProxy, type TcpProxy, waitFor } from "./kube-helpers.ts";

const c = client();
let ns: string;
const proxies: TcpProxy[] = [];
const electors: LeaderElector[] = [];

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
    signal.addEventListener("abort", () => {
      cand.leading = false;
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
  it("only one of two leads; release() hands over within ~2-3 s (default timings)", async () => {
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
    await waitFor("b leads", () => b.leading, 5000, 20);
    const took = Date.now() - t0;
    expect(took).toBeLessThan(3000);
    expect(await holder("handover")).toBe("b");
    expect(a.changes).toEqual([true, false]);
    expect(b.changes).toEqual([true]);
    await b.elector.release();
    await b.done;
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
    const at = async (what: string, cond: () => boolean, timeoutMs: number) => {
      await waitFor(what, cond, timeoutMs, 20);
      return Date.now();
    };
    const [aStoppedAt, bStartedAt] = await Promise.all([at("a stops leading", () => !a.leading, 10_000), at("b takes over", () => b.leading, 15_000)]);
    // a gives up within renewDeadline (+ one retry period) of its last renewal...
    expect(aStoppedAt - t0).toBeLessThan(3000 + 1000);
    // ...which is before b may take over: never two leaders.
    expect(aStoppedAt).toBeLessThan(bStartedAt);
    // b waits out the lease duration it observed (4 s) before taking over.
    expect(bStartedAt - t0).toBeGreaterThanOrEqual(2500);
    expect(bStartedAt - t0).toBeLessThan(4000 + 2000);
    await a.done; // run() resolves once leadership is lost
    expect(a.elector.isLeader()).toBe(false);
    expect(await holder("crash")).toBe("b");
    await b.elector.release();
  });
});
