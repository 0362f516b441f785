import { describe, expect, it } from "vitest";
import { simulatedPrerequisites } from "./example-prereqs.ts";

const ms = (name: string, spec: Record<string, unknown>) => ({ apiVersion: "modelservice.dev/v1alpha1", kind: "ModelService", metadata: { name }, spec });

describe("what the examples need on the simulated cluster", () => {
  it("a claim and a bound volume for each pvc:// claim, the model's and the adapters', once each", () => {
    const out = simulatedPrerequisites(
      [
        ms("lora", {
          model: { uri: "pvc://models/base" },
          adapters: [
            { name: "a", uri: "pvc://loras/a" },
            { name: "b", uri: "pvc://loras/b" },
            { name: "c", uri: "hf://org/c" },
          ],
        }),
      ],
      "demo",
      5,
    );
    const claims = out.manifests.filter((m) => m.kind === "PersistentVolumeClaim").map((m) => m.metadata.name);
    expect(claims).toEqual(["models", "loras"]);
    const volumes = out.manifests.filter((m) => m.kind === "PersistentVolume").map((m) => (m.spec as { claimRef: { name: string } }).claimRef.name);
    expect(volumes).toEqual(["models", "loras"]);
  });
});
