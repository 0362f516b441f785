// The one simulated hop of the scale-to-zero tests: kwok pods serve no traffic and this machine
// has no cluster DNS, so the interceptor's HTTP_PROXY points here and this server answers in the
// place of Service VIP -> pod -> engine. And a client that times the interceptor's answer.
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";

export type Seen = { method: string; url: string; host: string };

/** The stand-in for Service → pod → engine: answers what the interceptor forwards, like an OpenAI-style /v1/models. */
export function startUpstream(seen: Seen[]): Promise<{ server: Server; url: string }> {
  return new Promise((resolve) => {
    const server = createServer((req: IncomingMessage, res) => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", host: req.headers.host ?? "" });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ object: "list", data: [{ id: "stand-in" }] }));
    });
    server.listen(0, "127.0.0.1", () => {
      const a = server.address();
      resolve({ server, url: `http://127.0.0.1:${typeof a === "object" && a ? a.port : 0}` });
    });
  });
}

/** Sends one request to the interceptor; resolves with the status, headers, body and ms until the first byte. */
export function callThroughInterceptor(
  interceptorUrl: string,
  host: string,
  path: string,
): Promise<{ status: number; body: string; firstByteMs: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = httpRequest(`${interceptorUrl}${path}`, { headers: { host } }, (res) => {
      // The status line is the response's first byte.
      const firstByteMs = performance.now() - start;
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), firstByteMs, headers: res.headers }));
    });
    req.on("error", reject);
    req.end();
  });
}
