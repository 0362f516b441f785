// Which watch events start a reconcile: those that can change the status or need a repair.
import type { KubernetesObject } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { worthReconciling } from "./relevant.ts";

const obj = (kind: string, rv: string, extra: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): KubernetesObject =>
  ({ apiVersion: "v1", kind, metadata: { name: "m", namespace: "ns", resourceVersion: rv, generation: 1, ...meta }, ...extra }) as KubernetesObject;

describe("worthReconciling", () => {
  it("a ModelService: a spec, label or deletion change is; its status coming back alone is not", () => {
    const ms = (rv: string, spec: unknown, status: unknown, meta = {}) => obj("ModelService", rv, { spec, status }, meta);
    const old = ms("1", { gpu: { count: 1 } }, { phase: "Pending" });
    expect(worthReconciling("modelService", ms("2", { gpu: { count: 1 } }, { phase: "Ready" }), old)).toBe(false);
    expect(worthReconciling("modelService", ms("2", { gpu: { count: 2 } }, { phase: "Pending" }, { generation: 2 }), old)).toBe(true);
    expect(worthReconciling("modelService", ms("2", { gpu: { count: 1 } }, { phase: "Pending" }, { labels: { a: "b" } }), old)).toBe(true);
    expect(worthReconciling("modelService", ms("2", { gpu: { count: 1 } }, { phase: "Pending" }, { deletionTimestamp: "2026-01-01T00:00:00Z" }), old)).toBe(
      true,
    );
  });

  it("a child whose status is never read (HPA): a status rewrite is not, a hand edit of its spec is", () => {
    const hpa = (rv: string, spec: unknown, status: unknown) => obj("HorizontalPodAutoscaler", rv, { spec, status });
    const old = hpa("1", { minReplicas: 1 }, { currentReplicas: 1, conditions: [{ type: "AbleToScale", status: "True" }] });
    expect(worthReconciling("child", hpa("2", { minReplicas: 1 }, { currentReplicas: 1, conditions: [{ type: "ScalingActive", status: "False" }] }), old)).toBe(
      false,
    );
    expect(worthReconciling("child", hpa("2", { minReplicas: 3 }, { currentReplicas: 1 }), old)).toBe(true);
  });

  it("a Deployment's status is read, so its status changes are; a new resourceVersion alone is not", () => {
    const dep = (rv: string, ready: number) => obj("Deployment", rv, { spec: { replicas: 1 }, status: { readyReplicas: ready } });
    expect(worthReconciling("child", dep("2", 1), dep("1", 0))).toBe(true);
    expect(worthReconciling("child", dep("2", 0), dep("1", 0))).toBe(false);
  });

  it("a trimmed pod: only a difference in what status reads counts", () => {
    const pod = (rv: string, ready: string) => obj("Pod", rv, { status: { phase: "Running", conditions: [{ type: "Ready", status: ready }] } });
    expect(worthReconciling("trimmed", pod("2", "False"), pod("1", "False"))).toBe(false);
    expect(worthReconciling("trimmed", pod("2", "True"), pod("1", "False"))).toBe(true);
  });

  it("without the previous object (added, or a relist) it always is", () => {
    expect(worthReconciling("child", obj("Service", "1"), undefined)).toBe(true);
  });
});
