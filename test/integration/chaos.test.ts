// The chaos drill (scripts/chaos/driver.ts; `npm run chaos` runs the long one) in a short
// configuration: 20 ModelServices converging while they are changed, deleted and re-created, the
// operator SIGKILLed 3 times at seeded random moments, then the API server restarted. Nothing may be
// lost: no orphan, duplicate, missing child or lost update, every ModelService Ready for its latest
// generation, /readyz unready while the API server was down, and the operator quiet afterwards.
// The drill starts its own control plane (it restarts the API server). Seeded: MSO_CHAOS_SEED=...
import { describe, expect, it } from "vitest";
import { runChaos } from "../../scripts/chaos/driver.ts";

const SEED = Number(process.env.MSO_CHAOS_SEED ?? Date.now() % 2 ** 31);

describe("chaos (short)", () => {
  it("loses nothing through SIGKILLs of the operator and an API server restart", { timeout: 600_000 }, async () => {
    console.log(`[measure] chaos seed ${SEED} (replay with MSO_CHAOS_SEED=${SEED})`);
    const r = await runChaos({
      n: 30,
      kills: 3,
      seed: SEED,
      faults: ["apiserver-restart"],
      // Generous: on a loaded machine the garbage collector's retry back-off after the restart alone
      // can take minutes; a healthy run converges in seconds.
      convergeTimeoutMs: 300_000,
      log: (l) => console.log(`[measure] ${l}`),
    });
    expect(r.phases.map((p) => p.phase)).toEqual(["sigkill x3", "apiserver-restart"]);
    for (const p of r.phases) {
      expect({
        phase: p.phase,
        converged: p.converged,
        problems: p.problems,
        orphans: p.orphans,
        duplicates: p.duplicates,
        lost: p.lostUpdates,
        missing: p.missing,
        notReady: p.notReady,
      }).toEqual({
        phase: p.phase,
        converged: true,
        problems: [],
        orphans: 0,
        duplicates: 0,
        lost: 0,
        missing: 0,
        notReady: 0,
      });
    }
    expect(r.quietRequestRate).toBeLessThan(1);
    expect(r.ok).toBe(true);
  });
});
