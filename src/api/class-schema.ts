// The ModelServiceClass v1alpha1 API (cluster-scoped): what the platform team decides for every
// ModelService of a class, like a StorageClass or an IngressClass. Tenants name a class in
// spec.className; they cannot change it. The CRD is generated from this schema (src/api/crd.ts), and
// its CEL rules have cases in test/support/class-rule-cases.ts.
import { z } from "zod";
import { ENGINE_TYPES, GROUP, modelServiceSpecSchema, schedulingSchema, VERSION } from "./schema.ts";

export const CLASS_KIND = "ModelServiceClass";
export const CLASS_PLURAL = "modelserviceclasses";
export const CLASS_SINGULAR = "modelserviceclass";
export const CLASS_SHORT_NAMES = ["msvcclass"];
export const CLASS_API_VERSION = `${GROUP}/${VERSION}`;
/** On a class: "true" makes it the class of every ModelService without spec.className. */
export const DEFAULT_CLASS_ANNOTATION = "modelservice.dev/is-default-class";

type CelRule = { rule: string; message: string; fieldPath?: string; reason?: string };
const cel = (...rules: CelRule[]) => ({ "x-kubernetes-validations": rules });
const QUANTITY = /^(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const quantity = (description: string, ...rules: CelRule[]) =>
  z
    .union([z.number().int().min(0), z.string().max(64).regex(QUANTITY, "must be a Kubernetes quantity such as 1Ti or 200Gi")])
    .describe(description)
    .meta({ "x-kubernetes-int-or-string": true, ...cel(...rules) });

const positive = (field: string): CelRule => ({
  rule: "type(self) == int ? self > 0 : quantity(self).isGreaterThan(quantity('0'))",
  message: `${field} must be greater than 0`,
});

// "registry.example.com" as a prefix would also allow "registry.example.com.evil.io/x".
const imagePrefixes = z
  .array(z.string().min(1).max(512))
  .max(32)
  .describe('Image prefixes, e.g. registry.example.com/ or vllm/vllm-openai:; "*" allows any.')
  .meta(
    cel({
      rule: "self.all(p, p == '*' || p.endsWith('/') || p.endsWith(':') || p.endsWith('@'))",
      message: "allow.images prefixes must end with '/', ':' or '@' (or be \"*\"): registry.example.com would also allow registry.example.com.evil.io",
    }),
  );

const keyPatterns = (what: string) =>
  z
    .array(
      z
        .string()
        .min(1)
        .max(317)
        .regex(/^[A-Za-z0-9*][-A-Za-z0-9_.*/]*$/, "must be a key or a pattern with * such as example.com/*"),
    )
    .max(32)
    .optional()
    .describe(`${what} keys (or patterns with *, e.g. team.example.com/*) that tenants may set although the operator guards them.`);

export const classSpecSchema = z
  .object({
    scheduling: schedulingSchema
      .optional()
      .describe(
        "Imposed on every pod of the class (e.g. the GPU pool's node selector, tolerations, priority and runtime class); merged with the tenant's own spec.scheduling when allow.scheduling is true, the class winning.",
      ),
    allow: z
      .object({
        scheduling: z.boolean().optional().describe("Whether tenants may set spec.scheduling at all (default false)."),
        serviceTypes: z
          .array(z.enum(["ClusterIP", "NodePort", "LoadBalancer"]))
          .min(1)
          .max(3)
          .optional()
          .describe("Service types tenants may ask for in spec.service.type (default [ClusterIP]).")
          .meta({ "x-kubernetes-list-type": "set" }),
        storageClasses: z
          .array(z.string().min(1).max(253).regex(DNS1123_SUBDOMAIN, "must be a StorageClass name"))
          .max(32)
          .optional()
          .describe("StorageClasses tenants may name in spec.cache.storageClassName (default none: only the cluster's default class).")
          .meta({ "x-kubernetes-list-type": "set" }),
        maxCacheSize: quantity("Largest spec.cache.size (default: no limit beyond the namespace's ResourceQuota).", positive("allow.maxCacheSize")).optional(),
        images: z
          .record(z.string().max(16), imagePrefixes)
          .refine((m) => Object.keys(m).length <= ENGINE_TYPES.length, `must have at most ${ENGINE_TYPES.length} entries`)
          .optional()
          .describe(
            "Allowed spec.engine.image prefixes per engine type (vLLM, SGLang, TGI, Ollama, Triton, Custom). An engine not listed may only use the operator's default image (Custom: none).",
          )
          .meta({
            maxProperties: ENGINE_TYPES.length,
            ...cel({
              rule: `self.all(k, k in [${ENGINE_TYPES.map((t) => `'${t}'`).join(", ")}])`,
              message: `allow.images keys must be engine types: ${ENGINE_TYPES.join(", ")}`,
            }),
          }),
        wakeHosts: z
          .array(
            z
              .string()
              .min(1)
              .max(253)
              .regex(/^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/, "must be a host name or *.SUFFIX, lower case"),
          )
          .max(32)
          .optional()
          .describe(
            "Outside host names (e.g. llm.example.com, or *.team-a.example.com) tenants may claim in spec.autoscaling.wake.hosts on the shared KEDA HTTP interceptor. Names of the ModelService's own namespace are always allowed, other namespaces' never; every namespace using the class may claim these. Default: none.",
          )
          .meta({ "x-kubernetes-list-type": "set" }),
        podLabelKeys: keyPatterns("Pod label"),
        podAnnotationKeys: keyPatterns("Pod annotation"),
      })
      .optional()
      .describe("What tenants may set themselves; anything not allowed here is a ClassViolation."),
    defaults: z
      .object({
        resources: modelServiceSpecSchema.shape.resources.describe("Engine container resources when the ModelService sets none."),
        ephemeralStorage: quantity(
          "Ephemeral-storage limit of the engine when its weights are downloaded onto the node's disk (no cache); overrides the operator's.",
          positive("defaults.ephemeralStorage"),
        ).optional(),
      })
      .optional()
      .describe("Defaults for ModelServices of this class."),
    securityProfile: z
      .enum(["Restricted", "Baseline"])
      .optional()
      .describe("Pod security profile (default Restricted, which passes the restricted Pod Security Standard); Baseline keeps the image's own user."),
  })
  .describe("What a ModelService of this class may do and what it gets.");

export const modelServiceClassSchema = z.object({
  apiVersion: z.literal(CLASS_API_VERSION),
  kind: z.literal(CLASS_KIND),
  metadata: z.looseObject({
    name: z.string(),
    annotations: z.record(z.string(), z.string()).optional(),
    creationTimestamp: z.string().optional(),
    resourceVersion: z.string().optional(),
  }),
  spec: classSpecSchema,
});

export type ModelServiceClass = z.infer<typeof modelServiceClassSchema>;
export type ModelServiceClassSpec = z.infer<typeof classSpecSchema>;
