// Admission cases for spec.access, spec.expose and spec.tls: what the CRD (OpenAPI + CEL) must
// admit and what it must reject, with the field the API server names and part of its message.
// `spec` is merged (one level deep) over BASE_SPEC.
export type RuleCase = {
  name: string;
  spec: Record<string, unknown>;
  expect: "valid" | { path: string; message: string };
};

export const BASE_SPEC = { model: { uri: "hf://Qwen/Qwen2.5-0.5B-Instruct" }, engine: { type: "vLLM" }, gpu: { count: 1 } };

export const specOf = (c: RuleCase): Record<string, unknown> => ({ ...BASE_SPEC, ...c.spec });

const gateway = { parentRefs: [{ name: "public", namespace: "gateways" }] };
const issuer = { issuerRef: { name: "cluster-ca", kind: "ClusterIssuer" } };
const key = { apiKeySecret: { name: "llm-key", key: "token" } };
const ollama = { model: { uri: "ollama://qwen2.5:0.5b" }, engine: { type: "Ollama" }, gpu: { count: 0 } };
const triton = { model: { uri: "pvc://models/triton" }, engine: { type: "Triton" } };
const tgi = { engine: { type: "TGI" } };
const custom = { engine: { type: "Custom", image: "example.com/my-engine:1.0" } };
const peer = (p: Record<string, unknown>) => ({ access: { allowFrom: [p] } });

export const SECURITY_RULE_CASES: RuleCase[] = [
  // Admitted.
  {
    name: "vLLM with every security field",
    spec: {
      access: { allowFrom: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "apps" } } }], ...key },
      expose: {
        ...gateway,
        hostnames: ["llm.example.com", "*.models.example.com"],
        path: "/llama",
        requestTimeoutSeconds: 600,
        apiKeyAuth: { secretName: "gw-keys" },
      },
      tls: { ...issuer, caConfigMap: "cluster-ca" },
    },
    expect: "valid",
  },
  { name: "SGLang with an API key and TLS", spec: { engine: { type: "SGLang" }, access: key, tls: issuer }, expect: "valid" },
  { name: "TGI with an API key", spec: { ...tgi, access: key }, expect: "valid" },
  { name: "Custom with an API key, its env variable, and TLS", spec: { ...custom, access: { ...key, apiKeyEnv: "API_TOKEN" }, tls: issuer }, expect: "valid" },
  {
    name: "Triton protected at the gateway and by network peers",
    spec: { ...triton, ...peer({ podSelector: {} }), expose: { ...gateway, apiKeyAuth: { secretName: "gw-keys" } } },
    expect: "valid",
  },
  { name: "an empty namespaceSelector (every namespace)", spec: peer({ namespaceSelector: {} }), expect: "valid" },
  { name: "allowFrom [] (only the gateway and the model's own pods)", spec: { access: { allowFrom: [] } }, expect: "valid" },
  {
    name: "matchExpressions In with values, Exists without",
    spec: peer({
      namespaceSelector: {
        matchExpressions: [
          { key: "team", operator: "In", values: ["a", "b"] },
          { key: "example.com/serving", operator: "Exists" },
        ],
      },
    }),
    expect: "valid",
  },
  { name: "TLS without expose needs no caConfigMap", spec: { tls: issuer }, expect: "valid" },
  { name: "expose with the default path", spec: { expose: gateway }, expect: "valid" },

  // Rejected: options the engine does not have.
  {
    name: "an API key on Triton",
    spec: { ...triton, access: key },
    expect: { path: "spec.access.apiKeySecret", message: "Triton has no API-key option; protect it at the gateway" },
  },
  {
    name: "an API key on Ollama",
    spec: { ...ollama, access: key },
    expect: { path: "spec.access.apiKeySecret", message: "Ollama has no API-key option; protect it at the gateway" },
  },
  {
    name: "a Custom API key without apiKeyEnv",
    spec: { ...custom, access: key },
    expect: { path: "spec.access.apiKeyEnv", message: "access.apiKeyEnv is required with access.apiKeySecret on a Custom engine" },
  },
  {
    name: "apiKeyEnv on vLLM",
    spec: { access: { ...key, apiKeyEnv: "X" } },
    expect: { path: "spec.access.apiKeyEnv", message: "access.apiKeyEnv is for Custom engines only" },
  },
  {
    name: "apiKeyEnv without apiKeySecret",
    spec: { ...custom, access: { apiKeyEnv: "X" } },
    expect: { path: "spec.access.apiKeyEnv", message: "access.apiKeyEnv needs access.apiKeySecret" },
  },
  { name: "TLS on TGI", spec: { ...tgi, tls: issuer }, expect: { path: "spec.tls", message: "spec.tls: TGI cannot serve HTTPS itself" } },
  { name: "TLS on Ollama", spec: { ...ollama, tls: issuer }, expect: { path: "spec.tls", message: "spec.tls: Ollama cannot serve HTTPS itself" } },
  { name: "TLS on Triton", spec: { ...triton, tls: issuer }, expect: { path: "spec.tls", message: "spec.tls: Triton cannot serve HTTPS itself" } },

  // Rejected: routes and TLS that cannot work.
  {
    name: "a route with an empty parentRefs list",
    spec: { expose: { parentRefs: [] } },
    expect: { path: "spec.expose.parentRefs", message: "should have at least 1 items" },
  },
  {
    name: "a route without parentRefs",
    spec: { expose: { hostnames: ["llm.example.com"] } },
    expect: { path: "spec.expose.parentRefs", message: "Required value" },
  },
  {
    name: "TLS and expose without caConfigMap",
    spec: { expose: gateway, tls: issuer },
    expect: { path: "spec.tls.caConfigMap", message: "spec.tls.caConfigMap is required with spec.expose" },
  },
  {
    name: "a bad hostname",
    spec: { expose: { ...gateway, hostnames: ["LLM.Example.com:443"] } },
    expect: { path: "spec.expose.hostnames[0]", message: "should match" },
  },
  { name: "a path without a leading /", spec: { expose: { ...gateway, path: "llama" } }, expect: { path: "spec.expose.path", message: "should match" } },
  {
    name: "a path with a .. segment",
    spec: { expose: { ...gateway, path: "/llama/../admin" } },
    expect: { path: "spec.expose.path", message: "must not contain '//', '.' or '..' segments" },
  },
  {
    name: "a path ending in ..",
    spec: { expose: { ...gateway, path: "/llama/.." } },
    expect: { path: "spec.expose.path", message: "must not contain '//', '.' or '..' segments" },
  },
  { name: "a path with whitespace", spec: { expose: { ...gateway, path: "/llama chat" } }, expect: { path: "spec.expose.path", message: "should match" } },

  // Rejected: selectors.
  {
    name: "an allowFrom item with neither selector",
    spec: peer({}),
    expect: { path: "spec.access.allowFrom[0]", message: "each item needs a namespaceSelector, a podSelector, or both" },
  },
  {
    name: "matchExpressions Exists with values",
    spec: peer({ namespaceSelector: { matchExpressions: [{ key: "team", operator: "Exists", values: ["a"] }] } }),
    expect: { path: "spec.access.allowFrom[0].namespaceSelector.matchExpressions[0]", message: "values must be empty for Exists and DoesNotExist" },
  },
  {
    name: "matchExpressions In without values",
    spec: peer({ podSelector: { matchExpressions: [{ key: "team", operator: "In" }] } }),
    expect: { path: "spec.access.allowFrom[0].podSelector.matchExpressions[0]", message: "non-empty for In and NotIn" },
  },
  {
    name: "a matchLabels key that is not a label key",
    spec: peer({ podSelector: { matchLabels: { "bad key!": "x" } } }),
    expect: { path: "spec.access.allowFrom[0].podSelector.matchLabels", message: "matchLabels keys must be label keys" },
  },
  {
    name: "a Secret key with a slash",
    spec: { access: { apiKeySecret: { name: "llm-key", key: "a/b" } } },
    expect: { path: "spec.access.apiKeySecret.key", message: "should match" },
  },
];
