// Objects the operator does not own are never written: a user's Service named like a child is a
// NameConflict (the Service stays as the user made it) until the user deletes it; and with
// keda.enabled on a cluster without KEDA the operator starts anyway and says why ModelServices
// that need a ScaledObject cannot get one.
import type { V1Service } from "@kubernetes/client-node";
import { pino } from "pino";
import { beforeAll, describe, expect, it } from "vitest";
import { defaultOperatorConfig, type OperatorConfig } from "../../src/config/operator-config.ts";
import { Controller, KEDA_NOT_SERVED } from "../../src/controller/controller.ts";
import { EventRecorder } from "../../src/kube/events.ts";
import { removeThirdPartyCrds } from "../../src/localcluster/third-party-crds.ts";
import { applyModelService, condition, get, getDeployment, getModelService, gpuSpec, sleep, useTestNamespace, waitFor } from "./controller-helpers.ts";

const fx = useTestNamespace("ctl-own");

// KEDA's CRDs are cluster-wide and the control plane is shared: another file may have left them.
beforeAll(async () => {
  await removeThirdPartyCrds(fx.client, ["keda", "kedaHttpAddOn"]);
});

/** A controller for the test namespace, run in-process as the leader until stopped. */
async function runController(config: OperatorConfig) {
  const logger = pino({ level: process.env.MSO_TEST_LOG_LEVEL ?? "warn" });
  const recorder = new EventRecorder({ client: fx.client, component: "modelservice-operator", instance: "test", logger });
  const controller = new Controller({
    client: fx.client,
    config,
    namespaces: [fx.ns],
    workers: 2,
    resyncPeriodMs: 10 * 60_000,
    logger,
    recorder,
    nameConflictRequeueMs: 1000,
  });
  await controller.start();
  const lead = new AbortController();
  const workers = controller.runWorkers(lead.signal);
  return {
    controller,
    async stop() {
      lead.abort();
      await workers;
      await recorder.flush();
      controller.stop();
    },
  };
}

describe("ownership", () => {
  it("reports a pre-existing Service with a child's name as NameConflict, leaves it alone, and proceeds once it is deleted", async () => {
    const op = await runController(defaultOperatorConfig);
    try {
      const mine = await fx.client.request<V1Service>("POST", `/api/v1/namespaces/${fx.ns}/services`, {
        body: { apiVersion: "v1", kind: "Service", metadata: { name: "taken" }, spec: { ports: [{ name: "pg", port: 5432 }], selector: { app: "postgres" } } },
      });
      await applyModelService(fx.client, fx.ns, "taken", gpuSpec());
      const ms = await waitFor("NameConflict", async () => {
        const m = await getModelService(fx.client, fx.ns, "taken");
        return condition(m, "Ready")?.reason === "NameConflict" && m;
      });
      expect(condition(ms, "Ready")).toMatchObject({
        status: "False",
        message: `Service ${fx.ns}/taken already exists and is not owned by this ModelService; rename or delete it`,
      });
      expect(condition(ms, "Stalled")).toMatchObject({ status: "True", reason: "NameConflict" });

      // A few conflict requeues later, the user's Service is exactly as it was, and nothing else was created.
      await sleep(2500);
      const after = await get<V1Service>(fx.client, "v1", "services", fx.ns, "taken");
      expect(after?.metadata?.resourceVersion).toBe(mine.metadata?.resourceVersion);
      expect(after?.metadata?.ownerReferences).toBeUndefined();
      expect(after?.metadata?.labels).toBeUndefined();
      expect(after?.spec?.ports?.map((p) => p.port)).toEqual([5432]);
      expect(after?.spec?.selector).toEqual({ app: "postgres" });
      expect(await getDeployment(fx.client, fx.ns, "taken")).toBeUndefined();

      // The user deletes it: without any change to the ModelService, the operator creates its own.
      await fx.client.request("DELETE", `/api/v1/namespaces/${fx.ns}/services/taken`);
      const svc = await waitFor(
        "the operator's Service",
        async () => {
          const s = await get<V1Service>(fx.client, "v1", "services", fx.ns, "taken");
          return s?.metadata?.ownerReferences?.some((r) => r.kind === "ModelService" && r.uid === ms.metadata.uid) && s;
        },
        30_000,
      );
      expect(svc.spec?.ports?.map((p) => p.port)).not.toContain(5432);
      await waitFor("the Deployment", () => getDeployment(fx.client, fx.ns, "taken"), 30_000);
      await waitFor("the conflict to clear", async () => {
        const reason = condition(await getModelService(fx.client, fx.ns, "taken"), "Ready")?.reason;
        return reason !== undefined && reason !== "NameConflict";
      });
    } finally {
      await op.stop();
    }
  });

  it("starts with keda.enabled on a cluster without KEDA, and reports why a ModelService needing a ScaledObject cannot get one", async () => {
    const config: OperatorConfig = { ...defaultOperatorConfig, keda: { ...defaultOperatorConfig.keda, enabled: true } };
    const started = performance.now();
    const op = await runController(config);
    try {
      console.log(`[measure] start without KEDA served: ${((performance.now() - started) / 1000).toFixed(2)} s`);
      expect(op.controller.unavailableKinds.get("ScaledObject")).toBe(KEDA_NOT_SERVED);
      expect(op.controller.hasSynced()).toBe(true);
      await applyModelService(fx.client, fx.ns, "keda", { ...gpuSpec(), autoscaling: { minReplicas: 1, maxReplicas: 3, target: { inFlightRequests: 8 } } });
      await applyModelService(fx.client, fx.ns, "plain", gpuSpec());
      const ms = await waitFor("ApplyFailed", async () => {
        const m = await getModelService(fx.client, fx.ns, "keda");
        return condition(m, "Ready")?.reason === "ApplyFailed" && m;
      });
      expect(condition(ms, "Ready")?.message).toContain(KEDA_NOT_SERVED);
      expect(condition(ms, "Stalled")?.status).toBe("True");
      expect(await getDeployment(fx.client, fx.ns, "keda")).toBeUndefined();
      // A ModelService that needs no ScaledObject is served as usual.
      await waitFor("the plain Deployment", () => getDeployment(fx.client, fx.ns, "plain"), 30_000);
    } finally {
      await op.stop();
    }
  });
});
