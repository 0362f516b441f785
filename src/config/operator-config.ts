// The operator's own configuration: defaults that depend on the installation (engine images, GPU
// resource and label names, KEDA). Renderers take it as input, so defaults are applied when
// rendering children and never written into a ModelService's spec.
import { z } from "zod";
import { ENGINE_TYPES } from "../api/schema.ts";
import { labelKey, labelSelectorSchema } from "../api/security-schema.ts";

const image = z.string().min(1).max(512);

// The CRD checks these rules with CEL; the config file has no API server in front, so zod checks them.
const configSelector = labelSelectorSchema.superRefine((sel, ctx) => {
  for (const k of Object.keys(sel.matchLabels ?? {})) {
    const r = labelKey.safeParse(k);
    if (!r.success) ctx.addIssue({ code: "custom", path: ["matchLabels", k], message: r.error.issues[0]?.message ?? "must be a label key" });
  }
  for (const [i, e] of (sel.matchExpressions ?? []).entries()) {
    const exists = e.operator === "Exists" || e.operator === "DoesNotExist";
    if (exists === (e.values?.length ?? 0) > 0) {
      ctx.addIssue({
        code: "custom",
        path: ["matchExpressions", i, "values"],
        message: "must be empty for Exists and DoesNotExist, and non-empty for In and NotIn",
      });
    }
  }
});

export const operatorConfigSchema = z.strictObject({
  images: z
    .object(
      Object.fromEntries(ENGINE_TYPES.filter((t) => t !== "Custom").map((t) => [t, image])) as Record<
        Exclude<(typeof ENGINE_TYPES)[number], "Custom">,
        typeof image
      >,
    )
    .describe("Default image per engine."),
  /** Image of the init container that copies s3:// and gs:// models into the cache volume. */
  downloaderImages: z.strictObject({ s3: image, gs: image }),
  gpu: z.strictObject({
    resourceName: z.string().min(1).describe("Default GPU extended resource."),
    productLabel: z.string().min(1).describe("Node label with the GPU product (GPU feature discovery)."),
    memoryLabel: z.string().min(1).describe("Node label with the memory per GPU in MiB."),
    taintKey: z.string().min(1).describe("Key of the taint GPU nodes carry; tolerated when gpu.count > 0."),
  }),
  defaults: z.strictObject({
    startupTimeoutSeconds: z.number().int().min(30),
    /** /dev/shm size for multi-GPU replicas (NCCL needs it); single-GPU replicas get it only when asked. */
    sharedMemory: z.string().min(1),
    servicePort: z.number().int().min(1).max(65535),
    serviceType: z.enum(["ClusterIP", "NodePort", "LoadBalancer"]),
  }),
  keda: z.strictObject({
    enabled: z.boolean().describe("Render KEDA ScaledObjects (needed for engine-metric and GPU-utilisation targets)."),
    prometheusAddress: z.string().describe("Prometheus the ScaledObjects query."),
    httpAddOn: z
      .strictObject({
        scalerAddress: z.string().min(1).describe("gRPC address (host:port) of the HTTP add-on's external scaler, for the external-push trigger."),
        interceptorNamespaceSelector: configSelector.describe("Namespaces where the add-on's interceptor runs (allowed to reach the model port)."),
        interceptorPodSelector: configSelector.describe("The interceptor's pods in those namespaces."),
      })
      .describe("The KEDA HTTP add-on (autoscaling.wake.mode Request): where its scaler and interceptor run."),
  }),
  clusterDomain: z.string().min(1),
  /** Pod security profile of model pods (absent: Restricted, user/group 1000, 200Gi ephemeral storage). */
  podSecurity: z
    .strictObject({
      profile: z.enum(["Restricted", "Baseline"]).describe("Restricted passes the restricted Pod Security Standard; Baseline keeps the image's user."),
      runAsUser: z.number().int().min(1),
      runAsGroup: z.number().int().min(1),
      fsGroup: z.number().int().min(1),
      ephemeralStorageLimit: z.string().min(1).describe("Engine ephemeral-storage limit when weights are downloaded onto the node's disk (no cache)."),
    })
    .optional(),
  access: z.strictObject({
    default: z
      .enum(["Namespace", "GatewayOnly", "None"])
      .describe(
        "Who may reach a model whose spec.access.allowFrom is unset: its own namespace (Namespace), only the gateway (GatewayOnly), or anyone in the cluster (None: no NetworkPolicy).",
      ),
    monitoringNamespaceSelector: configSelector.optional().describe("Namespaces allowed to scrape the metrics port; unset allows none."),
    gatewayNamespaceSelector: configSelector
      .optional()
      .describe("Namespaces where the gateway's proxies run; unset uses the namespaces of each route's parentRefs."),
  }),
});

export type OperatorConfig = z.infer<typeof operatorConfigSchema>;

export const defaultOperatorConfig: OperatorConfig = {
  images: {
    vLLM: "vllm/vllm-openai:v0.11.0",
    SGLang: "lmsysorg/sglang:v0.5.3-cu126",
    TGI: "ghcr.io/huggingface/text-generation-inference:3.3.6",
    Ollama: "ollama/ollama:0.12.6",
    Triton: "nvcr.io/nvidia/tritonserver:25.09-py3",
  },
  downloaderImages: { s3: "amazon/aws-cli:2.31.13", gs: "gcr.io/google.com/cloudsdktool/google-cloud-cli:543.0.0-stable" },
  gpu: {
    resourceName: "nvidia.com/gpu",
    productLabel: "nvidia.com/gpu.product",
    memoryLabel: "nvidia.com/gpu.memory",
    taintKey: "nvidia.com/gpu",
  },
  defaults: { startupTimeoutSeconds: 1800, sharedMemory: "16Gi", servicePort: 80, serviceType: "ClusterIP" },
  keda: {
    enabled: false,
    prometheusAddress: "http://prometheus-operated.monitoring.svc:9090",
    // The add-on's own install (its config/ manifests and Helm chart): namespace keda, these pod labels.
    httpAddOn: {
      scalerAddress: "keda-add-ons-http-external-scaler.keda:9090",
      interceptorNamespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "keda" } },
      interceptorPodSelector: { matchLabels: { "app.kubernetes.io/component": "add-on", "app.kubernetes.io/instance": "interceptor" } },
    },
  },
  clusterDomain: "cluster.local",
  // The namespace is the trust boundary already: whoever can run pods there can use its Secrets.
  access: { default: "Namespace" },
};
