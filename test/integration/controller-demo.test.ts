// The demo, non-interactive, against the test cluster: applies the examples given, waits until
// they are Ready, prints the table, and removes what it applied.
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

describe("demo --until-ready", () => {
  it("applies the examples, reports them Ready and cleans up", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mso-demo-examples-"));
    writeFileSync(join(dir, "a.yaml"), `${example("demo-a")}---\n${example("demo-b")}`);
    const ns = `demo-test-${Date.now().toString(36)}`;
    const child = spawn(
      process.execPath,
      [MAIN, "demo", "--kubeconfig", kubeconfigPath(), "--namespace", ns, "--examples", dir, "--until-ready", "--timeout", "90s"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    for (const line of err.split("\n").filter((l) => l.startsWith("[measure]") || l.includes("settled"))) console.log(line);
    expect(code, err).toBe(0);
    expect(out).toMatch(/demo-a\s+True\s+Ready\s+1\/1/);
    expect(out).toMatch(/demo-b\s+True\s+Ready\s+1\/1/);
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
