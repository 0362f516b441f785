import { describe, expect, it } from "vitest";
import { childName, childNames } from "./names.ts";

const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

describe("childName", () => {
  it("keeps names that fit", () => {
    expect(childName("llama")).toBe("llama");
    expect(childName("llama", "cache")).toBe("llama-cache");
    expect(childNames("llama")).toEqual({
      deployment: "llama",
      leaderWorkerSet: "llama-group",
      service: "llama",
      hpa: "llama",
      pdb: "llama",
      pvc: "llama-cache",
      scaledObject: "llama",
      interceptorRoute: "llama",
      networkPolicy: "llama",
      httpRoute: "llama",
      securityPolicy: "llama",
      backendTlsPolicy: "llama",
      certificate: "llama-tls",
    });
  });

  it("truncates with a stable hash when too long, keeping the suffix", () => {
    const base = `a${"b".repeat(60)}-c`;
    const name = childName(base, "cache");
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(DNS1035);
    expect(name).toMatch(/-cache-[0-9a-f]{8}$/);
    expect(childName(base, "cache")).toBe(name);
    expect(childName(`${base}x`, "cache")).not.toBe(name);
  });

  it("never ends the truncated part with a hyphen", () => {
    const name = childName(`a${"-".repeat(70)}`, "cache");
    expect(name).toMatch(DNS1035);
    expect(name).not.toContain("--cache");
  });
});
