// Pure renderers: a ModelService and the operator config in, the desired children out. No I/O,
// deterministic (same input, byte-identical YAML), defaults applied here and never written to spec.
import type {
  KubernetesObject,
  V1Deployment,
  V1PersistentVolumeClaim,
  V1PodDisruptionBudget,
  V1PodTemplateSpec,
  V1Service,
  V2HorizontalPodAutoscaler,
} from "@kubernetes/client-node";
import { stringify } from "yaml";
import { celViolations } from "../api/cel.ts";
import type { ModelServiceClass } from "../api/class-schema.ts";
import type { ModelService, ModelServiceSpec } from "../api/types.ts";
import type { OperatorConfig } from "../config/operator-config.ts";
import { gpuResourceName, resolve } from "../model/resolved.ts";
import { applyClass, classViolations } from "../policy/model-service-class.ts";
import { podMetadataViolations } from "../policy/pod-metadata.ts";
import { foreignWakeHosts, outsideWakeHostViolations } from "../policy/wake-hosts.ts";
import { adapterParts } from "./adapters.ts";
import { autoscalingProblems, horizontalPodAutoscaler, type ScaledObject, scaledObject } from "./autoscaling.ts";
import { type BackendTLSPolicy, backendTlsPolicy } from "./backend-tls-policy.ts";
import { type Certificate, certificate } from "./certificate.ts";
import type { RenderContext } from "./context.ts";
import { securityProblems } from "./engine-security.ts";
import { ENGINES } from "./engines/index.ts";
import type { EngineContext } from "./engines/types.ts";
import { ClassViolationError, InvalidSpecError, type Problem } from "./errors.ts";
import { type InterceptorRoute, interceptorRoute } from "./interceptor-route.ts";
import { type LeaderWorkerSet, leaderWorkerSet } from "./leader-worker-set.ts";
import { modelSourceParts, parseModelUri } from "./model-source.ts";
import { childNames } from "./names.ts";
import { type NetworkPolicy, networkPolicy } from "./network-policy.ts";
import { type HTTPRoute, httpRoute } from "./route.ts";
import { type SecurityPolicy, securityPolicy } from "./security-policy.ts";
import { cachePvc, deployment, podDisruptionBudget, service } from "./workload.ts";

export type { ScaledObject } from "./autoscaling.ts";
export type { BackendTLSPolicy } from "./backend-tls-policy.ts";
export type { Certificate } from "./certificate.ts";
export { ENGINES } from "./engines/index.ts";
export { ClassViolationError, InvalidSpecError, type Problem } from "./errors.ts";
export type { InterceptorRoute } from "./interceptor-route.ts";
export type { LeaderWorkerSet } from "./leader-worker-set.ts";
export { childNames } from "./names.ts";
export type { NetworkPolicy } from "./network-policy.ts";
export type { HTTPRoute } from "./route.ts";
export type { SecurityPolicy } from "./security-policy.ts";
export { PROGRESS_DEADLINE_MARGIN_SECONDS } from "./workload.ts";

export type RenderedChildren = {
  /** One pod per replica: a Deployment; several (spec.multiNode): a LeaderWorkerSet instead. */
  deployment?: V1Deployment;
  leaderWorkerSet?: LeaderWorkerSet;
  service: V1Service;
  hpa?: V2HorizontalPodAutoscaler;
  pdb?: V1PodDisruptionBudget;
  pvc?: V1PersistentVolumeClaim;
  scaledObject?: ScaledObject;
  interceptorRoute?: InterceptorRoute;
  networkPolicy?: NetworkPolicy;
  certificate?: Certificate;
  httpRoute?: HTTPRoute;
  securityPolicy?: SecurityPolicy;
  backendTlsPolicy?: BackendTLSPolicy;
};

/**
 * `optional`: the kind's API comes from an add-on (KEDA, Gateway API, Envoy Gateway, cert-manager)
 * that may not be installed: its CRD's name, and what a ModelService that needs it is told. The
 * controller watches it only while that CRD is established (src/controller/optional-apis.ts).
 */
export type ChildKind = {
  key: keyof RenderedChildren;
  apiVersion: string;
  kind: string;
  plural: string;
  optional?: { crd: string; missing: string };
};

const GATEWAY_API = "install the Gateway API standard channel";

/** Every kind of child the operator may own, in apply order; prune those no longer rendered. */
export const CHILD_KINDS: readonly ChildKind[] = [
  // First, so no pod ever runs unprotected.
  { key: "networkPolicy", apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", plural: "networkpolicies" },
  {
    key: "certificate",
    apiVersion: "cert-manager.io/v1",
    kind: "Certificate",
    plural: "certificates",
    optional: { crd: "certificates.cert-manager.io", missing: "spec.tls needs cert-manager (cert-manager.io/v1 Certificate): install cert-manager" },
  },
  { key: "pvc", apiVersion: "v1", kind: "PersistentVolumeClaim", plural: "persistentvolumeclaims" },
  { key: "deployment", apiVersion: "apps/v1", kind: "Deployment", plural: "deployments" },
  {
    key: "leaderWorkerSet",
    apiVersion: "leaderworkerset.x-k8s.io/v1",
    kind: "LeaderWorkerSet",
    plural: "leaderworkersets",
    optional: {
      crd: "leaderworkersets.leaderworkerset.x-k8s.io",
      missing:
        "spec.multiNode needs the LeaderWorkerSet controller (leaderworkerset.x-k8s.io/v1 LeaderWorkerSet): install LeaderWorkerSet (sigs.k8s.io/lws) v0.8 or later",
    },
  },
  { key: "service", apiVersion: "v1", kind: "Service", plural: "services" },
  { key: "hpa", apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", plural: "horizontalpodautoscalers" },
  // Before the ScaledObject: the add-on's scaler reads the route when KEDA asks for the metric.
  {
    key: "interceptorRoute",
    apiVersion: "http.keda.sh/v1beta1",
    kind: "InterceptorRoute",
    plural: "interceptorroutes",
    optional: {
      crd: "interceptorroutes.http.keda.sh",
      missing:
        "autoscaling.wake.mode Request needs the KEDA HTTP add-on (http.keda.sh/v1beta1 InterceptorRoute): install it (v0.15 or later), or use wake.mode Metric",
    },
  },
  {
    key: "scaledObject",
    apiVersion: "keda.sh/v1alpha1",
    kind: "ScaledObject",
    plural: "scaledobjects",
    optional: {
      crd: "scaledobjects.keda.sh",
      missing: "KEDA is enabled in the operator config but the keda.sh/v1alpha1 ScaledObject API is not served: install KEDA, or set keda.enabled to false",
    },
  },
  { key: "pdb", apiVersion: "policy/v1", kind: "PodDisruptionBudget", plural: "poddisruptionbudgets" },
  // Authentication and backend TLS before the route, so the route is never live without them.
  {
    key: "securityPolicy",
    apiVersion: "gateway.envoyproxy.io/v1alpha1",
    kind: "SecurityPolicy",
    plural: "securitypolicies",
    optional: {
      crd: "securitypolicies.gateway.envoyproxy.io",
      missing: "spec.expose.apiKeyAuth needs Envoy Gateway's CRDs (gateway.envoyproxy.io/v1alpha1 SecurityPolicy): install Envoy Gateway",
    },
  },
  {
    key: "backendTlsPolicy",
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "BackendTLSPolicy",
    plural: "backendtlspolicies",
    optional: {
      crd: "backendtlspolicies.gateway.networking.k8s.io",
      missing: `spec.expose with spec.tls needs the Gateway API CRDs (gateway.networking.k8s.io/v1 BackendTLSPolicy): ${GATEWAY_API}`,
    },
  },
  {
    key: "httpRoute",
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "HTTPRoute",
    plural: "httproutes",
    optional: {
      crd: "httproutes.gateway.networking.k8s.io",
      missing: `spec.expose needs the Gateway API CRDs (gateway.networking.k8s.io/v1 HTTPRoute): ${GATEWAY_API}`,
    },
  },
];

/** The child kinds that exist with this config (ScaledObject and InterceptorRoute only when KEDA is enabled). */
export const childKinds = (config: OperatorConfig): ChildKind[] =>
  CHILD_KINDS.filter((k) => (k.key !== "scaledObject" && k.key !== "interceptorRoute") || config.keda.enabled);

/**
 * Checks admission cannot make: the spec's CEL rules are in the CRD (src/api/schema.ts) and run
 * first, offline (src/api/cel.ts); what stays here depends on the operator config (the default GPU
 * resource name) or on the object having been stored (its uid).
 */
function specProblems(ms: ModelService, spec: ModelServiceSpec, config: OperatorConfig, cls: ModelServiceClass | undefined): Problem[] {
  const problems: Problem[] = [];
  if (!ms.metadata.uid) problems.push({ path: "metadata.uid", message: "is required to own the children (set by the API server)" });
  const gpuResource = gpuResourceName(spec, config);
  for (const field of ["requests", "limits"] as const) {
    if (spec.resources?.[field]?.[gpuResource] !== undefined) {
      problems.push({ path: `spec.resources.${field}.${gpuResource}`, message: "GPUs are requested with spec.gpu.count, not spec.resources" });
    }
  }
  // A class checks the guarded keys itself (classViolations); without one, the built-in policy allows none.
  if (!cls) {
    problems.push(...podMetadataViolations(spec, { labels: [], annotations: [] }, "the operator's default policy"));
    problems.push(...outsideWakeHostViolations(spec, [], ms.metadata.namespace, "the operator's default policy"));
  }
  // Known only once stored (offline, a file may not say its namespace).
  if (ms.metadata.namespace) problems.push(...foreignWakeHosts(spec, ms.metadata.namespace, config.clusterDomain));
  return problems;
}

/** Resolves defaults and checks the spec; throws InvalidSpecError listing every problem. */
function renderContext(stored: ModelService, operatorConfig: OperatorConfig, cls: ModelServiceClass | undefined): RenderContext {
  // What admission would refuse (e.g. an object stored before a rule was added) is reported as is.
  const refused = celViolations(stored);
  if (refused.length > 0) throw new InvalidSpecError(refused);
  // The class decides next: nothing of a spec it forbids is rendered.
  const forbidden = cls ? classViolations(stored.spec, cls, operatorConfig, stored.metadata.namespace) : [];
  if (cls && forbidden.length > 0) throw new ClassViolationError(cls.metadata.name, forbidden);
  const { ms, config } = cls ? applyClass(stored, cls, operatorConfig) : { ms: stored, config: operatorConfig };
  const spec = ms.spec;
  const resolved = resolve(ms, config);
  const { name, gpuCount, podsPerReplica } = resolved;
  const engine = ENGINES[spec.engine.type];
  const names = childNames(name);
  const source = parseModelUri(spec.model.uri);
  const image = spec.engine.image || (spec.engine.type === "Custom" ? "" : config.images[spec.engine.type]);
  const servedName = spec.model.servedName ?? name;
  const parts = modelSourceParts({ spec, source, engineType: spec.engine.type, engineImage: image, servedName, pvcName: names.pvc, config });
  const adapters = adapterParts(spec, config, image, parts.engineMounts);
  const split = spec.parallelism
    ? { tensor: spec.parallelism.tensor, pipeline: spec.parallelism.pipeline ?? 1 }
    : (engine.multiNode?.split(gpuCount, podsPerReplica) ?? { tensor: gpuCount, pipeline: 1 });
  const engineCtx: EngineContext = {
    source,
    modelRef: parts.modelRef,
    revision: parts.revision,
    servedName,
    port: spec.engine.port ?? engine.defaultPort,
    gpuCount,
    nodes: podsPerReplica,
    ...split,
    adapters: adapters.adapters,
    storeDir: parts.storeDir,
    userArgs: spec.engine.args ?? [],
  };
  const problems = [
    ...specProblems(ms, spec, config, cls),
    ...parts.problems,
    ...engine.check(engineCtx),
    ...securityProblems(spec, engine),
    ...autoscalingProblems(spec, config, engine),
  ];
  if (problems.length > 0) throw new InvalidSpecError(problems);
  return { ...resolved, ms, spec, config, names, engine, engineCtx, parts, adapterParts: adapters, image };
}

/** Plain JSON: no undefined, no shared references, no class instances. */
const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/**
 * The children a ModelService should have, under its ModelServiceClass if it has one (none: the
 * operator config alone decides). Throws InvalidSpecError for specs that cannot work, and its
 * subclass ClassViolationError for specs the class does not allow.
 */
export function render(ms: ModelService, config: OperatorConfig, cls?: ModelServiceClass): RenderedChildren {
  const rc = renderContext(ms, config, cls);
  const children: RenderedChildren =
    rc.podsPerReplica > 1 ? { leaderWorkerSet: leaderWorkerSet(rc), service: service(rc) } : { deployment: deployment(rc), service: service(rc) };
  if (rc.autoscaler === "hpa") children.hpa = horizontalPodAutoscaler(rc);
  if (rc.autoscaler === "keda") children.scaledObject = scaledObject(rc);
  const route = interceptorRoute(rc);
  if (route) children.interceptorRoute = route;
  const pdb = podDisruptionBudget(rc);
  if (pdb) children.pdb = pdb;
  const pvc = cachePvc(rc);
  if (pvc) children.pvc = pvc;
  const optional = {
    networkPolicy: networkPolicy(rc),
    certificate: certificate(rc),
    httpRoute: httpRoute(rc),
    securityPolicy: securityPolicy(rc),
    backendTlsPolicy: backendTlsPolicy(rc),
  };
  for (const [key, child] of Object.entries(optional)) if (child) Object.assign(children, { [key]: child });
  const out = plain(children);
  const tooLarge = oversizedChildren(out);
  if (tooLarge.length > 0) throw new InvalidSpecError(tooLarge);
  return out;
}

/**
 * Largest rendered child, as JSON: well under the API server's 1.5 MiB request limit, and each
 * ReplicaSet and Pod of a Deployment is as large again in the operator's caches and in etcd.
 */
export const MAX_CHILD_BYTES = 512 * 1024;

/** Children over MAX_CHILD_BYTES: a spec cannot shrink itself, so applying them would fail forever. */
export function oversizedChildren(children: RenderedChildren): Problem[] {
  return orderedChildren(children).flatMap((c) => {
    const bytes = Buffer.byteLength(JSON.stringify(c));
    if (bytes <= MAX_CHILD_BYTES) return [];
    const kib = Math.ceil(bytes / 1024);
    return [{ path: "spec", message: `rendered ${c.kind} ${c.metadata?.name ?? ""} is ${kib} KiB, over the ${MAX_CHILD_BYTES / 1024} KiB limit` }];
  });
}

/** The rendered children in apply order (CHILD_KINDS). */
export function orderedChildren(children: RenderedChildren): KubernetesObject[] {
  return CHILD_KINDS.flatMap((k) => {
    const child = children[k.key];
    return child ? [child] : [];
  });
}

/** The pod templates of the children: the Deployment's, or the LeaderWorkerSet's leader and worker ones. */
export function podTemplates(children: RenderedChildren): V1PodTemplateSpec[] {
  const lws = children.leaderWorkerSet?.spec.leaderWorkerTemplate;
  if (lws) return [lws.leaderTemplate, lws.workerTemplate];
  return children.deployment?.spec?.template ? [children.deployment.spec.template] : [];
}

/** Multi-document YAML of the children, in apply order. */
export function childrenYaml(children: RenderedChildren): string {
  return orderedChildren(children)
    .map((c) => `---\n${stringify(c, { lineWidth: 0, aliasDuplicateObjects: false })}`)
    .join("");
}

/** In-cluster URL of the Service: http[s]://<svc>.<ns>.svc.<clusterDomain>[:port] (port omitted when the scheme's default). */
export function serviceUrl(ms: ModelService, config: OperatorConfig): string {
  const port = resolve(ms, config).servicePort;
  const host = `${childNames(ms.metadata.name ?? "").service}.${ms.metadata.namespace ?? "default"}.svc.${config.clusterDomain}`;
  const https = ms.spec.tls !== undefined && ENGINES[ms.spec.engine.type].tls !== undefined;
  const defaultPort = https ? 443 : 80;
  return `${https ? "https" : "http"}://${host}${port === defaultPort ? "" : `:${port}`}`;
}
