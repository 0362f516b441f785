import { describe, expect, it } from "vitest";
import type { ModelService } from "../../src/api/types.ts";
import { parseDemoArgs } from "../../src/cli/demo-command.ts";
import { Scene, sceneModels } from "../../src/demo/scene.ts";
import { formatElapsed, formatTable, rowOf } from "../../src/demo/table.ts";
import { eraseUp, LiveView } from "../../src/demo/view.ts";
import { havingStatus, inNamespace, modelService, withModel, withReplicas } from "../support/model-service.ts";

const ms = (name: string, status?: ModelService["status"]): ModelService =>
  modelService(name, inNamespace("demo"), withModel("hf://a/b"), withReplicas(2), ...(status ? [havingStatus(status)] : []));

const withReady = (name: string, status: "True" | "False", reason: string, message = ""): ModelService =>
  ms(name, { conditions: [{ type: "Ready", status, reason, message, lastTransitionTime: "x" }] });

/** Collects what a view writes. */
const sink = () => {
  const writes: string[] = [];
  return { out: { write: (s: string) => writes.push(s) }, writes };
};

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

  it("formats the elapsed time", () => {
    expect(formatElapsed(42_900)).toBe("42s");
    expect(formatElapsed(185_000)).toBe("3m05s");
  });
});

describe("demo flags", () => {
  it("parses its flags", () => {
    expect(parseDemoArgs(["--until-ready", "--timeout=90s"])).toMatchObject({ mode: "until-ready", timeoutMs: 90_000, namespace: "demo" });
    expect(parseDemoArgs(["--once"])).toMatchObject({ timeoutMs: 600_000 });
    expect(parseDemoArgs([])).toMatchObject({ mode: "live", scene: undefined });
    const plain = parseDemoArgs([]);
    expect(plain !== "help" ? plain.timeoutMs : "help").toBeUndefined();
    expect(parseDemoArgs(["--scene"])).toMatchObject({ scene: true });
    expect(parseDemoArgs(["--no-scene"])).toMatchObject({ scene: false });
    expect(parseDemoArgs(["--simulate-load", "3"])).toMatchObject({ simulateLoadSeconds: 3 });
    expect(parseDemoArgs(["-h"])).toBe("help");
  });

  it("names the flag in every error", () => {
    expect(() => parseDemoArgs(["--timeout", "soon"])).toThrow(/^--timeout: "soon" is not a duration/);
    expect(() => parseDemoArgs(["--bogus"])).toThrow(/^--bogus: unknown flag$/);
    expect(() => parseDemoArgs(["--namespace"])).toThrow(/^--namespace: needs a value$/);
    expect(() => parseDemoArgs(["--namespace="])).toThrow(/^--namespace: needs a value$/);
    expect(() => parseDemoArgs(["--local=yes"])).toThrow(/^--local: takes no value$/);
    expect(() => parseDemoArgs(["--namespace", "Bad_NS"])).toThrow(/^--namespace: "Bad_NS" is not a namespace name$/);
    expect(() => parseDemoArgs(["extra"])).toThrow(/^extra: unexpected argument/);
    expect(() => parseDemoArgs(["--once", "--until-ready"])).toThrow(/^--once: cannot be combined/);
  });
});

describe("live view", () => {
  it("on a terminal, redraws the block in place and keeps log lines above it", () => {
    const { out, writes } = sink();
    const view = new LiveView(out, true, () => 20);
    view.show(["header", "row a"]);
    view.show(["header", "row b", "row c that is much too long"]);
    view.log("[scene] something happened");
    expect(writes).toEqual([
      // First frame: nothing to erase.
      `\r\x1b[Jheader\nrow a\n`,
      // Second frame: up over the two lines drawn, clear to the end, draw; long lines cut to the width.
      `\x1b[2A\r\x1b[Jheader\nrow b\nrow c that is much …\n`,
      // A log line: erase the block, print the line, draw the block again below it.
      `\x1b[3A\r\x1b[J[scene] something h…\nheader\nrow b\nrow c that is much …\n`,
    ]);
    expect(eraseUp(0)).toBe("\r\x1b[J");
  });

  it("elsewhere, appends plain lines and a block only when it changed", () => {
    const { out, writes } = sink();
    const view = new LiveView(out, false);
    view.show(["elapsed 1s", "table 1"], { header: "--- 1.0s", key: "table 1" });
    view.show(["elapsed 2s", "table 1"], { header: "--- 2.0s", key: "table 1" });
    view.log("[scene] x");
    view.show(["elapsed 3s", "table 2"], { header: "--- 3.0s", key: "table 2" });
    expect(writes.join("")).toBe("--- 1.0s\nelapsed 1s\ntable 1\n[scene] x\n--- 3.0s\nelapsed 3s\ntable 2\n");
    expect(writes.join("")).not.toContain("\x1b");
  });
});

describe("scene", () => {
  it("fixes each model once its failure has been shown, and records the reasons it went through", () => {
    const models = sceneModels(5);
    expect(models.map((m) => [m.name, m.expect])).toEqual([
      ["asks-16-gpus", "InsufficientGPU"],
      ["wants-b200", "NoMatchingNode"],
      ["crashes", "CrashLoop"],
    ]);
    const scene = new Scene(models, 0, 3000, 90_000);
    let a = scene.observe([withReady("asks-16-gpus", "False", "InsufficientGPU", "each asks for 16 nvidia.com/gpu")], 1000);
    expect(a.say).toEqual(["asks-16-gpus: InsufficientGPU — each asks for 16 nvidia.com/gpu"]);
    expect(a.apply).toEqual([]);
    // Held on screen for 3 s, then fixed, once.
    a = scene.observe([withReady("asks-16-gpus", "False", "InsufficientGPU", "each asks for 16 nvidia.com/gpu")], 4000);
    expect(a.apply.map((f) => f.name)).toEqual(["asks-16-gpus"]);
    expect(a.apply[0]?.spec).toMatchObject({ gpu: { count: 2 } });
    expect(a.say).toContain("fix: asks-16-gpus lowers gpu.count to 2, which fits on one node");
    expect(scene.observe([withReady("asks-16-gpus", "False", "InsufficientGPU", "each asks for 16 nvidia.com/gpu")], 5000)).toEqual({ say: [], apply: [] });
    // Within one reason, a message that says something new is announced; a number that ticks is not.
    a = scene.observe([withReady("asks-16-gpus", "False", "Loading", "1 of 1 replica starting (pulling the image, creating the container)")], 6000);
    expect(a.say).toEqual(["asks-16-gpus: Loading — 1 of 1 replica starting (pulling the image, creating the container)"]);
    a = scene.observe([withReady("asks-16-gpus", "False", "Loading", "1 of 1 replica loading the model for 1m (budget 30m)")], 7000);
    expect(a.say).toEqual(["asks-16-gpus: Loading — 1 of 1 replica loading the model for 1m (budget 30m)"]);
    expect(scene.observe([withReady("asks-16-gpus", "False", "Loading", "1 of 1 replica loading the model for 2m (budget 30m)")], 8000).say).toEqual([]);
    a = scene.observe([withReady("asks-16-gpus", "True", "Ready", "1/1 replicas ready")], 9000);
    expect(a.say).toEqual(["asks-16-gpus: Ready — 1/1 replicas ready", "asks-16-gpus is Ready 5.0s after its fix"]);
    expect(scene.fixed()).toBe(false);
    // A model that never shows its reason is fixed after the patience runs out, and says so.
    a = scene.observe([], 90_000);
    expect(a.apply.map((f) => f.name)).toEqual(["wants-b200", "crashes"]);
    expect(a.say[0]).toBe("wants-b200 did not report NoMatchingNode within 90s; applying the fix anyway");
    expect(scene.fixed()).toBe(true);
    expect(scene.summary()).toEqual(["asks-16-gpus: InsufficientGPU → Loading → Ready", "wants-b200: (no status)", "crashes: (no status)"]);
  });

  it("the fixed specs drop what broke them", () => {
    const crash = sceneModels(5).find((m) => m.name === "crashes");
    expect(JSON.stringify(crash?.spec)).toContain("crash-loop");
    expect(JSON.stringify(crash?.fixedSpec)).not.toMatch(/crash-loop|max-model-len/);
  });
});
