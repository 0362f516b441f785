// `modelservice-operator run` as a process: bad flags exit 2 naming the flag; it serves /readyz
// once synced and exits 0 on SIGTERM after a graceful shutdown.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeClient } from "../../src/kube/client.ts";
import { installCrd } from "../../src/operator/install-crd.ts";
import { kubeconfigPath, testClient, waitFor } from "./controller-helpers.ts";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
let client: KubeClient;

beforeAll(async () => {
  client = testClient();
  await installCrd(client);
});
afterAll(() => client?.close());

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

function run(args: string[]) {
  const child = spawn(process.execPath, [MAIN, "run", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

describe("the run command", () => {
  it("exits 2 on a bad flag, naming it", async () => {
    const p = run(["--workers", "lots"]);
    expect(await p.exited).toBe(2);
    expect(p.err()).toMatch(/--workers/);
  });

  it("becomes ready, logs JSON, and shuts down cleanly on SIGTERM", async () => {
    const port = await freePort();
    const p = run([
      "--kubeconfig",
      kubeconfigPath(),
      "--http-addr",
      `127.0.0.1:${port}`,
      "--namespaces",
      "default",
      "--leader-elect=true",
      "--leader-election-namespace=default",
      "--lease-name=mso-process-test",
    ]);
    await waitFor("/readyz", async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200, 30_000, 100);
    await waitFor(
      "leadership",
      async () => (await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).includes("modelservice_operator_leader 1"),
      30_000,
      100,
    );
    const t0 = performance.now();
    p.child.kill("SIGTERM");
    expect(await p.exited).toBe(0);
    const took = (performance.now() - t0) / 1000;
    console.log(`[measure] SIGTERM→exit ${took.toFixed(2)}s`);
    const lines = p.out().trim().split("\n");
    for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
    expect(p.out()).toContain("released the leader lease");
    // The lease is free for a successor.
    const lease = await client.request<{ spec: { holderIdentity?: string } }>("GET", "/apis/coordination.k8s.io/v1/namespaces/default/leases/mso-process-test");
    expect(lease.spec.holderIdentity ?? "").toBe("");
  });
});
