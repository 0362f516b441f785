import { describe, expect, it } from "vitest";
import type { ModelService } from "../api/types.ts";
import { exposure, type Gateway, type RouteWithStatus } from "./exposure.ts";

const ms = (expose: Record<string, unknown>): ModelService =>
  ({
    apiVersion: "modelservice.dev/v1alpha1",
    kind: "ModelService",
    metadata: { name: "llama", namespace: "team-a", uid: "u1" },
    spec: { model: { uri: "hf://a/b" }, engine: { type: "vLLM" }, gpu: { count: 1 }, expose },
  }) as unknown as ModelService;

const gw = (listeners: Gateway["spec"] extends infer S ? (S extends { listeners?: infer L } ? L : never) : never, addresses: string[] = []): Gateway => ({
  apiVersion: "gateway.networking.k8s.io/v1",
  kind: "Gateway",
  metadata: { name: "public", namespace: "gateways" },
  spec: { listeners },
  status: { addresses: addresses.map((value) => ({ value })) },
});
const https = gw([{ name: "https", protocol: "HTTPS", port: 443 }]);
const gateways = (g: Gateway | undefined) => (ns: string, name: string) => (g && ns === "gateways" && name === "public" ? g : undefined);
const parentRef = { name: "public", namespace: "gateways" };
const route = (
  conditions: { type: string; status: string; reason: string; message?: string }[],
  ref: Record<string, unknown> = parentRef,
): RouteWithStatus => ({
  apiVersion: "gateway.networking.k8s.io/v1",
  kind: "HTTPRoute",
  metadata: { name: "llama", namespace: "team-a" },
  status: { parents: [{ parentRef: { group: "gateway.networking.k8s.io", kind: "Gateway", ...ref }, conditions }] },
});
const accepted = { type: "Accepted", status: "True", reason: "Accepted" };
const resolved = { type: "ResolvedRefs", status: "True", reason: "ResolvedRefs" };
const exposeSpec = { parentRefs: [parentRef], hostnames: ["llm.example.com"], path: "/llama" };

describe("exposure", () => {
  it("says nothing without spec.expose", () => {
    const m = ms(exposeSpec);
    delete (m.spec as { expose?: unknown }).expose;
    expect(exposure(m, undefined, gateways(https))).toBeUndefined();
  });

  it("reports a missing Gateway first, whatever the route says", () => {
    expect(exposure(ms(exposeSpec), route([accepted, resolved]), gateways(undefined))?.condition).toEqual({
      status: "False",
      reason: "GatewayNotFound",
      message: "Gateway gateways/public does not exist; create it, or fix spec.expose.parentRefs",
    });
  });

  it("is pending until a controller writes a status for our parentRef (a status for another parent does not count)", () => {
    expect(exposure(ms(exposeSpec), route([]), gateways(https))?.condition.reason).toBe("RoutePending");
    expect(exposure(ms(exposeSpec), route([accepted, resolved], { name: "other", namespace: "gateways" }), gateways(https))?.condition.reason).toBe(
      "RoutePending",
    );
    expect(exposure(ms(exposeSpec), undefined, gateways(https))?.condition.reason).toBe("RoutePending");
  });

  it("quotes the gateway controller's reason and message when it refuses the route or its backend", () => {
    const refused = exposure(
      ms(exposeSpec),
      route([{ type: "Accepted", status: "False", reason: "NotAllowedByListeners", message: "no listener allows team-a" }]),
      gateways(https),
    );
    expect(refused?.condition).toEqual({
      status: "False",
      reason: "RouteNotAccepted",
      message: "Gateway gateways/public did not accept the route: NotAllowedByListeners: no listener allows team-a",
    });
    expect(refused?.url).toBeUndefined();
    const unresolved = exposure(
      ms(exposeSpec),
      route([accepted, { type: "ResolvedRefs", status: "False", reason: "BackendNotFound", message: "no Service" }]),
      gateways(https),
    );
    expect(unresolved?.condition.reason).toBe("RouteRefsNotResolved");
    expect(unresolved?.condition.message).toContain("BackendNotFound: no Service");
  });

  it("gives the external URL from the listener's protocol and port, the route's hostname and path", () => {
    const ok = exposure(ms(exposeSpec), route([accepted, resolved]), gateways(https));
    expect(ok?.condition.status).toBe("True");
    expect(ok?.url).toBe("https://llm.example.com/llama");
    const http8080 = gw([{ name: "http", protocol: "HTTP", port: 8080 }]);
    expect(exposure(ms(exposeSpec), route([accepted, resolved]), gateways(http8080))?.url).toBe("http://llm.example.com:8080/llama");
  });

  it("uses the Gateway's address without a hostname, and the listener named by sectionName", () => {
    const two = gw(
      [
        { name: "http", protocol: "HTTP", port: 80 },
        { name: "https", protocol: "HTTPS", port: 8443 },
      ],
      ["203.0.113.7"],
    );
    const spec = { parentRefs: [{ ...parentRef, sectionName: "https" }] };
    const ok = exposure(ms(spec), route([accepted, resolved], { ...parentRef, sectionName: "https" }), gateways(two));
    expect(ok?.url).toBe("https://203.0.113.7:8443/");
    // No address yet and no hostname: accepted, but no URL to show.
    const none = exposure(ms({ parentRefs: [parentRef] }), route([accepted, resolved]), gateways(https));
    expect(none?.condition.status).toBe("True");
    expect(none?.url).toBeUndefined();
  });
});
