// The verdict of a ModelService that KEDA scales to zero and wakes (autoscaling.wake): ScaledToZero
// at zero, Activating while the woken replica loads, Ready once it serves, the usual failure otherwise.
import { describe, expect, it } from "vitest";
import { parsed, withAutoscaling } from "../../test/support/model-service.ts";
import { deployment, llama, NOW } from "../../test/support/status-fixtures.ts";
import { defaultOperatorConfig } from "../config/operator-config.ts";
import { resolve } from "../model/resolved.ts";
import type { PodDiagnosis } from "./pods.ts";
import { REASONS } from "./reasons.ts";
import { type VerdictInput, verdict } from "./verdict.ts";

const toZero = parsed(llama(withAutoscaling({ minReplicas: 0, maxReplicas: 2, target: { inFlightRequests: 4 }, wake: { mode: "Request" } })));
const input = (o: Partial<VerdictInput>): VerdictInput => ({
  spec: toZero.spec,
  resolved: resolve(toZero, defaultOperatorConfig),
  generation: 1,
  now: NOW.getTime(),
  desired: 1,
  diags: [],
  currentReady: 0,
  oldReady: 0,
  oldLive: 0,
  deployment: deployment(),
  ...o,
});
const loading = (pod: string, ms: number): PodDiagnosis => ({
  pod,
  bucket: "loading",
  reason: REASONS.Loading,
  stalled: false,
  stage: "load",
  since: NOW.getTime() - ms,
});

describe("scale to zero, status", () => {
  it("is Ready and Idle at zero, saying what wakes it and after how long idle it went to zero", () => {
    const v = verdict(input({ desired: 0 }));
    expect(v.phase).toBe("Idle");
    expect(v.ready).toMatchObject({ status: "True", reason: REASONS.ScaledToZero });
    expect(v.ready.message).toBe(
      "scaled to zero by KEDA after 30m without requests; the next request through the KEDA HTTP add-on's interceptor wakes it (held up to 30m)",
    );
  });

  it("is Activating, with elapsed time against the startup budget, while the woken replica loads", () => {
    const v = verdict(input({ diags: [loading("a", 95_000)] }));
    expect(v.phase).toBe("Loading");
    expect(v.ready).toMatchObject({ status: "False", reason: REASONS.Activating });
    expect(v.ready.message).toBe("woken from zero by KEDA: loading for 1m of the 30m startup budget; requests wait at the interceptor up to 30m");
    expect(v.reconciling).toMatchObject({ status: "True", reason: REASONS.Activating });
    expect(v.stalled.status).toBe("False");
  });

  it("words Activating the same a few seconds later, so a recomputation writes nothing", () => {
    const at = (extraMs: number) => verdict(input({ diags: [loading("a", 95_000)], now: NOW.getTime() + extraMs })).ready.message;
    expect(at(10_000)).toBe(at(0));
  });

  it("is Activating before the replica exists", () => {
    const v = verdict(input({ diags: [] }));
    expect(v.ready.reason).toBe(REASONS.Activating);
    expect(v.ready.message).toMatch(/^woken from zero by KEDA: 1 replica not created yet \(startup budget 30m\)/);
  });

  it("is Ready once the woken replica serves", () => {
    const v = verdict(input({ diags: [{ pod: "a", bucket: "ready", reason: REASONS.Ready, stalled: false }], currentReady: 1 }));
    expect(v.ready).toMatchObject({ status: "True", reason: REASONS.Ready });
  });

  it("names a failure of the woken replica, not Activating", () => {
    const crash: PodDiagnosis = { pod: "a", bucket: "failing", reason: REASONS.CrashLoop, stalled: false, container: "engine" };
    expect(verdict(input({ diags: [crash] })).ready.reason).toBe(REASONS.CrashLoop);
  });

  it("keeps the parked message for replicas 0 without autoscaling", () => {
    const parked = parsed(llama());
    const v = verdict({ ...input({ desired: 0 }), spec: { ...parked.spec, replicas: 0 }, resolved: resolve(parked, defaultOperatorConfig) });
    expect(v.ready.message).toBe("parked: spec.replicas is 0; scale it up to serve again");
  });
});
