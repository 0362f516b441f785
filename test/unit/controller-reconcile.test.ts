// reconcile() with in-memory caches and a fake API client that records every request: the write
// discipline (nothing when in sync, hand edits undone, unwanted children deleted, invalid specs and
// admission errors reported without hot loops).
import type { KubernetesObject } from "@kubernetes/client-node";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { ModelServiceClass } from "../../src/api/class-schema.ts";
import type { ModelService } from "../../src/api/types.ts";
import { defaultOperatorConfig } from "../../src/config/operator-config.ts";
import type { ChildKind } from "../../src/controller/keys.ts";
import {
  type Cache,
  NAME_CONFLICT_REQUEUE_MS,
  PROGRESS_WRITE_INTERVAL_MS,
  type ReconcileContext,
  reconcile,
  statusPatch,
  withAppliedHash,
} from "../../src/controller/reconcile.ts";
import { ApiError, type KubeClient } from "../../src/kube/client.ts";
import type { EventRecorder } from "../../src/kube/events.ts";
import { childKinds } from "../../src/render/index.ts";
import { applyMergePatch } from "../support/json-merge-patch.ts";
import { havingStatus, inNamespace, modelService, withGpus, withMetadata, withModel, withUid, withWholeSpec } from "../support/model-service.ts";

class MapCache<T extends KubernetesObject> implements Cache<T> {
  m = new Map<string, T>();
  get(ns: string, name: string) {
    return this.m.get(`${ns}/${name}`);
  }
  list(ns?: string) {
    return [...this.m.values()].filter((o) => ns === undefined || o.metadata?.namespace === ns);
  }
  byLabel(ns: string, value: string) {
    return this.list(ns).filter((o) => o.metadata?.labels?.["modelservice.dev/name"] === value);
  }
  put(o: T) {
    this.m.set(`${o.metadata?.namespace}/${o.metadata?.name}`, o);
  }
  delete(ns: string, name: string) {
    this.m.delete(`${ns}/${name}`);
  }
}

/** `refused`: a create-only apply of a name that is taken (409, nothing written). */
type Req = { method: string; path: string; body?: unknown; signal?: AbortSignal; refused?: true };

function setup(
  spec: Record<string, unknown>,
  opts: { fail?: (r: Req) => Error | undefined; status?: Record<string, unknown>; config?: typeof defaultOperatorConfig } = {},
) {
  const ms = modelService(
    "m",
    inNamespace("ns"),
    withUid("uid-m"),
    withMetadata({ creationTimestamp: "2026-11-28T10:00:00Z" }),
    withWholeSpec(spec),
    ...(opts.status ? [havingStatus(opts.status as ModelService["status"] & object)] : []),
  );
  const modelServices = new MapCache<ModelService>();
  modelServices.put(ms);
  const config = opts.config ?? defaultOperatorConfig;
  const kinds = childKinds(config);
  const caches = new Map<string, MapCache<KubernetesObject>>(kinds.map((k) => [k.kind, new MapCache()]));
  // Every object on the fake server by path, labelled or not; the caches hold what the
  // label-filtered informers would (everything this fake applies carries our labels).
  const server = new Map<string, KubernetesObject>();
  const requests: Req[] = [];
  const events: string[] = [];
  // The fake API server: apply stores the object in the cache (as the watch would), status patches
  // (RFC 7386 merge patches) update the ModelService.
  const client = {
    async request(method: string, path: string, o?: { body?: unknown; signal?: AbortSignal }) {
      const body = typeof o?.body === "string" ? JSON.parse(o.body) : o?.body;
      const r: Req = { method, path, body, ...(o?.signal ? { signal: o.signal } : {}) };
      requests.push(r);
      const err = opts.fail?.(r);
      if (err) throw err;
      if (path.endsWith("/status")) {
        const cur = modelServices.get("ns", "m") as ModelService;
        const status = applyMergePatch(cur.status ?? {}, (body as { status: unknown }).status);
        modelServices.put({ ...cur, status } as ModelService);
        return modelServices.get("ns", "m");
      }
      if (method === "GET") {
        const obj = server.get(path);
        if (!obj) throw new ApiError(404, `${path} not found`, "NotFound");
        return structuredClone(obj);
      }
      if (method === "PATCH") {
        // Like the API server: an apply with resourceVersion "1" only creates (409 if the name is
        // taken); an object keeps the uid it got when it was created.
        if ((body as KubernetesObject).metadata?.resourceVersion === "1" && server.has(path)) {
          r.refused = true;
          throw new ApiError(409, `${path}: the object has been modified`, "Conflict");
        }
        const obj = { ...(body as KubernetesObject) };
        const { resourceVersion: _rv, ...meta } = obj.metadata ?? {};
        obj.metadata = { ...meta, uid: server.get(path)?.metadata?.uid ?? `uid-${path}` };
        server.set(path, obj);
        caches.get(obj.kind as string)?.put(obj);
        return obj;
      }
      if (method === "DELETE") {
        const kind = kinds.find((k) => path.includes(`/${k.plural}/`)) as ChildKind | undefined;
        server.delete(path);
        if (kind) caches.get(kind.kind)?.delete("ns", path.split("/").at(-1) as string);
      }
      return {};
    },
  } as unknown as KubeClient;
  const ctx: ReconcileContext = {
    client,
    config,
    modelServices,
    children: kinds.map((kind) => ({ kind, cache: caches.get(kind.kind) as MapCache<KubernetesObject> })),
    replicaSets: new MapCache(),
    pods: new MapCache(),
    recorder: { record: (_o: unknown, type: string, reason: string) => events.push(`${type} ${reason}`) } as unknown as EventRecorder,
    logger: pino({ level: "silent" }),
    now: () => new Date("2026-11-28T10:00:05Z"),
  };
  /** Requests that changed something on the server. */
  const writes = () => requests.filter((r) => r.method !== "GET" && !r.refused);
  return { ctx, caches, server, modelServices, requests, writes, events, ms };
}

const SPEC: Record<string, unknown> = modelService("m", withModel("hf://Qwen/Qwen2.5-0.5B-Instruct"), withGpus(1)).spec;

describe("reconcile", () => {
  it("creates the children, writes the status, and then writes nothing", async () => {
    const t = setup(SPEC);
    await reconcile(t.ctx, "ns/m");
    const kinds = t.writes().map((w) => `${w.method} ${w.path}`);
    expect(kinds).toContain("PATCH /apis/apps/v1/namespaces/ns/deployments/m");
    expect(kinds).toContain("PATCH /api/v1/namespaces/ns/services/m");
    expect(kinds).toContain("PATCH /apis/modelservice.dev/v1alpha1/namespaces/ns/modelservices/m/status");
    // The first status of a new ModelService, still in progress, records no Event (the Ready one will).
    expect(t.events).toEqual([]);
    const n = t.writes().length;
    await reconcile(t.ctx, "ns/m");
    await reconcile(t.ctx, "ns/m");
    expect(t.writes().length).toBe(n);
  });

  it("does not write its status again while the watch has not delivered its own last write", async () => {
    const t = setup(SPEC);
    t.ctx.writtenStatus = new Map();
    const before = t.modelServices.get("ns", "m") as ModelService;
    await reconcile(t.ctx, "ns/m");
    const statusWrites = () => t.writes().filter((w) => w.path.endsWith("/status")).length;
    expect(statusWrites()).toBe(1);
    t.modelServices.put(before); // the cache still holds the ModelService as it was before that write
    await reconcile(t.ctx, "ns/m");
    expect(statusWrites()).toBe(1);
  });

  it("holds back a status that only moves progress along for a moment after its last write, then writes where it got to; a spec change is written at once", async () => {
    const t = setup(SPEC);
    let clock = Date.parse("2026-11-28T10:00:05Z");
    t.ctx.now = () => new Date(clock);
    t.ctx.statusWrittenAt = new Map();
    await reconcile(t.ctx, "ns/m");
    const statusWrites = () => t.writes().filter((w) => w.path.endsWith("/status"));
    expect(statusWrites()).toHaveLength(1);
    const pending = (t.modelServices.get("ns", "m") as ModelService).status as NonNullable<ModelService["status"]>;
    expect(pending.conditions?.find((c) => c.type === "Ready")).toMatchObject({ status: "False", reason: "Progressing" });
    // As if the last write had been another progress step: the one computed now differs only there.
    const step = (s: typeof pending) => ({
      ...s,
      phase: "Scheduling" as const,
      conditions: s.conditions?.map((c) => (c.type === "Ready" ? { ...c, reason: "Scheduling", message: "1 replica waiting to be scheduled" } : c)),
    });
    const put = (status: typeof pending, generation?: number) => {
      const cur = t.modelServices.get("ns", "m") as ModelService;
      t.modelServices.put({ ...cur, metadata: { ...cur.metadata, ...(generation ? { generation } : {}) }, status });
    };
    put(step(pending));
    clock += 400;
    const held = await reconcile(t.ctx, "ns/m");
    expect(statusWrites()).toHaveLength(1);
    expect(held).toEqual({ result: "requeue", requeueAfterMs: PROGRESS_WRITE_INTERVAL_MS - 400 });
    clock += PROGRESS_WRITE_INTERVAL_MS - 400;
    await reconcile(t.ctx, "ns/m");
    expect(statusWrites()).toHaveLength(2);
    expect((t.modelServices.get("ns", "m") as ModelService).status).toEqual(pending);
    // No Event for a step from one progress reason to another.
    expect(t.events).toEqual([]);
    // Within the moment again, but the spec changed (a new generation): written at once.
    put(step(pending), 2);
    clock += 100;
    await reconcile(t.ctx, "ns/m");
    expect(statusWrites()).toHaveLength(3);
    expect((t.modelServices.get("ns", "m") as ModelService).status?.observedGeneration).toBe(2);
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

  it("withdraws its InterceptorRoute, and only that, once its host names are refused (the shared interceptor would keep routing them)", async () => {
    const config = { ...defaultOperatorConfig, keda: { ...defaultOperatorConfig.keda, enabled: true } };
    const toZero = (hosts: string[]) => ({
      ...SPEC,
      autoscaling: { minReplicas: 0, maxReplicas: 1, target: { inFlightRequests: 1 }, wake: { mode: "Request", hosts } },
    });
    const t = setup(toZero(["m.ns.svc"]), { config });
    await reconcile(t.ctx, "ns/m");
    expect(t.caches.get("InterceptorRoute")?.get("ns", "m")).toBeDefined();
    // As if stored before the check existed: the route claims another namespace's name.
    const cur = t.modelServices.get("ns", "m") as ModelService;
    t.modelServices.put({ ...cur, metadata: { ...cur.metadata, generation: 2 }, spec: toZero(["payments.billing.svc"]) } as unknown as ModelService);
    const n = t.writes().length;
    expect((await reconcile(t.ctx, "ns/m")).result).toBe("invalid_spec");
    expect(
      t
        .writes()
        .slice(n)
        .map((w) => `${w.method} ${w.path}`),
    ).toEqual([
      "DELETE /apis/http.keda.sh/v1beta1/namespaces/ns/interceptorroutes/m",
      "PATCH /apis/modelservice.dev/v1alpha1/namespaces/ns/modelservices/m/status",
    ]);
    expect(t.caches.get("InterceptorRoute")?.get("ns", "m")).toBeUndefined();
    expect(t.caches.get("Deployment")?.get("ns", "m")).toBeDefined();
  });

  it("deletes a ReplicaSet of an earlier Deployment of the same name (one the garbage collector missed), and only that", async () => {
    const t = setup(SPEC);
    await reconcile(t.ctx, "ns/m");
    const current = t.caches.get("Deployment")?.get("ns", "m");
    const rs = (rsName: string, ownerUid: string) => ({
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: {
        name: rsName,
        namespace: "ns",
        uid: `uid-${rsName}`,
        labels: { "modelservice.dev/name": "m" },
        ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "m", uid: ownerUid, controller: true }],
      },
    });
    const replicaSets = t.ctx.replicaSets as MapCache<KubernetesObject>;
    replicaSets.put(rs("m-old", "uid-of-a-deleted-deployment"));
    replicaSets.put(rs("m-current", current?.metadata?.uid as string));
    const n = t.writes().length;
    await reconcile(t.ctx, "ns/m");
    expect(
      t
        .writes()
        .slice(n)
        .map((w) => `${w.method} ${w.path}`),
    ).toEqual(["DELETE /apis/apps/v1/namespaces/ns/replicasets/m-old"]);
    const body = t.writes().at(-1)?.body as { preconditions?: { uid?: string } } | undefined;
    expect(body?.preconditions?.uid).toBe("uid-m-old");
  });

  it("under a class that forbids the spec: ClassViolation in the status, once, and no child; applied once the class allows it", async () => {
    const t = setup({ ...SPEC, className: "pool", service: { type: "NodePort" } });
    const cls = (serviceTypes: ("ClusterIP" | "NodePort")[]): ModelServiceClass => ({
      apiVersion: "modelservice.dev/v1alpha1",
      kind: "ModelServiceClass",
      metadata: { name: "pool" },
      spec: { allow: { serviceTypes } },
    });
    let classes = [cls(["ClusterIP"])];
    t.ctx.classes = () => classes;
    expect((await reconcile(t.ctx, "ns/m")).result).toBe("invalid_spec");
    expect(t.writes().map((w) => w.path)).toEqual(["/apis/modelservice.dev/v1alpha1/namespaces/ns/modelservices/m/status"]);
    const ready = (t.modelServices.get("ns", "m") as ModelService).status?.conditions?.find((c) => c.type === "Ready");
    expect(ready?.reason).toBe("ClassViolation");
    expect(ready?.message).toBe("spec.service.type: NodePort is not allowed by ModelServiceClass pool (allowed: ClusterIP)");
    await reconcile(t.ctx, "ns/m");
    expect(t.writes().length).toBe(1);
    classes = [cls(["ClusterIP", "NodePort"])];
    await reconcile(t.ctx, "ns/m");
    expect(t.writes().map((w) => w.path)).toContain("/api/v1/namespaces/ns/services/m");
  });

  it("a class that does not exist: ClassNotFound, not Stalled, no child; while the class cache syncs: nothing at all, asked again soon", async () => {
    const t = setup({ ...SPEC, className: "missing" });
    let classes: ModelServiceClass[] | undefined;
    t.ctx.classes = () => classes;
    const syncing = await reconcile(t.ctx, "ns/m");
    expect(syncing.result).toBe("requeue");
    expect(t.requests).toEqual([]);
    classes = [];
    await reconcile(t.ctx, "ns/m");
    const conds = (t.modelServices.get("ns", "m") as ModelService).status?.conditions ?? [];
    expect(conds.map((c) => `${c.type}=${c.status}/${c.reason}`)).toEqual([
      "Ready=False/ClassNotFound",
      "Reconciling=True/ClassNotFound",
      "Stalled=False/ClassNotFound",
    ]);
    expect(t.writes().map((w) => w.path)).toEqual(["/apis/modelservice.dev/v1alpha1/namespaces/ns/modelservices/m/status"]);
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

  it("never writes a same-named object it does not control: NameConflict, a slow requeue, no writes; proceeds once it is gone", async () => {
    const t = setup(SPEC);
    // A user's own Service named like the child: no labels, so not in the child cache.
    const userService = { apiVersion: "v1", kind: "Service", metadata: { name: "m", namespace: "ns", uid: "user-svc" }, spec: { ports: [{ port: 5432 }] } };
    t.server.set("/api/v1/namespaces/ns/services/m", userService as KubernetesObject);
    const r = await reconcile(t.ctx, "ns/m");
    expect(r).toEqual({ result: "requeue", requeueAfterMs: NAME_CONFLICT_REQUEUE_MS });
    // The Service was only tried create-only (refused, then read); nothing that runs or scales pods
    // was created: only the NetworkPolicy (applied before it) and the status were written.
    const service = t.requests.filter((q) => q.path === "/api/v1/namespaces/ns/services/m").map((q) => `${q.method}${q.refused ? " refused" : ""}`);
    expect(service).toEqual(["PATCH refused", "GET"]);
    expect(t.writes().map((w) => `${w.method} ${w.path}`)).toEqual([
      "PATCH /apis/networking.k8s.io/v1/namespaces/ns/networkpolicies/m",
      "PATCH /apis/modelservice.dev/v1alpha1/namespaces/ns/modelservices/m/status",
    ]);
    expect(t.server.get("/api/v1/namespaces/ns/services/m")).toEqual(userService);
    const status = (t.modelServices.get("ns", "m") as ModelService).status;
    const cond = (type: string) => status?.conditions?.find((c) => c.type === type);
    expect(cond("Ready")).toMatchObject({
      status: "False",
      reason: "NameConflict",
      message: "Service ns/m already exists and is not owned by this ModelService; rename or delete it",
    });
    expect(cond("Stalled")).toMatchObject({ status: "True", reason: "NameConflict" });
    expect(cond("Reconciling")).toMatchObject({ status: "False" });
    expect(t.events).toContain("Warning NameConflict");
    // Looking again changes nothing and writes nothing.
    const n = t.writes().length;
    expect(await reconcile(t.ctx, "ns/m")).toEqual({ result: "requeue", requeueAfterMs: NAME_CONFLICT_REQUEUE_MS });
    expect(t.writes().length).toBe(n);
    // The user deletes it: the operator creates its own.
    t.server.delete("/api/v1/namespaces/ns/services/m");
    await reconcile(t.ctx, "ns/m");
    expect(t.writes().some((w) => w.method === "PATCH" && w.path === "/api/v1/namespaces/ns/services/m")).toBe(true);
    expect(t.caches.get("Deployment")?.get("ns", "m")).toBeDefined();
    expect((t.modelServices.get("ns", "m") as ModelService).status?.conditions?.find((c) => c.type === "Ready")?.reason).not.toBe("NameConflict");
  });

  it("treats a labelled object controlled by something else as a conflict too, and never deletes it", async () => {
    const t = setup(SPEC);
    const foreign = {
      apiVersion: "v1",
      kind: "Service",
      metadata: {
        name: "m",
        namespace: "ns",
        labels: { "modelservice.dev/name": "m", "app.kubernetes.io/managed-by": "modelservice-operator" },
        ownerReferences: [{ apiVersion: "example.com/v1", kind: "Gateway", name: "g", uid: "gw", controller: true }],
      },
    } as KubernetesObject;
    t.caches.get("Service")?.put(foreign);
    await reconcile(t.ctx, "ns/m");
    expect(t.writes().filter((w) => w.path.includes("/services/"))).toEqual([]);
    expect((t.modelServices.get("ns", "m") as ModelService).status?.conditions?.[0]?.reason).toBe("NameConflict");
  });

  it("sends no GET on the create path: a fresh ModelService's children are created without reading them first", async () => {
    const t = setup(SPEC);
    await reconcile(t.ctx, "ns/m");
    expect(t.requests.filter((q) => q.method === "GET")).toEqual([]);
    expect(t.requests.filter((q) => q.refused)).toEqual([]);
  });

  it("adopts nothing but takes its own child, read after its create is refused (watch lagging behind), without rewriting it", async () => {
    const t = setup(SPEC);
    await reconcile(t.ctx, "ns/m");
    t.caches.get("Service")?.delete("ns", "m"); // not delivered by the watch yet
    const n = t.writes().length;
    await reconcile(t.ctx, "ns/m");
    expect(t.writes().length).toBe(n);
    expect(t.requests.slice(-2)).toMatchObject([
      { method: "PATCH", path: "/api/v1/namespaces/ns/services/m", refused: true },
      { method: "GET", path: "/api/v1/namespaces/ns/services/m" },
    ]);
  });

  it("waits for the garbage collector when a child still belongs to a deleted incarnation", async () => {
    const t = setup(SPEC);
    await reconcile(t.ctx, "ns/m");
    const svc = structuredClone(t.caches.get("Service")?.get("ns", "m")) as KubernetesObject;
    svc.metadata = { ...svc.metadata, ownerReferences: (svc.metadata?.ownerReferences ?? []).map((r) => ({ ...r, uid: "uid-old" })) };
    t.caches.get("Service")?.put(svc);
    const n = t.writes().length;
    await expect(reconcile(t.ctx, "ns/m")).rejects.toThrow(/deleted ModelService m .*garbage collector/);
    expect(t.writes().length).toBe(n);
  });

  it("does not rewrite the status forever when a nested field disappears (lastFailure.exitCode)", async () => {
    const status = {
      lastFailure: {
        reason: "OOMKilled",
        message: "container engine ran out of memory",
        pod: "m-old",
        container: "engine",
        exitCode: 137,
        time: "2026-11-28T09:00:00Z",
      },
    };
    const t = setup(SPEC, { status });
    // The Deployment's ReplicaSet and its pod (status counts only pods of our Deployment's ReplicaSets).
    const deploymentUid = "uid-/apis/apps/v1/namespaces/ns/deployments/m";
    (t.ctx.replicaSets as MapCache<KubernetesObject>).put({
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: {
        name: "m-5d8f",
        namespace: "ns",
        uid: "uid-rs",
        labels: { "modelservice.dev/name": "m" },
        ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "m", uid: deploymentUid, controller: true }],
      },
    } as KubernetesObject);
    (t.ctx.pods as MapCache<KubernetesObject>).put({
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "m-abc",
        namespace: "ns",
        labels: { "modelservice.dev/name": "m" },
        ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "m-5d8f", uid: "uid-rs", controller: true }],
        creationTimestamp: "2026-11-28T09:59:00Z" as unknown as Date,
      },
      spec: { nodeName: "gpu-node-1", containers: [{ name: "engine", image: "x" }] },
      status: {
        phase: "Pending",
        conditions: [{ type: "PodScheduled", status: "True" }],
        startTime: "2026-11-28T09:59:30Z" as unknown as Date,
        containerStatuses: [
          {
            name: "engine",
            image: "x",
            imageID: "",
            ready: false,
            restartCount: 0,
            state: { waiting: { reason: "ImagePullBackOff", message: 'Back-off pulling image "x"' } },
          },
        ],
      },
    } as KubernetesObject);
    await reconcile(t.ctx, "ns/m");
    const lf = (t.modelServices.get("ns", "m") as ModelService).status?.lastFailure;
    expect(lf?.reason).toBe("ImagePullFailed");
    expect(lf).not.toHaveProperty("exitCode");
    const n = t.writes().length;
    await reconcile(t.ctx, "ns/m");
    await reconcile(t.ctx, "ns/m");
    expect(t.writes().length).toBe(n);
  });

  it("passes the leading signal to its writes and stops writing once it aborts", async () => {
    const lead = new AbortController();
    const t = setup(SPEC, {
      fail: (r) => {
        if (r.method !== "PATCH") return undefined;
        expect(r.signal).toBe(lead.signal);
        // Leadership is lost while the first apply is in flight: the request is cancelled.
        lead.abort(new Error("leadership lost"));
        return lead.signal.reason;
      },
    });
    t.ctx.signal = lead.signal;
    await expect(reconcile(t.ctx, "ns/m")).rejects.toThrow(/leadership lost/);
    expect(t.writes()).toHaveLength(1);
    expect((t.modelServices.get("ns", "m") as ModelService).status).toBeUndefined();
  });

  it("reports ApplyFailed and applies nothing when a child's API is not served (KEDA enabled without its CRD)", async () => {
    const config = { ...defaultOperatorConfig, keda: { ...defaultOperatorConfig.keda, enabled: true } };
    const why = "KEDA is enabled in the operator config but the keda.sh/v1alpha1 ScaledObject API is not served";
    const t = setup({ ...SPEC, autoscaling: { minReplicas: 1, maxReplicas: 3, target: { inFlightRequests: 8 } } }, { config });
    t.ctx.children = t.ctx.children.filter((c) => c.kind.kind !== "ScaledObject");
    t.ctx.unavailable = new Map([["ScaledObject", why]]);
    // Not retried (only a spec change or an operator restart after installing KEDA can fix it).
    expect(await reconcile(t.ctx, "ns/m")).toEqual({ result: "invalid_spec" });
    expect(t.writes().map((w) => w.path)).toEqual(["/apis/modelservice.dev/v1alpha1/namespaces/ns/modelservices/m/status"]);
    const ready = (t.modelServices.get("ns", "m") as ModelService).status?.conditions?.find((c) => c.type === "Ready");
    expect(ready).toMatchObject({ status: "False", reason: "ApplyFailed" });
    expect(ready?.message).toContain(why);
    // Switching an HPA-autoscaled ModelService to a KEDA target leaves its HPA in place.
    const h = setup(
      { ...SPEC, resources: { requests: { cpu: "2" } }, autoscaling: { minReplicas: 1, maxReplicas: 3, target: { cpuUtilization: 80 } } },
      { config },
    );
    h.ctx.children = h.ctx.children.filter((c) => c.kind.kind !== "ScaledObject");
    h.ctx.unavailable = new Map([["ScaledObject", why]]);
    await reconcile(h.ctx, "ns/m");
    expect(h.caches.get("HorizontalPodAutoscaler")?.get("ns", "m")).toBeDefined();
    const cur = h.modelServices.get("ns", "m") as ModelService;
    h.modelServices.put({
      ...cur,
      metadata: { ...cur.metadata, generation: 2 },
      spec: { ...SPEC, autoscaling: { minReplicas: 1, maxReplicas: 3, target: { inFlightRequests: 8 } } },
    } as unknown as ModelService);
    const n = h.writes().length;
    expect(await reconcile(h.ctx, "ns/m")).toEqual({ result: "invalid_spec" });
    expect(
      h
        .writes()
        .slice(n)
        .map((w) => `${w.method} ${w.path}`),
    ).toEqual(["PATCH /apis/modelservice.dev/v1alpha1/namespaces/ns/modelservices/m/status"]);
    expect(h.caches.get("HorizontalPodAutoscaler")?.get("ns", "m")).toBeDefined();
    // A ModelService that needs no ScaledObject is not affected.
    const u = setup(SPEC, { config });
    u.ctx.children = u.ctx.children.filter((c) => c.kind.kind !== "ScaledObject");
    u.ctx.unavailable = new Map([["ScaledObject", why]]);
    await reconcile(u.ctx, "ns/m");
    expect(u.caches.get("Deployment")?.get("ns", "m")).toBeDefined();
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
  it("statusPatch nulls nested fields the new status dropped (RFC 7386)", () => {
    const prev = { phase: "Failed" as const, lastFailure: { reason: "OOMKilled", exitCode: 137, pod: "p" } };
    const next = { phase: "Failed" as const, lastFailure: { reason: "ImagePullFailed", pod: "p" } };
    expect(statusPatch(prev, next)).toEqual({ phase: "Failed", lastFailure: { reason: "ImagePullFailed", pod: "p", exitCode: null } });
  });
  it("withAppliedHash is stable and changes with the object", () => {
    const a = { apiVersion: "v1", kind: "Service", metadata: { name: "x" }, spec: { port: 1 } } as KubernetesObject;
    const h = (o: KubernetesObject) => withAppliedHash(o).metadata?.annotations?.["modelservice.dev/applied-hash"];
    expect(h(a)).toBe(h(structuredClone(a)));
    expect(h(a)).not.toBe(h({ ...a, spec: { port: 2 } } as KubernetesObject));
  });
});
