// RFC 7386 JSON merge patches, computed from two plain JSON documents.

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * A JSON merge patch (RFC 7386) from `prev` to `next`: `next` whole (so the patch is right even
 * if the cached `prev` is a little stale), with every key that `prev` has and `next` lacks set to
 * null, at every depth where both are objects. Arrays and scalars are replaced whole; undefined
 * properties count as absent.
 */
export function mergePatch(prev: unknown, next: unknown): unknown {
  if (!isObject(next)) return next === undefined ? null : next;
  const patch: Record<string, unknown> = {};
  const before = isObject(prev) ? prev : {};
  for (const [k, v] of Object.entries(next)) {
    if (v === undefined) continue;
    patch[k] = isObject(v) && isObject(before[k]) ? mergePatch(before[k], v) : isObject(v) ? mergePatch({}, v) : v;
  }
  for (const [k, v] of Object.entries(before)) if (v !== undefined && (!(k in patch) || next[k] === undefined)) patch[k] = null;
  return patch;
}
