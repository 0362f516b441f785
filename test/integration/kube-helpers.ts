// Helpers for the src/kube integration tests: a client on the test cluster, namespaces, polling,
// and a TCP proxy between the client and the real API server that can cut, stall or block
// connections (the TLS session stays end to end; the kubeconfig points at the proxy and names
// the server's certificate with tls-server-name).
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { V1ObjectMeta } from "@kubernetes/client-node";
import { pino } from "pino";
import { inject } from "vitest";
import { parse, stringify } from "yaml";
import { isApiError, KubeClient, loadKubeConfig, resourcePath } from "../../src/kube/client.ts";

export const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

export const kubeconfigPath = (): string => inject("kubeconfig");

export function client(path = kubeconfigPath()): KubeClient {
  return new KubeClient(loadKubeConfig(path), { userAgent: "modelservice-operator-kube-test" });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false | null> | T | undefined | false | null,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await sleep(intervalMs);
  }
}

export const suffix = () => randomBytes(3).toString("hex");

export async function createNamespace(c: KubeClient, prefix: string): Promise<string> {
  const name = `${prefix}-${suffix()}`;
  await c.request("POST", "/api/v1/namespaces", { body: { apiVersion: "v1", kind: "Namespace", metadata: { name } } });
  return name;
}

export async function deleteNamespace(c: KubeClient, name: string): Promise<void> {
  try {
    await c.request("DELETE", resourcePath({ apiVersion: "v1", plural: "namespaces", name }));
  } catch (e) {
    if (!isApiError(e, 404)) throw e;
  }
}

export interface ConfigMap {
  apiVersion: "v1";
  kind: "ConfigMap";
  metadata: V1ObjectMeta & { name: string };
  data?: Record<string, string>;
}

export async function createConfigMap(
  c: KubeClient,
  namespace: string,
  name: string,
  data: Record<string, string> = {},
  labels?: Record<string, string>,
): Promise<ConfigMap> {
  return await c.request<ConfigMap>("POST", resourcePath({ apiVersion: "v1", plural: "configmaps", namespace }), {
    body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace, labels }, data },
  });
}

export async function patchConfigMap(c: KubeClient, namespace: string, name: string, data: Record<string, string>): Promise<ConfigMap> {
  return await c.request<ConfigMap>("PATCH", resourcePath({ apiVersion: "v1", plural: "configmaps", namespace, name }), {
    body: { data },
    contentType: "application/merge-patch+json",
  });
}

export async function deleteConfigMap(c: KubeClient, namespace: string, name: string): Promise<void> {
  await c.request("DELETE", resourcePath({ apiVersion: "v1", plural: "configmaps", namespace, name }));
}

/** A TCP proxy in front of the API server. */
export class TcpProxy {
  readonly target: { host: string; port: number };
  private server: net.Server;
  private pairs = new Set<{ down: net.Socket; up: net.Socket }>();
  private blocked = false;
  port = 0;
  accepted = 0;

  constructor(target: { host: string; port: number }) {
    this.target = target;
    this.server = net.createServer((down) => this.onConnection(down));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    const a = this.server.address();
    this.port = typeof a === "object" && a ? a.port : 0;
    return this.port;
  }

  private onConnection(down: net.Socket): void {
    this.accepted++;
    if (this.blocked) {
      down.destroy();
      return;
    }
    const up = net.connect(this.target.port, this.target.host);
    const pair = { down, up };
    this.pairs.add(pair);
    const close = () => {
      this.pairs.delete(pair);
      down.destroy();
      up.destroy();
    };
    down.on("error", close).on("close", close);
    up.on("error", close).on("close", close);
    down.pipe(up);
    up.pipe(down);
  }

  /** Destroys every open connection (the client sees ECONNRESET / a truncated response). */
  cutAll(): number {
    const n = this.pairs.size;
    for (const p of this.pairs) {
      p.down.destroy();
      p.up.destroy();
    }
    this.pairs.clear();
    return n;
  }

  /** Stops forwarding on every open connection without closing it (a silent stall); new connections work. */
  stallAll(): number {
    for (const p of this.pairs) {
      p.up.unpipe(p.down);
      p.down.unpipe(p.up);
      p.up.pause();
      p.down.pause();
    }
    return this.pairs.size;
  }

  /** Refuse (reset) new connections and stall the open ones: the server seems unreachable. */
  block(on: boolean): void {
    this.blocked = on;
    if (on) this.stallAll();
  }

  openConnections(): number {
    return this.pairs.size;
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Writes a kubeconfig like `base` whose server is this proxy (tls-server-name keeps the certificate check). */
  writeKubeconfig(base = kubeconfigPath()): string {
    const cfg = parse(readFileSync(base, "utf8")) as { clusters: { cluster: Record<string, unknown> }[] };
    for (const c of cfg.clusters) {
      c.cluster.server = `https://127.0.0.1:${this.port}`;
      c.cluster["tls-server-name"] = "localhost";
    }
    const dir = mkdtempSync(join(tmpdir(), "kube-proxy-"));
    const path = join(dir, "kubeconfig.yaml");
    // Certificates given as files are relative to the original kubeconfig: make them absolute.
    const text = stringify(cfg).replace(
      /(certificate-authority|client-certificate|client-key): (?!\/)(\S+)/g,
      (_m, k: string, v: string) => `${k}: ${join(base, "..", v)}`,
    );
    writeFileSync(path, text);
    return path;
  }
}

export function apiTarget(path = kubeconfigPath()): { host: string; port: number } {
  const u = new URL(loadKubeConfig(path).server);
  return { host: u.hostname, port: Number(u.port || 443) };
}

export async function startProxy(): Promise<{ proxy: TcpProxy; kubeconfig: string }> {
  const proxy = new TcpProxy(apiTarget());
  await proxy.listen();
  return { proxy, kubeconfig: proxy.writeKubeconfig() };
}

/**
 * Makes the API server's configmap watch cache forget its oldest events, so that a watch from a
 * very old resourceVersion ("1") gets a real `410 Expired: too old resource version`. The cache
 * drops events once it is full and its oldest events are older than ~75 s: churn a ConfigMap
 * until a probe watch from "1" is refused.
 */
export async function provokeTooOldResourceVersion(c: KubeClient, namespace: string, timeoutMs = 150_000): Promise<void> {
  const path = resourcePath({ apiVersion: "v1", plural: "configmaps", namespace });
  await createConfigMap(c, namespace, "churn", {});
  const probe = async (): Promise<boolean> => {
    const ac = new AbortController();
    const t = setTimeout(() => ac.abort(), 2000);
    try {
      for await (const ev of c.stream(path, { resourceVersion: "1" }, ac.signal)) {
        const e = ev as { type?: string; object?: { code?: number } };
        return e.type === "ERROR" && e.object?.code === 410;
      }
    } catch (e) {
      return isApiError(e, 410);
    } finally {
      clearTimeout(t);
    }
    return false;
  };
  const deadline = Date.now() + timeoutMs;
  // Events younger than ~75 s are never dropped (the cache grows instead): on a fresh cluster,
  // wait until its first events are old enough rather than churning all along.
  const def = await c.request<{ metadata: { creationTimestamp: string } }>("GET", "/api/v1/namespaces/default");
  const age = Date.now() - Date.parse(def.metadata.creationTimestamp);
  if (age < 80_000 && !(await probe())) await sleep(80_000 - age);
  for (let i = 0; ; i++) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error("the watch cache never expired resourceVersion 1");
    await Promise.all(
      Array.from({ length: 100 }, (_, j) =>
        c.request("PATCH", `${path}/churn`, { body: { data: { i: `${i}-${j}` } }, contentType: "application/merge-patch+json" }),
      ),
    );
  }
}
