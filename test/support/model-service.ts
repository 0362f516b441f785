// The one ModelService builder of the tests: `modelService(name, ...mods)` gives a complete object
// (what a user would write, plus the uid and generation the API server adds), and each mod changes
// one thing, so a test names only what its scenario is about.
import { modelServiceSchema } from "../../src/api/schema.ts";
import type { ModelService, ModelServiceSpec, ModelServiceStatus } from "../../src/api/types.ts";

export const MS_UID = "7f1c9d2e-0000-4000-8000-000000000001";

/** A change to a ModelService under construction. */
export type Mod = (ms: ModelService) => ModelService;

/** The smallest valid spec: vLLM serving a Hugging Face model. */
const BASE_SPEC = { model: { uri: "hf://org/model" }, engine: { type: "vLLM" } } as const;

export function modelService(name = "demo", ...mods: Mod[]): ModelService {
  const base: ModelService = {
    apiVersion: "modelservice.dev/v1alpha1",
    kind: "ModelService",
    metadata: { name, namespace: "ml", uid: MS_UID, generation: 1 },
    spec: structuredClone(BASE_SPEC) as ModelServiceSpec,
  };
  return mods.reduce((ms, mod) => mod(ms), base);
}

/** The object with the schema's defaults applied, as the operator sees it after parsing. */
export const parsed = (ms: ModelService): ModelService => modelServiceSchema.parse(ms) as ModelService;

/** What a user sends to the API server: no server-set metadata, no status. */
export function manifest(ms: ModelService): Record<string, unknown> {
  const { uid: _uid, generation: _generation, resourceVersion: _rv, creationTimestamp: _ct, ...metadata } = ms.metadata as Record<string, unknown>;
  return { apiVersion: ms.apiVersion, kind: ms.kind, metadata, spec: ms.spec };
}

type Patch = { [k: string]: unknown };

/** Objects merge key by key; arrays and scalars replace; `undefined` removes the key. */
export function deepMerge<T>(base: T, patch: Patch): T {
  const out: Patch = { ...(base as Patch) };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete out[k];
    else if (isPlainObject(v) && isPlainObject(out[k])) out[k] = deepMerge(out[k], v);
    else out[k] = v;
  }
  return out as T;
}

const isPlainObject = (v: unknown): v is Patch => typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);

// A loose patch type: tests may set fields the schema would reject, to see them rejected.
export type SpecPatch = { [K in keyof ModelServiceSpec]?: unknown } & Patch;

export const withSpec =
  (patch: SpecPatch): Mod =>
  (ms) => ({ ...ms, spec: deepMerge(ms.spec, patch) });

/** Replaces the spec as a whole (for cases built from their own base). */
export const withWholeSpec =
  (spec: Record<string, unknown>): Mod =>
  (ms) => ({ ...ms, spec: structuredClone(spec) as ModelServiceSpec });

export const withModel = (uri: string, extra: Patch = {}): Mod => withSpec({ model: { uri, ...extra } });

export const withEngine = (type: string, extra: Patch = {}): Mod => withSpec({ engine: { type, ...extra } });

export const withGpus = (count: number, extra: Patch = {}): Mod => withSpec({ gpu: { count, ...extra } });

export const withReplicas = (replicas: number): Mod => withSpec({ replicas, autoscaling: undefined });

/** Autoscaling instead of a fixed replica count (the schema allows only one of the two). */
export const withAutoscaling = (autoscaling: Patch): Mod => withSpec({ replicas: undefined, autoscaling });

export const inNamespace =
  (namespace: string): Mod =>
  (ms) => ({ ...ms, metadata: { ...ms.metadata, namespace } });

export const withUid =
  (uid: string): Mod =>
  (ms) => ({ ...ms, metadata: { ...ms.metadata, uid } });

export const withGeneration =
  (generation: number): Mod =>
  (ms) => ({ ...ms, metadata: { ...ms.metadata, generation } });

/** Any further metadata (labels, annotations, owner references), merged over what is there. */
export const withMetadata =
  (metadata: Record<string, unknown>): Mod =>
  (ms) => ({ ...ms, metadata: deepMerge(ms.metadata, metadata) });

export const havingStatus =
  (status: ModelServiceStatus): Mod =>
  (ms) => ({ ...ms, status });

/** Annotations on the model's pods (spec.podMetadata), e.g. the kwok simulation's. */
export const withPodAnnotations = (annotations: Record<string, string>): Mod => withSpec({ podMetadata: { annotations } });

/** The kwok simulator's load time for the engine: how long the pods take to become Ready. */
export const simulateLoad = (seconds: number): Mod => withPodAnnotations({ "modelservice.dev/simulate-load-seconds": String(seconds) });
