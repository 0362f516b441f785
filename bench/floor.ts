// The floor of the scale benchmark: a bare client with no operator logic that does the least any
// operator must do for N ModelServices — apply the same children (render() gives them; the floor
// measures API and cluster cost, not our planning), and write the same status steps (Pending →
// Loading → Ready) as the pods become ready — with the same number of workers and the same
// watches (ModelServices and Pods). No GETs, no diffing, no events: one server-side apply per
// child, one merge patch per status step.
import { API_VERSION, PLURAL } from "../src/api/schema.ts";
import type { ModelService } from "../src/api/types.ts";
import { defaultOperatorConfig } from "../src/config/operator-config.ts";
import { type KubeClient, resourcePath } from "../src/kube/client.ts";
import { Informer } from "../src/kube/informer.ts";
import { NAME_LABEL } from "../src/model/labels.ts";
import { CHILD_KINDS, orderedChildren, render } from "../src/render/index.ts";

export const FLOOR_FIELD_MANAGER = "modelservice-floor";

type Phase = "Pending" | "Loading" | "Ready";
type Pod = { metadata: { name?: string; namespace?: string; labels?: Record<string, string> }; status?: { conditions?: { type: string; status: string }[] } };

const pluralOf = new Map(CHILD_KINDS.map((k) => [`${k.apiVersion}/${k.kind}`, k.plural]));

const condition = (type: string, ok: boolean, reason: string, generation: number, now: string) => ({
  type,
  status: ok ? "True" : "False",
  reason,
  message: reason,
  observedGeneration: generation,
  lastTransitionTime: now,
});

/** The status one step writes: phase plus the Ready and Progressing conditions, like the operator's. */
function statusFor(phase: Phase, generation: number): Record<string, unknown> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const ready = phase === "Ready";
  return {
    phase,
    observedGeneration: generation,
    conditions: [
      condition("Ready", ready, ready ? "Ready" : phase, generation, now),
      condition("Progressing", !ready, ready ? "Settled" : phase, generation, now),
    ],
  };
}

export type Floor = { stop(): void };

/** Starts the floor's watches and workers on `namespace`; they act on every ModelService there. */
export async function startFloor(opts: { client: KubeClient; namespace: string; workers: number; logger: import("pino").Logger }): Promise<Floor> {
  const { client, namespace } = opts;
  const config = defaultOperatorConfig;
  const modelServices = new Informer<ModelService>({ client, apiVersion: API_VERSION, plural: PLURAL, namespaces: [namespace], logger: opts.logger });
  const pods = new Informer<Pod & { apiVersion?: string; kind?: string }>({
    client,
    apiVersion: "v1",
    plural: "pods",
    namespaces: [namespace],
    logger: opts.logger,
  });
  const applied = new Set<string>();
  const written = new Map<string, Phase>();
  const queue: string[] = [];
  const queued = new Set<string>();
  const idle: (() => void)[] = [];
  let stopped = false;

  const enqueue = (name: string) => {
    if (queued.has(name)) return;
    queued.add(name);
    queue.push(name);
    idle.shift()?.();
  };
  modelServices.onEvent((type, ms) => {
    if (type !== "DELETED" && ms.metadata.name) enqueue(ms.metadata.name);
  });
  pods.onEvent((_type, pod) => {
    const name = pod.metadata.labels?.[NAME_LABEL];
    if (name) enqueue(name);
  });

  const desiredPhase = (name: string): Phase => {
    const mine = pods.list(namespace).filter((p) => p.metadata.labels?.[NAME_LABEL] === name);
    if (mine.some((p) => p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"))) return "Ready";
    return mine.length > 0 ? "Loading" : "Pending";
  };

  const work = async (name: string) => {
    const ms = modelServices.get(namespace, name);
    if (!ms) return;
    if (!applied.has(name)) {
      for (const child of orderedChildren(render(ms, config))) {
        const plural = pluralOf.get(`${child.apiVersion}/${child.kind}`) ?? "";
        const path = resourcePath({ apiVersion: child.apiVersion ?? "", plural, namespace, name: child.metadata?.name });
        await client.request("PATCH", path, {
          body: JSON.stringify(child),
          contentType: "application/apply-patch+yaml",
          query: { fieldManager: FLOOR_FIELD_MANAGER, force: true },
        });
      }
      applied.add(name);
    }
    const phase = desiredPhase(name);
    if (written.get(name) === phase) return;
    await client.request("PATCH", resourcePath({ apiVersion: API_VERSION, plural: PLURAL, namespace, name, subresource: "status" }), {
      body: { status: statusFor(phase, ms.metadata.generation ?? 1) },
      contentType: "application/merge-patch+json",
      query: { fieldManager: FLOOR_FIELD_MANAGER },
    });
    written.set(name, phase);
  };

  const worker = async () => {
    while (!stopped) {
      const name = queue.shift();
      if (name === undefined) {
        await new Promise<void>((r) => idle.push(r));
        continue;
      }
      queued.delete(name);
      try {
        await work(name);
      } catch (e) {
        opts.logger.warn({ err: (e as Error).message, name }, "floor: retrying");
        setTimeout(() => enqueue(name), 500);
      }
    }
  };

  await Promise.all([modelServices.start(), pods.start()]);
  const loops = Array.from({ length: opts.workers }, () => worker());
  return {
    stop() {
      stopped = true;
      for (const w of idle.splice(0)) w();
      modelServices.stop();
      pods.stop();
      void Promise.allSettled(loops);
    },
  };
}
