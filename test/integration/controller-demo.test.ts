// The demo, non-interactive, against the test cluster (a simulated GPU fleet, so the scene can
// play): applies the examples given and the scene's three broken models, fixes each once the
// operator has named its problem, waits until all are Ready, prints the table, and removes what it
// applied.
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { kubeconfigPath, testClient, waitFor } from "./controller-helpers.ts";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

const example = (name: string) => `apiVersion: modelservice.dev/v1alpha1
kind: ModelService
metadata:
  name: ${name}
spec:
  model: { uri: "hf://Qwen/Qwen2.5-0.5B-Instruct" }
  engine: { type: vLLM }
  gpu: { count: 1 }
  podMetadata:
    annotations: { modelservice.dev/simulate-load-seconds: "2" }
`;

/** The reasons each scene model went through, from the demo's closing "[scene] name: A → B" lines. */
const sceneReasons = (stderr: string, name: string): string[] => {
  const line = stderr.split("\n").findLast((l) => l.startsWith(`[scene] ${name}: `) && l.includes(" → "));
  return (line ?? "").slice(`[scene] ${name}: `.length).split(" → ").filter(Boolean);
};

describe("demo --until-ready --scene", () => {
  it("applies the examples, plays the scene through each failure to Ready, and cleans up", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mso-demo-examples-"));
    writeFileSync(join(dir, "a.yaml"), `${example("demo-a")}---\n${example("demo-b")}`);
    const ns = `demo-test-${Date.now().toString(36)}`;
    const child = spawn(
      process.execPath,
      [
        MAIN,
        "demo",
        "--kubeconfig",
        kubeconfigPath(),
        "--namespace",
        ns,
        "--examples",
        dir,
        "--until-ready",
        "--scene",
        "--simulate-load",
        "3",
        "--timeout",
        "150s",
      ],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    for (const line of err.split("\n").filter((l) => l.startsWith("[measure]") || l.startsWith("[scene]") || l.includes("settled"))) console.log(line);
    expect(code, err).toBe(0);
    expect(out).toMatch(/demo-a\s+True\s+Ready\s+1\/1/);
    expect(out).toMatch(/demo-b\s+True\s+Ready\s+1\/1/);
    // Each scene model showed the reason it was built to show, then — after the demo's fix — ended Ready.
    for (const [name, reason] of [
      ["asks-16-gpus", "InsufficientGPU"],
      ["wants-b200", "NoMatchingNode"],
      ["crashes", "CrashLoop"],
    ] as const) {
      const seen = sceneReasons(err, name);
      expect(seen, `${name}: ${seen.join(" → ")}`).toContain(reason);
      expect(seen.at(-1)).toBe("Ready");
      expect(seen.indexOf(reason)).toBeLessThan(seen.lastIndexOf("Ready"));
    }
    // The failures were announced with what the operator says, counts and exit code included.
    expect(err).toMatch(/\[scene\] asks-16-gpus: InsufficientGPU — 1 replica waiting for GPUs: each asks for 16 nvidia\.com\/gpu/);
    expect(err).toMatch(/\[scene\] wants-b200: NoMatchingNode — .*NVIDIA-B200/);
    expect(err).toMatch(/\[scene\] crashes: CrashLoop — .*exit code 1/);
    expect(err).toContain("[scene] fix: asks-16-gpus lowers gpu.count to 2");
    expect(out).toMatch(/asks-16-gpus\s+True\s+Ready\s+1\/1/);
    // Not a terminal: plain lines, no cursor movement.
    expect(out).not.toContain("\x1b[");
    // It created the namespace, so it removed it again.
    const client = testClient();
    await waitFor(
      "the demo namespace to go",
      async () => {
        const got = await client.request<{ status?: { phase?: string } }>("GET", `/api/v1/namespaces/${ns}`).catch(() => undefined);
        return got === undefined || got.status?.phase === "Terminating";
      },
      30_000,
    );
    client.close();
  });
});
