import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type Manifest, missingAddOns } from "./manifests.ts";

const example = (file: string) => parse(readFileSync(fileURLToPath(new URL(`../../examples/${file}`, import.meta.url)), "utf8")) as Manifest;

describe("missingAddOns: what the demo leaves out on a cluster without add-on controllers", () => {
  it("names the LeaderWorkerSet for a multi-node example, until its CRD is served", () => {
    const ms = example("llama-3.1-405b-multinode.yaml");
    expect(missingAddOns(ms, new Set()).map((a) => a.crd)).toEqual(["leaderworkersets.leaderworkerset.x-k8s.io"]);
    expect(missingAddOns(ms, new Set()).at(0)?.missing).toMatch(/install LeaderWorkerSet/);
    expect(missingAddOns(ms, new Set(["leaderworkersets.leaderworkerset.x-k8s.io"]))).toEqual([]);
  });

  it("names cert-manager and the Gateway API for the secured example", () => {
    const crds = missingAddOns(example("secured-llama-gateway.yaml"), new Set()).map((a) => a.crd);
    expect(crds).toContain("certificates.cert-manager.io");
    expect(crds).toContain("httproutes.gateway.networking.k8s.io");
  });

  it("needs nothing for a plain single-node example, nor for one that does not render (its status says why)", () => {
    expect(missingAddOns(example("llama-3.1-8b-vllm.yaml"), new Set())).toEqual([]);
    const broken = { ...example("llama-3.1-8b-vllm.yaml"), spec: { engine: { type: "vLLM" } } } as Manifest;
    expect(missingAddOns(broken, new Set())).toEqual([]);
  });
});
