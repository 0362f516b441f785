// Raw JSON access to the Kubernetes API with a kubeconfig's credentials.
//
// We use node:https with one keep-alive agent per client instead of client-node's generated
// clients: the generated models drop unknown fields of built-in kinds, client-node 2.x builds a
// new undici Agent on every `applySecurityAuthentication` call (no connection reuse), and its
// Watch has a private 30 s timeout. Credentials come from kubeconfig.ts: client certificates,
// bearer tokens, token files (in-cluster, with rotation), `tls-server-name` and
// `insecure-skip-tls-verify` read there; exec and OIDC plugins through client-node, loaded only
// for such a user.

import http from "node:http";
import https from "node:https";
import type { KubeAccess } from "./kubeconfig.ts";

export { type KubeAccess, loadKubeConfig } from "./kubeconfig.ts";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Content-Type of the body; default application/json. */
  contentType?: string;
  signal?: AbortSignal;
  /** Overrides the client's timeout for this request (0 = none). */
  timeoutMs?: number;
}

/** A non-2xx answer of the API server. `body` is the parsed Status object (or the raw text). */
export class ApiError extends Error {
  status: number;
  reason?: string;
  body?: unknown;
  constructor(status: number, message: string, reason?: string, body?: unknown) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.reason = reason;
    this.body = body;
  }
}

export function isApiError(err: unknown, status?: number): err is ApiError {
  return err instanceof ApiError && (status === undefined || err.status === status);
}

/**
 * The URL path of a resource collection, object or subresource.
 * `apiVersion` "v1" → /api/v1/..., "apps/v1" → /apis/apps/v1/...
 */
export function resourcePath(ref: { apiVersion: string; plural: string; namespace?: string; name?: string; subresource?: string }): string {
  const e = encodeURIComponent;
  let p = ref.apiVersion.includes("/") ? `/apis/${ref.apiVersion}` : `/api/${ref.apiVersion}`;
  if (ref.namespace) p += `/namespaces/${e(ref.namespace)}`;
  p += `/${ref.plural}`;
  if (ref.name) {
    p += `/${e(ref.name)}`;
    if (ref.subresource) p += `/${ref.subresource}`;
  } else if (ref.subresource) {
    throw new Error("resourcePath: a subresource needs a name");
  }
  return p;
}

interface Prepared {
  agent: http.Agent;
  transport: typeof http | typeof https;
}

const AUTH_CACHE_MS = 10_000;

export class KubeClient {
  readonly access: KubeAccess;
  readonly server: URL;
  readonly userAgent: string;
  readonly timeoutMs: number;
  private prepared: Promise<Prepared> | undefined;
  private authHeaders: Record<string, string> | undefined;
  private authHeadersAt = 0;
  private readonly impersonation: Record<string, string[]>;

  /**
   * `impersonate`: act as this user (and groups), as `kubectl --as/--as-group` does; the
   * kubeconfig's own user needs the `impersonate` verb (tests use it to act as a tenant).
   */
  constructor(access: KubeAccess, opts?: { userAgent?: string; timeoutMs?: number; impersonate?: { user: string; groups?: string[] } }) {
    this.access = access;
    this.server = access.server;
    this.userAgent = opts?.userAgent ?? "modelservice-operator";
    this.timeoutMs = opts?.timeoutMs ?? 30_000;
    const as = opts?.impersonate;
    this.impersonation = as ? { "Impersonate-User": [as.user], ...(as.groups?.length ? { "Impersonate-Group": as.groups } : {}) } : {};
  }

  /** Closes idle keep-alive connections (open watches are ended by their AbortSignal). */
  close(): void {
    void this.prepared?.then((p) => p.agent.destroy()).catch(() => {});
    this.prepared = undefined;
  }

  private prepare(): Promise<Prepared> {
    this.prepared ??= (async () => {
      const isHttp = this.server.protocol === "http:";
      const tls: https.AgentOptions = { keepAlive: true, keepAliveMsecs: 30_000, scheduling: "lifo" };
      if (!isHttp) Object.assign(tls, await this.access.tls());
      return isHttp ? { agent: new http.Agent(tls), transport: http } : { agent: new https.Agent(tls), transport: https };
    })();
    this.prepared.catch(() => {
      this.prepared = undefined;
    });
    return this.prepared;
  }

  private async headers(): Promise<Record<string, string>> {
    const now = Date.now();
    if (this.authHeaders && now - this.authHeadersAt < AUTH_CACHE_MS) return this.authHeaders;
    const h = await this.access.headers();
    this.authHeaders = h;
    this.authHeadersAt = now;
    return h;
  }

  private url(path: string, query?: Query): URL {
    const base = this.server.pathname.replace(/\/+$/, "");
    const u = new URL(this.server.origin + base + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    return u;
  }

  /**
   * Sends one request and resolves with the response's response message once its headers arrived.
   * `timeoutMs` bounds the time until the response headers (0 = none).
   */
  private async send(
    method: HttpMethod,
    url: URL,
    body: Buffer | undefined,
    contentType: string | undefined,
    signal: AbortSignal | undefined,
    timeoutMs: number,
  ): Promise<{ req: http.ClientRequest; res: http.IncomingMessage }> {
    const [p, auth] = await Promise.all([this.prepare(), this.headers()]);
    signal?.throwIfAborted();
    const headers: Record<string, string | string[]> = { ...auth, ...this.impersonation, Accept: "application/json", "User-Agent": this.userAgent };
    if (body !== undefined) {
      headers["Content-Type"] = contentType ?? "application/json";
      headers["Content-Length"] = String(body.length);
    }
    return await new Promise((resolve, reject) => {
      const req = p.transport.request(url, { method, headers, agent: p.agent });
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => req.destroy(signal?.reason instanceof Error ? signal.reason : new DOMException("This operation was aborted", "AbortError"));
      const cleanup = () => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      if (timeoutMs > 0) {
        timer = setTimeout(() => req.destroy(new Error(`${method} ${url.pathname}: no response within ${timeoutMs} ms`)), timeoutMs);
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      req.on("error", (err) => {
        cleanup();
        reject(err);
      });
      req.on("response", (res) => {
        if (timer) clearTimeout(timer);
        // Keep the abort listener while the body is read; the caller removes it via `done`.
        res.once("close", () => signal?.removeEventListener("abort", onAbort));
        resolve({ req, res });
      });
      req.end(body);
    });
  }

  async request<T = unknown>(method: HttpMethod, path: string, opts?: RequestOptions): Promise<T> {
    let body: Buffer | undefined;
    if (opts?.body !== undefined) {
      body = typeof opts.body === "string" ? Buffer.from(opts.body) : Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(JSON.stringify(opts.body));
    }
    const url = this.url(path, opts?.query);
    const timeoutMs = opts?.timeoutMs ?? this.timeoutMs;
    const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : 0;
    const { req, res } = await this.send(method, url, body, opts?.contentType, opts?.signal, timeoutMs);
    let timer: NodeJS.Timeout | undefined;
    if (deadline) {
      timer = setTimeout(
        () => req.destroy(new Error(`${method} ${url.pathname}: response body not complete within ${timeoutMs} ms`)),
        Math.max(1, deadline - Date.now()),
      );
    }
    let text: string;
    try {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      text = Buffer.concat(chunks).toString("utf8");
    } catch (err) {
      if (opts?.signal?.aborted) throw opts.signal.reason;
      throw err;
    } finally {
      if (timer) clearTimeout(timer);
    }
    const status = res.statusCode ?? 0;
    if (status === 401) this.authHeaders = undefined;
    if (status < 200 || status > 299) throw toApiError(status, text, `${method} ${url.pathname}`);
    if (text.length === 0) return undefined as T;
    // Resources come as JSON; a few endpoints (/healthz, /readyz, /livez) answer plain text.
    if (!/json/i.test(String(res.headers["content-type"] ?? "json"))) return text as T;
    return JSON.parse(text) as T;
  }

  /**
   * A newline-delimited JSON stream, i.e. a watch: `watch=true` is added unless `query.watch` is
   * given. No client-side timeout applies once the response headers arrived (until then the
   * client's `timeoutMs`); bound the watch with the server's `timeoutSeconds` and end it with
   * `signal` (the iterator then throws `signal.reason`). A non-2xx answer throws ApiError; a
   * connection cut throws the socket error. Breaking out of the loop closes the connection.
   * `onOpen` is called once the server accepted the watch (a 2xx answer), before any event.
   */
  stream(path: string, query: Query, signal: AbortSignal, onOpen?: () => void): AsyncIterable<unknown> {
    const q: Query = { ...query };
    if (!("watch" in q)) q.watch = true;
    const url = this.url(path, q);
    const self = this;
    return {
      async *[Symbol.asyncIterator]() {
        const { req, res } = await self.send("GET", url, undefined, undefined, signal, self.timeoutMs);
        try {
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 299) {
            const chunks: Buffer[] = [];
            for await (const c of res) chunks.push(c as Buffer);
            if (status === 401) self.authHeaders = undefined;
            throw toApiError(status, Buffer.concat(chunks).toString("utf8"), `watch ${url.pathname}`);
          }
          onOpen?.();
          let buf = "";
          res.setEncoding("utf8");
          try {
            for await (const chunk of res) {
              buf += chunk as string;
              let nl = buf.indexOf("\n");
              while (nl >= 0) {
                const line = buf.slice(0, nl).trim();
                buf = buf.slice(nl + 1);
                if (line) yield JSON.parse(line);
                nl = buf.indexOf("\n");
              }
            }
          } catch (err) {
            if (signal.aborted) throw signal.reason;
            throw err;
          }
          if (signal.aborted) throw signal.reason;
          if (!res.complete) throw new Error(`watch ${url.pathname}: connection closed before the response was complete`);
          const rest = buf.trim();
          if (rest) yield JSON.parse(rest);
        } finally {
          if (!res.complete || !res.readableEnded) req.destroy();
        }
      },
    };
  }
}

function toApiError(status: number, text: string, what: string): ApiError {
  let body: unknown = text;
  let reason: string | undefined;
  let message = text.slice(0, 500) || `HTTP ${status}`;
  try {
    const s = JSON.parse(text) as { kind?: string; reason?: string; message?: string };
    body = s;
    if (s && typeof s === "object") {
      if (typeof s.reason === "string") reason = s.reason;
      if (typeof s.message === "string") message = s.message;
    }
  } catch {
    // not JSON
  }
  return new ApiError(status, `${what}: ${status}${reason ? ` ${reason}` : ""}: ${message}`, reason, body);
}
