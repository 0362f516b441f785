// With autoscaling.wake.mode Request every caller arrives through the KEDA HTTP add-on's
// interceptor: the model's NetworkPolicy must let the interceptor's pods (and only them, of the
// add-on's namespace) reach the serving port, whatever spec.access says. Evaluated by cyclonus
// (test/support/netpol-eval.ts) on the rendered policy, after the real API server accepted it.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { ModelService } from "../../src/api/types.ts";
import { defaultOperatorConfig, type OperatorConfig } from "../../src/config/operator-config.ts";
import { render } from "../../src/render/index.ts";
import { modelService, parsed, withSpec } from "../support/model-service.ts";
import { evaluateNetworkPolicies, verdict, type World } from "../support/netpol-eval.ts";
import { client, createNamespace, deleteNamespace } from "./kube-helpers.ts";

const testBinDir = inject("testBinDir");
const cyclonus = join(testBinDir, "cyclonus");
const c = client();
let ns = "";

const config: OperatorConfig = { ...defaultOperatorConfig, keda: { ...defaultOperatorConfig.keda, enabled: true } };
const INTERCEPTOR_LABELS = { "app.kubernetes.io/component": "add-on", "app.kubernetes.io/instance": "interceptor", "app.kubernetes.io/name": "http" };

beforeAll(async () => {
  if (!testBinDir) throw new Error("cyclonus is missing: scripts/build-test-binaries.sh failed in the global setup (see its output)");
  ns = await createNamespace(c, "s2z-access");
});

afterAll(async () => {
  await deleteNamespace(c, ns);
  c.close();
});

const toZero = (access?: Record<string, unknown>): ModelService => {
  const ms = parsed(
    modelService(
      "idle",
      withSpec({ ...(access ? { access } : {}), autoscaling: { minReplicas: 0, maxReplicas: 2, target: { inFlightRequests: 4 }, wake: { mode: "Request" } } }),
    ),
  );
  return { ...ms, metadata: { ...ms.metadata, namespace: ns } };
};

describe("scale to zero: the interceptor reaches the model", () => {
  it.each([
    ["the default access (own namespace)", undefined, true],
    ["access only from an apps namespace", { allowFrom: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "apps" } } }] }, false],
  ])("with %s", async (_what, access, neighbourAllowed) => {
    const children = render(toZero(access), config);
    const np = children.networkPolicy;
    if (!np) throw new Error("no NetworkPolicy rendered");
    // The API server accepts it as rendered.
    await c.request("POST", `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies`, { body: np, query: { dryRun: "All" } });
    const labels = children.deployment?.spec?.template.metadata?.labels ?? {};
    const port = children.deployment?.spec?.template.spec?.containers[0]?.ports?.[0]?.containerPort ?? 0;
    const world: World = {
      namespaces: { [ns]: {}, keda: {}, apps: {}, other: {} },
      pods: [
        { namespace: ns, name: "model-0", labels, ports: [{ port }] },
        { namespace: ns, name: "neighbour", labels: { app: "other" } },
        { namespace: "keda", name: "interceptor", labels: INTERCEPTOR_LABELS },
        { namespace: "keda", name: "keda-operator", labels: { app: "keda-operator" } },
        { namespace: "apps", name: "app" },
        { namespace: "other", name: "interceptor-lookalike", labels: INTERCEPTOR_LABELS },
      ],
    };
    const v = await evaluateNetworkPolicies(cyclonus, [np as never], world);
    const m = `${ns}/model-0`;
    expect(verdict(v, "keda/interceptor", m, port)).toBe(true);
    expect(verdict(v, "keda/keda-operator", m, port)).toBe(false);
    expect(verdict(v, "other/interceptor-lookalike", m, port)).toBe(false);
    expect(verdict(v, `${ns}/neighbour`, m, port)).toBe(neighbourAllowed);
    expect(verdict(v, "apps/app", m, port)).toBe(!neighbourAllowed);
  });
});
