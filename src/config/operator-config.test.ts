import { describe, expect, it } from "vitest";
import { defaultOperatorConfig, operatorConfigSchema } from "./operator-config.ts";

describe("operator config", () => {
  it("accepts the defaults", () => {
    expect(operatorConfigSchema.parse(defaultOperatorConfig)).toEqual(defaultOperatorConfig);
  });

  it("rejects a misspelt key instead of silently ignoring it", () => {
    const typo = { ...defaultOperatorConfig, gpu: { ...defaultOperatorConfig.gpu, tantKey: "x" } };
    const r = operatorConfigSchema.safeParse(typo);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]).toMatchObject({ code: "unrecognized_keys", keys: ["tantKey"], path: ["gpu"] });
  });
});
