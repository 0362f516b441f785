// Other projects' CRDs (Gateway API, cert-manager, Envoy Gateway, KEDA, the KEDA HTTP add-on,
// LeaderWorkerSet) for tests and the local cluster, taken at run time from the project's own Go
// module — never copied into this repository. `go mod download` fetches each module once into Go's
// module cache; later calls read it from there (no network).
//
// Versions are named explicitly: the module proxy here often refuses version lists, so `@latest`
// cannot be resolved (see /work/shared/notes-kubernetes.md).
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import { isApiError, type KubeClient } from "../kube/client.ts";

const execFileAsync = promisify(execFile);

export type ThirdPartySource = {
  module: string;
  version: string;
  /** Directory inside the module that holds the CRD files (plain YAML, no templates). */
  dir: string;
};

/** Every third-party CRD source, with its version: the one place to bump them. */
export const THIRD_PARTY_CRDS = {
  /** Standard channel: GatewayClass, Gateway, HTTPRoute, GRPCRoute, ReferenceGrant, BackendTLSPolicy (v1), ListenerSet, TCPRoute, TLSRoute, UDPRoute. */
  gatewayApi: { module: "sigs.k8s.io/gateway-api", version: "v1.6.3", dir: "config/crd/standard" },
  /** Certificate, CertificateRequest, Issuer, ClusterIssuer, acme Order and Challenge. */
  certManager: { module: "github.com/cert-manager/cert-manager", version: "v1.21.2", dir: "deploy/crds" },
  /** Envoy Gateway's own policy CRDs (SecurityPolicy, BackendTrafficPolicy, ...), not its bundled Gateway API copy. */
  envoyGateway: { module: "github.com/envoyproxy/gateway", version: "v1.7.1", dir: "charts/gateway-helm/crds/generated" },
  /** ScaledObject, ScaledJob, TriggerAuthentication, ClusterTriggerAuthentication, CloudEventSource, ClusterCloudEventSource. */
  keda: { module: "github.com/kedacore/keda/v2", version: "v2.21.0", dir: "config/crd/bases" },
  /** InterceptorRoute (http.keda.sh/v1beta1) and the deprecated HTTPScaledObject. */
  kedaHttpAddOn: { module: "github.com/kedacore/http-add-on", version: "v0.15.0", dir: "config/crd/bases" },
  /** LeaderWorkerSet. */
  lws: { module: "sigs.k8s.io/lws", version: "v0.8.0", dir: "config/crd/bases" },
} as const satisfies Record<string, ThirdPartySource>;

export type ThirdPartyName = keyof typeof THIRD_PARTY_CRDS;

export type CrdVersion = { name: string; served: boolean; storage: boolean };
export type Crd = {
  apiVersion: "apiextensions.k8s.io/v1";
  kind: "CustomResourceDefinition";
  metadata: { name: string; [k: string]: unknown };
  spec: { group: string; names: { kind: string; plural: string }; scope: string; versions: CrdVersion[]; [k: string]: unknown };
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
};

/** The machine's Go: `go` on PATH, else the usual install location. */
export const goBinary = (): string => {
  if (process.env.GO) return process.env.GO;
  const onPath = (process.env.PATH ?? "").split(":").find((d) => d && existsSync(join(d, "go")));
  if (onPath) return join(onPath, "go");
  if (existsSync("/usr/local/go/bin/go")) return "/usr/local/go/bin/go";
  throw new Error("Go not found: put `go` on PATH or set GO=/path/to/go (it fetches third-party CRDs from the module proxy)");
};

/** Downloads (or finds in Go's module cache) module@version and returns its directory. */
export async function moduleDir(module: string, version: string): Promise<string> {
  // Outside any Go module, with -mod=mod, so no go.mod nearby changes what is resolved.
  const env = { ...process.env, GOFLAGS: "-mod=mod", GO111MODULE: "on" };
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync(goBinary(), ["mod", "download", "-json", `${module}@${version}`], { cwd: tmpdir(), env, maxBuffer: 16 * 1024 * 1024 }));
  } catch (e) {
    // `go mod download -json` prints an "Error" field on stdout and exits 1.
    const out = (e as { stdout?: string }).stdout ?? "";
    const reason = /"Error":\s*"([^"]*)"/.exec(out)?.[1] ?? (e as Error).message;
    throw new Error(`go mod download ${module}@${version} failed: ${reason}`);
  }
  const info = JSON.parse(stdout) as { Dir?: string; Error?: string };
  if (info.Error || !info.Dir) throw new Error(`go mod download ${module}@${version} failed: ${info.Error ?? "no Dir in its answer"}`);
  return info.Dir;
}

/** The CustomResourceDefinitions among YAML documents (other kinds, e.g. Gateway API's ValidatingAdmissionPolicy, are left out). */
export function crdsFromYaml(text: string, source: string): Crd[] {
  const crds: Crd[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors[0]?.message}`);
    const obj = doc.toJS() as { kind?: string } | null;
    if (obj?.kind === "CustomResourceDefinition") crds.push(obj as Crd);
  }
  return crds;
}

/** The CRDs of one source, sorted by name. */
export async function loadThirdPartyCrds(name: ThirdPartyName): Promise<Crd[]> {
  const src: ThirdPartySource = THIRD_PARTY_CRDS[name];
  const dir = join(await moduleDir(src.module, src.version), src.dir);
  const files = (await readdir(dir)).filter((f) => f.endsWith(".yaml") || f.endsWith(".yml")).sort();
  const crds: Crd[] = [];
  for (const f of files) crds.push(...crdsFromYaml(await readFile(join(dir, f), "utf8"), `${src.module}@${src.version}/${src.dir}/${f}`));
  if (crds.length === 0) throw new Error(`no CustomResourceDefinition in ${src.module}@${src.version}/${src.dir}`);
  return crds.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

const crdPath = (name: string) => `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const listPath = (crd: Crd): string => {
  const v = crd.spec.versions.find((x) => x.storage) ?? crd.spec.versions.find((x) => x.served);
  return `/apis/${crd.spec.group}/${v?.name}/${crd.spec.names.plural}`;
};

export type InstallOptions = { timeoutMs?: number; fieldManager?: string };

/**
 * Server-side applies the CRDs of the named sources (client-side apply cannot: some are larger
 * than the 256 KiB last-applied annotation) and waits until each is Established and answers a
 * list. Returns the CRDs installed.
 */
export async function installThirdPartyCrds(client: KubeClient, names: readonly ThirdPartyName[], opts: InstallOptions = {}): Promise<Crd[]> {
  const crds = (await Promise.all(names.map(loadThirdPartyCrds))).flat();
  const query = { fieldManager: opts.fieldManager ?? "modelservice-operator-tests", force: true };
  // A CRD still terminating (an earlier removal) would take the apply and then vanish: wait it out.
  const terminating: Crd[] = [];
  for (const crd of crds) {
    const got = await client.request<{ metadata: { deletionTimestamp?: string } }>("GET", crdPath(crd.metadata.name)).catch((e: unknown) => {
      if (isApiError(e, 404)) return undefined;
      throw e;
    });
    if (got?.metadata.deletionTimestamp) terminating.push(crd);
  }
  if (terminating.length) await awaitGone(client, terminating, opts.timeoutMs ?? 60_000);
  for (const crd of crds) {
    const { status: _ignored, ...body } = crd;
    await client.request("PATCH", crdPath(crd.metadata.name), { body, contentType: "application/apply-patch+yaml", query });
  }
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (const crd of crds) {
    for (;;) {
      const got = await client.request<Crd>("GET", crdPath(crd.metadata.name));
      const conditions = got.status?.conditions ?? [];
      if (conditions.some((c) => c.type === "Established" && c.status === "True")) break;
      const refused = conditions.find((c) => c.type === "NamesAccepted" && c.status === "False");
      if (refused) throw new Error(`CRD ${crd.metadata.name}: names not accepted: ${refused.message ?? refused.reason}`);
      if (Date.now() > deadline) throw new Error(`CRD ${crd.metadata.name} not Established within ${opts.timeoutMs ?? 60_000} ms`);
      await sleep(100);
    }
    // Established can precede discovery by a moment.
    for (;;) {
      try {
        await client.request("GET", listPath(crd), { query: { limit: 1 } });
        break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await sleep(100);
      }
    }
  }
  return crds;
}

/**
 * Deletes the CRDs of the named sources (and so every object of their kinds) and waits until they
 * are gone. Meant for the local cluster once the add-on's controllers are stopped: an object still
 * holding a controller's finalizer would keep its CRD terminating for ever, so after a grace period
 * the finalizers of what is left are cleared.
 */
export async function removeThirdPartyCrds(client: KubeClient, names: readonly ThirdPartyName[], opts: { timeoutMs?: number } = {}): Promise<void> {
  const crds = (await Promise.all(names.map(loadThirdPartyCrds))).flat();
  for (const crd of crds) {
    try {
      await client.request("DELETE", crdPath(crd.metadata.name));
    } catch (e) {
      if (!isApiError(e, 404)) throw e;
    }
  }
  await awaitGone(client, crds, opts.timeoutMs ?? 60_000);
}

async function awaitGone(client: KubeClient, crds: readonly Crd[], timeoutMs: number): Promise<void> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  for (const crd of crds) {
    let lastClear = started;
    for (;;) {
      try {
        await client.request("GET", crdPath(crd.metadata.name));
      } catch (e) {
        if (isApiError(e, 404)) break;
        throw e;
      }
      if (Date.now() - lastClear > FINALIZER_GRACE_MS) {
        await clearFinalizers(client, crd);
        lastClear = Date.now();
      }
      if (Date.now() > deadline) throw new Error(`CRD ${crd.metadata.name} still present after ${timeoutMs} ms`);
      await sleep(100);
    }
  }
}

const FINALIZER_GRACE_MS = 2_000;

type Instance = { metadata: { name: string; namespace?: string; finalizers?: string[] } };

async function clearFinalizers(client: KubeClient, crd: Crd): Promise<void> {
  let items: Instance[];
  try {
    items = (await client.request<{ items: Instance[] }>("GET", listPath(crd))).items;
  } catch (e) {
    if (isApiError(e, 404)) return;
    throw e;
  }
  const base = listPath(crd).replace(/\/[^/]+$/, "");
  for (const it of items) {
    if (!it.metadata.finalizers?.length) continue;
    const ns = it.metadata.namespace ? `/namespaces/${it.metadata.namespace}` : "";
    const path = `${base}${ns}/${crd.spec.names.plural}/${it.metadata.name}`;
    await client.request("PATCH", path, { body: { metadata: { finalizers: null } }, contentType: "application/merge-patch+json" }).catch((e: unknown) => {
      if (!isApiError(e, 404)) throw e;
    });
  }
}
