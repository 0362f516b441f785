import type { KubernetesObject } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { isServed, trimCrd } from "./optional-apis.ts";

const crd = (over: { established?: string; versions?: { name: string; served: boolean }[]; deleting?: boolean } = {}): KubernetesObject =>
  ({
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: "httproutes.gateway.networking.k8s.io", ...(over.deleting ? { deletionTimestamp: new Date() } : {}) },
    spec: {
      group: "gateway.networking.k8s.io",
      versions: over.versions ?? [{ name: "v1", served: true, schema: { openAPIV3Schema: { type: "object" } } }],
    },
    status: {
      conditions: [
        { type: "NamesAccepted", status: "True" },
        { type: "Established", status: over.established ?? "True", reason: "InitialNamesAccepted" },
      ],
    },
  }) as KubernetesObject;

const name = "httproutes.gateway.networking.k8s.io";

describe("isServed", () => {
  it("is true only for an established CRD that serves the version the operator writes", () => {
    expect(isServed([crd()], name, "gateway.networking.k8s.io/v1")).toBe(true);
    expect(isServed([], name, "gateway.networking.k8s.io/v1")).toBe(false);
    expect(isServed([crd({ established: "False" })], name, "gateway.networking.k8s.io/v1")).toBe(false);
    // An old Gateway API release that serves only v1beta1 does not serve what we write.
    expect(
      isServed(
        [
          crd({
            versions: [
              { name: "v1beta1", served: true },
              { name: "v1", served: false },
            ],
          }),
        ],
        name,
        "gateway.networking.k8s.io/v1",
      ),
    ).toBe(false);
    expect(isServed([crd({ deleting: true })], name, "gateway.networking.k8s.io/v1")).toBe(false);
  });

  it("decides the same on the trimmed copy the cache keeps", () => {
    for (const c of [crd(), crd({ established: "False" }), crd({ versions: [{ name: "v1", served: false }] })]) {
      expect(isServed([trimCrd(c)], name, "gateway.networking.k8s.io/v1")).toBe(isServed([c], name, "gateway.networking.k8s.io/v1"));
    }
    expect(JSON.stringify(trimCrd(crd()))).not.toContain("openAPIV3Schema");
  });
});
