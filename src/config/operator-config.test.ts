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

describe("operator config: access", () => {
  const withAccess = (access: unknown) => ({ ...defaultOperatorConfig, access });

  it("defaults to Namespace, with no monitoring or gateway selector", () => {
    expect(defaultOperatorConfig.access).toEqual({ default: "Namespace" });
  });

  it("accepts label selectors for monitoring and the gateway", () => {
    const access = {
      default: "GatewayOnly",
      monitoringNamespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } },
      gatewayNamespaceSelector: { matchExpressions: [{ key: "gateway", operator: "Exists" }] },
    };
    expect(operatorConfigSchema.parse(withAccess(access)).access).toEqual(access);
  });

  it("rejects an unknown default, naming the field", () => {
    const r = operatorConfigSchema.safeParse(withAccess({ default: "deny-all" }));
    expect(r.error?.issues[0]?.path).toEqual(["access", "default"]);
  });

  it("rejects Exists with values, which would make an invalid NetworkPolicy", () => {
    const r = operatorConfigSchema.safeParse(
      withAccess({ default: "Namespace", monitoringNamespaceSelector: { matchExpressions: [{ key: "a", operator: "Exists", values: ["x"] }] } }),
    );
    expect(r.error?.issues[0]).toMatchObject({ path: ["access", "monitoringNamespaceSelector", "matchExpressions", 0, "values"] });
  });

  it("rejects a selector key that is not a label key", () => {
    const r = operatorConfigSchema.safeParse(withAccess({ default: "Namespace", gatewayNamespaceSelector: { matchLabels: { "not a key": "x" } } }));
    expect(r.success).toBe(false);
  });
});
