// Helpers shared by the controller integration tests: a test client (its own user agent, so the
// audit log tells its writes from the operator's), namespaces, ModelServices, polling, and the
// per-file fixture (client, namespace, operator) in beforeAll/afterAll.
import { existsSync, readFileSync } from "node:fs";
import type { KubernetesObject, V1Deployment } from "@kubernetes/client-node";
import { pino } from "pino";
import { afterAll, beforeAll, inject } from "vitest";
import type { ModelService } from "../../src/api/types.ts";
import { isApiError, KubeClient, loadKubeConfig, resourcePath } from "../../src/kube/client.ts";
import { installCrd } from "../../src/operator/install-crd.ts";
import { type RunningOperator, type StartOptions, startOperator } from "../../src/operator/start.ts";
import {
  inNamespace,
  manifest,
  modelService,
  simulateLoad,
  withEngine,
  withGpus,
  withMetadata,
  withModel,
  withReplicas,
  withWholeSpec,
} from "../support/model-service.ts";
import { createNamespace, kubeconfigPath, waitFor as pollFor } from "./kube-helpers.ts";

export { createNamespace, kubeconfigPath, sleep } from "./kube-helpers.ts";

export const TEST_USER_AGENT = "modelservice-operator-test";

export function testClient(): KubeClient {
  return new KubeClient(loadKubeConfig(kubeconfigPath()), { userAgent: TEST_USER_AGENT });
}

/**
 * Polls `fn` until it returns a truthy value; throws with the last value seen on timeout.
 * kube-helpers' waitFor with the controller tests' defaults (60 s, every 200 ms).
 */
export function waitFor<T>(what: string, fn: () => Promise<T> | T, timeoutMs = 60_000, intervalMs = 200): Promise<Exclude<NonNullable<T>, false | "" | 0>> {
  return pollFor(what, fn as () => Promise<Exclude<NonNullable<T>, false | "" | 0>>, timeoutMs, intervalMs);
}

export async function deleteNamespace(client: KubeClient, name: string): Promise<void> {
  await client.request("DELETE", `/api/v1/namespaces/${name}`).catch(() => {});
}

const MS_PATH = (ns: string, name?: string, sub?: string) =>
  resourcePath({ apiVersion: "modelservice.dev/v1alpha1", plural: "modelservices", namespace: ns, name, subresource: sub });

/** Server-side applies a ModelService as the test's field manager (a user, not the operator). */
export async function applyModelService(
  client: KubeClient,
  ns: string,
  name: string,
  spec: Record<string, unknown>,
  extra: Partial<KubernetesObject["metadata"]> = {},
): Promise<ModelService> {
  const body = manifest(modelService(name, inNamespace(ns), withMetadata(extra ?? {}), withWholeSpec(spec)));
  return client.request<ModelService>("PATCH", MS_PATH(ns, name), {
    body,
    contentType: "application/apply-patch+yaml",
    query: { fieldManager: "test-user", force: true },
  });
}

export const getModelService = (client: KubeClient, ns: string, name: string) => client.request<ModelService>("GET", MS_PATH(ns, name));
export const deleteModelService = (client: KubeClient, ns: string, name: string) => client.request("DELETE", MS_PATH(ns, name));

export async function get<T = KubernetesObject>(client: KubeClient, apiVersion: string, plural: string, ns: string, name: string): Promise<T | undefined> {
  try {
    return await client.request<T>("GET", resourcePath({ apiVersion, plural, namespace: ns, name }));
  } catch (e) {
    if (isApiError(e, 404)) return undefined;
    throw e;
  }
}

export const getDeployment = (client: KubeClient, ns: string, name: string) => get<V1Deployment>(client, "apps/v1", "deployments", ns, name);

export const condition = (ms: ModelService | undefined, type: string) => ms?.status?.conditions?.find((c) => c.type === type);
export const isReady = (ms: ModelService | undefined) => condition(ms, "Ready")?.status === "True";

/** The spec of a small GPU ModelService that kwok serves; `loadSeconds` simulates loading the weights. */
export function gpuSpec(
  opts: { loadSeconds?: number; replicas?: number; image?: string; env?: { name: string; value: string }[] } = {},
): Record<string, unknown> {
  return modelService(
    "m",
    withModel("hf://Qwen/Qwen2.5-0.5B-Instruct"),
    withGpus(1),
    withEngine("vLLM", { image: opts.image, env: opts.env }),
    ...(opts.replicas !== undefined ? [withReplicas(opts.replicas)] : []),
    ...(opts.loadSeconds !== undefined ? [simulateLoad(opts.loadSeconds)] : []),
  ).spec;
}

/** Starts an in-process operator for one test namespace, logging to a quiet logger. */
export async function startTestOperator(opts: StartOptions = {}) {
  return startOperator({
    kubeconfig: kubeconfigPath(),
    httpHost: "127.0.0.1",
    httpPort: 0,
    logger: pino({ level: process.env.MSO_TEST_LOG_LEVEL ?? "warn" }),
    resyncPeriodMs: 10 * 60_000,
    ...opts,
  });
}

/** A test client and a fresh namespace, for the tests of one file. */
export interface NamespaceFixture {
  readonly client: KubeClient;
  readonly ns: string;
}

/** A test client, a fresh namespace and an in-process operator watching it. */
export interface OperatorFixture extends NamespaceFixture {
  readonly op: RunningOperator;
}

/**
 * Registers the file's beforeAll/afterAll: a test client, the CRD installed, a fresh namespace
 * `<prefix>-xxxxxx`; then the namespace is deleted and the client closed. The returned getters
 * work from beforeAll on. Hooks the file registers after this call nest inside (vitest runs
 * afterAll hooks in reverse order): they see the namespace, and clean up before it is deleted.
 */
export function useTestNamespace(prefix: string): NamespaceFixture {
  return fixture(prefix);
}

/** useTestNamespace, plus an operator watching the namespace (startTestOperator with `options`), stopped first. */
export function useOperator(prefix: string, options: StartOptions = {}): OperatorFixture {
  return fixture(prefix, options);
}

function fixture(prefix: string, operator?: StartOptions): OperatorFixture {
  let client: KubeClient | undefined;
  let ns: string | undefined;
  let op: RunningOperator | undefined;
  beforeAll(async () => {
    client = testClient();
    await installCrd(client);
    ns = await createNamespace(client, prefix);
    if (operator) op = await startTestOperator({ namespaces: [ns], ...operator });
  });
  afterAll(async () => {
    await op?.stop();
    if (client && ns) await deleteNamespace(client, ns);
    client?.close();
  });
  const ready = <T>(what: string, v: T | undefined): T => {
    if (v === undefined) throw new Error(`${what} is only set up in beforeAll`);
    return v;
  };
  return {
    get client() {
      return ready("the test client", client);
    },
    get ns() {
      return ready("the test namespace", ns);
    },
    get op() {
      return ready("the operator", op);
    },
  };
}

/** Writes (create/update/patch/delete) recorded in the audit log, by user agent prefix and namespace, after `since`. */
export function auditWrites(opts: { since: Date; userAgent: string; namespace?: string }): { verb: string; uri: string; at: number }[] {
  const path = auditLogPath();
  if (!path || !existsSync(path)) return [];
  const out: { verb: string; uri: string; at: number }[] = [];
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (!line) continue;
    let ev: { stage?: string; verb?: string; userAgent?: string; requestURI?: string; objectRef?: { namespace?: string }; requestReceivedTimestamp?: string };
    try {
      ev = JSON.parse(line);
    } catch {
      continue;
    }
    if (ev.stage && ev.stage !== "ResponseComplete") continue;
    if (!["create", "update", "patch", "delete", "deletecollection"].includes(ev.verb ?? "")) continue;
    if (!(ev.userAgent ?? "").startsWith(opts.userAgent)) continue;
    if (opts.namespace && ev.objectRef?.namespace !== opts.namespace) continue;
    const at = Date.parse(ev.requestReceivedTimestamp ?? "");
    if (at < opts.since.getTime()) continue;
    out.push({ verb: ev.verb ?? "", uri: ev.requestURI ?? "", at });
  }
  return out;
}

export function auditLogPath(): string | undefined {
  return inject("auditLogPath") || undefined;
}
