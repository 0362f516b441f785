import { describe, expect, it } from "vitest";
import type { ModelService } from "../../src/api/types.ts";
import { formatTable, parseDemoArgs, rowOf } from "../../src/cli/demo-command.ts";

const ms = (name: string, status?: ModelService["status"]): ModelService => ({
  apiVersion: "modelservice.dev/v1alpha1",
  kind: "ModelService",
  metadata: { name, namespace: "demo", generation: 1 },
  spec: { model: { uri: "hf://a/b" }, engine: { type: "vLLM" }, replicas: 2 },
  status,
});

describe("demo table", () => {
  it("shows name, phase, ready/desired, reason and a trimmed message", () => {
    const rows = [
      rowOf(
        ms("llama", {
          phase: "Loading",
          replicaSummary: "1/2",
          conditions: [
            {
              type: "Ready",
              status: "False",
              reason: "Loading",
              message: "1 of 2 replicas loading the model for 3m12s (budget 30m) ".repeat(5),
              lastTransitionTime: "x",
            },
          ],
        }),
      ),
      rowOf(ms("new")),
    ];
    const out = formatTable(rows, 80).split("\n");
    expect(out[0]).toMatch(/^NAME\s+READY\s+PHASE\s+READY\/DESIRED\s+REASON\s+MESSAGE$/);
    expect(out[1]).toMatch(/^llama\s+False\s+Loading\s+1\/2\s+Loading\s+1 of 2 replicas/);
    expect(out[1]?.endsWith("…")).toBe(true);
    expect(out.every((l) => l.length <= 80)).toBe(true);
    expect(out[2]).toMatch(/^new\s+-\s+-\s+0\/2\s+-$/);
  });

  it("parses its flags", () => {
    expect(parseDemoArgs(["--until-ready", "--timeout=90s"])).toMatchObject({ mode: "until-ready", timeoutMs: 90_000, namespace: "demo" });
    expect(parseDemoArgs(["--once"]).timeoutMs).toBe(600_000);
    expect(parseDemoArgs([]).timeoutMs).toBeUndefined();
    expect(() => parseDemoArgs(["--timeout", "soon"])).toThrow(/--timeout/);
    expect(() => parseDemoArgs(["--bogus"])).toThrow(/--bogus/);
  });
});
