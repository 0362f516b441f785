// `modelservice-operator run` as a process: bad flags or config exit 2 naming the flag or field; it
// serves /readyz once synced and exits 0 on SIGTERM after a graceful shutdown; without the RBAC to
// list its resources it stays up, unready, and says why (logs and /readyz), without a stack trace.
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { KubeClient } from "../../src/kube/client.ts";
import { freePort } from "../../src/localcluster/processes.ts";
import { installCrd } from "../../src/operator/install-crd.ts";
import { createNamespace, deleteNamespace, kubeconfigPath, testClient, waitFor } from "./controller-helpers.ts";
import { serviceAccountKubeconfig } from "./helpers/service-account.ts";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
let client: KubeClient;

beforeAll(async () => {
  client = testClient();
  await installCrd(client);
});
afterAll(() => client?.close());

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

  it("exits 2 on a bad config file, naming the file and the field, without a stack trace", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mso-bad-config-"));
    const bad = join(dir, "config.yaml");
    writeFileSync(bad, "defaults:\n  startupTimeoutSeconds: soon\n");
    const p = run(["--config", bad]);
    expect(await p.exited).toBe(2);
    expect(p.err()).toContain(`--config: ${bad}: config.defaults.startupTimeoutSeconds: must be a number`);
    expect(p.err()).not.toMatch(/\n\s+at /);
    const missing = run(["--config", join(dir, "nope.yaml")]);
    expect(await missing.exited).toBe(2);
    expect(missing.err()).toContain(join(dir, "nope.yaml"));
    const unreadable = run(["--http-addr", "nowhere"]);
    expect(await unreadable.exited).toBe(2);
    expect(unreadable.err()).toMatch(/--http-addr/);
  });

  it("without RBAC to list ModelServices: stays up, unready, and says why in the logs and /readyz", async () => {
    const ns = await createNamespace(client, "no-rbac");
    try {
      await client.request("POST", `/api/v1/namespaces/${ns}/serviceaccounts`, {
        body: { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "op" } },
      });
      const kc = await serviceAccountKubeconfig({
        kubectl: join(inject("binDir"), "kubectl"),
        kubeconfig: kubeconfigPath(),
        namespace: ns,
        serviceAccount: "op",
      });
      const port = await freePort();
      const p = run(["--kubeconfig", kc, "--http-addr", `127.0.0.1:${port}`, "--namespaces", ns, "--log-level", "info"]);
      const body = await waitFor(
        "/readyz naming the refused list",
        async () => {
          const r = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
          const text = r ? await r.text() : "";
          return r?.status === 503 && text.includes("cannot list") ? text : undefined;
        },
        30_000,
        100,
      );
      expect(body).toMatch(
        new RegExp(`^caches not synced: cannot list \\S+( in namespace ${ns})?: 403: .*forbidden.*\\(the operator's RBAC does not allow it\\)\\n$`),
      );
      expect(p.out()).toContain("informer list/watch failed, retrying");
      expect(p.child.exitCode).toBeNull(); // no crash loop
      expect(p.out() + p.err()).not.toMatch(/\n\s+at /);
      p.child.kill("SIGTERM");
      expect(await p.exited).toBe(0);
    } finally {
      await deleteNamespace(client, ns);
    }
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
