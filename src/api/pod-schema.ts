// Typed, bounded versions of the core/v1 and autoscaling/v2 objects a ModelService passes through
// (tolerations, affinity, env valueFrom, HPA metrics and behavior). An open object could be any
// size: 1,000 empty affinity terms made a 1.2 MB Deployment, copied into every ReplicaSet and Pod.
// Each list has a cap; fields the schema does not know are pruned by the API server, so they can
// no longer come back as a 500 from the child's strict decoding.
import { z } from "zod";

type CelRule = { rule: string; message: string; fieldPath?: string; reason?: string };
const cel = (...rules: CelRule[]) => ({ "x-kubernetes-validations": rules });

const QUANTITY = /^(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$/;
const quantityValue = (description: string) =>
  z
    .union([z.number().int().min(0), z.string().max(64).regex(QUANTITY, "must be a Kubernetes quantity such as 16Gi or 500m")])
    .describe(description)
    .meta({ "x-kubernetes-int-or-string": true });

/** Caps on the pass-through lists (see README "Bounds"). */
export const BOUNDS = { tolerations: 32, nodeTerms: 8, expressions: 16, values: 64, podTerms: 8, namespaces: 16, metrics: 8, policies: 8 } as const;

const key = z.string().min(1).max(317).describe("A label key.");
const labelValues = z.array(z.string().max(63)).max(BOUNDS.values).describe("Label values.");

export const tolerationSchema = z
  .object({
    key: z.string().max(317).optional().describe("Taint key; empty with operator Exists tolerates every taint."),
    operator: z.enum(["Exists", "Equal"]).optional().describe("Exists or Equal (default Equal)."),
    value: z.string().max(63).optional().describe("Taint value, with operator Equal."),
    effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]).optional().describe("Taint effect; empty matches every effect."),
    tolerationSeconds: z.number().int().optional().describe("How long a NoExecute taint is tolerated."),
  })
  .describe("A core/v1 Toleration.");

const nodeSelectorRequirement = z
  .object({
    key,
    operator: z.enum(["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]).describe("In, NotIn, Exists, DoesNotExist, Gt or Lt."),
    values: labelValues.optional(),
  })
  .describe("A core/v1 NodeSelectorRequirement.");

const nodeSelectorTerm = z
  .object({
    matchExpressions: z.array(nodeSelectorRequirement).max(BOUNDS.expressions).optional().describe("Requirements on node labels."),
    matchFields: z.array(nodeSelectorRequirement).max(BOUNDS.expressions).optional().describe("Requirements on node fields."),
  })
  .describe("A core/v1 NodeSelectorTerm.");

const labelSelector = z
  .object({
    matchLabels: z
      .record(z.string().max(317), z.string().max(63))
      .refine((m) => Object.keys(m).length <= BOUNDS.expressions, `must have at most ${BOUNDS.expressions} entries`)
      .optional()
      .describe("Labels the pods must have.")
      .meta({ maxProperties: BOUNDS.expressions }),
    matchExpressions: z
      .array(
        z.object({
          key,
          operator: z.enum(["In", "NotIn", "Exists", "DoesNotExist"]).describe("In, NotIn, Exists or DoesNotExist."),
          values: labelValues.optional(),
        }),
      )
      .max(BOUNDS.expressions)
      .optional()
      .describe("Requirements on pod labels."),
  })
  .describe("A metav1 LabelSelector.");

const matchLabelsOnly = z.object({ matchLabels: labelSelector.shape.matchLabels }).describe("A metav1 LabelSelector (matchLabels only).");

const NON_EMPTY_SELECTOR =
  "has(t.labelSelector) && ((has(t.labelSelector.matchLabels) && size(t.labelSelector.matchLabels) > 0) || (has(t.labelSelector.matchExpressions) && size(t.labelSelector.matchExpressions) > 0))";

const podAffinityTerm = z
  .object({
    labelSelector: labelSelector.optional(),
    namespaceSelector: matchLabelsOnly.optional(),
    namespaces: z.array(z.string().max(63)).max(BOUNDS.namespaces).optional().describe("Namespaces the selector applies to."),
    topologyKey: z.string().min(1).max(317).describe("Node label whose value defines the topology domain."),
    matchLabelKeys: z.array(z.string().max(317)).max(BOUNDS.expressions).optional().describe("Pod label keys merged into the selector."),
    mismatchLabelKeys: z.array(z.string().max(317)).max(BOUNDS.expressions).optional().describe("Pod label keys merged into the selector, negated."),
  })
  .describe("A core/v1 PodAffinityTerm.");

const weighted = <T extends z.ZodType>(field: string, term: T) =>
  z
    .array(z.object({ weight: z.number().int().min(1).max(100).describe("Weight, 1-100."), [field]: term }))
    .max(BOUNDS.podTerms)
    .optional()
    .describe("Preferred terms, each with a weight.");

// A required term with an empty selector matches every pod; with a namespace selector too, every
// pod of the cluster: an anti-affinity like that keeps everyone else off the node.
const requiredPodTerms = (what: string, rules: CelRule[]) =>
  z
    .array(podAffinityTerm)
    .max(BOUNDS.podTerms)
    .optional()
    .describe(`Required ${what} terms.`)
    .meta(cel(...rules));

export const affinitySchema = z
  .object({
    nodeAffinity: z
      .object({
        requiredDuringSchedulingIgnoredDuringExecution: z
          .object({ nodeSelectorTerms: z.array(nodeSelectorTerm).min(1).max(BOUNDS.nodeTerms).describe("Any of these terms.") })
          .optional()
          .describe("Node requirements."),
        preferredDuringSchedulingIgnoredDuringExecution: weighted("preference", nodeSelectorTerm),
      })
      .optional()
      .describe("A core/v1 NodeAffinity."),
    podAffinity: z
      .object({
        requiredDuringSchedulingIgnoredDuringExecution: requiredPodTerms("pod affinity", [
          { rule: `self.all(t, ${NON_EMPTY_SELECTOR})`, message: "required pod affinity terms need a non-empty labelSelector" },
        ]),
        preferredDuringSchedulingIgnoredDuringExecution: weighted("podAffinityTerm", podAffinityTerm),
      })
      .optional()
      .describe("A core/v1 PodAffinity."),
    podAntiAffinity: z
      .object({
        requiredDuringSchedulingIgnoredDuringExecution: requiredPodTerms("pod anti-affinity", [
          {
            rule: `self.all(t, ${NON_EMPTY_SELECTOR})`,
            message: "required pod anti-affinity terms need a non-empty labelSelector: an empty one keeps every other pod off the node",
          },
          {
            rule: "self.all(t, !has(t.namespaceSelector) && !has(t.namespaces))",
            message: "required pod anti-affinity terms apply to the ModelService's own namespace only: remove namespaces and namespaceSelector",
          },
        ]),
        preferredDuringSchedulingIgnoredDuringExecution: weighted("podAffinityTerm", podAffinityTerm),
      })
      .optional()
      .describe("A core/v1 PodAntiAffinity."),
  })
  .describe("A core/v1 Affinity, merged with the GPU node affinity.");

const keyRef = (what: string) =>
  z
    .object({
      name: z.string().min(1).max(253).describe(`Name of the ${what}.`),
      key: z.string().min(1).max(253).describe(`Key in the ${what}.`),
      optional: z.boolean().optional().describe(`Whether the ${what} or key may be missing.`),
    })
    .describe(`A key of a ${what} in the same namespace.`);

export const envVarSourceSchema = z
  .object({
    secretKeyRef: keyRef("Secret").optional(),
    configMapKeyRef: keyRef("ConfigMap").optional(),
    fieldRef: z
      .object({
        fieldPath: z.string().min(1).max(256).describe("e.g. metadata.name, status.podIP."),
        apiVersion: z.string().max(64).optional().describe("Schema version of fieldPath (default v1)."),
      })
      .optional()
      .describe("A field of the pod."),
    resourceFieldRef: z
      .object({
        resource: z.string().min(1).max(253).describe("e.g. limits.memory."),
        containerName: z.string().max(253).optional().describe("Container (default: this one)."),
        divisor: quantityValue("Unit of the value.").optional(),
      })
      .optional()
      .describe("A resource of the container."),
  })
  .describe("Source of the value, as in core/v1 EnvVarSource: exactly one of secretKeyRef, configMapKeyRef, fieldRef, resourceFieldRef.")
  .meta(
    cel({
      rule: "(has(self.secretKeyRef) ? 1 : 0) + (has(self.configMapKeyRef) ? 1 : 0) + (has(self.fieldRef) ? 1 : 0) + (has(self.resourceFieldRef) ? 1 : 0) == 1",
      message: "env valueFrom must set exactly one of secretKeyRef, configMapKeyRef, fieldRef, resourceFieldRef",
    }),
  );

const metricTarget = z
  .object({
    type: z.enum(["Utilization", "Value", "AverageValue"]).describe("Utilization, Value or AverageValue."),
    value: quantityValue("Target value.").optional(),
    averageValue: quantityValue("Target average value per pod.").optional(),
    averageUtilization: z.number().int().min(1).max(1000).optional().describe("Target average utilisation, percent of the request."),
  })
  .describe("An autoscaling/v2 MetricTarget.");

const metricIdentifier = z
  .object({ name: z.string().min(1).max(253).describe("Metric name."), selector: matchLabelsOnly.optional() })
  .describe("An autoscaling/v2 MetricIdentifier.");

export const metricSpecSchema = z
  .object({
    type: z.enum(["Resource", "ContainerResource", "Pods", "Object", "External"]).describe("Which source below is used."),
    resource: z
      .object({ name: z.string().min(1).max(253).describe("cpu or memory."), target: metricTarget })
      .optional()
      .describe("A resource of the pods."),
    containerResource: z
      .object({
        name: z.string().min(1).max(253).describe("cpu or memory."),
        container: z.string().min(1).max(253).describe("The container."),
        target: metricTarget,
      })
      .optional()
      .describe("A resource of one container."),
    pods: z.object({ metric: metricIdentifier, target: metricTarget }).optional().describe("A per-pod custom metric."),
    object: z
      .object({
        describedObject: z
          .object({
            apiVersion: z.string().max(253).optional().describe("API version."),
            kind: z.string().min(1).max(63).describe("Kind."),
            name: z.string().min(1).max(253).describe("Name."),
          })
          .describe("The object."),
        metric: metricIdentifier,
        target: metricTarget,
      })
      .optional()
      .describe("A metric of another object."),
    external: z.object({ metric: metricIdentifier, target: metricTarget }).optional().describe("A metric from outside the cluster."),
  })
  .describe("An autoscaling/v2 MetricSpec.");

const scalingRules = z
  .object({
    stabilizationWindowSeconds: z.number().int().min(0).max(3600).optional().describe("Seconds of past recommendations considered (whole seconds)."),
    selectPolicy: z.enum(["Max", "Min", "Disabled"]).optional().describe("Max, Min or Disabled."),
    policies: z
      .array(
        z.object({
          type: z.enum(["Pods", "Percent"]).describe("Pods or Percent."),
          value: z.number().int().min(1).max(100000).describe("Pods or percent per period."),
          periodSeconds: z.number().int().min(1).max(1800).describe("Period in seconds."),
        }),
      )
      .max(BOUNDS.policies)
      .optional()
      .describe("Scaling policies."),
  })
  .describe("autoscaling/v2 HPAScalingRules.");

export const behaviorSchema = z
  .object({ scaleUp: scalingRules.optional(), scaleDown: scalingRules.optional() })
  .describe("autoscaling/v2 HorizontalPodAutoscalerBehavior (scale-up and scale-down policies).");
