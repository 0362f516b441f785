// The operator's HTTP endpoint: /metrics for Prometheus, /healthz (the process answers) and
// /readyz (caches synced; a follower with warm caches is ready too, so a rolling update of a
// leader-elected Deployment does not stall).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export type HttpServer = { server: Server; port: number; host: string; close(): Promise<void> };

export async function startHttpServer(opts: { host: string; port: number; registry: Registry; ready: () => boolean | string }): Promise<HttpServer> {
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
      opts.registry.metrics().then(
        (body) => res.writeHead(200, { "content-type": opts.registry.contentType }).end(body),
        (err: Error) => res.writeHead(500, { "content-type": "text/plain" }).end(`${err.message}\n`),
      );
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
