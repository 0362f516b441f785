// The NetworkPolicy evaluator the access tests rely on (test/support/netpol-eval.ts, running
// cyclonus offline): on a hand-written default-deny plus allow-from-namespace policy it must give
// the verdicts Kubernetes defines — and the policies must be ones the real API server accepts.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { evaluateNetworkPolicies, type Verdict, verdict, type World } from "../support/netpol-eval.ts";
import { client, createNamespace, deleteNamespace } from "./kube-helpers.ts";

const testBinDir = inject("testBinDir");
const cyclonus = join(testBinDir, "cyclonus");
const c = client();
let apiNamespace: string;

const world: World = {
  namespaces: { models: {}, gateway: {}, other: {}, monitoring: { "modelservice.dev/monitoring": "true" } },
  pods: [
    {
      namespace: "models",
      name: "llama-0",
      labels: { "modelservice.dev/name": "llama" },
      ports: [
        { port: 8000, name: "http" },
        { port: 9090, name: "metrics" },
      ],
    },
    { namespace: "models", name: "neighbour", labels: { app: "neighbour" } },
    { namespace: "gateway", name: "envoy", labels: { app: "envoy" }, ports: [{ port: 10080, name: "http" }] },
    { namespace: "other", name: "curl" },
    { namespace: "monitoring", name: "prometheus" },
  ],
};

const policy = (namespace: string, name: string, spec: Record<string, unknown>) => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: { name, namespace },
  spec,
});

const policies = (namespace: string) => [
  policy(namespace, "default-deny", { podSelector: {}, policyTypes: ["Ingress"] }),
  policy(namespace, "llama", {
    podSelector: { matchLabels: { "modelservice.dev/name": "llama" } },
    policyTypes: ["Ingress"],
    ingress: [
      { from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "gateway" } } }], ports: [{ protocol: "TCP", port: 8000 }] },
      // A named port: resolved against the destination container's port name.
      { from: [{ namespaceSelector: { matchLabels: { "modelservice.dev/monitoring": "true" } } }], ports: [{ protocol: "TCP", port: "metrics" }] },
    ],
  }),
];

beforeAll(async () => {
  if (!testBinDir) throw new Error("cyclonus is missing: scripts/build-test-binaries.sh failed in the global setup (see its output)");
  apiNamespace = await createNamespace(c, "netpol-eval");
});

afterAll(async () => {
  await deleteNamespace(c, apiNamespace);
  c.close();
});

describe("NetworkPolicy evaluation with cyclonus", () => {
  it("the hand-written policies are valid NetworkPolicies for the real API server", async () => {
    for (const p of policies(apiNamespace)) {
      await c.request("POST", `/apis/networking.k8s.io/v1/namespaces/${apiNamespace}/networkpolicies`, { body: p, query: { dryRun: "All" } });
    }
  });

  it("default-deny plus allow-from-namespace: the gateway reaches the model port, other namespaces do not; metrics only from monitoring", async () => {
    const t = performance.now();
    const verdicts = await evaluateNetworkPolicies(cyclonus, policies("models"), world);
    console.log(`[measure] cyclonus evaluated ${verdicts.length} pod-to-port pairs in ${(performance.now() - t).toFixed(0)} ms`);
    const allowed = (from: string, port: number, to = "models/llama-0") => verdict(verdicts, from, to, port);

    expect(allowed("gateway/envoy", 8000)).toBe(true);
    expect(allowed("other/curl", 8000)).toBe(false);
    expect(allowed("monitoring/prometheus", 8000)).toBe(false);
    // The policy's own namespace is no exception under default-deny.
    expect(allowed("models/neighbour", 8000)).toBe(false);

    expect(allowed("monitoring/prometheus", 9090)).toBe(true);
    expect(allowed("gateway/envoy", 9090)).toBe(false);
    expect(allowed("other/curl", 9090)).toBe(false);

    // Pods no policy selects stay open (ingress policies of namespace models do not reach them).
    expect(allowed("models/llama-0", 10080, "gateway/envoy")).toBe(true);
    expect(allowed("other/curl", 10080, "gateway/envoy")).toBe(true);

    // One verdict per (source, other pod, port of that pod): 4 sources x 2 model ports + 4 x 1 envoy port.
    expect(verdicts).toHaveLength(12);
    expect(verdicts.filter((v) => v.allowed).map((v) => `${v.from}->${v.to}:${v.port}`)).toEqual([
      "models/llama-0->gateway/envoy:10080",
      "models/neighbour->gateway/envoy:10080",
      "gateway/envoy->models/llama-0:8000",
      "other/curl->gateway/envoy:10080",
      "monitoring/prometheus->models/llama-0:9090",
      "monitoring/prometheus->gateway/envoy:10080",
    ]);
  });

  it("without policies everything is allowed", async () => {
    const verdicts = await evaluateNetworkPolicies(cyclonus, [], world);
    expect(verdicts.length).toBe(12);
    expect(verdicts.every((v: Verdict) => v.allowed)).toBe(true);
  });

  it("a policy without spec.policyTypes is evaluated as the API server defaults it (Ingress)", async () => {
    const verdicts = await evaluateNetworkPolicies(cyclonus, [policy("models", "default-deny", { podSelector: {} })], world);
    expect(verdict(verdicts, "gateway/envoy", "models/llama-0", 8000)).toBe(false);
    expect(verdict(verdicts, "models/llama-0", "gateway/envoy", 10080)).toBe(true);
  });
});
