// The demo's scripted scene on the simulated fleet: three models that cannot serve, each for a
// reason the operator names (no GPUs free, no node with that GPU, an engine that crashes), then the
// fix a user would apply, and each model turning Ready. The scene only decides; the demo's shell
// applies what it returns and prints what it says.
import type { ModelService } from "../api/types.ts";
import { SIMULATE_LOAD_ANNOTATION } from "../localcluster/example-prereqs.ts";

export type SceneModel = {
  name: string;
  /** Announced when it is applied. */
  intro: string;
  spec: Record<string, unknown>;
  /** The Ready reason the operator should report before the fix. */
  expect: string;
  /** Announced when the fix is applied. */
  fix: string;
  fixedSpec: Record<string, unknown>;
};

const H100 = "NVIDIA-H100-80GB-HBM3";

/** The scene's models; `loadSeconds` is the simulated model load time of their pods. */
export function sceneModels(loadSeconds: number): SceneModel[] {
  const base = (extra: Record<string, unknown>, annotations: Record<string, string> = {}) => ({
    model: { uri: "hf://Qwen/Qwen2.5-0.5B-Instruct" },
    engine: { type: "vLLM" },
    replicas: 1,
    podMetadata: { annotations: { [SIMULATE_LOAD_ANNOTATION]: String(loadSeconds), ...annotations } },
    ...extra,
  });
  return [
    {
      name: "asks-16-gpus",
      intro: "asks-16-gpus asks for 16 H100 GPUs per replica; the biggest node has 8",
      spec: base({ gpu: { count: 16, products: [H100] } }),
      expect: "InsufficientGPU",
      fix: "fix: asks-16-gpus lowers gpu.count to 2, which fits on one node",
      fixedSpec: base({ gpu: { count: 2, products: [H100] } }),
    },
    {
      name: "wants-b200",
      intro: "wants-b200 asks for an NVIDIA-B200, a GPU no node of this cluster has",
      spec: base({ gpu: { count: 1, products: ["NVIDIA-B200"] } }),
      expect: "NoMatchingNode",
      fix: `fix: wants-b200 accepts the cluster's GPU: gpu.products [${H100}]`,
      fixedSpec: base({ gpu: { count: 1, products: [H100] } }),
    },
    {
      name: "crashes",
      // kwok runs no containers: the crash is its crash-loop stage, chosen by a pod annotation.
      intro: "crashes starts vLLM with --max-model-len=1048576, more than the model supports, so the engine exits (simulated)",
      spec: base({ gpu: { count: 1 }, engine: { type: "vLLM", args: ["--max-model-len=1048576"] } }, { "modelservice.dev/simulate": "crash-loop" }),
      expect: "CrashLoop",
      fix: "fix: crashes drops the bad --max-model-len argument",
      fixedSpec: base({ gpu: { count: 1 } }),
    },
  ];
}

type Progress = {
  model: SceneModel;
  appliedAt: number;
  /** Ready reasons in the order seen, without repeats. */
  reasons: string[];
  /** The last announced reason and message, numbers left out (they tick: elapsed times, restarts). */
  announced?: string;
  seenAt?: number;
  fixedAt?: number;
  readyAt?: number;
};

const readyCondition = (ms: ModelService) => ms.status?.conditions?.find((c) => c.type === "Ready");

/** What the shell should do after an observation. */
export type SceneActions = { say: string[]; apply: { name: string; spec: Record<string, unknown> }[] };

export class Scene {
  private readonly progress: Progress[];
  /** How long a failure stays on screen before the fix, so it can be read. */
  private readonly holdMs: number;
  /** When the expected reason has not shown by then, fix anyway (and say so). */
  private readonly patienceMs: number;

  constructor(models: SceneModel[], now: number, holdMs = 3000, patienceMs = 90_000) {
    this.progress = models.map((model) => ({ model, appliedAt: now, reasons: [] }));
    this.holdMs = holdMs;
    this.patienceMs = patienceMs;
  }

  get names(): string[] {
    return this.progress.map((p) => p.model.name);
  }

  intro(): string[] {
    return this.progress.map((p) => p.model.intro);
  }

  /** Takes the current ModelServices; returns what to announce and which fixes to apply. */
  observe(items: ModelService[], now: number): SceneActions {
    const out: SceneActions = { say: [], apply: [] };
    for (const p of this.progress) {
      const ms = items.find((i) => i.metadata.name === p.model.name);
      const ready = ms && readyCondition(ms);
      const message = (ready?.message ?? "").replace(/\s+/g, " ");
      // Announced again when the message says something new within the same reason, e.g. Loading
      // going from "starting (pulling the image…)" to "loading the model for 1m (budget 30m)".
      const key = `${ready?.reason}: ${message.replace(/\d+/g, "#")}`;
      if (ms && ready?.reason && key !== p.announced) {
        p.announced = key;
        out.say.push(`${p.model.name}: ${ready.reason}${message ? ` — ${message}` : ""}`);
      }
      if (ms && ready?.reason && ready.reason !== p.reasons.at(-1)) {
        p.reasons.push(ready.reason);
        if (ready.reason === p.model.expect) p.seenAt ??= now;
        if (ready.status === "True" && p.fixedAt !== undefined && p.readyAt === undefined) {
          p.readyAt = now;
          out.say.push(`${p.model.name} is Ready ${((now - p.fixedAt) / 1000).toFixed(1)}s after its fix`);
        }
      }
      if (p.fixedAt !== undefined) continue;
      const shown = p.seenAt !== undefined && now - p.seenAt >= this.holdMs;
      const late = p.seenAt === undefined && now - p.appliedAt >= this.patienceMs;
      if (!shown && !late) continue;
      if (late) out.say.push(`${p.model.name} did not report ${p.model.expect} within ${this.patienceMs / 1000}s; applying the fix anyway`);
      out.say.push(p.model.fix);
      out.apply.push({ name: p.model.name, spec: p.model.fixedSpec });
      p.fixedAt = now;
    }
    return out;
  }

  /** Every fix applied. */
  fixed(): boolean {
    return this.progress.every((p) => p.fixedAt !== undefined);
  }

  /** One line per model: the reasons it went through, e.g. "asks-16-gpus: InsufficientGPU → Loading → Ready". */
  summary(): string[] {
    return this.progress.map((p) => `${p.model.name}: ${p.reasons.join(" → ") || "(no status)"}`);
  }
}
