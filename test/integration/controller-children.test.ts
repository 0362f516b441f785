// Children that come and go with the spec, and fields other managers own: an HPA's replica count
// is left alone, the HPA is deleted when autoscaling is removed, the PDB follows the replica
// count, the cache PVC is only deleted with the opt-in.
import { describe, expect, it } from "vitest";
import { applyModelService, get, getDeployment, gpuSpec, sleep, useOperator, waitFor } from "./controller-helpers.ts";

const fx = useOperator("ctl-kids");

const HPA = ["autoscaling/v2", "horizontalpodautoscalers"] as const;
const PDB = ["policy/v1", "poddisruptionbudgets"] as const;
const PVC = ["v1", "persistentvolumeclaims"] as const;

describe("children", () => {
  it("leaves a manual scale of an autoscaled Deployment alone, and deletes the HPA when autoscaling is removed", async () => {
    const spec = { ...gpuSpec(), resources: { requests: { cpu: "2" } }, autoscaling: { minReplicas: 1, maxReplicas: 4, target: { cpuUtilization: 80 } } };
    await applyModelService(fx.client, fx.ns, "auto", spec);
    await waitFor("the HPA", () => get(fx.client, ...HPA, fx.ns, "auto"), 30_000);
    const d = await waitFor("the Deployment", () => getDeployment(fx.client, fx.ns, "auto"), 30_000);
    const rvBefore = d.metadata?.resourceVersion;
    // What the HPA controller (or a person with kubectl scale) does: write /scale.
    await fx.client.request("PATCH", `/apis/apps/v1/namespaces/${fx.ns}/deployments/auto/scale`, {
      body: { spec: { replicas: 3 } },
      contentType: "application/merge-patch+json",
    });
    const reconcilesBefore = fx.op.controller.reconciles;
    await waitFor("the operator to see the change", () => fx.op.controller.reconciles > reconcilesBefore, 10_000, 50);
    await sleep(3000);
    const after = await getDeployment(fx.client, fx.ns, "auto");
    expect(after?.spec?.replicas).toBe(3);
    expect(after?.metadata?.resourceVersion).not.toBe(rvBefore);

    // Autoscaling removed: the HPA goes, the Deployment gets a fixed replica count again.
    await applyModelService(fx.client, fx.ns, "auto", { ...gpuSpec(), replicas: 1 });
    await waitFor("the HPA to be deleted", async () => (await get(fx.client, ...HPA, fx.ns, "auto")) === undefined, 30_000);
    await waitFor("replicas back to 1", async () => (await getDeployment(fx.client, fx.ns, "auto"))?.spec?.replicas === 1, 30_000);
  });

  it("creates a PDB for more than one replica and deletes it at one", async () => {
    await applyModelService(fx.client, fx.ns, "pdb", { ...gpuSpec(), replicas: 2 });
    const pdb = await waitFor("the PDB", () => get(fx.client, ...PDB, fx.ns, "pdb"), 30_000);
    expect(pdb).toBeDefined();
    await applyModelService(fx.client, fx.ns, "pdb", { ...gpuSpec(), replicas: 1 });
    await waitFor("the PDB to be deleted", async () => (await get(fx.client, ...PDB, fx.ns, "pdb")) === undefined, 30_000);
  });

  it("keeps the cache PVC when spec.cache is removed, unless deleteOnRemoval was set", async () => {
    await applyModelService(fx.client, fx.ns, "keep", { ...gpuSpec(), cache: { size: "10Gi" } });
    await applyModelService(fx.client, fx.ns, "drop", { ...gpuSpec(), cache: { size: "10Gi", deleteOnRemoval: true } });
    await waitFor("both PVCs", async () => (await get(fx.client, ...PVC, fx.ns, "keep-cache")) && (await get(fx.client, ...PVC, fx.ns, "drop-cache")), 30_000);
    await applyModelService(fx.client, fx.ns, "keep", gpuSpec());
    await applyModelService(fx.client, fx.ns, "drop", gpuSpec());
    await waitFor(
      "the opted-in PVC to be deleted",
      async () => {
        const pvc = await get<{ metadata: { deletionTimestamp?: string } }>(fx.client, ...PVC, fx.ns, "drop-cache");
        return pvc === undefined || pvc.metadata.deletionTimestamp !== undefined;
      },
      30_000,
    );
    // The Deployment no longer mounts it, and the other claim is still there.
    await waitFor(
      "the Deployment without the cache volume",
      async () => {
        const d = await getDeployment(fx.client, fx.ns, "keep");
        return d && !(d.spec?.template.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === "keep-cache");
      },
      30_000,
    );
    const kept = await get<{ metadata: { deletionTimestamp?: string } }>(fx.client, ...PVC, fx.ns, "keep-cache");
    expect(kept).toBeDefined();
    expect(kept?.metadata.deletionTimestamp).toBeUndefined();
  });
});
