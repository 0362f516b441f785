import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { deepMerge } from "../../src/config/load.ts";
import { defaultOperatorConfig } from "../../src/config/operator-config.ts";
import { OptionsError, parseAddr, parseDuration, parseOptions } from "../../src/operator/options.ts";

const fail = (argv: string[], env: NodeJS.ProcessEnv = {}): OptionsError => {
  try {
    parseOptions(argv, env);
  } catch (e) {
    if (e instanceof OptionsError) return e;
    throw e;
  }
  throw new Error("expected an OptionsError");
};

describe("parseOptions", () => {
  it("has sensible defaults", () => {
    const o = parseOptions([], {});
    expect(o).toMatchObject({
      leaderElect: false,
      leaderElectionNamespace: "default",
      leaseName: "modelservice-operator",
      httpHost: "0.0.0.0",
      httpPort: 8080,
      logLevel: "info",
      workers: 16,
      resyncPeriodMs: 600_000,
    });
    expect(o.namespaces).toBeUndefined();
    expect(o.config).toEqual(defaultOperatorConfig);
  });

  it("protects /metrics only when asked: --metrics-auth kubernetes|none (MSO_METRICS_AUTH)", () => {
    expect(parseOptions([], {}).metricsAuth).toBe("none");
    expect(parseOptions(["--metrics-auth=kubernetes"], {}).metricsAuth).toBe("kubernetes");
    expect(parseOptions([], { MSO_METRICS_AUTH: "kubernetes" }).metricsAuth).toBe("kubernetes");
    expect(fail(["--metrics-auth", "rbac"]).message).toBe('--metrics-auth: invalid value "rbac": must be one of kubernetes, none');
  });

  it("reads flags in both --flag=value and --flag value form", () => {
    const o = parseOptions(
      ["--namespaces", "a,b", "--leader-elect=true", "--http-addr=:0", "--workers", "2", "--resync-period=30s", "--log-level", "debug"],
      {},
    );
    expect(o).toMatchObject({
      namespaces: ["a", "b"],
      leaderElect: true,
      httpHost: "0.0.0.0",
      httpPort: 0,
      workers: 2,
      resyncPeriodMs: 30_000,
      logLevel: "debug",
    });
  });

  it("takes a bare --leader-elect as true", () => {
    expect(parseOptions(["--leader-elect"], {}).leaderElect).toBe(true);
    expect(parseOptions(["--leader-elect", "false"], {}).leaderElect).toBe(false);
  });

  it("reads the environment, and flags win over it", () => {
    const env = { MSO_NAMESPACES: "x, y", MSO_LEADER_ELECT: "true", POD_NAMESPACE: "ops" };
    expect(parseOptions([], env)).toMatchObject({ namespaces: ["x", "y"], leaderElect: true, leaderElectionNamespace: "ops" });
    expect(parseOptions(["--namespaces=z", "--leader-elect=false"], env)).toMatchObject({ namespaces: ["z"], leaderElect: false });
  });

  it("names the flag in errors", () => {
    expect(fail(["--workers", "zero"]).flag).toBe("--workers");
    expect(fail(["--workers=0"]).message).toMatch(/--workers/);
    expect(fail(["--leader-elect=maybe"]).flag).toBe("--leader-elect");
    expect(fail(["--http-addr", "localhost"]).flag).toBe("--http-addr");
    expect(fail(["--namespaces", "Bad_NS"]).flag).toBe("--namespaces");
    expect(fail(["--resync-period", "often"]).flag).toBe("--resync-period");
    expect(fail(["--log-level", "loud"]).flag).toBe("--log-level");
    expect(fail(["--no-such-flag"]).flag).toBe("--no-such-flag");
    expect(fail(["--kubeconfig"]).message).toMatch(/needs a value/);
    expect(fail(["stray"]).flag).toBe("stray");
  });

  it("names the environment variable when the bad value came from it", () => {
    expect(fail([], { MSO_LEADER_ELECT: "perhaps" }).flag).toBe("MSO_LEADER_ELECT (--leader-elect)");
  });

  it("rejects inconsistent lease timings", () => {
    expect(fail(["--lease-duration=5s", "--renew-deadline=10s"]).flag).toBe("--renew-deadline");
  });

  it("merges a config file over the defaults and validates it", () => {
    const dir = mkdtempSync(join(tmpdir(), "mso-opts-"));
    const good = join(dir, "good.yaml");
    writeFileSync(good, "images:\n  vLLM: example.com/vllm:1\nkeda:\n  enabled: true\n");
    const o = parseOptions(["--config", good], {});
    expect(o.config.images.vLLM).toBe("example.com/vllm:1");
    expect(o.config.images.TGI).toBe(defaultOperatorConfig.images.TGI);
    expect(o.config.keda).toEqual({ ...defaultOperatorConfig.keda, enabled: true });

    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "defaults:\n  servicePort: 99999\n");
    const e = fail(["--config", bad]);
    expect(e.flag).toBe("--config");
    expect(e.message).toMatch(/defaults\.servicePort/);
    expect(fail(["--config", join(dir, "missing.yaml")]).message).toMatch(/cannot read/);
  });

  it("reads the access section from a config file, keeping the default mode when only a selector is set", () => {
    const dir = mkdtempSync(join(tmpdir(), "mso-opts-"));
    const file = join(dir, "access.yaml");
    writeFileSync(file, "access:\n  monitoringNamespaceSelector:\n    matchLabels:\n      kubernetes.io/metadata.name: monitoring\n");
    const o = parseOptions(["--config", file], {});
    expect(o.config.access).toEqual({ default: "Namespace", monitoringNamespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } });
    writeFileSync(file, "access:\n  default: Everyone\n");
    expect(fail(["--config", file]).message).toMatch(/access\.default/);
  });
});

describe("helpers", () => {
  it("parses durations", () => {
    expect(parseDuration("10m")).toBe(600_000);
    expect(parseDuration("1.5s")).toBe(1500);
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration("2h")).toBe(7_200_000);
    expect(parseDuration("30")).toBe(30_000);
    expect(parseDuration("x")).toBeUndefined();
  });
  it("parses addresses", () => {
    expect(parseAddr(":0")).toEqual({ host: "0.0.0.0", port: 0 });
    expect(parseAddr("127.0.0.1:9090")).toEqual({ host: "127.0.0.1", port: 9090 });
    expect(parseAddr("[::1]:80")).toEqual({ host: "::1", port: 80 });
    expect(parseAddr("host:99999")).toBeUndefined();
  });
  it("deep-merges objects and replaces arrays", () => {
    expect(deepMerge({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] } })).toEqual({ a: { b: 1, c: [3] }, d: 1 });
  });
});
