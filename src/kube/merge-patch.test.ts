import { describe, expect, it } from "vitest";
import { applyMergePatch } from "../../test/support/json-merge-patch.ts";
import { mergePatch } from "./merge-patch.ts";

describe("mergePatch", () => {
  it("diffs nested objects, nulls removed keys, replaces arrays whole, treats undefined as absent", () => {
    expect(mergePatch({ a: { b: 1, c: { d: 2, e: 3 } }, f: [1, 2], g: 1 }, { a: { c: { d: 2 } }, f: [3], h: undefined })).toEqual({
      a: { b: null, c: { d: 2, e: null } },
      f: [3],
      g: null,
    });
    expect(mergePatch({ a: 1 }, { a: { b: 1 } })).toEqual({ a: { b: 1 } });
    expect(mergePatch({ a: { b: 1 } }, { a: "x" })).toEqual({ a: "x" });
    expect(mergePatch({ a: [{ x: 1 }] }, { a: [{ y: 2 }] })).toEqual({ a: [{ y: 2 }] });
    expect(mergePatch(undefined, { a: { b: undefined, c: 1 } })).toEqual({ a: { c: 1 } });
  });
  it("round-trips: applying the patch to prev gives next", () => {
    const prev = { a: { b: 1, c: { d: 2, e: 3 } }, f: [1, 2], g: 1, k: "s" };
    const next = { a: { c: { d: 4 }, x: { y: 1 } }, f: [3], k: "s" };
    expect(applyMergePatch(prev, mergePatch(prev, next))).toEqual(next);
  });
});
