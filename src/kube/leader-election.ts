// Lease-based leader election (coordination.k8s.io/v1), following client-go's leaderelection:
// - a candidate tries to acquire every retryPeriod (jittered); a lease held by another identity
//   is respected until leaseDuration has passed since this process last saw it change (local
//   clock only, so clock skew between nodes does not matter);
// - the leader renews every retryPeriod; if no renewal succeeded for renewDeadline it aborts the
//   signal given to onStartedLeading (the caller must stop writing) and run() resolves;
// - release() gives the lease up (holderIdentity "", leaseDurationSeconds 1) so a successor
//   takes over within about one retryPeriod; abandon() stops without giving it up (a crash), so a
//   successor waits for the lease to expire.
// renewDeadline < leaseDuration guarantees the old leader stops before anyone else may start.

import type { Logger } from "pino";
import { ApiError, type KubeClient, resourcePath } from "./client.ts";
import { sleep } from "./sleep.ts";

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion: "coordination.k8s.io/v1";
  kind: "Lease";
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

export interface LeaderElectorOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  logger: Logger;
  onChange?: (isLeader: boolean) => void;
}

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

export class LeaderElector {
  private readonly client: KubeClient;
  private readonly namespace: string;
  private readonly name: string;
  private readonly identity: string;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly log: Logger;
  private readonly onChange?: (isLeader: boolean) => void;

  private leader = false;
  private lease: Lease | undefined;
  private observedSpec = "";
  private observedAt = 0;
  private readonly stopCtl = new AbortController();
  private leadCtl: AbortController | undefined;
  private inflight: Promise<unknown> = Promise.resolve();
  private running = false;
  private abandoned = false;

  constructor(opts: LeaderElectorOptions) {
    this.client = opts.client;
    this.namespace = opts.namespace;
    this.name = opts.name;
    this.identity = opts.identity;
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    this.log = opts.logger.child({ lease: `${opts.namespace}/${opts.name}`, identity: opts.identity });
    this.onChange = opts.onChange;
    if (!(this.renewDeadlineMs < this.leaseDurationMs)) throw new Error("leader election: renewDeadline must be shorter than leaseDuration");
    if (!(this.retryPeriodMs * 1.2 < this.renewDeadlineMs)) throw new Error("leader election: retryPeriod*1.2 must be shorter than renewDeadline");
  }

  isLeader(): boolean {
    return this.leader;
  }

  /** Holder identity last seen on the lease (may be stale). */
  observedHolder(): string | undefined {
    return this.lease?.spec?.holderIdentity || undefined;
  }

  /**
   * Acquires the lease (waiting as long as it takes), calls onStartedLeading with a signal that is
   * aborted when leadership is lost or released, keeps renewing, and resolves once leadership
   * ended (lost: renewal failed for renewDeadline or another holder took the lease; or release()).
   * Like client-go, it does not try to lead again: exit the process, or call run() on a new elector.
   */
  async run(onStartedLeading: (signal: AbortSignal) => Promise<void> | void): Promise<void> {
    if (this.running) throw new Error("LeaderElector.run called twice");
    this.running = true;
    const stop = this.stopCtl.signal;
    this.log.info("waiting to acquire the leader lease");
    while (!stop.aborted) {
      const ok = await this.attempt(Math.max(1000, this.renewDeadlineMs));
      if (ok || stop.aborted) break;
      await sleep(this.retryPeriodMs * (1 + Math.random() * 0.2), this.stopCtl.signal);
    }
    // Acquired but released meanwhile: release() gives the lease back.
    if (stop.aborted || !this.leader) return;

    const lead = new AbortController();
    this.leadCtl = lead;
    this.log.info("acquired the leader lease");
    void (async () => onStartedLeading(lead.signal))().catch((err) => this.log.error({ err }, "onStartedLeading failed"));

    let lastRenew = Date.now();
    while (!stop.aborted) {
      await sleep(this.retryPeriodMs, this.stopCtl.signal);
      if (stop.aborted) break;
      const t0 = Date.now();
      const remaining = lastRenew + this.renewDeadlineMs - t0;
      const ok = await this.attempt(Math.max(250, remaining));
      if (stop.aborted) break;
      if (ok) {
        lastRenew = t0;
        continue;
      }
      const holder = this.lease?.spec?.holderIdentity;
      if (holder && holder !== this.identity) {
        this.lose(`the lease is now held by ${holder}`);
        return;
      }
      if (Date.now() - lastRenew >= this.renewDeadlineMs) {
        this.lose(`failed to renew the lease for ${this.renewDeadlineMs} ms`);
        return;
      }
    }
  }

  /**
   * Stops campaigning/renewing; if leading, aborts the leading signal and gives the lease up
   * (holderIdentity "", leaseDurationSeconds 1) so a successor can take over at once.
   */
  async release(): Promise<void> {
    this.stopCtl.abort();
    await this.inflight.catch(() => {});
    if (!this.leader) return;
    this.leadCtl?.abort(new Error("leadership released"));
    this.setLeader(false);
    for (let i = 0; i < 3; i++) {
      try {
        const lease = await this.client.request<Lease>("GET", this.path(), { timeoutMs: 5000 });
        if (lease.spec?.holderIdentity !== this.identity) return;
        const now = microTime(Date.now());
        await this.client.request("PUT", this.path(), {
          body: {
            ...lease,
            spec: {
              ...lease.spec,
              holderIdentity: "",
              leaseDurationSeconds: 1,
              renewTime: now,
              acquireTime: now,
              leaseTransitions: lease.spec?.leaseTransitions ?? 0,
            },
          },
          timeoutMs: 5000,
        });
        this.log.info("released the leader lease");
        return;
      } catch (err) {
        if (err instanceof ApiError && err.status === 409) continue;
        this.log.warn({ err }, "could not release the leader lease; a successor will take over after it expires");
        return;
      }
    }
  }

  /**
   * Stops campaigning and renewing at once WITHOUT giving the lease up, as if the process had died:
   * the lease stays held by this identity until it expires (leaseDuration after its last renewal),
   * then a successor takes over. Aborts the leading signal (the caller must stop writing) and
   * makes run() resolve. A renewal already in flight may still land. For tests and crash drills;
   * a graceful shutdown calls release().
   */
  abandon(): void {
    if (this.stopCtl.signal.aborted) return;
    this.abandoned = true;
    this.stopCtl.abort();
    if (!this.leader) return;
    this.log.info("abandoning the leader lease without releasing it");
    this.leadCtl?.abort(new Error("leadership abandoned"));
    this.setLeader(false);
  }

  // ---------------------------------------------------------------------------------------

  private lose(why: string): void {
    this.log.error({ why }, "lost leadership");
    this.leadCtl?.abort(new Error(`leadership lost: ${why}`));
    this.setLeader(false);
  }

  private setLeader(v: boolean): void {
    if (this.leader === v) return;
    this.leader = v;
    try {
      this.onChange?.(v);
    } catch (err) {
      this.log.error({ err }, "leader onChange hook threw");
    }
  }

  private path(withName = true): string {
    return resourcePath({ apiVersion: "coordination.k8s.io/v1", plural: "leases", namespace: this.namespace, name: withName ? this.name : undefined });
  }

  private async attempt(timeoutMs: number): Promise<boolean> {
    const p = this.tryAcquireOrRenew(timeoutMs).then(
      (ok) => {
        // Become leader in the same tick as the write, so a concurrent release() sees it.
        // (Not after abandon(): an acquisition that lands then is simply never renewed.)
        if (ok && !this.leader && !this.leadCtl && !this.abandoned) this.setLeader(true);
        return ok;
      },
      (err) => {
        this.log.warn({ err: err instanceof Error ? err.message : err }, this.leader ? "lease renewal failed" : "lease acquisition failed");
        return false;
      },
    );
    this.inflight = p;
    return await p;
  }

  private spec(now: number, old: LeaseSpec | undefined): LeaseSpec {
    const mine = old?.holderIdentity === this.identity;
    return {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTime: mine && old?.acquireTime ? old.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: mine ? (old?.leaseTransitions ?? 0) : old ? (old.leaseTransitions ?? 0) + 1 : 0,
    };
  }

  private observe(lease: Lease, now: number): void {
    this.lease = lease;
    const s = JSON.stringify(lease.spec ?? {});
    if (s !== this.observedSpec) {
      this.observedSpec = s;
      this.observedAt = now;
    }
  }

  private async tryAcquireOrRenew(timeoutMs: number): Promise<boolean> {
    const now = Date.now();
    // Fast path for the leader: update the lease we wrote last time.
    if (this.leader && this.lease?.metadata.resourceVersion) {
      try {
        const updated = await this.client.request<Lease>("PUT", this.path(), { body: { ...this.lease, spec: this.spec(now, this.lease.spec) }, timeoutMs });
        this.observe(updated, now);
        return true;
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 409)) throw err;
      }
    }
    let lease: Lease;
    try {
      lease = await this.client.request<Lease>("GET", this.path(), { timeoutMs });
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) throw err;
      const fresh: Lease = {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: this.name, namespace: this.namespace },
        spec: this.spec(now, undefined),
      };
      try {
        const created = await this.client.request<Lease>("POST", this.path(false), { body: fresh, timeoutMs });
        this.observe(created, now);
        return true;
      } catch (e) {
        if (e instanceof ApiError && e.status === 409) return false;
        throw e;
      }
    }
    this.observe(lease, now);
    const holder = lease.spec?.holderIdentity ?? "";
    const durMs = (lease.spec?.leaseDurationSeconds ?? Math.ceil(this.leaseDurationMs / 1000)) * 1000;
    if (holder !== "" && holder !== this.identity && this.observedAt + durMs > now) return false;
    if (holder !== this.identity && this.leader) return false; // someone else took it: we lost
    try {
      const updated = await this.client.request<Lease>("PUT", this.path(), { body: { ...lease, spec: this.spec(now, lease.spec) }, timeoutMs });
      this.observe(updated, now);
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) return false;
      throw err;
    }
  }
}
