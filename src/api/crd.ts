// Generates the CustomResourceDefinition from the zod schemas. The output must be a structural
// schema (https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#specifying-a-structural-schema):
// a type on every node, no $ref, no additionalProperties beside properties.
import { z } from "zod";
import { CLASS_KIND, CLASS_PLURAL, CLASS_SHORT_NAMES, CLASS_SINGULAR, classSpecSchema, DEFAULT_CLASS_ANNOTATION } from "./class-schema.ts";
import {
  GROUP,
  KIND,
  modelServiceSpecSchema,
  modelServiceStatusSchema,
  PLURAL,
  PRINTER_COLUMNS,
  ROOT_RULES,
  SHORT_NAMES,
  SINGULAR,
  VERSION,
} from "./schema.ts";

type Json = { [key: string]: unknown };

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** Turns zod's JSON Schema into a structural OpenAPI v3 schema Kubernetes accepts. */
export function structural(node: unknown): Json {
  if (!isObject(node)) throw new Error(`unexpected schema node: ${JSON.stringify(node)}`);
  const out: Json = {};
  if (node["x-kubernetes-int-or-string"]) {
    // int-or-string: both branches listed, no top-level type (how Kubernetes models Quantity).
    const branches = (node.anyOf as Json[] | undefined) ?? [];
    const str = branches.find((b) => b.type === "string");
    out.anyOf = [{ type: "integer" }, { type: "string" }];
    if (str?.pattern) out.pattern = str.pattern;
    out["x-kubernetes-int-or-string"] = true;
    if (node.description) out.description = node.description;
    if (node["x-kubernetes-validations"]) out["x-kubernetes-validations"] = node["x-kubernetes-validations"];
    return out;
  }
  for (const [key, value] of Object.entries(node)) {
    switch (key) {
      case "$schema":
      case "propertyNames":
      case "id":
        break;
      case "properties":
        out.properties = Object.fromEntries(Object.entries(value as Json).map(([k, v]) => [k, structural(v)]));
        break;
      case "items":
        out.items = structural(value);
        break;
      case "additionalProperties":
        if (isObject(value) && Object.keys(value).length > 0) out.additionalProperties = structural(value);
        break;
      case "anyOf":
      case "oneOf":
      case "allOf":
        throw new Error(`${key} is not structural; model it with CEL instead: ${JSON.stringify(node).slice(0, 200)}`);
      default:
        out[key] = value;
    }
  }
  if (out["x-kubernetes-preserve-unknown-fields"]) {
    delete out.properties;
    delete out.additionalProperties;
  }
  if (!out.type) throw new Error(`schema node without a type: ${JSON.stringify(node).slice(0, 200)}`);
  if (out.properties && Object.keys(out.properties as Json).length === 0) delete out.properties;
  if (out.properties && (out.required as string[] | undefined)?.length === 0) delete out.required;
  return out;
}

const toOpenApi = (schema: z.ZodType) => structural(z.toJSONSchema(schema, { io: "input", target: "openapi-3.0", reused: "inline", unrepresentable: "throw" }));

/** The ModelService CRD as a plain object. */
export function modelServiceCrd(): Json {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: `${PLURAL}.${GROUP}`,
      labels: { "app.kubernetes.io/name": "modelservice-operator", "app.kubernetes.io/part-of": "modelservice-operator" },
    },
    spec: {
      group: GROUP,
      names: { kind: KIND, listKind: `${KIND}List`, plural: PLURAL, singular: SINGULAR, shortNames: SHORT_NAMES, categories: ["ai", "all-models"] },
      scope: "Namespaced",
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: {
            status: {},
            scale: { specReplicasPath: ".spec.replicas", statusReplicasPath: ".status.replicas", labelSelectorPath: ".status.selector" },
          },
          additionalPrinterColumns: PRINTER_COLUMNS,
          schema: {
            openAPIV3Schema: {
              type: "object",
              description:
                "ModelService serves a model on GPUs: the operator turns it into a Deployment, a Service and an autoscaler, and reports in status whether the model is serving and, if not, why.",
              required: ["spec"],
              properties: {
                apiVersion: { type: "string", description: "APIVersion of this object: modelservice.dev/v1alpha1." },
                kind: { type: "string", description: "Kind of this object: ModelService." },
                // Declared only so the name rule (ROOT_RULES) can point its fieldPath at metadata.name.
                metadata: {
                  type: "object",
                  properties: { name: { type: "string", description: "Name of this ModelService; its children are named after it." } },
                },
                spec: toOpenApi(modelServiceSpecSchema),
                status: toOpenApi(modelServiceStatusSchema),
              },
              "x-kubernetes-validations": ROOT_RULES,
            },
          },
        },
      ],
    },
  };
}

/** The ModelServiceClass CRD (cluster-scoped, no status): set up by the platform team. */
export function modelServiceClassCrd(): Json {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: `${CLASS_PLURAL}.${GROUP}`,
      labels: { "app.kubernetes.io/name": "modelservice-operator", "app.kubernetes.io/part-of": "modelservice-operator" },
    },
    spec: {
      group: GROUP,
      names: {
        kind: CLASS_KIND,
        listKind: `${CLASS_KIND}List`,
        plural: CLASS_PLURAL,
        singular: CLASS_SINGULAR,
        shortNames: CLASS_SHORT_NAMES,
        categories: ["ai"],
      },
      scope: "Cluster",
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          additionalPrinterColumns: [
            {
              name: "Default",
              type: "string",
              jsonPath: `.metadata.annotations.${DEFAULT_CLASS_ANNOTATION.replaceAll(".", "\\.")}`,
              description: "Whether ModelServices without spec.className get this class.",
            },
            { name: "Profile", type: "string", jsonPath: ".spec.securityProfile", description: "Pod security profile (empty: Restricted)." },
            { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
          ],
          schema: {
            openAPIV3Schema: {
              type: "object",
              description:
                "ModelServiceClass is what the platform team decides for the ModelServices that name it (spec.className): the GPU pool's scheduling, what tenants may set themselves, defaults and the pod security profile.",
              properties: {
                apiVersion: { type: "string", description: "APIVersion of this object: modelservice.dev/v1alpha1." },
                kind: { type: "string", description: "Kind of this object: ModelServiceClass." },
                metadata: { type: "object" },
                spec: toOpenApi(classSpecSchema),
              },
            },
          },
        },
      ],
    },
  };
}
