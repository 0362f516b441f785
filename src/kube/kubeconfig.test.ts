// The kubeconfig loader against fixtures (test/fixtures/kubeconfig): what the client connects to
// and with which credentials. The integration suite connects with it to a real API server
// (client certificates).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadKubeConfig, parseKubeConfig } from "./kubeconfig.ts";

const fixture = (name: string) => fileURLToPath(new URL(`../../test/fixtures/kubeconfig/${name}`, import.meta.url));
const text = (b?: Buffer) => b?.toString("utf8");

describe("loadKubeConfig", () => {
  it("a client certificate, key and CA inline: the current context's cluster and user, not the others", async () => {
    const a = loadKubeConfig(fixture("cert-data.yaml"));
    expect(a.server.href).toBe("https://127.0.0.1:6443/");
    const tls = await a.tls();
    expect([text(tls.ca), text(tls.cert), text(tls.key), tls.servername, tls.rejectUnauthorized]).toEqual([
      "CA-PEM",
      "CERT-PEM",
      "KEY-PEM",
      "kubernetes.default",
      undefined,
    ]);
    expect(await a.headers()).toEqual({});
  });

  it("files relative to the kubeconfig, insecure-skip-tls-verify, and a token file read again each time", async () => {
    const a = loadKubeConfig(fixture("files.yaml"));
    expect(a.server.href).toBe("https://files.example/prefix");
    const tls = await a.tls();
    expect([text(tls.ca), text(tls.cert), text(tls.key), tls.rejectUnauthorized]).toEqual(["CA-FILE", "CERT-FILE", "KEY-FILE", false]);
    expect(await a.headers()).toEqual({ Authorization: "Bearer TOKEN-FROM-FILE" });
  });

  it("a bearer token with impersonation; username and password as basic auth", async () => {
    expect(await loadKubeConfig(fixture("token.yaml")).headers()).toEqual({ Authorization: "Bearer sekret-token", "Impersonate-User": "jane" });
    const basic = loadKubeConfig(fixture("basic.yaml"));
    expect(basic.server.protocol).toBe("http:");
    expect(await basic.headers()).toEqual({ Authorization: `Basic ${Buffer.from("admin:pw").toString("base64")}` });
  });

  it("an exec plugin goes through @kubernetes/client-node, which runs it", async () => {
    const a = loadKubeConfig(fixture("exec.yaml"));
    expect(a.server.href).toBe("https://exec.example/");
    expect(await a.headers()).toMatchObject({ Authorization: "Bearer from-exec-plugin" });
  });

  it("KUBECONFIG with several files: the first to name a context, cluster or user wins; missing files are skipped", async () => {
    const env = { KUBECONFIG: [join(tmpdir(), "no-such-kubeconfig"), fixture("token.yaml"), fixture("merge-second.yaml")].join(delimiter) };
    const a = loadKubeConfig(undefined, env);
    expect(a.server.href).toBe("https://token.example/");
    expect(await a.headers()).toMatchObject({ Authorization: "Bearer sekret-token" });
  });

  it("in a pod: the service account's CA and token (read again as it rotates)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sa-"));
    writeFileSync(join(dir, "ca.crt"), "SA-CA");
    writeFileSync(join(dir, "token"), "token-1\n");
    const a = loadKubeConfig(undefined, { HOME: dir, KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "443" }, dir);
    expect(a.server.href).toBe("https://[fd00::1]/");
    expect(text((await a.tls()).ca)).toBe("SA-CA");
    expect(await a.headers()).toEqual({ Authorization: "Bearer token-1" });
    writeFileSync(join(dir, "token"), "token-2\n");
    expect(await a.headers()).toEqual({ Authorization: "Bearer token-2" });
  });

  it("says what is missing: no kubeconfig at all, no current context, a context naming no cluster", () => {
    const empty = mkdtempSync(join(tmpdir(), "home-"));
    expect(() => loadKubeConfig(undefined, { HOME: empty }, empty)).toThrow(/no kubeconfig: pass --kubeconfig, set KUBECONFIG/);
    expect(() => parseKubeConfig("clusters: []", "x.yaml", empty)).toThrow(/x.yaml has no current-context/);
    expect(() => parseKubeConfig("current-context: a\ncontexts: [{name: a, context: {cluster: nope}}]", "x.yaml", empty)).toThrow(
      /context "a" names no cluster with a server/,
    );
  });
});
