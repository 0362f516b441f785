// Which ModelServices use which ModelServiceClass, so that a class change re-queues only those (by
// spec.className; "" for those that take the default class). Kept up to date from the
// ModelService watch; no I/O.
import { DEFAULT_CLASS_ANNOTATION } from "../api/class-schema.ts";
import type { ModelService } from "../api/types.ts";
import { keyOf } from "./keys.ts";

type Meta = { metadata?: { name?: string; annotations?: Record<string, string> } };

export class ClassIndex {
  /** className ("" = the default class) → ModelService keys. */
  #byClass = new Map<string, Set<string>>();
  /** ModelService key → the className it is indexed under. */
  #classOf = new Map<string, string>();

  /** A ModelService was added, changed or (deleted: true) removed. */
  update(ms: ModelService, deleted = false): void {
    const key = keyOf(ms.metadata.namespace, ms.metadata.name ?? "");
    const before = this.#classOf.get(key);
    const now = deleted ? undefined : (ms.spec?.className ?? "");
    if (before === now) return;
    if (before !== undefined) {
      const set = this.#byClass.get(before);
      set?.delete(key);
      if (set?.size === 0) this.#byClass.delete(before);
      this.#classOf.delete(key);
    }
    if (now !== undefined) {
      this.#classOf.set(key, now);
      const set = this.#byClass.get(now) ?? new Set<string>();
      set.add(key);
      this.#byClass.set(now, set);
    }
  }

  /** The keys of the ModelServices a change of this class (from `old`) may affect. */
  affectedBy(cls: Meta, old?: Meta): string[] {
    const isDefault = (c?: Meta) => c?.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] === "true";
    const keys = new Set(this.#byClass.get(cls.metadata?.name ?? "") ?? []);
    // A default class coming, going or changing concerns every ModelService without spec.className.
    if (isDefault(cls) || isDefault(old)) for (const k of this.#byClass.get("") ?? []) keys.add(k);
    return [...keys];
  }
}
