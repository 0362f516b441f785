// Deployment, Service, cache PVC and PodDisruptionBudget.
import type { V1Deployment, V1DeploymentStrategy, V1PersistentVolumeClaim, V1PodDisruptionBudget, V1Service } from "@kubernetes/client-node";
import { isZeroRolloutValue } from "../api/schema.ts";
import type { ModelServiceSpec } from "../api/types.ts";
import { DELETE_ON_REMOVAL_ANNOTATION, SPEC_GENERATION_ANNOTATION, selectorLabels } from "../model/labels.ts";
import type { RenderContext } from "./context.ts";
import { childMeta } from "./meta.ts";
import { HTTP_PORT_NAME, podTemplate } from "./pod.ts";

/** On every pod of a LeaderWorkerSet group: its index in the group; the leader is "0". */
export const LWS_WORKER_INDEX_LABEL = "leaderworkerset.sigs.k8s.io/worker-index";

/** Extra time the Deployment's progress deadline allows beyond the startup budget (scheduling, image pull). */
export const PROGRESS_DEADLINE_MARGIN_SECONDS = 120;
const REVISION_HISTORY_LIMIT = 3;

/**
 * Default rollout: maxSurge 1, maxUnavailable 0. A replica keeps serving until its replacement is
 * ready, so a rollout (or a bad spec) never takes a model down; on a full GPU pool the surge pod
 * stays Pending and the status says InsufficientGPU — the user then opts into maxSurge 0. A
 * ReadWriteOncePod cache can be mounted by one pod only, so there the old pod must go first.
 */
export function rolloutStrategy(spec: ModelServiceSpec): { maxSurge: string | number; maxUnavailable: string | number } {
  const exclusive = spec.cache?.accessMode === "ReadWriteOncePod";
  const maxSurge = spec.rollout?.maxSurge ?? (exclusive ? 0 : 1);
  const maxUnavailable = spec.rollout?.maxUnavailable ?? (isZeroRolloutValue(maxSurge) ? 1 : 0);
  return { maxSurge, maxUnavailable };
}

export function deployment(rc: RenderContext): V1Deployment {
  const strategy: V1DeploymentStrategy = { type: "RollingUpdate", rollingUpdate: rolloutStrategy(rc.spec) };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: childMeta(
      rc,
      rc.names.deployment,
      rc.ms.metadata.generation === undefined ? undefined : { [SPEC_GENERATION_ANNOTATION]: String(rc.ms.metadata.generation) },
    ),
    spec: {
      // With autoscaling the HPA or KEDA owns the replica count.
      ...(rc.autoscaler === "none" ? { replicas: rc.desiredReplicas } : {}),
      selector: { matchLabels: selectorLabels(rc.name) },
      strategy,
      revisionHistoryLimit: REVISION_HISTORY_LIMIT,
      progressDeadlineSeconds: rc.startupBudgetSeconds + PROGRESS_DEADLINE_MARGIN_SECONDS,
      template: podTemplate(rc),
    },
  };
}

export function service(rc: RenderContext): V1Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: childMeta(rc, rc.names.service),
    spec: {
      type: rc.spec.service?.type ?? rc.config.defaults.serviceType,
      // A group's workers serve no API (SGLang's answer health checks only): only its leader gets traffic.
      selector: rc.podsPerReplica > 1 ? { ...selectorLabels(rc.name), [LWS_WORKER_INDEX_LABEL]: "0" } : selectorLabels(rc.name),
      ports: [
        {
          name: HTTP_PORT_NAME,
          port: rc.servicePort,
          targetPort: rc.engineCtx.port,
          protocol: "TCP",
          appProtocol: rc.spec.tls && rc.engine.tls ? "https" : "http",
        },
      ],
    },
  };
}

export function cachePvc(rc: RenderContext): V1PersistentVolumeClaim | undefined {
  const cache = rc.spec.cache;
  if (!cache) return undefined;
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: childMeta(rc, rc.names.pvc, { [DELETE_ON_REMOVAL_ANNOTATION]: String(cache.deleteOnRemoval ?? false) }),
    spec: {
      accessModes: [cache.accessMode ?? "ReadWriteOnce"],
      // Empty means the cluster default, so leave the field out ("" would mean no class).
      ...(cache.storageClassName ? { storageClassName: cache.storageClassName } : {}),
      resources: { requests: { storage: String(cache.size) } },
    },
  };
}

export function podDisruptionBudget(rc: RenderContext): V1PodDisruptionBudget | undefined {
  if (rc.desiredReplicas <= 1) return undefined;
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: childMeta(rc, rc.names.pdb),
    spec: {
      maxUnavailable: 1,
      selector: { matchLabels: selectorLabels(rc.name) },
      // Replicas that are still loading or crash-looping must not block node drains.
      unhealthyPodEvictionPolicy: "AlwaysAllow",
    },
  };
}
