// The ModelServiceClass of a ModelService, what the class forbids in its spec, and the spec and
// config render uses once the class allows it. Pure: the controller passes the cached classes in,
// `render --class FILE` a class from a file.
import { DEFAULT_CLASS_ANNOTATION, type ModelServiceClass } from "../api/class-schema.ts";
import { parseQuantity } from "../api/quantity.ts";
import type { ModelService, ModelServiceSpec } from "../api/types.ts";
import type { OperatorConfig } from "../config/operator-config.ts";
import type { Problem } from "../render/errors.ts";
import { podSecurityConfig } from "../render/pod-security.ts";
import { podMetadataViolations } from "./pod-metadata.ts";
import { outsideWakeHostViolations } from "./wake-hosts.ts";

export type ClassResolution =
  /** No spec.className and no default class: the operator's own config decides, as before classes. */
  { kind: "none" } | { kind: "found"; cls: ModelServiceClass } | { kind: "notFound"; name: string };

export const isDefaultClass = (c: ModelServiceClass): boolean => c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === "true";

/**
 * spec.className, else the default class. Several default classes: the newest wins (then the
 * first by name), as for StorageClasses, so adding a new default takes over without a gap.
 */
export function resolveClass(ms: Pick<ModelService, "spec">, classes: readonly ModelServiceClass[]): ClassResolution {
  const name = ms.spec.className;
  if (name !== undefined) {
    const cls = classes.find((c) => c.metadata.name === name);
    return cls ? { kind: "found", cls } : { kind: "notFound", name };
  }
  const defaults = classes
    .filter(isDefaultClass)
    .sort((a, b) => (b.metadata.creationTimestamp ?? "").localeCompare(a.metadata.creationTimestamp ?? "") || a.metadata.name.localeCompare(b.metadata.name));
  const cls = defaults[0];
  return cls ? { kind: "found", cls } : { kind: "none" };
}

const list = (xs: readonly string[]): string => (xs.length ? xs.join(", ") : "none");

type Scheduling = NonNullable<ModelServiceSpec["scheduling"]>;

function schedulingViolations(spec: ModelServiceSpec, cls: ModelServiceClass, by: string): Problem[] {
  const tenant = spec.scheduling;
  if (!tenant) return [];
  const imposed: Scheduling = cls.spec.scheduling ?? {};
  const problems: Problem[] = [];
  const at = (field: keyof Scheduling) => `spec.scheduling.${field}`;
  if (!cls.spec.allow?.scheduling) {
    const what: Record<keyof Scheduling, string | undefined> = {
      nodeSelector:
        tenant.nodeSelector && Object.keys(tenant.nodeSelector).length
          ? Object.entries(tenant.nodeSelector)
              .map(([k, v]) => `${k}=${v}`)
              .join(", ")
          : undefined,
      tolerations: tenant.tolerations?.length ? `${tenant.tolerations.length} toleration(s)` : undefined,
      affinity: tenant.affinity && Object.keys(tenant.affinity).length ? "affinity" : undefined,
      priorityClassName: tenant.priorityClassName,
      runtimeClassName: tenant.runtimeClassName,
    };
    for (const [field, value] of Object.entries(what) as [keyof Scheduling, string | undefined][]) {
      if (value === undefined) continue;
      problems.push({ path: at(field), message: `${value} is not allowed by ${by} (allowed: no tenant scheduling in this class)` });
    }
    return problems;
  }
  // Allowed: still the class wins where both speak.
  for (const [k, v] of Object.entries(tenant.nodeSelector ?? {})) {
    const mine = imposed.nodeSelector?.[k];
    if (mine !== undefined && mine !== v) problems.push({ path: at("nodeSelector"), message: `${k}=${v} is not allowed by ${by} (allowed: ${k}=${mine})` });
  }
  for (const field of ["priorityClassName", "runtimeClassName"] as const) {
    const mine = imposed[field];
    const theirs = tenant[field];
    if (mine !== undefined && theirs !== undefined && theirs !== mine)
      problems.push({ path: at(field), message: `${theirs} is not allowed by ${by} (allowed: ${mine})` });
  }
  return problems;
}

function imageViolation(spec: ModelServiceSpec, cls: ModelServiceClass, config: OperatorConfig, by: string): Problem[] {
  const image = spec.engine.image;
  if (!image) return [];
  const type = spec.engine.type;
  const builtIn = type === "Custom" ? undefined : config.images[type];
  if (image === builtIn) return [];
  const prefixes = cls.spec.allow?.images?.[type] ?? [];
  if (prefixes.some((p) => p === "*" || image.startsWith(p))) return [];
  const allowed = [...(builtIn ? [`the operator's ${builtIn}`] : []), ...prefixes.map((p) => `${p}*`)];
  return [{ path: "spec.engine.image", message: `${image} is not allowed by ${by} (allowed: ${list(allowed)})` }];
}

const exceeds = (size: string | number, max: string | number): boolean => {
  const a = parseQuantity(String(size));
  const b = parseQuantity(String(max));
  return a !== undefined && b !== undefined && a.num * b.den > b.num * a.den;
};

/** The service type a ModelService of this class gets: its own, else the operator default if the class allows it, else the class's first. */
function serviceType(spec: ModelServiceSpec, cls: ModelServiceClass, config: OperatorConfig): { type: string; explicit: boolean } {
  const allowed = allowedServiceTypes(cls);
  if (spec.service?.type) return { type: spec.service.type, explicit: true };
  const fallback = allowed.includes(config.defaults.serviceType) ? config.defaults.serviceType : (allowed[0] ?? "ClusterIP");
  return { type: fallback, explicit: false };
}

const allowedServiceTypes = (cls: ModelServiceClass): readonly string[] => cls.spec.allow?.serviceTypes ?? ["ClusterIP"];

/** Everything in the spec the class does not allow, each with the field and what the class allows. */
export function classViolations(spec: ModelServiceSpec, cls: ModelServiceClass, config: OperatorConfig, namespace?: string): Problem[] {
  const by = `ModelServiceClass ${cls.metadata.name}`;
  const allow = cls.spec.allow ?? {};
  const problems: Problem[] = [...schedulingViolations(spec, cls, by)];
  const svc = serviceType(spec, cls, config);
  if (svc.explicit && !allowedServiceTypes(cls).includes(svc.type)) {
    problems.push({ path: "spec.service.type", message: `${svc.type} is not allowed by ${by} (allowed: ${list(allowedServiceTypes(cls))})` });
  }
  const cache = spec.cache;
  if (cache?.storageClassName && !(allow.storageClasses ?? []).includes(cache.storageClassName)) {
    problems.push({
      path: "spec.cache.storageClassName",
      message: `${cache.storageClassName} is not allowed by ${by} (allowed: ${list([...(allow.storageClasses ?? []), "the cluster's default class (unset)"])})`,
    });
  }
  if (cache && allow.maxCacheSize !== undefined && exceeds(cache.size, allow.maxCacheSize)) {
    problems.push({ path: "spec.cache.size", message: `${cache.size} is not allowed by ${by} (allowed: at most ${allow.maxCacheSize})` });
  }
  problems.push(...imageViolation(spec, cls, config, by));
  problems.push(...outsideWakeHostViolations(spec, allow.wakeHosts ?? [], namespace, by));
  problems.push(...podMetadataViolations(spec, { labels: allow.podLabelKeys ?? [], annotations: allow.podAnnotationKeys ?? [] }, by));
  return problems;
}

type Affinity = NonNullable<Scheduling["affinity"]>;

/** Both affinities must hold: node terms are ORed, so the required node terms become their cross product. */
function mergeAffinity(imposed: Affinity | undefined, tenant: Affinity | undefined): Affinity | undefined {
  if (!imposed) return tenant;
  if (!tenant) return imposed;
  const a = imposed.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  const b = tenant.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  const terms =
    a && b
      ? a.flatMap((x) =>
          b.map((y) => ({
            ...((x.matchExpressions ?? y.matchExpressions) ? { matchExpressions: [...(x.matchExpressions ?? []), ...(y.matchExpressions ?? [])] } : {}),
            ...((x.matchFields ?? y.matchFields) ? { matchFields: [...(x.matchFields ?? []), ...(y.matchFields ?? [])] } : {}),
          })),
        )
      : (a ?? b);
  const concat = <T>(x: T[] | undefined, y: T[] | undefined): T[] | undefined => (x || y ? [...(x ?? []), ...(y ?? [])] : undefined);
  const preferredNode = concat(
    imposed.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution,
    tenant.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution,
  );
  const pods = (k: "podAffinity" | "podAntiAffinity") => {
    const required = concat(imposed[k]?.requiredDuringSchedulingIgnoredDuringExecution, tenant[k]?.requiredDuringSchedulingIgnoredDuringExecution);
    const preferred = concat(imposed[k]?.preferredDuringSchedulingIgnoredDuringExecution, tenant[k]?.preferredDuringSchedulingIgnoredDuringExecution);
    if (!required && !preferred) return {};
    return {
      [k]: {
        ...(required ? { requiredDuringSchedulingIgnoredDuringExecution: required } : {}),
        ...(preferred ? { preferredDuringSchedulingIgnoredDuringExecution: preferred } : {}),
      },
    };
  };
  const nodeAffinity =
    terms || preferredNode
      ? {
          ...(terms ? { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } : {}),
          ...(preferredNode ? { preferredDuringSchedulingIgnoredDuringExecution: preferredNode } : {}),
        }
      : undefined;
  return { ...(nodeAffinity ? { nodeAffinity } : {}), ...pods("podAffinity"), ...pods("podAntiAffinity") } as Affinity;
}

function mergeScheduling(imposed: Scheduling | undefined, tenant: Scheduling | undefined): Scheduling | undefined {
  if (!imposed && !tenant) return undefined;
  const nodeSelector = { ...tenant?.nodeSelector, ...imposed?.nodeSelector };
  const tolerations = [...(imposed?.tolerations ?? []), ...(tenant?.tolerations ?? [])];
  const affinity = mergeAffinity(imposed?.affinity, tenant?.affinity);
  const priorityClassName = imposed?.priorityClassName ?? tenant?.priorityClassName;
  const runtimeClassName = imposed?.runtimeClassName ?? tenant?.runtimeClassName;
  return {
    ...(Object.keys(nodeSelector).length ? { nodeSelector } : {}),
    ...(tolerations.length ? { tolerations } : {}),
    ...(affinity ? { affinity } : {}),
    ...(priorityClassName ? { priorityClassName } : {}),
    ...(runtimeClassName ? { runtimeClassName } : {}),
  };
}

/**
 * The ModelService and config render uses under a class that allows the spec (classViolations is
 * empty): the class's scheduling merged in (the class winning), its default resources, the service
 * type it allows, its security profile (Restricted unless it says Baseline) and ephemeral-storage
 * limit. The stored spec is never changed.
 */
export function applyClass(ms: ModelService, cls: ModelServiceClass, config: OperatorConfig): { ms: ModelService; config: OperatorConfig } {
  const spec = ms.spec;
  const scheduling = mergeScheduling(cls.spec.scheduling, cls.spec.allow?.scheduling ? spec.scheduling : undefined);
  const resources = spec.resources ?? cls.spec.defaults?.resources;
  const svc = serviceType(spec, cls, config);
  const { scheduling: _tenantScheduling, ...rest } = spec;
  const effective: ModelServiceSpec = {
    ...rest,
    ...(scheduling ? { scheduling } : {}),
    ...(resources ? { resources } : {}),
    service: { ...spec.service, type: svc.type as "ClusterIP" | "NodePort" | "LoadBalancer" },
  };
  const ephemeral = cls.spec.defaults?.ephemeralStorage;
  const podSecurity = {
    ...podSecurityConfig(config),
    profile: cls.spec.securityProfile ?? "Restricted",
    ...(ephemeral !== undefined ? { ephemeralStorageLimit: String(ephemeral) } : {}),
  };
  return { ms: { ...ms, spec: effective }, config: { ...config, podSecurity } };
}
