// The operator's HTTP endpoint: /metrics for Prometheus, /healthz (the process answers) and
// /readyz (caches synced and their watches working; a follower with warm caches is ready too, so a
// rolling update of a leader-elected Deployment does not stall).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { MetricsAuthorizer } from "./metrics-auth.ts";

export type HttpServer = { server: Server; port: number; host: string; close(): Promise<void> };

export async function startHttpServer(opts: {
  host: string;
  port: number;
  registry: Registry;
  ready: () => boolean | string;
  /** When set, /metrics answers only requests it allows (the probes stay open for the kubelet). */
  authorizeMetrics?: MetricsAuthorizer;
}): Promise<HttpServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/healthz" || path === "/livez") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      return;
    }
    if (path === "/readyz") {
      const r = opts.ready();
      if (r === true) res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      else res.writeHead(503, { "content-type": "text/plain" }).end(`${typeof r === "string" ? r : "not ready"}\n`);
      return;
    }
    if (path === "/metrics") {
      const allowed = opts.authorizeMetrics ? opts.authorizeMetrics(req.headers.authorization) : Promise.resolve({ status: 200 as const });
      allowed
        .then(async (d) => {
          if (d.status !== 200) {
            res.writeHead(d.status, { "content-type": "text/plain", ...(d.status === 401 ? { "www-authenticate": "Bearer" } : {}) }).end(`${d.message}\n`);
            return;
          }
          const body = await opts.registry.metrics();
          res.writeHead(200, { "content-type": opts.registry.contentType }).end(body);
        })
        .catch((err: Error) => res.writeHead(500, { "content-type": "text/plain" }).end(`${err.message}\n`));
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  return {
    server,
    port: addr.port,
    host: opts.host,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
