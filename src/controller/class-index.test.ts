import { describe, expect, it } from "vitest";
import { modelService, withSpec } from "../../test/support/model-service.ts";
import { DEFAULT_CLASS_ANNOTATION } from "../api/class-schema.ts";
import { ClassIndex } from "./class-index.ts";

const cls = (name: string, isDefault = false) => ({ metadata: { name, ...(isDefault ? { annotations: { [DEFAULT_CLASS_ANNOTATION]: "true" } } : {}) } });
const ms = (name: string, className?: string) => modelService(name, withSpec(className ? { className } : {}));

describe("ClassIndex: a class change re-queues only the ModelServices that use it", () => {
  const index = new ClassIndex();
  index.update(ms("a", "gpu-shared"));
  index.update(ms("b", "gpu-shared"));
  index.update(ms("c", "premium"));
  index.update(ms("d"));
  it.each([
    ["a named class", cls("gpu-shared"), undefined, ["ml/a", "ml/b"]],
    ["a class nobody uses", cls("unused"), undefined, []],
    ["a class that is the default", cls("premium", true), undefined, ["ml/c", "ml/d"]],
    ["a class that stopped being the default", cls("premium"), cls("premium", true), ["ml/c", "ml/d"]],
  ] as const)("%s", (_n, c, old, want) => {
    expect(index.affectedBy(c, old).sort()).toEqual(want);
  });

  it("follows a ModelService that changes class, and forgets a deleted one", () => {
    const i = new ClassIndex();
    i.update(ms("a", "x"));
    i.update(ms("a", "y"));
    expect(i.affectedBy(cls("x"))).toEqual([]);
    expect(i.affectedBy(cls("y"))).toEqual(["ml/a"]);
    i.update(ms("a", "y"), true);
    expect(i.affectedBy(cls("y"))).toEqual([]);
  });
});
