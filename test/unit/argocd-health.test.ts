// The Argo CD health check (charts/modelservice-operator/argocd-health.lua), run by a real Lua
// interpreter (fengari, Lua 5.3 in JavaScript; Argo CD uses gopher-lua, Lua 5.1: the script keeps
// to the common subset) against ModelService status fixtures. Like Argo CD (util/lua/lua.go), the
// interpreter opens only the base, package and table libraries, and sets the global `obj`.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { lauxlib, lua, lualib, to_luastring } from "fengari";
import { describe, expect, it } from "vitest";
import type { ModelServiceStatus } from "../../src/api/types.ts";
import { FAILURE_REASONS, PRECEDENCE, REASONS, WAITING_REASONS } from "../../src/status/reasons.ts";
import { havingStatus, modelService, withGeneration, withGpus, withModel } from "../support/model-service.ts";

const SCRIPT = readFileSync(fileURLToPath(new URL("../../charts/modelservice-operator/argocd-health.lua", import.meta.url)), "utf8");

type LuaState = ReturnType<typeof lauxlib.luaL_newstate>;

/**
 * Pushes a JSON value as Argo CD does: objects and arrays become tables. gopher-lua's numbers are
 * floats that print without ".0" when integral; Lua 5.3 integers behave the same way.
 */
function push(L: LuaState, value: unknown): void {
  if (value === null || value === undefined) lua.lua_pushnil(L);
  else if (typeof value === "boolean") lua.lua_pushboolean(L, value);
  else if (typeof value === "number") {
    if (Number.isSafeInteger(value)) lua.lua_pushinteger(L, value);
    else lua.lua_pushnumber(L, value);
  } else if (typeof value === "string") lua.lua_pushstring(L, to_luastring(value));
  else if (Array.isArray(value)) {
    lua.lua_createtable(L, value.length, 0);
    value.forEach((item, i) => {
      push(L, item);
      lua.lua_rawseti(L, -2, i + 1);
    });
  } else {
    lua.lua_createtable(L, 0, 0);
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v === null || v === undefined) continue;
      push(L, v);
      lua.lua_setfield(L, -2, to_luastring(k));
    }
  }
}

/** Runs the health script with `obj` set, as Argo CD does, and returns its { status, message }. */
function health(obj: unknown): { status: string; message: string } {
  const L = lauxlib.luaL_newstate();
  for (const [name, open] of [
    ["_G", lualib.luaopen_base],
    ["package", lualib.luaopen_package],
    ["table", lualib.luaopen_table],
  ] as const) {
    lauxlib.luaL_requiref(L, to_luastring(name), open, 1);
    lua.lua_pop(L, 1);
  }
  push(L, obj);
  lua.lua_setglobal(L, to_luastring("obj"));
  if (lauxlib.luaL_loadstring(L, to_luastring(SCRIPT)) !== lua.LUA_OK) throw new Error(`load: ${lua.lua_tojsstring(L, -1)}`);
  if (lua.lua_pcall(L, 0, 1, 0) !== lua.LUA_OK) throw new Error(`run: ${lua.lua_tojsstring(L, -1)}`);
  if (lua.lua_type(L, -1) !== lua.LUA_TTABLE) throw new Error("the script must return a table");
  const field = (name: string): string => {
    lua.lua_getfield(L, -1, to_luastring(name));
    const s = lua.lua_type(L, -1) === lua.LUA_TNIL ? "" : lua.lua_tojsstring(L, -1);
    lua.lua_pop(L, 1);
    return s;
  };
  return { status: field("status"), message: field("message") };
}

const T = "2026-11-28T10:00:00Z";
const cond = (type: string, status: "True" | "False" | "Unknown", reason: string, message: string, observedGeneration = 2) => ({
  type,
  status,
  reason,
  message,
  observedGeneration,
  lastTransitionTime: T,
});

/** A ModelService at generation 2 with the given status. */
const msvc = (status?: Record<string, unknown>, generation = 2) =>
  modelService(
    "llama",
    withGeneration(generation),
    withModel("hf://meta-llama/Llama-3.1-8B-Instruct"),
    withGpus(1),
    ...(status ? [havingStatus(status as ModelServiceStatus)] : []),
  );

const conditions = (...cs: ReturnType<typeof cond>[]) => ({ observedGeneration: 2, conditions: cs });

describe("Argo CD health check", () => {
  it("is Progressing while there is no status", () => {
    expect(health(msvc())).toEqual({ status: "Progressing", message: "Waiting for the operator to report status" });
  });

  it("is Progressing while status.observedGeneration is behind, even if Ready was True", () => {
    const status = { observedGeneration: 1, conditions: [cond("Ready", "True", "Ready", "2/2 replicas serving", 1)] };
    expect(health(msvc(status))).toEqual({ status: "Progressing", message: "Waiting for the operator to observe generation 2" });
  });

  it("is Progressing while the Ready condition is older than the generation", () => {
    const status = conditions(cond("Ready", "True", "Ready", "serving", 1));
    expect(health(msvc(status)).status).toBe("Progressing");
  });

  it("is Progressing when status has no conditions yet", () => {
    expect(health(msvc({ observedGeneration: 2 }))).toEqual({ status: "Progressing", message: "Waiting for the Ready condition" });
  });

  it("is Healthy when Ready is True for the current generation, with the Ready message", () => {
    const status = conditions(
      cond("Ready", "True", "Ready", "2/2 replicas serving"),
      cond("Reconciling", "False", "Reconciled", ""),
      cond("Stalled", "False", "NotStalled", ""),
    );
    expect(health(msvc({ ...status, phase: "Ready" }))).toEqual({ status: "Healthy", message: "2/2 replicas serving" });
  });

  it("stays Healthy when the gateway has not accepted the route, and says so in the message", () => {
    const serving = [
      cond("Ready", "True", "Ready", "1/1 replicas serving"),
      cond("Reconciling", "False", "Reconciled", ""),
      cond("Stalled", "False", "NotStalled", ""),
    ];
    const refused = conditions(...serving, cond("Exposed", "False", "RouteNotAccepted", "Gateway gw/public did not accept the route: NotAllowedByListeners"));
    expect(health(msvc({ ...refused, phase: "Ready" }))).toEqual({
      status: "Healthy",
      message: "1/1 replicas serving; not exposed (RouteNotAccepted): Gateway gw/public did not accept the route: NotAllowedByListeners",
    });
    const open = conditions(...serving, cond("Exposed", "True", "Exposed", "accepted"));
    expect(health(msvc({ ...open, phase: "Ready" }))).toEqual({ status: "Healthy", message: "1/1 replicas serving" });
  });

  it("is Healthy when conditions carry no observedGeneration but status does", () => {
    const status = { observedGeneration: 2, conditions: [{ type: "Ready", status: "True", reason: "Ready", message: "serving", lastTransitionTime: T }] };
    expect(health(msvc(status)).status).toBe("Healthy");
  });

  it("is Healthy with a default message when Ready has none", () => {
    expect(health(msvc(conditions(cond("Ready", "True", "Ready", ""))))).toEqual({ status: "Healthy", message: "Ready" });
  });

  it("is Suspended when scaled to zero", () => {
    const status = conditions(cond("Ready", "True", "ScaledToZero", "Scaled to zero by KEDA; the next request scales it up"));
    expect(health(msvc({ ...status, phase: "Idle" }))).toEqual({ status: "Suspended", message: "Scaled to zero by KEDA; the next request scales it up" });
  });

  it("is Progressing while a model woken from zero loads (Activating)", () => {
    const msg = "woken from zero by KEDA: loading for 1m of the 10m startup budget; requests wait at the interceptor up to 10m";
    const status = conditions(cond("Ready", "False", "Activating", msg), cond("Reconciling", "True", "Activating", msg));
    expect(health(msvc({ ...status, phase: "Loading" }))).toEqual({ status: "Progressing", message: msg });
  });

  it("is Progressing while Reconciling is True, even when still serving", () => {
    const status = conditions(cond("Ready", "True", "Ready", "1/1 replicas serving"), cond("Reconciling", "True", "RollingOut", "Rolling out 1 of 2 replicas"));
    expect(health(msvc(status))).toEqual({ status: "Progressing", message: "Rolling out 1 of 2 replicas" });
  });

  it("is Progressing while the model loads within its startup budget", () => {
    const status = conditions(
      cond("Ready", "False", "Loading", "1 of 2 replicas loading the model for 3m12s (budget 30m)"),
      cond("Reconciling", "True", "Loading", ""),
    );
    expect(health(msvc({ ...status, phase: "Loading" }))).toEqual({
      status: "Progressing",
      message: "1 of 2 replicas loading the model for 3m12s (budget 30m)",
    });
  });

  it("is Progressing for a Ready=False reason it does not know as a failure", () => {
    expect(health(msvc(conditions(cond("Ready", "False", "SomethingNew", "waiting for something new")))).status).toBe("Progressing");
  });

  it("is Degraded when Stalled is True, with the Stalled message", () => {
    const status = conditions(
      cond("Ready", "False", "StartupTimeout", "not ready"),
      cond("Stalled", "True", "StartupTimeout", "No replica became ready within 30m"),
    );
    expect(health(msvc(status))).toEqual({ status: "Degraded", message: "No replica became ready within 30m" });
  });

  it("is Degraded when Stalled is True even if Reconciling is also True", () => {
    const status = conditions(cond("Reconciling", "True", "Progressing", "working"), cond("Stalled", "True", "InvalidSpec", "engine.image is required"));
    expect(health(msvc(status))).toEqual({ status: "Degraded", message: "engine.image is required" });
  });

  it.each([
    ["ImagePullFailed", "Back-off pulling image vllm/vllm-openai:v9"],
    ["CrashLoop", "engine exited with code 1 (3 restarts)"],
    ["OOMKilled", "engine was OOMKilled (limit 32Gi)"],
    ["CredentialsMissing", 'Secret "hf-token" not found'],
    ["StartupTimeout", "not ready after 30m (budget 30m)"],
  ])("is Degraded when Ready is False with reason %s, even while Reconciling", (reason, message) => {
    const status = conditions(cond("Ready", "False", reason, message), cond("Reconciling", "True", "Progressing", "rolling out"));
    expect(health(msvc({ ...status, phase: "Degraded" }))).toEqual({ status: "Degraded", message });
  });

  it.each([
    ["InsufficientGPU", "Scheduling", "0/3 nodes have 2 free nvidia.com/gpu (asked 2, most free on one node: 1)"],
    ["NoMatchingNode", "Scheduling", "No node has nvidia.com/gpu.product in [NVIDIA-H100-80GB-HBM3]"],
    ["TaintNotTolerated", "Scheduling", "Nodes with free GPUs carry taint dedicated=training:NoSchedule"],
    ["Unschedulable", "Scheduling", "0/3 nodes are available: 3 Insufficient memory"],
    // the operator's phase is Failed for a quota, but quota comes free when other workloads shrink
    ["QuotaExceeded", "Failed", "exceeded quota: gpu-quota, requested: requests.nvidia.com/gpu=2"],
  ])("is Progressing, with the reason's message, while waiting for the cluster (%s) and not Stalled", (reason, phase, message) => {
    const status = conditions(cond("Ready", "False", reason, message), cond("Reconciling", "True", reason, message), cond("Stalled", "False", reason, ""));
    expect(health(msvc({ ...status, phase }))).toEqual({ status: "Progressing", message });
  });

  it("is Degraded once a wait for the cluster is Stalled (the progress deadline ran out)", () => {
    const status = conditions(
      cond("Ready", "False", "InsufficientGPU", "1 replica waits for 2 free nvidia.com/gpu; the rollout made no progress within 40m"),
      cond("Reconciling", "False", "ProgressDeadlineExceeded", ""),
      cond("Stalled", "True", "ProgressDeadlineExceeded", "the rollout made no progress within the Deployment's deadline of 40m"),
    );
    expect(health(msvc({ ...status, phase: "Scheduling" }))).toEqual({
      status: "Degraded",
      message: "the rollout made no progress within the Deployment's deadline of 40m",
    });
  });

  it("is Degraded when the phase is Failed and the reason is not one it knows (a newer operator)", () => {
    expect(health(msvc({ ...conditions(cond("Ready", "False", "Whatever", "it broke")), phase: "Failed" }))).toEqual({
      status: "Degraded",
      message: "it broke",
    });
  });

  it("falls back to the reason when a failing Ready condition has no message", () => {
    expect(health(msvc(conditions(cond("Ready", "False", "CrashLoop", ""))))).toEqual({ status: "Degraded", message: "CrashLoop" });
  });

  it("is Progressing when Ready is Unknown", () => {
    expect(health(msvc(conditions(cond("Ready", "Unknown", "Pending", "waiting for the first reconcile")))).status).toBe("Progressing");
  });

  it("handles a ModelService without metadata.generation", () => {
    const obj = { ...msvc(conditions(cond("Ready", "True", "Ready", "serving"))), metadata: { name: "llama" } };
    expect(health(obj).status).toBe("Healthy");
  });

  describe("stays in step with src/status/reasons.ts", () => {
    // The script's `local failureReasons = { A = true, ... }` and `local waitingReasons = { ... }`.
    const luaTable = (name: string): string[] => {
      const m = new RegExp(`local ${name} = \\{([^}]*)\\}`).exec(SCRIPT.replace(/--.*$/gm, ""));
      if (!m?.[1]) throw new Error(`no table ${name} in argocd-health.lua`);
      return [...m[1].matchAll(/(\w+)\s*=\s*true/g)].map((x) => x[1] as string);
    };
    const luaFailure = luaTable("failureReasons");
    const luaWaiting = luaTable("waitingReasons");
    // Waits for the cluster: Progressing until Stalled. QuotaExceeded is a failure for the phase
    // (nothing can be created) but never stalls by itself (other workloads release quota).
    const expectedWaiting = new Set<string>([...WAITING_REASONS, REASONS.QuotaExceeded]);
    const sorted = (xs: Iterable<string>) => [...xs].sort();

    it("the Lua lists name exactly the TS failure and waiting reasons, each once", () => {
      expect(sorted([...luaFailure, ...luaWaiting])).toEqual(sorted(new Set([...FAILURE_REASONS, ...WAITING_REASONS])));
      expect(sorted(luaWaiting)).toEqual(sorted(expectedWaiting));
      expect(sorted(luaFailure)).toEqual(sorted([...FAILURE_REASONS].filter((r) => !expectedWaiting.has(r))));
      expect(new Set(luaFailure).size).toBe(luaFailure.length);
      expect(new Set(luaWaiting).size).toBe(luaWaiting.length);
    });

    it("the Lua lists name only reasons the operator writes", () => {
      const known = new Set<string>(Object.values(REASONS));
      expect([...luaFailure, ...luaWaiting].filter((r) => !known.has(r))).toEqual([]);
    });

    // Every Ready=False reason the operator can write, through the script: failures are Degraded even
    // while Reconciling; waits are Progressing until Stalled; work in progress is Progressing.
    const readyFalse = [...new Set<string>([...PRECEDENCE, ...FAILURE_REASONS, ...WAITING_REASONS])];
    it.each(readyFalse)("Ready=False %s maps as documented", (reason) => {
      const phase = FAILURE_REASONS.has(reason) ? "Failed" : WAITING_REASONS.has(reason) ? "Scheduling" : "Pending";
      const status = conditions(cond("Ready", "False", reason, `because ${reason}`), cond("Reconciling", "True", reason, "working"));
      const want = FAILURE_REASONS.has(reason) && !expectedWaiting.has(reason) ? "Degraded" : "Progressing";
      expect(health(msvc({ ...status, phase })).status).toBe(want);
      const stalled = conditions(cond("Ready", "False", reason, `because ${reason}`), cond("Stalled", "True", reason, "stuck"));
      expect(health(msvc({ ...stalled, phase })).status).toBe("Degraded");
    });
  });

  it("uses no library Argo CD does not open (string, math, os, io, utf8, coroutine, debug)", () => {
    const code = SCRIPT.replace(/--.*$/gm, "");
    expect(code).not.toMatch(/\b(string|math|os|io|utf8|coroutine|debug)\.|:\s*(format|find|match|gsub|sub|lower|upper)\(/);
  });

  it("keeps to the Lua 5.1 subset Argo CD's gopher-lua runs", () => {
    // No integer division, bitwise operators, goto or utf8 library (all Lua 5.3 only).
    const code = SCRIPT.replace(/--.*$/gm, "");
    expect(code).not.toMatch(/\/\/|goto\b|utf8\.|[^~=<>]~[^=]|<<|>>|&|\|/);
  });
});
