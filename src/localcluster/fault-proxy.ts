// An HTTPS proxy in front of the local control plane's API server that injects faults, for chaos
// drills: answer 429 or 500 instead of forwarding, silently stall what is in flight (nothing
// arrives, nothing closes), partition one client (its requests hang), or cut every connection.
//
// Unlike a TCP proxy it terminates TLS (with the API server's own serving certificate, so a
// kubeconfig only changes its server URL) and forwards each request with the admin client
// certificate: the audit log then names kubernetes-admin, and clients are told apart by their
// User-Agent, which is forwarded as is (the operator's carries its leader-election identity).
import { readFileSync, writeFileSync } from "node:fs";
import type http from "node:http";
import https from "node:https";
import type { Socket } from "node:net";
import { join } from "node:path";
import { parse, stringify } from "yaml";

/** What the proxy does with a request: forward it, answer with an injected error, or never answer. */
export type FaultAction = "pass" | "hang" | { status: 429 | 500 | 503; retryAfterSeconds?: number };

/** Decides per request; `userAgent` is the client's User-Agent header. */
export type FaultRule = (req: { method: string; path: string; userAgent: string }) => FaultAction;

type Exchange = { down: http.ServerResponse; downSocket: Socket; up?: http.IncomingMessage; upReq?: http.ClientRequest; userAgent: string };

export type FaultProxy = {
  /** https://127.0.0.1:<port> */
  url: string;
  /** Replaces the rule (default: pass everything). */
  setRule(rule: FaultRule | undefined): void;
  /**
   * Stops forwarding on every open connection (of clients whose User-Agent matches) without closing
   * it: answers in flight stop, requests later sent on it hang; new connections work. Returns how
   * many exchanges in flight were stalled.
   */
  stallAll(match?: (userAgent: string) => boolean): number;
  /** Destroys every connection (clients see a reset). Returns how many. */
  cutAll(): number;
  /** Requests seen, per User-Agent (answered or not). */
  requests(): Map<string, number>;
  /** Writes a copy of `kubeconfig` whose server is this proxy. */
  writeKubeconfig(kubeconfig: string, out: string): string;
  close(): Promise<void>;
};

const statusBody = (code: number, reason: string) =>
  JSON.stringify({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: `injected by the fault proxy: ${reason}`, reason, code });

const REASONS: Record<number, string> = { 429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable" };
const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te", "trailer"]);

/** Starts a proxy for the control plane in `dir` (its pki/ and kubeconfig.yaml), forwarding to `server`. */
export async function startFaultProxy(opts: { dir: string; server: string }): Promise<FaultProxy> {
  const pki = join(opts.dir, "pki");
  const target = new URL(opts.server);
  const upstream = new https.Agent({
    keepAlive: true,
    maxSockets: 256,
    ca: readFileSync(join(pki, "ca.crt")),
    cert: readFileSync(join(pki, "admin.crt")),
    key: readFileSync(join(pki, "admin.key")),
  });
  let rule: FaultRule | undefined;
  const exchanges = new Set<Exchange>();
  const stalledSockets = new WeakSet<Socket>();
  /** The User-Agent of the last request on each connection (a client keeps its connections). */
  const socketAgent = new WeakMap<Socket, string>();
  const sockets = new Set<Socket>();
  const counts = new Map<string, number>();

  const server = https.createServer(
    { cert: readFileSync(join(pki, "apiserver.crt")), key: readFileSync(join(pki, "apiserver.key")), keepAliveTimeout: 60_000 },
    (req, res) => {
      const userAgent = String(req.headers["user-agent"] ?? "");
      counts.set(userAgent, (counts.get(userAgent) ?? 0) + 1);
      const socket = req.socket;
      socketAgent.set(socket, userAgent);
      if (stalledSockets.has(socket)) return; // a stalled connection: the request goes nowhere
      const action = rule?.({ method: req.method ?? "GET", path: req.url ?? "/", userAgent }) ?? "pass";
      if (action === "hang") {
        stalledSockets.add(socket);
        return;
      }
      if (action !== "pass") {
        req.resume();
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (action.retryAfterSeconds !== undefined) headers["retry-after"] = String(action.retryAfterSeconds);
        res.writeHead(action.status, headers).end(statusBody(action.status, REASONS[action.status] ?? "Injected"));
        return;
      }
      const ex: Exchange = { down: res, downSocket: socket, userAgent };
      exchanges.add(ex);
      const done = () => exchanges.delete(ex);
      res.on("close", () => {
        done();
        if (!res.writableFinished) ex.upReq?.destroy();
      });
      const headers = { ...req.headers, host: target.host };
      const upReq = https.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent: upstream });
      ex.upReq = upReq;
      upReq.on("response", (up) => {
        ex.up = up;
        if (stalledSockets.has(socket)) return; // stalled while waiting for the answer
        const h: http.OutgoingHttpHeaders = {};
        for (const [k, v] of Object.entries(up.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) h[k] = v;
        res.writeHead(up.statusCode ?? 502, h);
        res.flushHeaders();
        up.pipe(res);
        up.on("error", () => socket.destroy());
        up.on("aborted", () => socket.destroy());
      });
      upReq.on("error", () => {
        done();
        // The API server went away (a restart): a connection reset, as the client would see directly.
        socket.destroy();
      });
      req.pipe(upReq);
    },
  );
  // The TLS sockets (what req.socket is), not the TCP ones under them.
  server.on("secureConnection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;

  return {
    url: `https://127.0.0.1:${port}`,
    setRule(r) {
      rule = r;
    },
    stallAll(match) {
      let n = 0;
      for (const s of sockets) if (!match || match(socketAgent.get(s) ?? "")) stalledSockets.add(s);
      for (const ex of exchanges) {
        if (!stalledSockets.has(ex.downSocket)) continue;
        ex.up?.unpipe(ex.down);
        ex.up?.pause();
        n++;
      }
      return n;
    },
    cutAll() {
      const n = sockets.size;
      for (const s of sockets) s.destroy();
      for (const ex of exchanges) ex.upReq?.destroy();
      exchanges.clear();
      return n;
    },
    requests: () => new Map(counts),
    writeKubeconfig(kubeconfig, out) {
      const cfg = parse(readFileSync(kubeconfig, "utf8")) as { clusters: { cluster: Record<string, unknown> }[] };
      for (const c of cfg.clusters) c.cluster.server = `https://127.0.0.1:${port}`;
      writeFileSync(out, stringify(cfg), { mode: 0o600 });
      return out;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        upstream.destroy();
        server.close(() => resolve());
      }),
  };
}
