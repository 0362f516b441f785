import { describe, expect, it } from "vitest";
import { modelService, parsed, withSpec } from "../../test/support/model-service.ts";
import { defaultOperatorConfig } from "../config/operator-config.ts";
import { InvalidSpecError, render } from "../render/index.ts";
import { classifyWakeHost, foreignWakeHosts } from "./wake-hosts.ts";

describe("classifyWakeHost", () => {
  it.each([
    ["llm.team-a", { kind: "own" }],
    ["llm.team-a.svc", { kind: "own" }],
    ["llm.team-a.svc.cluster.local", { kind: "own" }],
    ["llm.team-b", { kind: "foreign", namespace: "team-b" }],
    ["payments.team-b.svc.cluster.local", { kind: "foreign", namespace: "team-b" }],
    // A StatefulSet pod's and a pod's own DNS names, and another cluster domain: still team-b's.
    ["web-0.db.team-b.svc.cluster.local", { kind: "foreign", namespace: "team-b" }],
    ["10-0-0-7.team-b.pod.cluster.local", { kind: "foreign", namespace: "team-b" }],
    ["llm.team-b.svc.example.internal", { kind: "foreign", namespace: "team-b" }],
    ["llm", { kind: "bare" }],
    ["llm.example.com", { kind: "outside" }],
    // Two labels are always NAME.NAMESPACE, as the cluster's resolver reads them.
    ["example.com", { kind: "foreign", namespace: "com" }],
  ] as const)("%s", (host, want) => {
    expect(classifyWakeHost(host, "team-a")).toEqual(want);
  });
});

const scaledToZero = (hosts: string[]) =>
  parsed(
    modelService(
      "llm",
      withSpec({ gpu: { count: 1 }, autoscaling: { minReplicas: 0, maxReplicas: 1, target: { inFlightRequests: 4 }, wake: { mode: "Request", hosts } } }),
    ),
  );

describe("foreignWakeHosts", () => {
  it("refuses another namespace's names and bare names, naming the entry", () => {
    const spec = scaledToZero(["llm.team-a", "llm.team-b.svc", "llm", "llm.example.com"]).spec;
    expect(foreignWakeHosts(spec, "team-a", "cluster.local")).toEqual([
      { path: "spec.autoscaling.wake.hosts[1]", message: expect.stringMatching(/^llm\.team-b\.svc is a name of namespace team-b: the interceptor is shared/) },
      { path: "spec.autoscaling.wake.hosts[2]", message: "llm is the same name in every namespace: write llm.team-a" },
    ]);
  });

  it("without a class, refuses outside names too (InvalidSpec), and renders the namespace's own", () => {
    const ms = scaledToZero(["llm.example.com"]);
    ms.metadata = { ...ms.metadata, namespace: "team-a", uid: "u1" };
    const config = { ...defaultOperatorConfig, keda: { ...defaultOperatorConfig.keda, enabled: true } };
    expect(() => render(ms, config)).toThrow(
      "spec.autoscaling.wake.hosts[0]: llm.example.com is not allowed by the operator's default policy (allowed: names of the ModelService's own namespace only; a ModelServiceClass's allow.wakeHosts can list others)",
    );
  });

  it("makes a stored ModelService that claims another namespace's host InvalidSpec, without a class too", () => {
    const ms = scaledToZero(["payments.team-b.svc.cluster.local"]);
    ms.metadata = { ...ms.metadata, namespace: "team-a", uid: "u1" };
    const config = { ...defaultOperatorConfig, keda: { ...defaultOperatorConfig.keda, enabled: true } };
    const err = (() => {
      try {
        render(ms, config);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InvalidSpecError);
    expect((err as Error).message).toContain("spec.autoscaling.wake.hosts[0]: payments.team-b.svc.cluster.local is a name of namespace team-b");
    // Its own names render.
    const own = scaledToZero(["llm.team-a.svc"]);
    own.metadata = { ...own.metadata, namespace: "team-a", uid: "u1" };
    expect(render(own, config).interceptorRoute?.spec.rules[0]?.hosts).toEqual(["llm.team-a.svc"]);
  });
});
