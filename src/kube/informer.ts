// A resilient list+watch cache (what client-go calls a reflector + store + informer).
//
// Per scope (one namespace, or all namespaces): list (paginated) → watch from the list's
// resourceVersion with bookmarks and a jittered server-side timeout → on a normal end, watch again
// from the last resourceVersion seen; on 410 Gone (HTTP status or ERROR event), relist; on any
// other error or a stall (nothing, not even a bookmark, for stallTimeoutMs), reconnect after a
// capped, jittered exponential backoff, forever. A periodic relist diffs the cache against the
// server and fires ADDED / MODIFIED / DELETED for what changed, in case an event was ever missed.

import type { KubernetesObject } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { ApiError, type KubeClient, resourcePath } from "./client.ts";
import { errorMessage } from "./errors.ts";
import { sleep } from "./sleep.ts";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface InformerOptions {
  client: KubeClient;
  /** "v1" | "apps/v1" | "modelservice.dev/v1alpha1" */
  apiVersion: string;
  plural: string;
  /** undefined or [] = all namespaces (also the only choice for cluster-scoped kinds) */
  namespaces?: string[];
  labelSelector?: string;
  fieldSelector?: string;
  /** periodic relist to catch missed events; default 5 min (jittered +0–10 %); 0 disables */
  relistPeriodMs?: number;
  /** no event nor bookmark for this long ⇒ reconnect; default 90 s (the API server sends a bookmark about every minute) */
  stallTimeoutMs?: number;
  /** server-side watch timeout range in seconds; default [300, 600] */
  watchTimeoutSeconds?: [number, number];
  /** reconnect backoff; default 200 ms doubling to 30 s, full jitter */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** page size of lists; default 500 */
  pageSize?: number;
  /** a label whose value indexes the cache: byLabel(namespace, value) without scanning the namespace */
  indexLabel?: string;
  /** drop metadata.managedFields before caching (default true) */
  stripManagedFields?: boolean;
  /**
   * Applied to every listed and watched object (after apiVersion/kind are filled in): returns what
   * to cache — typically a trimmed copy — or undefined to not cache it at all. An object that
   * stops passing is removed from the cache (a DELETED event), as if it had been deleted.
   */
  transform?: (obj: KubernetesObject) => KubernetesObject | undefined;
  logger: Logger;
  /** metrics hook, called with "gone" | "error" | "stall" | "relist" (periodic) */
  onRestart?: (reason: string) => void;
}

type Handler<T> = (type: WatchEventType, obj: T, old?: T) => void;

interface WatchEvent {
  type?: string;
  object?: unknown;
}

class WatchAbort extends Error {
  reason: "stall" | "relist" | "stop";
  constructor(reason: "stall" | "relist" | "stop") {
    super(`watch aborted: ${reason}`);
    this.reason = reason;
  }
}

class Gone extends Error {}

interface WatchState {
  /** last resourceVersion seen (list, event or bookmark); undefined ⇒ relist */
  rv: string | undefined;
  /** the current watch delivered something */
  gotData: boolean;
}

export class Informer<T extends KubernetesObject> {
  private readonly opts: InformerOptions;
  private readonly log: Logger;
  private readonly scopes: (string | undefined)[];
  /** namespace ("" for cluster-scoped) → name → object */
  private readonly store = new Map<string, Map<string, T>>();
  /** namespace + "/" + value of opts.indexLabel → name → object */
  private readonly index = new Map<string, Map<string, T>>();
  private readonly handlers: Handler<T>[] = [];
  private readonly synced = new Set<string | undefined>();
  private stopCtl = new AbortController();
  private readonly watchCtls = new Set<AbortController>();
  private started = false;
  private syncWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private kind: string | undefined;

  constructor(opts: InformerOptions) {
    this.opts = opts;
    this.log = opts.logger.child({ informer: `${opts.plural}.${opts.apiVersion}` });
    this.scopes = opts.namespaces && opts.namespaces.length > 0 ? [...new Set(opts.namespaces)] : [undefined];
  }

  /** Resolves after the initial list of every namespace; rejects if stopped before. */
  start(): Promise<void> {
    if (!this.started) {
      this.started = true;
      for (const scope of this.scopes) {
        void this.runScope(scope).catch((err) => this.log.error({ err, namespace: scope }, "informer loop failed"));
      }
    }
    if (this.hasSynced()) return Promise.resolve();
    if (this.stopCtl.signal.aborted) return Promise.reject(new Error("informer stopped"));
    return new Promise((resolve, reject) => this.syncWaiters.push({ resolve, reject }));
  }

  stop(): void {
    if (this.stopCtl.signal.aborted) return;
    this.stopCtl.abort();
    for (const c of this.watchCtls) c.abort(new WatchAbort("stop"));
    this.watchCtls.clear();
    for (const w of this.syncWaiters) w.reject(new Error("informer stopped"));
    this.syncWaiters = [];
  }

  hasSynced(): boolean {
    return this.synced.size === this.scopes.length;
  }

  /** Why a scope that has not synced yet cannot list (404: the API is not served, 403: RBAC), for /readyz. */
  syncError(): string | undefined {
    for (const [scope, why] of this.listErrors) if (!this.synced.has(scope)) return why;
    return undefined;
  }
  private readonly listErrors = new Map<string | undefined, string>();

  /**
   * Why the list/watch of a synced scope is failing right now, and since when: set by the first
   * failure (a refused or cut connection, a stall, a 410), cleared once a list succeeds or the
   * server accepts a watch again. The cache is stale meanwhile; /readyz says so.
   */
  outage(): { since: number; why: string } | undefined {
    let worst: { since: number; why: string } | undefined;
    for (const [scope, o] of this.outages) if (this.synced.has(scope) && (!worst || o.since < worst.since)) worst = o;
    return worst;
  }
  private readonly outages = new Map<string | undefined, { since: number; why: string }>();
  private failing(scope: string | undefined, why: string): void {
    const o = this.outages.get(scope);
    this.outages.set(scope, { since: o?.since ?? Date.now(), why: `${scope ? `namespace ${scope}: ` : ""}${why}` });
  }

  list(namespace?: string): T[] {
    if (namespace !== undefined) return [...(this.store.get(namespace)?.values() ?? [])];
    const out: T[] = [];
    for (const m of this.store.values()) for (const o of m.values()) out.push(o);
    return out;
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.store.get(namespace ?? "")?.get(name);
  }

  /** The objects of `namespace` whose indexLabel is `value`. */
  byLabel(namespace: string, value: string): T[] {
    if (this.opts.indexLabel === undefined) throw new Error(`informer ${this.opts.plural}: byLabel needs the indexLabel option`);
    return [...(this.index.get(`${namespace}/${value}`)?.values() ?? [])];
  }

  private indexKey(obj: T): string | undefined {
    const value = this.opts.indexLabel === undefined ? undefined : obj.metadata?.labels?.[this.opts.indexLabel];
    return value === undefined ? undefined : `${obj.metadata?.namespace ?? ""}/${value}`;
  }

  private unindex(obj: T): void {
    const key = this.indexKey(obj);
    const m = key === undefined ? undefined : this.index.get(key);
    if (!m || key === undefined) return;
    m.delete(obj.metadata?.name ?? "");
    if (m.size === 0) this.index.delete(key);
  }

  /** Handlers run synchronously in the informer's loop; keep them short (enqueue a key). */
  onEvent(handler: (type: WatchEventType, obj: T, old?: T) => void): void {
    this.handlers.push(handler);
  }

  // ---------------------------------------------------------------------------------------

  private emit(type: WatchEventType, obj: T, old?: T): void {
    for (const h of this.handlers) {
      try {
        h(type, obj, old);
      } catch (err) {
        this.log.error({ err, type, name: obj.metadata?.name, namespace: obj.metadata?.namespace }, "informer event handler threw");
      }
    }
  }

  /** The object as cached, or undefined when the transform rejects it. */
  private prepare(raw: unknown): T | undefined {
    const obj = raw as T;
    if (this.opts.stripManagedFields !== false && obj.metadata?.managedFields) delete obj.metadata.managedFields;
    // List items of built-in kinds come without apiVersion/kind; make the cache uniform.
    if (!obj.apiVersion) obj.apiVersion = this.opts.apiVersion;
    if (!obj.kind && this.kind) obj.kind = this.kind;
    return this.opts.transform ? (this.opts.transform(obj) as T | undefined) : obj;
  }

  private put(obj: T): T | undefined {
    const ns = obj.metadata?.namespace ?? "";
    const name = obj.metadata?.name ?? "";
    let m = this.store.get(ns);
    if (!m) {
      m = new Map();
      this.store.set(ns, m);
    }
    const old = m.get(name);
    m.set(name, obj);
    if (old) this.unindex(old);
    const key = this.indexKey(obj);
    if (key !== undefined) {
      let byName = this.index.get(key);
      if (!byName) {
        byName = new Map();
        this.index.set(key, byName);
      }
      byName.set(name, obj);
    }
    return old;
  }

  private remove(ns: string, name: string): T | undefined {
    const m = this.store.get(ns);
    const old = m?.get(name);
    if (m && old) {
      m.delete(name);
      if (m.size === 0) this.store.delete(ns);
      this.unindex(old);
    }
    return old;
  }

  private itemsInScope(scope: string | undefined): T[] {
    return scope === undefined ? this.list() : this.list(scope);
  }

  private path(scope: string | undefined): string {
    return resourcePath({ apiVersion: this.opts.apiVersion, plural: this.opts.plural, namespace: scope });
  }

  private baseQuery(): Record<string, string | undefined> {
    return { labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector };
  }

  /** Lists the scope (all pages), replaces its part of the cache, fires the differences; returns the list's resourceVersion. */
  private async relist(scope: string | undefined): Promise<string> {
    // Prepared page by page, so a large list's raw objects can be freed before the next page.
    const items: T[] = [];
    let cont: string | undefined;
    let rv = "";
    for (;;) {
      let page: { kind?: string; metadata?: { resourceVersion?: string; continue?: string }; items?: unknown[] };
      try {
        page = await this.opts.client.request("GET", this.path(scope), {
          query: { ...this.baseQuery(), limit: this.opts.pageSize ?? 500, continue: cont },
          signal: this.stopCtl.signal,
          timeoutMs: 120_000,
        });
      } catch (err) {
        if (cont && err instanceof ApiError && err.status === 410) {
          // The continue token expired mid-list: start over.
          this.log.info({ namespace: scope }, "list continue token expired, listing again from the start");
          items.length = 0;
          cont = undefined;
          continue;
        }
        throw err;
      }
      if (page.kind?.endsWith("List")) this.kind = page.kind.slice(0, -4);
      for (const it of page.items ?? []) {
        const obj = this.prepare(it);
        if (obj) items.push(obj);
      }
      rv = page.metadata?.resourceVersion ?? rv;
      cont = page.metadata?.continue || undefined;
      if (!cont) break;
    }
    if (this.stopCtl.signal.aborted) throw new WatchAbort("stop");

    const before = new Map<string, T>();
    for (const o of this.itemsInScope(scope)) before.set(`${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`, o);
    let added = 0;
    let modified = 0;
    let deleted = 0;
    // Objects the transform rejected are not in `items`: if they were cached, they are removed below.
    for (const obj of items) {
      const key = `${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""}`;
      const old = before.get(key);
      before.delete(key);
      this.put(obj);
      if (!old) {
        added++;
        this.emit("ADDED", obj);
      } else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion || old.metadata?.uid !== obj.metadata?.uid) {
        modified++;
        this.emit("MODIFIED", obj, old);
      }
    }
    for (const old of before.values()) {
      this.remove(old.metadata?.namespace ?? "", old.metadata?.name ?? "");
      deleted++;
      this.emit("DELETED", old, old);
    }
    const first = !this.synced.has(scope);
    this.outages.delete(scope);
    if (!first && added + modified + deleted > 0) {
      // Differences found by a relist are events the watch did not deliver (or could not, after a 410).
      this.log.info(
        { namespace: scope, items: items.length, added, modified, deleted, resourceVersion: rv },
        "relist found changes the watch had not delivered",
      );
    } else {
      this.log.debug({ namespace: scope, items: items.length, added, modified, deleted, resourceVersion: rv }, "listed");
    }
    if (first) {
      this.synced.add(scope);
      this.listErrors.delete(scope);
      if (this.hasSynced()) {
        for (const w of this.syncWaiters) w.resolve();
        this.syncWaiters = [];
      }
    }
    return rv;
  }

  private backoff(attempt: number): number {
    const base = this.opts.backoffBaseMs ?? 200;
    const max = this.opts.backoffMaxMs ?? 30_000;
    const cap = Math.min(max, base * 2 ** Math.min(attempt, 30));
    // "equal jitter": at least half the step, so a flapping server is not hammered.
    return cap / 2 + Math.random() * (cap / 2);
  }

  private async runScope(scope: string | undefined): Promise<void> {
    const stop = this.stopCtl.signal;
    const relistPeriod = this.opts.relistPeriodMs ?? 5 * 60_000;
    const nextRelist = () => (relistPeriod > 0 ? Date.now() + relistPeriod * (1 + Math.random() * 0.1) : Number.POSITIVE_INFINITY);
    const st: WatchState = { rv: undefined, gotData: false };
    let relistAt = 0;
    let failures = 0;
    const restart = (reason: string) => {
      try {
        this.opts.onRestart?.(reason);
      } catch {
        // a metrics hook must not break the loop
      }
    };
    while (!stop.aborted) {
      try {
        if (st.rv === undefined || Date.now() >= relistAt) {
          st.rv = await this.relist(scope);
          relistAt = nextRelist();
        }
        st.gotData = false;
        const t0 = Date.now();
        await this.watch(scope, st, relistAt);
        if (st.gotData || Date.now() - t0 > 1000) {
          failures = 0;
        } else {
          // An empty watch that ended at once: do not spin.
          failures++;
          await sleep(this.backoff(failures - 1), stop);
        }
      } catch (err) {
        if (stop.aborted) break;
        if (st.gotData) failures = 0;
        st.gotData = false;
        if (err instanceof WatchAbort) {
          if (err.reason === "relist") {
            this.log.debug({ namespace: scope }, "informer periodic relist");
            restart("relist");
            relistAt = 0;
            continue;
          }
          // stall
          failures++;
          const delay = this.backoff(failures - 1);
          this.log.warn(
            { namespace: scope, stallTimeoutMs: this.stallTimeout(), resourceVersion: st.rv, retryInMs: Math.round(delay) },
            "informer watch stalled, reconnecting",
          );
          restart("stall");
          this.failing(scope, `watch stalled: nothing received for ${Math.round(this.stallTimeout() / 1000)} s`);
          await sleep(delay, stop);
          continue;
        }
        if (err instanceof Gone || (err instanceof ApiError && err.status === 410)) {
          this.log.info({ namespace: scope, resourceVersion: st.rv }, "informer watch resourceVersion expired (410 Gone), relisting");
          restart("gone");
          this.failing(scope, "watch resourceVersion expired (410 Gone), relisting");
          st.rv = undefined;
          // A 410 right after a fresh list again and again: back off instead of relisting in a loop.
          if (failures++ > 0) await sleep(this.backoff(failures - 1), stop);
          continue;
        }
        failures++;
        // After repeated failures on the same resourceVersion, relist in case it is the cause.
        if (failures >= 3) st.rv = undefined;
        const delay = this.backoff(failures - 1);
        this.log.warn({ namespace: scope, err: errSummary(err), attempt: failures, retryInMs: Math.round(delay) }, "informer list/watch failed, retrying");
        if (!this.synced.has(scope)) this.listErrors.set(scope, listProblem(`${this.opts.plural}.${this.opts.apiVersion}`, scope, err));
        restart("error");
        this.failing(scope, errorMessage(err).replace(/\s+/g, " ").trim());
        await sleep(delay, stop);
      }
    }
  }

  private stallTimeout(): number {
    return this.opts.stallTimeoutMs ?? 90_000;
  }

  /** One watch connection. Returns normally when the server ends it; throws on anything else. */
  private async watch(scope: string | undefined, st: WatchState, relistAt: number): Promise<void> {
    const ctl = new AbortController();
    this.watchCtls.add(ctl);
    if (this.stopCtl.signal.aborted) ctl.abort(new WatchAbort("stop"));
    const [lo, hi] = this.opts.watchTimeoutSeconds ?? [300, 600];
    const timeoutSeconds = Math.round(lo + Math.random() * Math.max(0, hi - lo));
    const stallMs = this.stallTimeout();
    let stallTimer: NodeJS.Timeout | undefined;
    const armStall = () => {
      if (stallTimer) clearTimeout(stallTimer);
      stallTimer = setTimeout(() => ctl.abort(new WatchAbort("stall")), stallMs);
    };
    const relistTimer = Number.isFinite(relistAt) ? setTimeout(() => ctl.abort(new WatchAbort("relist")), Math.max(0, relistAt - Date.now())) : undefined;
    armStall();
    try {
      const stream = this.opts.client.stream(
        this.path(scope),
        { ...this.baseQuery(), watch: true, resourceVersion: st.rv, allowWatchBookmarks: true, timeoutSeconds },
        ctl.signal,
        () => this.outages.delete(scope),
      );
      for await (const raw of stream) {
        armStall();
        st.gotData = true;
        const ev = raw as WatchEvent;
        const type = ev.type;
        if (type === "ERROR") {
          const st = (ev.object ?? {}) as { code?: number; reason?: string; message?: string };
          if (st.code === 410 || st.reason === "Expired" || st.reason === "Gone") throw new Gone(st.message ?? "410 Gone");
          throw new ApiError(st.code ?? 500, `watch error event: ${st.code ?? "?"} ${st.reason ?? ""}: ${st.message ?? ""}`, st.reason, st);
        }
        const obj = ev.object as T | undefined;
        const objRv = obj?.metadata?.resourceVersion;
        if (type === "BOOKMARK") {
          if (objRv) st.rv = objRv;
          continue;
        }
        if (!obj?.metadata) continue;
        if (objRv) st.rv = objRv;
        const o = this.prepare(obj);
        if (!o) {
          // Rejected by the transform: if an earlier version was cached, it no longer is.
          const old = this.remove(obj.metadata.namespace ?? "", obj.metadata.name ?? "");
          if (old) this.emit("DELETED", old, old);
          continue;
        }
        if (type === "ADDED" || type === "MODIFIED") {
          const old = this.put(o);
          if (old) this.emit("MODIFIED", o, old);
          else this.emit("ADDED", o);
        } else if (type === "DELETED") {
          const old = this.remove(o.metadata?.namespace ?? "", o.metadata?.name ?? "");
          this.emit("DELETED", o, old);
        }
      }
      this.log.debug({ namespace: scope, resourceVersion: st.rv }, "watch ended, continuing");
    } catch (err) {
      if (ctl.signal.aborted && ctl.signal.reason instanceof WatchAbort) throw ctl.signal.reason;
      throw err;
    } finally {
      if (stallTimer) clearTimeout(stallTimer);
      if (relistTimer) clearTimeout(relistTimer);
      this.watchCtls.delete(ctl);
    }
  }
}

/** One line on why a list fails, with the likely fix for the two a user can cause. */
function listProblem(what: string, scope: string | undefined, err: unknown): string {
  const where = `cannot list ${what}${scope ? ` in namespace ${scope}` : ""}`;
  const hint =
    err instanceof ApiError && err.status === 404
      ? " (is its CustomResourceDefinition installed?)"
      : err instanceof ApiError && err.status === 403
        ? " (the operator's RBAC does not allow it)"
        : "";
  return `${where}: ${errorMessage(err).replace(/\s+/g, " ").trim()}${hint}`;
}

function errSummary(err: unknown): unknown {
  if (err instanceof ApiError) return { status: err.status, reason: err.reason, message: err.message };
  if (err instanceof Error) return { message: err.message, code: (err as { code?: string }).code };
  return err;
}
