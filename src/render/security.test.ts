// The security children and the engine wiring they imply: NetworkPolicy per access mode, the
// HTTPRoute, gateway auth, cert-manager TLS, and API keys passed by reference only.
import type { V1Container, V1Deployment } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { modelService, parsed, type SpecPatch, withSpec, withUid } from "../../test/support/model-service.ts";
import type { ModelService, ModelServiceSpec } from "../api/types.ts";
import { defaultOperatorConfig, type OperatorConfig } from "../config/operator-config.ts";
import { type InvalidSpecError, render, serviceUrl } from "./index.ts";

const UID = "7f1c9d2e-0000-4000-8000-000000000002";

const ms = (spec: SpecPatch = {}): ModelService => parsed(modelService("demo", withUid(UID), withSpec(spec)));
const withAccess = (access: Partial<OperatorConfig["access"]>): OperatorConfig => ({
  ...defaultOperatorConfig,
  access: { ...defaultOperatorConfig.access, ...access },
});
const engineOf = (d: V1Deployment | undefined): V1Container => d?.spec?.template.spec?.containers[0] as V1Container;
const ingressOf = (spec: Partial<ModelServiceSpec>, config = defaultOperatorConfig) => render(ms(spec), config).networkPolicy?.spec.ingress;

const OWN_PODS = { from: [{ podSelector: { matchLabels: { "modelservice.dev/name": "demo" } } }] };
const ns = (name: string) => ({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": name } } });
const tcp = (port: number) => [{ protocol: "TCP", port }];
const gateway = { parentRefs: [{ name: "public", namespace: "gateways" }] };
const monitoring = { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } };

describe("NetworkPolicy", () => {
  it("default Namespace: the own namespace to the serving port, own pods to every port", () => {
    const np = render(ms(), defaultOperatorConfig).networkPolicy;
    expect(np?.spec.podSelector).toEqual({ matchLabels: { "modelservice.dev/name": "demo" } });
    expect(np?.spec.policyTypes).toEqual(["Ingress"]);
    expect(np?.spec.ingress).toEqual([{ from: [{ podSelector: {} }], ports: tcp(8000) }, OWN_PODS]);
  });

  it("Namespace with expose adds the parentRefs' namespaces (the own one when unset), sorted and once each", () => {
    const expose = { parentRefs: [{ name: "b", namespace: "zeta" }, { name: "a" }, { name: "c", namespace: "zeta" }] };
    expect(ingressOf({ expose })?.[0]).toEqual({ from: [{ podSelector: {} }, ns("ml"), ns("zeta")], ports: tcp(8000) });
  });

  it("the configured gateway selector replaces the parentRefs' namespaces", () => {
    const sel = { matchLabels: { "gateway-proxies": "true" } };
    expect(ingressOf({ expose: gateway }, withAccess({ gatewayNamespaceSelector: sel }))?.[0]?.from).toEqual([{ podSelector: {} }, { namespaceSelector: sel }]);
  });

  it("GatewayOnly: only the gateway reaches the serving port; without expose no serving rule at all (never an empty from)", () => {
    const config = withAccess({ default: "GatewayOnly" });
    expect(ingressOf({ expose: gateway }, config)).toEqual([{ from: [ns("gateways")], ports: tcp(8000) }, OWN_PODS]);
    const closed = ingressOf({}, config);
    expect(closed).toEqual([OWN_PODS]);
    for (const rule of closed ?? []) expect(rule.from.length).toBeGreaterThan(0);
  });

  it("None: no NetworkPolicy, unless the spec names its callers", () => {
    const config = withAccess({ default: "None" });
    expect(render(ms(), config).networkPolicy).toBeUndefined();
    expect(ingressOf({ access: { allowFrom: [{ podSelector: { matchLabels: { app: "web" } } }] } }, config)?.[0]).toEqual({
      from: [{ podSelector: { matchLabels: { app: "web" } } }],
      ports: tcp(8000),
    });
  });

  it("explicit allowFrom replaces the default; both selectors in one item stay one peer (AND)", () => {
    const peer = {
      namespaceSelector: { matchLabels: { team: "a" } },
      podSelector: { matchExpressions: [{ key: "role", operator: "In" as const, values: ["client"] }] },
    };
    expect(ingressOf({ access: { allowFrom: [peer] }, expose: gateway })?.[0]).toEqual({ from: [peer, ns("gateways")], ports: tcp(8000) });
  });

  it("allowFrom [] without expose leaves only the own pods", () => {
    expect(ingressOf({ access: { allowFrom: [] } })).toEqual([OWN_PODS]);
  });

  it("monitoring: Triton's separate metrics port 8002; vLLM's shared serving port; none for engines without metrics or without a selector", () => {
    const config = withAccess({ monitoringNamespaceSelector: monitoring });
    const triton = { model: { uri: "pvc://models/repo" }, engine: { type: "Triton" as const } };
    expect(ingressOf(triton, config)?.at(-1)).toEqual({ from: [{ namespaceSelector: monitoring }], ports: tcp(8002) });
    expect(ingressOf({}, config)?.at(-1)).toEqual({ from: [{ namespaceSelector: monitoring }], ports: tcp(8000) });
    const ollama = { model: { uri: "ollama://qwen" }, engine: { type: "Ollama" as const } };
    expect(ingressOf(ollama, config)).toHaveLength(2);
    expect(ingressOf(triton)).toHaveLength(2);
  });

  it("uses the engine's container port, not the Service port", () => {
    expect(ingressOf({ engine: { type: "vLLM", port: 9000 }, service: { port: 8080 } })?.[0]?.ports).toEqual(tcp(9000));
  });
});

describe("HTTPRoute and SecurityPolicy", () => {
  it("attaches to the given Gateways and sends everything under / to the Service port", () => {
    const route = render(ms({ expose: { ...gateway, hostnames: ["llm.example.com"] } }), defaultOperatorConfig).httpRoute;
    expect(route?.apiVersion).toBe("gateway.networking.k8s.io/v1");
    expect(route?.spec).toEqual({
      parentRefs: [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "public", namespace: "gateways" }],
      hostnames: ["llm.example.com"],
      rules: [{ matches: [{ path: { type: "PathPrefix", value: "/" } }], backendRefs: [{ group: "", kind: "Service", name: "demo", port: 80 }] }],
    });
  });

  it("a path prefix is rewritten to /, and the request timeout is passed on", () => {
    const rule = render(ms({ expose: { ...gateway, path: "/llama", requestTimeoutSeconds: 900 } }), defaultOperatorConfig).httpRoute?.spec.rules[0];
    expect(rule?.matches).toEqual([{ path: { type: "PathPrefix", value: "/llama" } }]);
    expect(rule?.filters).toEqual([{ type: "URLRewrite", urlRewrite: { path: { type: "ReplacePrefixMatch", replacePrefixMatch: "/" } } }]);
    expect(rule?.timeouts).toEqual({ request: "900s" });
  });

  it("gateway API keys: an Envoy Gateway SecurityPolicy on the route, keys in x-api-key", () => {
    const out = render(ms({ expose: { ...gateway, apiKeyAuth: { secretName: "gw-keys" } } }), defaultOperatorConfig);
    expect(out.securityPolicy?.spec).toEqual({
      targetRefs: [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", name: "demo" }],
      apiKeyAuth: { credentialRefs: [{ group: "", kind: "Secret", name: "gw-keys" }], extractFrom: [{ headers: ["x-api-key"] }] },
    });
    expect(render(ms({ expose: gateway }), defaultOperatorConfig).securityPolicy).toBeUndefined();
  });

  it("no route, policy or certificate when the spec asks for none", () => {
    const out = render(ms(), defaultOperatorConfig);
    expect([out.httpRoute, out.securityPolicy, out.certificate, out.backendTlsPolicy]).toEqual([undefined, undefined, undefined, undefined]);
  });
});

describe("TLS", () => {
  const tls = { issuerRef: { name: "ca", kind: "ClusterIssuer" as const }, caConfigMap: "ca" };

  it("a Certificate for the Service's names, mounted read-only, with vLLM's SSL flags and HTTPS probes", () => {
    const out = render(ms({ tls }), defaultOperatorConfig);
    expect(out.certificate?.spec).toMatchObject({
      secretName: "demo-tls",
      dnsNames: ["demo", "demo.ml", "demo.ml.svc", "demo.ml.svc.cluster.local"],
      issuerRef: { name: "ca", kind: "ClusterIssuer", group: "cert-manager.io" },
      privateKey: { rotationPolicy: "Always" },
    });
    const c = engineOf(out.deployment);
    expect(c.args?.slice(-4)).toEqual(["--ssl-keyfile", "/etc/modelservice/tls/tls.key", "--ssl-certfile", "/etc/modelservice/tls/tls.crt"]);
    expect(c.volumeMounts).toContainEqual({ name: "tls", mountPath: "/etc/modelservice/tls", readOnly: true });
    expect(out.deployment?.spec?.template.spec?.volumes).toContainEqual({ name: "tls", secret: { secretName: "demo-tls", defaultMode: 0o444 } });
    for (const probe of [c.startupProbe, c.readinessProbe, c.livenessProbe]) expect(probe?.httpGet).toEqual({ path: "/health", port: "http", scheme: "HTTPS" });
    expect(out.service.spec?.ports?.[0]?.appProtocol).toBe("https");
    expect(serviceUrl(ms({ tls }), defaultOperatorConfig)).toBe("https://demo.ml.svc.cluster.local:80");
    expect(serviceUrl(ms({ tls, service: { port: 443 } }), defaultOperatorConfig)).toBe("https://demo.ml.svc.cluster.local");
  });

  it("without TLS the probes stay plain HTTP and the Service says http", () => {
    const out = render(ms(), defaultOperatorConfig);
    expect(engineOf(out.deployment).readinessProbe?.httpGet).toEqual({ path: "/health", port: "http" });
    expect(out.service.spec?.ports?.[0]?.appProtocol).toBe("http");
  });

  it("SGLang gets the same flags; Custom gets the mount only (its own flags are the user's)", () => {
    const sglang = render(ms({ engine: { type: "SGLang" }, tls }), defaultOperatorConfig);
    expect(engineOf(sglang.deployment).args).toContain("--ssl-certfile");
    const custom = render(ms({ engine: { type: "Custom", image: "x/y:1" }, tls }), defaultOperatorConfig);
    expect(engineOf(custom.deployment).args).not.toContain("--ssl-certfile");
    expect(engineOf(custom.deployment).volumeMounts).toContainEqual({ name: "tls", mountPath: "/etc/modelservice/tls", readOnly: true });
    expect(engineOf(custom.deployment).readinessProbe?.tcpSocket).toEqual({ port: "http" });
  });

  it("a BackendTLSPolicy only with both TLS and a route, trusting caConfigMap for the Service's full name", () => {
    expect(render(ms({ tls }), defaultOperatorConfig).backendTlsPolicy).toBeUndefined();
    expect(render(ms({ tls, expose: gateway }), defaultOperatorConfig).backendTlsPolicy?.spec).toEqual({
      targetRefs: [{ group: "", kind: "Service", name: "demo", sectionName: "http" }],
      validation: { caCertificateRefs: [{ group: "", kind: "ConfigMap", name: "ca" }], hostname: "demo.ml.svc.cluster.local" },
    });
  });

  it("engines that cannot serve HTTPS are refused when rendering without an API server", () => {
    try {
      render(ms({ engine: { type: "TGI" }, tls }), defaultOperatorConfig);
      expect.unreachable();
    } catch (e) {
      expect((e as InvalidSpecError).problems).toContainEqual(expect.objectContaining({ path: "spec.tls" }));
    }
  });
});

describe("API keys", () => {
  const key = { apiKeySecret: { name: "llm-key", key: "token" } };
  const ref = { secretKeyRef: { name: "llm-key", key: "token" } };

  it.each([
    ["vLLM", {}, { name: "VLLM_API_KEY", valueFrom: ref }, []],
    ["SGLang", {}, { name: "SGLANG_API_KEY", valueFrom: ref }, ["--api-key", "$(SGLANG_API_KEY)"]],
    ["TGI", {}, { name: "API_KEY", valueFrom: ref }, []],
    ["Custom", { image: "x/y:1" }, { name: "MY_TOKEN", valueFrom: ref }, []],
  ] as const)("%s reads its key from a secretKeyRef", (type, engine, env, args) => {
    const access = type === "Custom" ? { ...key, apiKeyEnv: "MY_TOKEN" } : key;
    const c = engineOf(render(ms({ engine: { type, ...engine }, access }), defaultOperatorConfig).deployment);
    expect(c.env).toContainEqual(env);
    for (const a of args) expect(c.args).toContain(a);
    // Probes keep the engine's unauthenticated health path.
    expect(c.readinessProbe?.httpGet?.path ?? c.readinessProbe?.tcpSocket?.port).toBe(type === "Custom" ? "http" : "/health");
  });

  it("engines without an API key are refused when rendering without an API server", () => {
    for (const engine of [{ type: "Triton" as const }, { type: "Ollama" as const }]) {
      try {
        render(ms({ model: { uri: engine.type === "Ollama" ? "ollama://qwen" : "pvc://m/r" }, engine, access: key }), defaultOperatorConfig);
        expect.unreachable();
      } catch (e) {
        expect((e as InvalidSpecError).problems).toContainEqual(expect.objectContaining({ path: "spec.access.apiKeySecret" }));
      }
    }
  });

  it("no secret value anywhere in the rendered output: only names and keys", () => {
    // A spec can only name the Secret; the rendered objects must pass that name on as a reference
    // (secretKeyRef, $(VAR)), never create a Secret or a literal value for a key variable.
    const spec: Partial<ModelServiceSpec> = {
      access: key,
      expose: { ...gateway, apiKeyAuth: { secretName: "gw-keys" } },
      tls: { issuerRef: { name: "ca" }, caConfigMap: "ca" },
    };
    for (const engine of [{ type: "vLLM" as const }, { type: "SGLang" as const }]) {
      const out = render(ms({ ...spec, engine }), defaultOperatorConfig);
      expect(Object.values(out).map((o) => o.kind)).not.toContain("Secret");
      const c = engineOf(render(ms({ ...spec, engine }), defaultOperatorConfig).deployment);
      const keyEnv = (c.env ?? []).filter((e) => /API_KEY$/.test(e.name));
      expect(keyEnv.length).toBe(1);
      for (const e of keyEnv) expect(e).toEqual({ name: e.name, valueFrom: ref });
      // The flag carries a reference the kubelet expands, never a literal.
      const i = c.args?.indexOf("--api-key") ?? -1;
      if (i >= 0) expect(c.args?.[i + 1]).toMatch(/^\$\([A-Z_]+\)$/);
    }
  });

  it("rendering is deterministic with every security field", () => {
    const spec: Partial<ModelServiceSpec> = {
      access: { allowFrom: [{ podSelector: {} }], ...key },
      expose: gateway,
      tls: { issuerRef: { name: "ca" }, caConfigMap: "ca" },
    };
    expect(stringify(render(ms(spec), defaultOperatorConfig))).toBe(stringify(render(ms(spec), defaultOperatorConfig)));
  });
});
