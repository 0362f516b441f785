// spec.access, spec.expose and spec.tls: who may call the model, how it is reached from outside
// the cluster, and whether it serves HTTPS. Per-field rules are zod (they become OpenAPI in the
// CRD); rules across fields are CEL only (SECURITY_RULES, on the spec). Every string, list and map
// is bounded, or the API server's CEL cost estimate refuses the CRD.
//
// Self-contained on purpose: schema.ts imports this module, so importing schema.ts here would be a cycle.
import { z } from "zod";

type CelRule = { rule: string; message: string; fieldPath?: string; reason?: string };
const cel = (...rules: CelRule[]) => ({ "x-kubernetes-validations": rules });

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A label or annotation key: an optional DNS subdomain prefix and '/', then a name of at most 63 characters. */
export const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
/** Gateway API hostname (optionally a wildcard "*." prefix). */
const HOSTNAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Characters the Gateway API allows in a path match value. */
const URL_PATH = /^\/([-A-Za-z0-9/._~!$&'()*+,;=:@]|%[0-9a-fA-F]{2})*$/;
/** An environment variable name the shell and Kubernetes' $(VAR) expansion both accept. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const secretName = (what: string) => z.string().min(1).max(253).regex(DNS1123_SUBDOMAIN, `must be a ${what} name (DNS-1123 subdomain)`);

export const labelKey = z
  .string()
  .min(1)
  .max(317)
  .regex(LABEL_KEY, "must be a label key: an optional DNS subdomain and '/', then at most 63 letters, digits, '-', '_' or '.'");
const labelValue = z
  .string()
  .max(63)
  .regex(LABEL_VALUE, "must be a label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit");

const EXISTS_OPERATORS = ["Exists", "DoesNotExist"] as const;

/** A typed, bounded metav1.LabelSelector. An empty selector selects everything, as in NetworkPolicy. */
export const labelSelectorSchema = z
  .object({
    matchLabels: z
      .record(z.string().max(317), labelValue)
      .refine((m) => Object.keys(m).length <= 16, "must have at most 16 entries")
      .optional()
      .describe("Labels that must all match.")
      .meta({
        maxProperties: 16,
        // Map keys carry no maxLength in a structural schema, so their syntax is checked here.
        ...cel({
          rule: "self.all(k, k.size() <= 317 && k.matches('^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$'))",
          message: "matchLabels keys must be label keys: an optional DNS subdomain and '/', then at most 63 letters, digits, '-', '_' or '.'",
        }),
      }),
    matchExpressions: z
      .array(
        z
          .object({
            key: labelKey.describe("The label key."),
            operator: z.enum(["In", "NotIn", ...EXISTS_OPERATORS]).describe("In, NotIn, Exists or DoesNotExist."),
            values: z.array(labelValue).max(16).optional().describe("Values for In and NotIn; must be empty for Exists and DoesNotExist."),
          })
          .describe("A label selector requirement.")
          .meta(
            cel({
              rule: "(self.operator == 'Exists' || self.operator == 'DoesNotExist') == (!has(self.values) || size(self.values) == 0)",
              message: "matchExpressions: values must be empty for Exists and DoesNotExist, and non-empty for In and NotIn",
            }),
          ),
      )
      .max(16)
      .optional()
      .describe("Requirements that must all match."),
  })
  .describe("A label selector (matchLabels and matchExpressions, ANDed). {} selects everything.");

export type LabelSelector = z.infer<typeof labelSelectorSchema>;

export const accessSchema = z
  .object({
    allowFrom: z
      .array(
        z
          .object({
            namespaceSelector: labelSelectorSchema
              .optional()
              .describe("Namespaces whose pods may call the model. {} means every namespace. With podSelector: those pods in those namespaces."),
            podSelector: labelSelectorSchema
              .optional()
              .describe("Pods that may call the model; alone, pods in the ModelService's namespace. {} means every pod there."),
          })
          .describe("A NetworkPolicy peer allowed to reach the serving port.")
          .meta(
            cel({
              rule: "has(self.namespaceSelector) || has(self.podSelector)",
              message: "access.allowFrom: each item needs a namespaceSelector, a podSelector, or both",
            }),
          ),
      )
      .max(16)
      .optional()
      .describe(
        "Who may reach the serving port (a NetworkPolicy selecting the model's pods). Absent: the operator's default (access.default in its config, normally the ModelService's own namespace). The gateway (when spec.expose is set) and the model's own pods are always allowed; [] allows nobody else.",
      ),
    apiKeySecret: z
      .object({
        name: secretName("Secret").describe("Secret in the same namespace."),
        key: z
          .string()
          .min(1)
          .max(253)
          .regex(/^[-._a-zA-Z0-9]+$/, "must be a Secret key: letters, digits, '-', '_' or '.'")
          .describe("Key in the Secret whose value is the API key."),
      })
      .optional()
      .describe(
        "The engine's own API key, passed by reference (secretKeyRef): callers send it as 'Authorization: Bearer <key>'. vLLM, SGLang and TGI only check it on their API paths (/health and /metrics stay open). Triton and Ollama have no such option. The operator never reads the Secret.",
      ),
    apiKeyEnv: z
      .string()
      .min(1)
      .max(128)
      .regex(ENV_NAME, "must be an environment variable name: letters, digits and '_', not starting with a digit")
      .optional()
      .describe("Custom engines only: the environment variable the image reads its API key from; set to the apiKeySecret value."),
  })
  .describe("Who may call the model: network peers (NetworkPolicy) and the engine's API key.")
  .meta(cel({ rule: "!has(self.apiKeyEnv) || has(self.apiKeySecret)", message: "access.apiKeyEnv needs access.apiKeySecret", fieldPath: ".apiKeyEnv" }));

export const exposeSchema = z
  .object({
    parentRefs: z
      .array(
        z
          .object({
            name: secretName("Gateway").describe("Name of the Gateway."),
            namespace: z
              .string()
              .min(1)
              .max(63)
              .regex(DNS1123_LABEL, "must be a namespace name (DNS-1123 label)")
              .optional()
              .describe("Namespace of the Gateway; defaults to the ModelService's. Its listener must allow routes from this namespace."),
            sectionName: z
              .string()
              .min(1)
              .max(253)
              .regex(DNS1123_SUBDOMAIN, "must be a listener name (DNS-1123 subdomain)")
              .optional()
              .describe("Listener of the Gateway to attach to."),
            port: z.number().int().min(1).max(65535).optional().describe("Port of the Gateway to attach to."),
          })
          .describe("A Gateway the route attaches to."),
      )
      .min(1)
      .max(8)
      .describe("Gateways (owned by you or your platform team) the HTTPRoute attaches to. The operator never creates a Gateway."),
    hostnames: z
      .array(z.string().min(1).max(253).regex(HOSTNAME, "must be a hostname such as llm.example.com or *.example.com (lower case, no port)"))
      .max(16)
      .optional()
      .describe("Host names the route answers; empty takes the Gateway listener's."),
    path: z
      .string()
      .min(1)
      .max(256)
      .regex(URL_PATH, "must start with '/' and contain only URL path characters (no spaces)")
      .optional()
      .describe(
        "Path prefix on the gateway (default /). A prefix other than / is replaced by / before the request reaches the engine, so /llama/v1/chat/completions arrives as /v1/chat/completions.",
      )
      .meta(
        cel({
          rule: "!self.contains('//') && !self.contains('/./') && !self.contains('/../') && !self.endsWith('/.') && !self.endsWith('/..') && !self.lowerAscii().contains('%2f')",
          message: "expose.path must not contain '//', '.' or '..' segments, or an encoded '/'",
        }),
      ),
    requestTimeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(86400)
      .optional()
      .describe("Longest a request may take through the gateway (timeouts.request). Gateways default to short timeouts that cut long generations."),
    apiKeyAuth: z
      .object({
        secretName: secretName("Secret").describe(
          "Secret in the same namespace holding the accepted keys: one entry per client, the entry's key the client id and its value that client's API key.",
        ),
      })
      .optional()
      .describe(
        "API-key authentication at the gateway (an Envoy Gateway SecurityPolicy): callers send the key in the x-api-key header. Needs Envoy Gateway; works for every engine.",
      ),
  })
  .describe("Reach the model from outside the cluster: an HTTPRoute (gateway.networking.k8s.io/v1) to an existing Gateway.");

export const tlsSchema = z
  .object({
    issuerRef: z
      .object({
        name: secretName("Issuer").describe("Name of the cert-manager Issuer or ClusterIssuer."),
        kind: z.enum(["Issuer", "ClusterIssuer"]).optional().describe("Issuer (default, in the same namespace) or ClusterIssuer."),
      })
      .describe("The cert-manager issuer that signs the serving certificate."),
    caConfigMap: secretName("ConfigMap")
      .optional()
      .describe(
        "ConfigMap in the same namespace with the issuer's CA under the key ca.crt (e.g. from trust-manager). Required with spec.expose: the gateway checks the pods' certificate against it.",
      ),
  })
  .describe(
    "Serve HTTPS inside the cluster: cert-manager issues a certificate for the Service's DNS names, mounted into the engine. Needs cert-manager. vLLM, SGLang and Custom engines only.",
  );

const noKey = (engine: string): CelRule => ({
  rule: `!has(self.access) || !has(self.access.apiKeySecret) || self.engine.type != '${engine}'`,
  message: `access.apiKeySecret: ${engine} has no API-key option; protect it at the gateway (spec.expose.apiKeyAuth) and with spec.access.allowFrom`,
  fieldPath: ".access.apiKeySecret",
});

const noTls = (engine: string): CelRule => ({
  rule: `!has(self.tls) || self.engine.type != '${engine}'`,
  message: `spec.tls: ${engine} cannot serve HTTPS itself; terminate TLS at the gateway (spec.expose) or use vLLM, SGLang or a Custom image`,
  fieldPath: ".tls",
});

/** Cross-field rules of access, expose and tls, checked by the API server on the spec. */
export const SECURITY_RULES: CelRule[] = [
  noKey("Triton"),
  noKey("Ollama"),
  {
    rule: "!has(self.access) || !has(self.access.apiKeySecret) || self.engine.type != 'Custom' || has(self.access.apiKeyEnv)",
    message: "access.apiKeyEnv is required with access.apiKeySecret on a Custom engine: name the environment variable your image reads its key from",
    fieldPath: ".access.apiKeyEnv",
  },
  {
    rule: "!has(self.access) || !has(self.access.apiKeyEnv) || self.engine.type == 'Custom'",
    message: "access.apiKeyEnv is for Custom engines only: the operator knows where the other engines read their key",
    fieldPath: ".access.apiKeyEnv",
  },
  noTls("TGI"),
  noTls("Ollama"),
  noTls("Triton"),
  {
    rule: "!has(self.tls) || !has(self.expose) || has(self.tls.caConfigMap)",
    message: "spec.tls.caConfigMap is required with spec.expose: the gateway validates the pods' certificate with that CA",
    fieldPath: ".tls.caConfigMap",
  },
];
