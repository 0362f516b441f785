// The controller against a real control plane (kwok plays the GPU nodes): create, status, spec
// change and rollout, hand edits undone, delete and garbage collection, invalid specs.
import type { V1Deployment } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import {
  applyModelService,
  condition,
  deleteModelService,
  get,
  getDeployment,
  getModelService,
  gpuSpec,
  isReady,
  sleep,
  useOperator,
  waitFor,
} from "./controller-helpers.ts";

const fx = useOperator("ctl-life");

const engineEnv = (d: V1Deployment | undefined, name: string) => d?.spec?.template.spec?.containers[0]?.env?.find((e) => e.name === name)?.value;

describe("controller lifecycle", () => {
  it("creates the children with owner references and reports Ready once the pods are", async () => {
    const LOAD_S = 3;
    const t0 = performance.now();
    const created = await applyModelService(fx.client, fx.ns, "life", gpuSpec({ loadSeconds: LOAD_S }));
    const d = await waitFor("the Deployment", () => getDeployment(fx.client, fx.ns, "life"), 30_000, 50);
    const tDeployment = performance.now();
    const svc = await waitFor("the Service", () => get(fx.client, "v1", "services", fx.ns, "life"), 10_000);
    for (const child of [d, svc]) {
      const ref = child.metadata?.ownerReferences?.[0];
      expect(ref).toMatchObject({ kind: "ModelService", name: "life", uid: created.metadata.uid, controller: true });
      expect(child.metadata?.labels?.["app.kubernetes.io/managed-by"]).toBe("modelservice-operator");
      expect(child.metadata?.labels?.["modelservice.dev/name"]).toBe("life");
    }
    // Poll the pod too, to split the time into the cluster's part and the operator's.
    let tPodReady: number | undefined;
    const ready = await waitFor(
      "Ready",
      async () => {
        const [ms, pods] = await Promise.all([
          getModelService(fx.client, fx.ns, "life"),
          fx.client.request<{ items: { status?: { conditions?: { type: string; status: string }[] } }[] }>("GET", `/api/v1/namespaces/${fx.ns}/pods`, {
            query: { labelSelector: "modelservice.dev/name=life" },
          }),
        ]);
        if (tPodReady === undefined && pods.items.some((p) => p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")))
          tPodReady = performance.now();
        return isReady(ms) ? ms : undefined;
      },
      90_000,
      100,
    );
    const total = (performance.now() - t0) / 1000;
    const tReady = performance.now();
    const podPart = tPodReady !== undefined ? `; pod Ready→ModelService Ready ${((tReady - tPodReady) / 1000).toFixed(2)}s (operator, ±0.1s polling)` : "";
    console.log(
      `[measure] create→Deployment ${((tDeployment - t0) / 1000).toFixed(2)}s; create→Ready ${total.toFixed(2)}s, minus simulated load ${LOAD_S}s = ${(total - LOAD_S).toFixed(2)}s overhead${podPart}`,
    );
    expect(ready.status?.observedGeneration).toBe(ready.metadata.generation);
    expect(ready.status?.phase).toBe("Ready");
    expect(ready.status?.url).toContain(`life.${fx.ns}.svc`);
    expect(condition(ready, "Ready")?.observedGeneration).toBe(ready.metadata.generation);
    // Events tell the story, and the metrics saw it.
    // Events are written after the status, so wait for the Ready one rather than any.
    const events = await waitFor(
      "a Ready Event on the ModelService",
      async () => {
        const list = await fx.client.request<{ items: { reason?: string; type?: string; source?: { component?: string } }[] }>(
          "GET",
          `/api/v1/namespaces/${fx.ns}/events`,
          {
            query: { fieldSelector: "involvedObject.kind=ModelService,involvedObject.name=life" },
          },
        );
        return list.items.some((e) => e.reason === "Ready") ? list.items : undefined;
      },
      10_000,
    );
    expect(events.filter((e) => e.reason === "Ready").every((e) => e.type === "Normal")).toBe(true);
    const metrics = await (await fetch(`http://127.0.0.1:${fx.op.port}/metrics`)).text();
    expect(metrics).toMatch(/modelservice_reconcile_total\{result="success"\} [1-9]/);
    expect(metrics).toMatch(/modelservice_time_to_ready_seconds_count 1/);
    expect(metrics).toMatch(/modelservice_modelservices\{phase="Ready",reason="Ready"\} 1/);
    expect(metrics).toMatch(/modelservice_workqueue_wait_seconds_count [1-9]/);
    expect((await fetch(`http://127.0.0.1:${fx.op.port}/readyz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${fx.op.port}/healthz`)).status).toBe(200);
    // No PDB for a single replica, no HPA without autoscaling.
    expect(await get(fx.client, "policy/v1", "poddisruptionbudgets", fx.ns, "life")).toBeUndefined();
    expect(await get(fx.client, "autoscaling/v2", "horizontalpodautoscalers", fx.ns, "life")).toBeUndefined();
  });

  it("rolls out a spec change and follows it with observedGeneration", async () => {
    const before = await getDeployment(fx.client, fx.ns, "life");
    const ms = await applyModelService(fx.client, fx.ns, "life", gpuSpec({ loadSeconds: 1, env: [{ name: "EXTRA", value: "v2" }] }));
    const gen = ms.metadata.generation;
    const d = await waitFor(
      "the new env in the Deployment",
      async () => {
        const got = await getDeployment(fx.client, fx.ns, "life");
        return engineEnv(got, "EXTRA") === "v2" ? got : undefined;
      },
      30_000,
    );
    expect(d.metadata?.generation).toBeGreaterThan(before?.metadata?.generation ?? 0);
    const done = await waitFor(
      "Ready at the new generation",
      async () => {
        const got = await getModelService(fx.client, fx.ns, "life");
        // Ready at the new generation, and the surge replica of the old revision gone.
        return got.status?.observedGeneration === gen && isReady(got) && got.status?.updatedReplicas === 1 && got.status?.replicas === 1 ? got : undefined;
      },
      90_000,
    );
    expect(done.status?.readyReplicas).toBe(1);
    // The operator never writes spec: what the user applied is still all there is.
    expect(done.spec).toEqual(ms.spec);
  });

  it("undoes a hand edit of the Deployment", async () => {
    const d = await getDeployment(fx.client, fx.ns, "life");
    const containers = d?.spec?.template.spec?.containers ?? [];
    const image = containers[0]?.image;
    await fx.client.request("PATCH", `/apis/apps/v1/namespaces/${fx.ns}/deployments/life`, {
      body: [{ op: "replace", path: "/spec/template/spec/containers/0/image", value: "example.com/hacked:1" }],
      contentType: "application/json-patch+json",
    });
    const reverted = await waitFor(
      "the image to be restored",
      async () => {
        const got = await getDeployment(fx.client, fx.ns, "life");
        return got?.spec?.template.spec?.containers[0]?.image === image ? got : undefined;
      },
      20_000,
      100,
    );
    expect(reverted.spec?.template.spec?.containers[0]?.image).toBe(image);
  });

  it("reports an invalid spec as InvalidSpec (Stalled) without touching children", async () => {
    // Accepted by the CRD, rejected by the renderer (GPUs belong in spec.gpu, not spec.resources).
    const spec = { ...gpuSpec(), resources: { limits: { "nvidia.com/gpu": 1 } } };
    await applyModelService(fx.client, fx.ns, "bad", spec);
    const ms = await waitFor(
      "InvalidSpec",
      async () => {
        const got = await getModelService(fx.client, fx.ns, "bad");
        return condition(got, "Ready")?.reason === "InvalidSpec" ? got : undefined;
      },
      20_000,
    );
    expect(condition(ms, "Stalled")?.status).toBe("True");
    expect(await getDeployment(fx.client, fx.ns, "bad")).toBeUndefined();
    // No hot loop: a few seconds later the status has not been rewritten.
    const rv = ms.metadata.resourceVersion;
    const invalidCount = async () => (await fx.op.metrics.reconcileTotal.get()).values.find((v) => v.labels.result === "invalid_spec")?.value ?? 0;
    const before = await invalidCount();
    await sleep(3000);
    expect((await getModelService(fx.client, fx.ns, "bad")).metadata.resourceVersion).toBe(rv);
    // At most the one reconcile triggered by our own status write, which changes nothing.
    expect((await invalidCount()) - before).toBeLessThanOrEqual(1);
  });

  it("leaves deletion to the garbage collector (no finalizers)", async () => {
    const ms = await getModelService(fx.client, fx.ns, "life");
    expect(ms.metadata.finalizers ?? []).toEqual([]);
    const t0 = performance.now();
    await deleteModelService(fx.client, fx.ns, "life");
    // The garbage collector learns about a new CRD at its next discovery resync (30 s), so the
    // first delete after installing the CRD can take that long.
    await waitFor("the Deployment to be garbage-collected", async () => (await getDeployment(fx.client, fx.ns, "life")) === undefined, 90_000);
    console.log(`[measure] delete→Deployment garbage-collected ${((performance.now() - t0) / 1000).toFixed(1)}s`);
    await waitFor("the Service to be garbage-collected", async () => (await get(fx.client, "v1", "services", fx.ns, "life")) === undefined, 60_000);
    await waitFor(
      "the pods to go",
      async () => {
        const pods = await fx.client.request<{ items: unknown[] }>("GET", `/api/v1/namespaces/${fx.ns}/pods`, {
          query: { labelSelector: "modelservice.dev/name=life" },
        });
        return pods.items.length === 0;
      },
      60_000,
    );
  });
});
