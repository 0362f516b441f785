// Where the API server is and how to authenticate to it, from a kubeconfig or the pod's service
// account. The common cases are read here: in-cluster (service account token, re-read as it
// rotates, and CA), and kubeconfig users with a client certificate and key, a bearer token or
// token file, or a username and password, with the CA as data or file. Importing
// @kubernetes/client-node costs about 80 MiB of resident memory, so it is loaded (dynamic import)
// only for a user with an exec plugin or an auth provider (OIDC, cloud plugins), and then does
// both the TLS options and the headers for that user.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, isAbsolute, join } from "node:path";
import { parse } from "yaml";

export type TlsOptions = { ca?: Buffer; cert?: Buffer; key?: Buffer; servername?: string; rejectUnauthorized?: boolean };

export type KubeAccess = {
  /** The API server, e.g. https://10.0.0.1:443 */
  server: URL;
  /** Where the settings came from (a file, or "in-cluster"), for messages. */
  source: string;
  /** TLS options for the connection (client certificate, CA, server name). */
  tls(): Promise<TlsOptions>;
  /** Headers for the next request (Authorization, Impersonate-User); a token file is read again each time. */
  headers(): Promise<Record<string, string>>;
};

export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

type Named<K extends string, T> = { name?: string } & { [key in K]?: T };
type Cluster = {
  server?: string;
  "certificate-authority"?: string;
  "certificate-authority-data"?: string;
  "insecure-skip-tls-verify"?: boolean;
  "tls-server-name"?: string;
};
type User = {
  "client-certificate"?: string;
  "client-certificate-data"?: string;
  "client-key"?: string;
  "client-key-data"?: string;
  token?: string;
  tokenFile?: string;
  username?: string;
  password?: string;
  as?: string;
  exec?: unknown;
  "auth-provider"?: unknown;
};
type Context = { cluster?: string; user?: string; namespace?: string };
type Config = {
  "current-context"?: string;
  clusters?: Named<"cluster", Cluster>[];
  users?: Named<"user", User>[];
  contexts?: Named<"context", Context>[];
};

/**
 * Loads the access settings: the explicit kubeconfig `path` if given, else the files in
 * KUBECONFIG (merged, the first to set a name or the current context wins, as kubectl does),
 * else ~/.kube/config, else the pod's service account.
 */
export function loadKubeConfig(path?: string, env: NodeJS.ProcessEnv = process.env, serviceAccountDir = SERVICE_ACCOUNT_DIR): KubeAccess {
  if (path) return fromFiles([path]);
  const fromEnv = (env.KUBECONFIG ?? "").split(delimiter).filter(Boolean);
  if (fromEnv.length > 0) return fromFiles(fromEnv);
  const home = join(env.HOME || homedir(), ".kube", "config");
  if (existsSync(home)) return fromFiles([home]);
  if (env.KUBERNETES_SERVICE_HOST && existsSync(join(serviceAccountDir, "token"))) return inCluster(env, serviceAccountDir);
  throw new Error("no kubeconfig: pass --kubeconfig, set KUBECONFIG, create ~/.kube/config, or run in a pod with a service account token");
}

/** The pod's service account: the token is read again for every new set of headers (it rotates). */
export function inCluster(env: NodeJS.ProcessEnv = process.env, dir = SERVICE_ACCOUNT_DIR): KubeAccess {
  const host = env.KUBERNETES_SERVICE_HOST ?? "";
  const port = env.KUBERNETES_SERVICE_PORT || "443";
  const server = new URL(`https://${host.includes(":") ? `[${host}]` : host}:${port}`);
  const tokenFile = join(dir, "token");
  const ca = readFileSync(join(dir, "ca.crt"));
  return {
    server,
    source: "in-cluster",
    tls: async () => ({ ca }),
    headers: async () => ({ Authorization: `Bearer ${readFileSync(tokenFile, "utf8").trim()}` }),
  };
}

/** Parses one kubeconfig's text; relative file paths in it are relative to `baseDir`. */
export function parseKubeConfig(text: string, source: string, baseDir: string): KubeAccess {
  return fromConfigs([{ config: parseConfig(text, source), dir: baseDir }], source, (): KubeAccess => {
    throw new Error(`kubeconfig ${source}: exec plugins and auth providers need the kubeconfig as a file`);
  });
}

function parseConfig(text: string, source: string): Config {
  const c = parse(text) as unknown;
  if (c === null || c === undefined) return {};
  if (typeof c !== "object" || Array.isArray(c)) throw new Error(`kubeconfig ${source}: not a YAML mapping`);
  return c as Config;
}

function fromFiles(paths: string[]): KubeAccess {
  const configs = paths.flatMap((p) => {
    // KUBECONFIG may list files that do not exist (kubectl skips them); an explicit --kubeconfig must exist.
    if (paths.length > 1 && !existsSync(p)) return [];
    return [{ config: parseConfig(readFileSync(p, "utf8"), p), dir: dirname(p) }];
  });
  return fromConfigs(configs, paths.join(delimiter), (server) => delegate(paths, server));
}

/** The entry named `name` in the first config that has one, with that config's directory. */
function find<K extends "cluster" | "user" | "context", T>(
  configs: { config: Config; dir: string }[],
  list: (c: Config) => Named<K, T>[] | undefined,
  key: K,
  name: string,
): { value: T; dir: string } | undefined {
  for (const { config, dir } of configs) {
    const hit = (list(config) ?? []).find((e) => e?.name === name);
    if (hit) return { value: (hit[key] ?? {}) as T, dir };
  }
  return undefined;
}

function fromConfigs(configs: { config: Config; dir: string }[], source: string, delegated: (server: URL) => KubeAccess): KubeAccess {
  const current = configs.find((c) => c.config["current-context"])?.config["current-context"];
  if (!current) throw new Error(`kubeconfig ${source} has no current-context`);
  const context = find(configs, (c) => c.contexts, "context", current)?.value;
  if (!context) throw new Error(`kubeconfig ${source}: current-context "${current}" is not among its contexts`);
  const cluster = context.cluster === undefined ? undefined : find(configs, (c) => c.clusters, "cluster", context.cluster);
  if (!cluster?.value.server) throw new Error(`kubeconfig ${source}: context "${current}" names no cluster with a server`);
  const user = context.user === undefined ? undefined : find(configs, (c) => c.users, "user", context.user);
  const u: User = user?.value ?? {};
  const c = cluster.value;
  const server = new URL(c.server as string);
  if (u.exec || u["auth-provider"]) return delegated(server);

  const file = (p: string | undefined, dir: string) => (p ? readFileSync(isAbsolute(p) ? p : join(dir, p)) : undefined);
  const data = (b64: string | undefined) => (b64 ? Buffer.from(b64, "base64") : undefined);
  const tls: TlsOptions = {};
  const ca = data(c["certificate-authority-data"]) ?? file(c["certificate-authority"], cluster.dir);
  if (ca) tls.ca = ca;
  const userDir = user?.dir ?? cluster.dir;
  const cert = data(u["client-certificate-data"]) ?? file(u["client-certificate"], userDir);
  const key = data(u["client-key-data"]) ?? file(u["client-key"], userDir);
  if (cert) tls.cert = cert;
  if (key) tls.key = key;
  if (c["tls-server-name"]) tls.servername = c["tls-server-name"];
  if (c["insecure-skip-tls-verify"] === true) tls.rejectUnauthorized = false;
  const tokenFile = u.tokenFile ? (isAbsolute(u.tokenFile) ? u.tokenFile : join(userDir, u.tokenFile)) : undefined;
  return {
    server,
    source,
    tls: async () => tls,
    headers: async () => {
      const h: Record<string, string> = {};
      const token = u.token || (tokenFile ? readFileSync(tokenFile, "utf8").trim() : undefined);
      if (token) h.Authorization = `Bearer ${token}`;
      else if (u.username !== undefined) h.Authorization = `Basic ${Buffer.from(`${u.username}:${u.password ?? ""}`).toString("base64")}`;
      if (u.as) h["Impersonate-User"] = u.as;
      return h;
    },
  };
}

/** A user with an exec plugin or auth provider: @kubernetes/client-node does it, loaded only now. */
function delegate(paths: string[], server: URL): KubeAccess {
  const [first, ...rest] = paths.filter((p) => existsSync(p));
  const kc = import("@kubernetes/client-node").then(({ KubeConfig }) => {
    const k = new KubeConfig();
    k.loadFromFile(first as string);
    for (const p of rest) {
      const more = new KubeConfig();
      more.loadFromFile(p);
      k.mergeConfig(more, true);
    }
    return k;
  });
  const options = async () => {
    const o: { ca?: Buffer; cert?: Buffer; key?: Buffer; servername?: string; rejectUnauthorized?: boolean; headers?: Record<string, unknown>; auth?: string } =
      {};
    await (await kc).applyToHTTPSOptions(o as never);
    return o;
  };
  return {
    server,
    source: paths.join(delimiter),
    async tls() {
      const o = await options();
      const t: TlsOptions = {};
      if (o.ca) t.ca = o.ca;
      if (o.cert) t.cert = o.cert;
      if (o.key) t.key = o.key;
      if (o.servername) t.servername = o.servername;
      if (o.rejectUnauthorized !== undefined) t.rejectUnauthorized = o.rejectUnauthorized;
      return t;
    },
    async headers() {
      const o = await options();
      const h: Record<string, string> = {};
      for (const [k, v] of Object.entries(o.headers ?? {})) if (v !== undefined) h[k] = String(v);
      if (o.auth && !h.Authorization) h.Authorization = `Basic ${Buffer.from(o.auth).toString("base64")}`;
      return h;
    },
  };
}
