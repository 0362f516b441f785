// Third-party CRDs taken from their Go modules (src/localcluster/third-party-crds.ts): once
// installed into the local control plane, the real API server serves and validates the kinds the
// operator will create (HTTPRoute, BackendTLSPolicy v1, cert-manager Certificate, Envoy Gateway
// SecurityPolicy); once removed, it answers 404 for them, as on a cluster without those projects.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiError, isApiError } from "../../src/kube/client.ts";
import {
  installThirdPartyCrds,
  loadThirdPartyCrds,
  removeThirdPartyCrds,
  THIRD_PARTY_CRDS,
  type ThirdPartyName,
} from "../../src/localcluster/third-party-crds.ts";
import { client, createNamespace, deleteNamespace } from "./kube-helpers.ts";

const c = client();
const SOURCES: ThirdPartyName[] = ["gatewayApi", "certManager", "envoyGateway"];
let namespace: string;

const create = (path: string, body: unknown) => c.request("POST", path, { body, query: { dryRun: "All" } });
const routesPath = (ns: string) => `/apis/gateway.networking.k8s.io/v1/namespaces/${ns}/httproutes`;

const httpRoute = (ns: string) => ({
  apiVersion: "gateway.networking.k8s.io/v1",
  kind: "HTTPRoute",
  metadata: { name: "llama", namespace: ns },
  spec: {
    parentRefs: [{ name: "public", namespace: "gateways" }],
    hostnames: ["llama.example.com"],
    rules: [
      {
        matches: [{ path: { type: "PathPrefix", value: "/llama" } }],
        filters: [{ type: "URLRewrite", urlRewrite: { path: { type: "ReplacePrefixMatch", replacePrefixMatch: "/" } } }],
        backendRefs: [{ name: "llama", port: 8000 }],
        timeouts: { request: "600s" },
      },
    ],
  },
});

const backendTlsPolicy = (ns: string) => ({
  apiVersion: "gateway.networking.k8s.io/v1",
  kind: "BackendTLSPolicy",
  metadata: { name: "llama", namespace: ns },
  spec: {
    targetRefs: [{ group: "", kind: "Service", name: "llama", sectionName: "http" }],
    validation: { caCertificateRefs: [{ group: "", kind: "ConfigMap", name: "llama-ca" }], hostname: `llama.${ns}.svc.cluster.local` },
  },
});

beforeAll(async () => {
  const t = performance.now();
  const crds = await Promise.all(SOURCES.map(loadThirdPartyCrds));
  console.log(`[measure] read ${crds.flat().length} CRDs of ${SOURCES.join(", ")} from Go modules: ${(performance.now() - t).toFixed(0)} ms`);
  const t2 = performance.now();
  await installThirdPartyCrds(c, SOURCES);
  console.log(`[measure] installed and Established in ${(performance.now() - t2).toFixed(0)} ms`);
  namespace = await createNamespace(c, "third-party-crds");
});

afterAll(async () => {
  await deleteNamespace(c, namespace);
  // Leave the shared control plane as other test files expect it: without these projects.
  await removeThirdPartyCrds(c, SOURCES);
  c.close();
});

describe("third-party CRDs from Go modules", () => {
  it("holds the kinds issue 10 needs, at the pinned versions", async () => {
    const kinds = async (n: ThirdPartyName) => (await loadThirdPartyCrds(n)).map((crd) => crd.spec.names.kind);
    expect(await kinds("gatewayApi")).toEqual(
      expect.arrayContaining(["GatewayClass", "Gateway", "HTTPRoute", "GRPCRoute", "ReferenceGrant", "BackendTLSPolicy"]),
    );
    expect(await kinds("certManager")).toEqual(expect.arrayContaining(["Certificate", "Issuer", "ClusterIssuer"]));
    expect(await kinds("envoyGateway")).toContain("SecurityPolicy");
    const btls = (await loadThirdPartyCrds("gatewayApi")).find((crd) => crd.spec.names.kind === "BackendTLSPolicy");
    expect(btls?.spec.versions.filter((v) => v.served).map((v) => v.name)).toEqual(["v1"]);
    expect(THIRD_PARTY_CRDS.gatewayApi.version).toBe("v1.6.3");
  });

  it("serves and validates HTTPRoute v1 and BackendTLSPolicy v1", async () => {
    await create(routesPath(namespace), httpRoute(namespace));
    await create(`/apis/gateway.networking.k8s.io/v1/namespaces/${namespace}/backendtlspolicies`, backendTlsPolicy(namespace));
    // The schema is enforced, not just stored: a BackendTLSPolicy must say how to validate.
    const bad = backendTlsPolicy(namespace) as { spec: Record<string, unknown> };
    delete bad.spec.validation;
    const err = await create(`/apis/gateway.networking.k8s.io/v1/namespaces/${namespace}/backendtlspolicies`, bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(422);
    expect((err as ApiError).message).toMatch(/validation/);
  });

  it("serves cert-manager's Certificate v1", async () => {
    await create(`/apis/cert-manager.io/v1/namespaces/${namespace}/certificates`, {
      apiVersion: "cert-manager.io/v1",
      kind: "Certificate",
      metadata: { name: "llama-tls", namespace },
      spec: {
        secretName: "llama-tls",
        dnsNames: ["llama", `llama.${namespace}`, `llama.${namespace}.svc`, `llama.${namespace}.svc.cluster.local`],
        issuerRef: { name: "in-cluster-ca", kind: "Issuer", group: "cert-manager.io" },
        privateKey: { rotationPolicy: "Always" },
        usages: ["server auth", "digital signature", "key encipherment"],
      },
    });
  });

  it("serves Envoy Gateway's SecurityPolicy with apiKeyAuth", async () => {
    const path = `/apis/gateway.envoyproxy.io/v1alpha1/namespaces/${namespace}/securitypolicies`;
    const policy = {
      apiVersion: "gateway.envoyproxy.io/v1alpha1",
      kind: "SecurityPolicy",
      metadata: { name: "llama", namespace },
      spec: {
        targetRefs: [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", name: "llama" }],
        apiKeyAuth: { credentialRefs: [{ group: "", kind: "Secret", name: "llama-api-keys" }], extractFrom: [{ headers: ["x-api-key"] }] },
      },
    };
    await create(path, policy);
    const withoutCredentials = structuredClone(policy) as { spec: { apiKeyAuth: Record<string, unknown> } };
    delete withoutCredentials.spec.apiKeyAuth.credentialRefs;
    const err = await create(path, withoutCredentials).catch((e: unknown) => e);
    expect(isApiError(err, 422)).toBe(true);
  });

  it("answers 404 for the kinds once the CRDs are removed, and serves them again after a reinstall", async () => {
    await removeThirdPartyCrds(c, ["gatewayApi"]);
    const err = await create(routesPath(namespace), httpRoute(namespace)).catch((e: unknown) => e);
    expect(isApiError(err, 404)).toBe(true);
    await installThirdPartyCrds(c, ["gatewayApi"]);
    await create(routesPath(namespace), httpRoute(namespace));
  });

  it("removes a CRD whose objects hold a finalizer no controller will release, and a reinstall waits for the old one to go", async () => {
    await c.request("POST", routesPath(namespace), {
      body: { ...httpRoute(namespace), metadata: { name: "held", namespace, finalizers: ["example.com/gone-controller"] } },
    });
    // Deleting the CRD leaves it terminating behind the held object; installing again must not
    // land on the terminating one.
    await c.request("DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/httproutes.gateway.networking.k8s.io");
    await installThirdPartyCrds(c, ["gatewayApi"], { timeoutMs: 30_000 });
    const err = await c.request("GET", `${routesPath(namespace)}/held`).catch((e: unknown) => e);
    expect(isApiError(err, 404)).toBe(true);
    await create(routesPath(namespace), httpRoute(namespace));
    // And a plain removal does the same.
    await c.request("POST", routesPath(namespace), {
      body: { ...httpRoute(namespace), metadata: { name: "held", namespace, finalizers: ["example.com/gone-controller"] } },
    });
    await removeThirdPartyCrds(c, ["gatewayApi"], { timeoutMs: 30_000 });
    expect(isApiError(await create(routesPath(namespace), httpRoute(namespace)).catch((e: unknown) => e), 404)).toBe(true);
    await installThirdPartyCrds(c, ["gatewayApi"]);
  });
});
