import type { KubernetesObject, V1Pod, V1ReplicaSet } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import {
  ago,
  crashLoopShape,
  deployment,
  downloadingShape,
  GPU_MESSAGE,
  llama,
  loadingShape,
  minutes,
  NAME,
  NOT_FOUND_PULL,
  NS,
  observed,
  type PodShape,
  pod,
  QUOTA_MESSAGE,
  readyShape,
  replicaSet,
  terminated,
  unschedulableShape,
  waitingShape,
} from "../../test/support/status-fixtures.ts";
import { ownedByDeployment, trimPod, trimReplicaSet } from "./cached.ts";
import { computeStatus } from "./compute.ts";

/** The pod as the API server sends it: managedFields, a full spec, annotations, extra labels and status fields. */
function asServed(p: V1Pod): V1Pod {
  const full = structuredClone(p);
  full.metadata = {
    ...full.metadata,
    uid: `uid-${p.metadata?.name}`,
    resourceVersion: "4242",
    generateName: `${NAME}-1d4f7b9c8-`,
    labels: { ...full.metadata?.labels, team: "a", "app.kubernetes.io/name": "modelservice" },
    annotations: { "kubectl.kubernetes.io/restartedAt": "2026-11-28T09:00:00Z", note: "x".repeat(2000) },
    managedFields: [{ manager: "kube-controller-manager", operation: "Update", apiVersion: "v1", fieldsType: "FieldsV1", fieldsV1: { "f:spec": {} } }],
  };
  full.spec = {
    ...full.spec,
    containers: (full.spec?.containers ?? []).map((c) => ({ ...c, args: ["--model", "x".repeat(500)], env: [{ name: "A", value: "b" }] })),
    volumes: [{ name: "shm", emptyDir: { medium: "Memory" } }],
    tolerations: [{ key: "nvidia.com/gpu", operator: "Exists" }],
  };
  full.status = {
    ...full.status,
    hostIP: "10.0.0.1",
    podIP: "10.1.0.5",
    podIPs: [{ ip: "10.1.0.5" }],
    qosClass: "Burstable",
    containerStatuses: full.status?.containerStatuses?.map((cs) => ({ ...cs, containerID: "containerd://abc", imageID: "sha256:def" })),
  };
  return full;
}

const kept = (p: V1Pod) => trimPod(asServed(p) as KubernetesObject) as V1Pod;

describe("trimPod", () => {
  it("drops pods that no ReplicaSet controls, whatever their labels", () => {
    const labelled = asServed(pod("a", readyShape()));
    labelled.metadata = { ...labelled.metadata, ownerReferences: [] };
    expect(trimPod(labelled)).toBeUndefined();
    const notController = asServed(pod("b", readyShape()));
    notController.metadata = { ...notController.metadata, ownerReferences: notController.metadata?.ownerReferences?.map((r) => ({ ...r, controller: false })) };
    expect(trimPod(notController)).toBeUndefined();
    const byJob = asServed(pod("c", readyShape()));
    byJob.metadata = { ...byJob.metadata, ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name: "j", uid: "j", controller: true }] };
    expect(trimPod(byJob)).toBeUndefined();
    const fakeGroup = asServed(pod("d", readyShape()));
    fakeGroup.metadata = {
      ...fakeGroup.metadata,
      ownerReferences: [{ apiVersion: "example.com/v1", kind: "ReplicaSet", name: "r", uid: "r", controller: true }],
    };
    expect(trimPod(fakeGroup)).toBeUndefined();
  });

  it("keeps only what status reads: no managedFields, spec, annotations or other labels", () => {
    const t = kept(pod("a", loadingShape(60)));
    expect(t.metadata).toEqual({
      name: `${NAME}-1d4f7b9c8-a`,
      namespace: NS,
      uid: `uid-${NAME}-1d4f7b9c8-a`,
      resourceVersion: "4242",
      creationTimestamp: ago(3600),
      labels: { "modelservice.dev/name": NAME, "pod-template-hash": "1d4f7b9c8" },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: `${NAME}-1d4f7b9c8`, uid: "rs-1", controller: true }],
    });
    expect(t.spec).toEqual({ nodeName: "gpu-node-1" });
    expect(Object.keys(t.status ?? {}).sort()).toEqual(["conditions", "containerStatuses", "phase", "startTime"]);
    expect(t.status?.containerStatuses?.[0]).not.toHaveProperty("containerID");
    const size = (o: unknown) => JSON.stringify(o).length;
    expect(size(t)).toBeLessThan(size(asServed(pod("a", loadingShape(60)))) / 3);
  });

  it("keeps the deletion timestamp (pods being deleted do not count)", () => {
    expect(kept(pod("a", readyShape(), { deleting: true })).metadata?.deletionTimestamp).toEqual(ago(5));
  });
});

describe("trimReplicaSet", () => {
  const served = (rs: V1ReplicaSet): V1ReplicaSet => ({
    ...rs,
    metadata: { ...rs.metadata, resourceVersion: "7", annotations: { ...rs.metadata?.annotations, "deployment.kubernetes.io/desired-replicas": "2" } },
    spec: { ...rs.spec, selector: rs.spec?.selector ?? {}, template: { spec: { containers: [{ name: "engine", image: "x".repeat(1000) }] } } },
  });

  it("drops ReplicaSets that no Deployment controls", () => {
    const rs = served(replicaSet(1));
    expect(trimReplicaSet({ ...rs, metadata: { ...rs.metadata, ownerReferences: [] } })).toBeUndefined();
  });

  it("keeps the revision annotation, template hash, owner and conditions, not the pod template", () => {
    const t = trimReplicaSet(served(replicaSet(1, { failure: QUOTA_MESSAGE }))) as V1ReplicaSet;
    expect(t.metadata?.annotations).toEqual({ "deployment.kubernetes.io/revision": "1" });
    expect(t.metadata?.labels).toEqual({ "modelservice.dev/name": NAME, "pod-template-hash": "1d4f7b9c8" });
    expect(t.spec).toEqual({ replicas: 2 });
    expect(t.status?.conditions?.[0]).toMatchObject({ type: "ReplicaFailure", status: "True", message: QUOTA_MESSAGE });
  });
});

describe("status from trimmed objects", () => {
  const scenarios: [string, PodShape[], { rs?: V1ReplicaSet[]; events?: boolean }?][] = [
    ["ready", [readyShape(), readyShape()]],
    ["loading", [loadingShape(minutes(5)), readyShape()]],
    ["unschedulable", [unschedulableShape(GPU_MESSAGE), readyShape()]],
    ["image pull", [waitingShape("ErrImagePull", NOT_FOUND_PULL)]],
    ["crash loop", [crashLoopShape(terminated(1, "Error", 30, "Traceback\nValueError: bad model"), 6)]],
    ["OOM", [crashLoopShape(terminated(137, "OOMKilled"), 2)]],
    ["downloading", [downloadingShape(120)]],
    ["startup timeout", [loadingShape(minutes(40))]],
    ["quota", [readyShape()], { rs: [replicaSet(1, { failure: QUOTA_MESSAGE })] }],
  ];
  it.each(scenarios)("is the same as from the full objects: %s", (_name, shapes, o) => {
    const pods = shapes.map((s, i) => pod(String(i), s));
    const rss = o?.rs ?? [replicaSet(1)];
    const base = { ms: llama(), deployment: deployment({ ready: 1 }) };
    const full = computeStatus(observed({ ...base, replicaSets: rss, pods: pods.map(asServed) }));
    const trimmed = computeStatus(
      observed({
        ...base,
        replicaSets: rss.map((rs) => trimReplicaSet(rs) as V1ReplicaSet),
        pods: pods.map((p) => trimPod(asServed(p)) as V1Pod),
      }),
    );
    expect(trimmed).toEqual(full);
    expect(full.status.replicaPhases).not.toEqual({ scheduling: 0, loading: 0, ready: 0, failing: 0 });
  });
});

describe("ownedByDeployment", () => {
  it("counts only the Deployment's ReplicaSets and their pods, by uid", () => {
    const dep = deployment();
    const ours = replicaSet(1);
    const foreignRs: V1ReplicaSet = {
      ...replicaSet(2),
      metadata: {
        ...replicaSet(2).metadata,
        ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: NAME, uid: "someone-elses", controller: true }],
      },
    };
    const ourPod = pod("a", readyShape());
    const podOfForeignRs = pod("b", readyShape(), { rev: 2 });
    const orphan: V1Pod = { ...pod("c", readyShape()), metadata: { ...pod("c", readyShape()).metadata, ownerReferences: [] } };
    const r = ownedByDeployment(dep, [ours, foreignRs], [ourPod, podOfForeignRs, orphan]);
    expect(r.replicaSets).toEqual([ours]);
    expect(r.pods).toEqual([ourPod]);
    expect(ownedByDeployment(undefined, [ours], [ourPod])).toEqual({ replicaSets: [], pods: [] });
  });

  it("keeps a user's labelled pods out of the status", () => {
    const mine = pod("a", readyShape());
    const users: V1Pod = {
      ...pod("zz", crashLoopShape(terminated(1, "Error"), 9)),
      metadata: {
        ...pod("zz", readyShape()).metadata,
        ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "x", uid: "x", controller: true }],
      },
    };
    const s = computeStatus(observed({ deployment: deployment({ replicas: 1, ready: 1 }), pods: [mine, users] })).status;
    expect(s.replicaPhases).toEqual({ scheduling: 0, loading: 0, ready: 1, failing: 0 });
    expect(s.lastFailure).toBeUndefined();
  });
});
