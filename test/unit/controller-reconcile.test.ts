// reconcile() with in-memory caches and a fake API client that records every request: the write
// discipline (nothing when in sync, hand edits undone, unwanted children deleted, invalid specs and
// admission errors reported without hot loops).
import type { KubernetesObject } from "@kubernetes/client-node";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { ModelService } from "../../src/api/types.ts";
import { defaultOperatorConfig } from "../../src/config/operator-config.ts";
import type { ChildKind } from "../../src/controller/keys.ts";
import { type Cache, type ReconcileContext, reconcile, statusPatch, withAppliedHash } from "../../src/controller/reconcile.ts";
import { ApiError, type KubeClient } from "../../src/kube/client.ts";
import type { EventRecorder } from "../../src/kube/events.ts";
import { childKinds } from "../../src/render/index.ts";

class MapCache<T extends KubernetesObject> implements Cache<T> {
  m = new Map<string, T>();
  get(ns: string, name: string) {
    return this.m.get(`${ns}/${name}`);
  }
  list(ns?: string) {
    return [...this.m.values()].filter((o) => ns === undefined || o.metadata?.namespace === ns);
  }
  put(o: T) {
    this.m.set(`${o.metadata?.namespace}/${o.metadata?.name}`, o);
  }
  delete(ns: string, name: string) {
    this.m.delete(`${ns}/${name}`);
  }
}

type Req = { method: string; path: string; body?: unknown };

function setup(spec: Record<string, unknown>, opts: { fail?: (r: Req) => Error | undefined } = {}) {
  const ms = {
    apiVersion: "modelservice.dev/v1alpha1",
    kind: "ModelService",
    metadata: { name: "m", namespace: "ns", uid: "uid-m", generation: 1, creationTimestamp: "2026-11-28T10:00:00Z" },
    spec,
  } as unknown as ModelService;
  const modelServices = new MapCache<ModelService>();
  modelServices.put(ms);
  const kinds = childKinds(defaultOperatorConfig);
  const caches = new Map<string, MapCache<KubernetesObject>>(kinds.map((k) => [k.kind, new MapCache()]));
  const requests: Req[] = [];
  const events: string[] = [];
  // The fake API server: apply stores the object in the cache (as the watch would), status patches update the ModelService.
  const client = {
    async request(method: string, path: string, o?: { body?: unknown }) {
      const body = typeof o?.body === "string" ? JSON.parse(o.body) : o?.body;
      const r = { method, path, body };
      requests.push(r);
      const err = opts.fail?.(r);
      if (err) throw err;
      if (path.endsWith("/status")) {
        const cur = modelServices.get("ns", "m") as ModelService;
        const status = { ...(cur.status ?? {}), ...(body as { status: Record<string, unknown> }).status };
        for (const [k, v] of Object.entries(status)) if (v === null) delete (status as Record<string, unknown>)[k];
        modelServices.put({ ...cur, status } as ModelService);
        return modelServices.get("ns", "m");
      }
      if (method === "PATCH") {
        const obj = body as KubernetesObject;
        caches.get(obj.kind as string)?.put(obj);
        return obj;
      }
      if (method === "DELETE") {
        const kind = kinds.find((k) => path.includes(`/${k.plural}/`)) as ChildKind;
        caches.get(kind.kind)?.delete("ns", path.split("/").at(-1) as string);
      }
      return {};
    },
  } as unknown as KubeClient;
  const ctx: ReconcileContext = {
    client,
    config: defaultOperatorConfig,
    modelServices,
    children: kinds.map((kind) => ({ kind, cache: caches.get(kind.kind) as MapCache<KubernetesObject> })),
    replicaSets: new MapCache(),
    pods: new MapCache(),
    recorder: { record: (_o: unknown, type: string, reason: string) => events.push(`${type} ${reason}`) } as unknown as EventRecorder,
    logger: pino({ level: "silent" }),
    now: () => new Date("2026-11-28T10:00:05Z"),
  };
  const writes = () => requests.filter((r) => r.method !== "GET");
  return { ctx, caches, modelServices, requests, writes, events, ms };
}

const SPEC = { model: { uri: "hf://Qwen/Qwen2.5-0.5B-Instruct" }, engine: { type: "vLLM" }, gpu: { count: 1 } };

describe("reconcile", () => {
  it("creates the children, writes the status, and then writes nothing", async () => {
    const t = setup(SPEC);
    await reconcile(t.ctx, "ns/m");
    const kinds = t.writes().map((w) => `${w.method} ${w.path}`);
    expect(kinds).toContain("PATCH /apis/apps/v1/namespaces/ns/deployments/m");
    expect(kinds).toContain("PATCH /api/v1/namespaces/ns/services/m");
    expect(kinds).toContain("PATCH /apis/modelservice.dev/v1alpha1/namespaces/ns/modelservices/m/status");
    expect(t.events.length).toBeGreaterThan(0);
    const n = t.writes().length;
    await reconcile(t.ctx, "ns/m");
    await reconcile(t.ctx, "ns/m");
    expect(t.writes().length).toBe(n);
  });

  it("undoes a hand edit, and only that", async () => {
    const t = setup(SPEC);
    await reconcile(t.ctx, "ns/m");
    const d = structuredClone(t.caches.get("Deployment")?.get("ns", "m")) as { spec: { template: { spec: { containers: { image: string }[] } } } };
    const image = d.spec.template.spec.containers[0]?.image;
    (d.spec.template.spec.containers[0] as { image: string }).image = "hacked";
    t.caches.get("Deployment")?.put(d as unknown as KubernetesObject);
    const n = t.writes().length;
    await reconcile(t.ctx, "ns/m");
    const w = t.writes().slice(n);
    expect(w.map((x) => x.path)).toEqual(["/apis/apps/v1/namespaces/ns/deployments/m"]);
    const applied = w[0]?.body as typeof d;
    expect(applied.spec.template.spec.containers[0]?.image).toBe(image);
  });

  it("deletes the HPA once autoscaling is removed", async () => {
    const t = setup({ ...SPEC, resources: { requests: { cpu: "2" } }, autoscaling: { minReplicas: 1, maxReplicas: 3, target: { cpuUtilization: 80 } } });
    await reconcile(t.ctx, "ns/m");
    expect(t.caches.get("HorizontalPodAutoscaler")?.get("ns", "m")).toBeDefined();
    const cur = t.modelServices.get("ns", "m") as ModelService;
    t.modelServices.put({ ...cur, metadata: { ...cur.metadata, generation: 2 }, spec: SPEC } as unknown as ModelService);
    await reconcile(t.ctx, "ns/m");
    expect(t.writes().some((w) => w.method === "DELETE" && w.path === "/apis/autoscaling/v2/namespaces/ns/horizontalpodautoscalers/m")).toBe(true);
    expect(t.caches.get("HorizontalPodAutoscaler")?.get("ns", "m")).toBeUndefined();
  });

  it("reports an invalid spec without touching children, once", async () => {
    const t = setup({ ...SPEC, resources: { limits: { "nvidia.com/gpu": 1 } } });
    const r = await reconcile(t.ctx, "ns/m");
    expect(r.result).toBe("invalid_spec");
    expect(r.requeueAfterMs).toBeUndefined();
    expect(t.writes().map((w) => w.path)).toEqual(["/apis/modelservice.dev/v1alpha1/namespaces/ns/modelservices/m/status"]);
    const ready = (t.modelServices.get("ns", "m") as ModelService).status?.conditions?.find((c) => c.type === "Ready");
    expect(ready?.reason).toBe("InvalidSpec");
    await reconcile(t.ctx, "ns/m");
    expect(t.writes().length).toBe(1);
  });

  it("puts a permanent apply error in the status and throws for a rate-limited retry", async () => {
    const t = setup(SPEC, {
      fail: (r) =>
        r.method === "PATCH" && r.path.includes("/deployments/")
          ? new ApiError(422, "admission webhook denied the request: no GPUs for you", "Invalid")
          : undefined,
    });
    await expect(reconcile(t.ctx, "ns/m")).rejects.toThrow(/no GPUs for you/);
    const status = (t.modelServices.get("ns", "m") as ModelService).status;
    expect(JSON.stringify(status)).toMatch(/no GPUs for you/);
    // Retrying with the same error does not rewrite the status.
    const n = t.writes().filter((w) => w.path.endsWith("/status")).length;
    await expect(reconcile(t.ctx, "ns/m")).rejects.toThrow();
    expect(t.writes().filter((w) => w.path.endsWith("/status")).length).toBe(n);
  });

  it("retries a transient error without calling it a failure in the status", async () => {
    const t = setup(SPEC, { fail: (r) => (r.method === "PATCH" && r.path.includes("/services/") ? new ApiError(503, "etcd is busy") : undefined) });
    await expect(reconcile(t.ctx, "ns/m")).rejects.toThrow(/etcd is busy/);
    expect(JSON.stringify((t.modelServices.get("ns", "m") as ModelService).status)).not.toMatch(/etcd is busy/);
  });

  it("does nothing for a ModelService that is gone", async () => {
    const t = setup(SPEC);
    t.modelServices.delete("ns", "m");
    expect((await reconcile(t.ctx, "ns/m")).result).toBe("gone");
    expect(t.requests).toEqual([]);
  });
});

describe("helpers", () => {
  it("statusPatch nulls fields the new status dropped", () => {
    expect(statusPatch({ phase: "Failed", lastFailure: { reason: "OOMKilled" } }, { phase: "Ready" })).toEqual({ phase: "Ready", lastFailure: null });
  });
  it("withAppliedHash is stable and changes with the object", () => {
    const a = { apiVersion: "v1", kind: "Service", metadata: { name: "x" }, spec: { port: 1 } } as KubernetesObject;
    const h = (o: KubernetesObject) => withAppliedHash(o).metadata?.annotations?.["modelservice.dev/applied-hash"];
    expect(h(a)).toBe(h(structuredClone(a)));
    expect(h(a)).not.toBe(h({ ...a, spec: { port: 2 } } as KubernetesObject));
  });
});
