// Kubernetes Events (core/v1), fire and forget, deduplicated like client-go's EventCorrelator:
// the same involved object + type + reason + message within 10 minutes bumps count and
// lastTimestamp of the Event already written (one merge PATCH) instead of creating another.

import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import { ApiError, type KubeClient, resourcePath } from "./client.ts";

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
}

export interface EventRecorderOptions {
  client: KubeClient;
  /** source.component / reportingComponent, e.g. "modelservice-operator" */
  component: string;
  /** source.host / reportingInstance, e.g. the pod name */
  instance: string;
  logger: Logger;
  now?: () => Date;
  /** dedupe window; default 10 min */
  windowMs?: number;
  /** most entries remembered for dedupe (least recently used dropped); default 2048 */
  maxEntries?: number;
}

interface Entry {
  namespace: string;
  name?: string; // Event object's name once created
  count: number;
  firstTimestamp: string;
  lastAt: number;
  chain: Promise<void>;
}

const MAX_MESSAGE = 1024;

function rfc3339(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

export class EventRecorder {
  private readonly client: KubeClient;
  private readonly component: string;
  private readonly instance: string;
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly windowMs: number;
  private readonly maxEntries: number;
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Set<Promise<void>>();

  constructor(opts: EventRecorderOptions) {
    this.client = opts.client;
    this.component = opts.component;
    this.instance = opts.instance;
    this.log = opts.logger.child({ component: "events" });
    this.now = opts.now ?? (() => new Date());
    this.windowMs = opts.windowMs ?? 10 * 60_000;
    this.maxEntries = opts.maxEntries ?? 2048;
  }

  record(involved: InvolvedObject, type: "Normal" | "Warning", reason: string, message: string): void {
    const msg = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 3)}...` : message;
    const key = JSON.stringify([involved.apiVersion, involved.kind, involved.namespace, involved.name, involved.uid ?? "", type, reason, msg]);
    const now = this.now();
    const nowMs = now.getTime();
    let e = this.entries.get(key);
    if (e && nowMs - e.lastAt > this.windowMs) {
      this.entries.delete(key);
      e = undefined;
    }
    if (e) {
      // LRU: move to the end.
      this.entries.delete(key);
      this.entries.set(key, e);
      e.count++;
      e.lastAt = nowMs;
      const entry = e;
      const count = e.count;
      this.track(key, entry, () => this.bump(involved, type, reason, msg, entry, count, now));
      return;
    }
    const entry: Entry = { namespace: involved.namespace, count: 1, firstTimestamp: rfc3339(now), lastAt: nowMs, chain: Promise.resolve() };
    this.entries.set(key, entry);
    this.evict(nowMs);
    this.track(key, entry, () => this.create(involved, type, reason, msg, entry, now));
  }

  /** Resolves when every event recorded so far has been written (or failed). */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  // ---------------------------------------------------------------------------------------

  private track(key: string, entry: Entry, op: () => Promise<void>): void {
    const p = entry.chain.then(op).catch((err) => {
      this.log.warn({ err: err instanceof ApiError ? { status: err.status, message: err.message } : err, key }, "could not write event");
    });
    entry.chain = p;
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private evict(nowMs: number): void {
    for (const [k, e] of this.entries) {
      if (this.entries.size <= this.maxEntries && nowMs - e.lastAt <= this.windowMs) break;
      this.entries.delete(k);
    }
  }

  private async create(involved: InvolvedObject, type: string, reason: string, message: string, entry: Entry, now: Date): Promise<void> {
    const ts = rfc3339(now);
    const name = `${involved.name.slice(0, 230)}.${(BigInt(now.getTime()) * 1_000_000n + BigInt(randomBytes(2).readUInt16BE(0))).toString(16)}`;
    const involvedObject: Record<string, string> = { apiVersion: involved.apiVersion, kind: involved.kind, namespace: involved.namespace, name: involved.name };
    if (involved.uid) involvedObject.uid = involved.uid;
    if (involved.resourceVersion) involvedObject.resourceVersion = involved.resourceVersion;
    const ev = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name, namespace: involved.namespace },
      involvedObject,
      type,
      reason,
      message,
      count: entry.count,
      firstTimestamp: entry.firstTimestamp,
      lastTimestamp: ts,
      source: { component: this.component, host: this.instance },
      reportingComponent: this.component,
      reportingInstance: this.instance,
    };
    await this.client.request("POST", resourcePath({ apiVersion: "v1", plural: "events", namespace: involved.namespace }), { body: ev });
    entry.name = name;
  }

  private async bump(involved: InvolvedObject, type: string, reason: string, message: string, entry: Entry, count: number, now: Date): Promise<void> {
    if (!entry.name) {
      // The create failed: try creating again.
      await this.create(involved, type, reason, message, entry, now);
      return;
    }
    if (count < entry.count) return; // a later bump is queued behind us; let it write the final count
    try {
      await this.client.request("PATCH", resourcePath({ apiVersion: "v1", plural: "events", namespace: entry.namespace, name: entry.name }), {
        body: { count: entry.count, lastTimestamp: rfc3339(now) },
        contentType: "application/merge-patch+json",
      });
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        // expired (events have a TTL) or deleted: start a new one
        entry.name = undefined;
        entry.count = 1;
        entry.firstTimestamp = rfc3339(now);
        await this.create(involved, type, reason, message, entry, now);
        return;
      }
      throw err;
    }
  }
}
