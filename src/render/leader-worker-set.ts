// The LeaderWorkerSet (sigs.k8s.io/lws, leaderworkerset.x-k8s.io/v1) of a ModelService whose
// replicas span several pods: one group per replica, a leader that serves the API and
// multiNode.nodes - 1 workers that join it. Rendered instead of the Deployment.
import type { KubernetesObject, V1PodTemplateSpec } from "@kubernetes/client-node";
import { SPEC_GENERATION_ANNOTATION } from "../model/labels.ts";
import type { RenderContext } from "./context.ts";
import { childMeta } from "./meta.ts";
import { podTemplate } from "./pod.ts";
import { rolloutStrategy } from "./workload.ts";

export { LWS_WORKER_INDEX_LABEL } from "./workload.ts";

export const LWS_API_VERSION = "leaderworkerset.x-k8s.io/v1";
/** On every pod of a group: the group's index (the replica). */
export const LWS_GROUP_INDEX_LABEL = "leaderworkerset.sigs.k8s.io/group-index";

export type LeaderWorkerSet = KubernetesObject & {
  spec: {
    replicas?: number;
    startupPolicy: "LeaderCreated" | "LeaderReady";
    rolloutStrategy: { type: "RollingUpdate"; rollingUpdateConfiguration: { maxSurge: string | number; maxUnavailable: string | number } };
    leaderWorkerTemplate: {
      size: number;
      restartPolicy: "RecreateGroupOnPodRestart" | "None";
      leaderTemplate: V1PodTemplateSpec;
      workerTemplate: V1PodTemplateSpec;
    };
  };
  status?: { replicas?: number; readyReplicas?: number; updatedReplicas?: number; conditions?: { type?: string; status?: string; reason?: string }[] };
};

export function leaderWorkerSet(rc: RenderContext): LeaderWorkerSet {
  const { maxSurge, maxUnavailable } = rolloutStrategy(rc.spec);
  return {
    apiVersion: LWS_API_VERSION,
    kind: "LeaderWorkerSet",
    metadata: childMeta(
      rc,
      rc.names.leaderWorkerSet,
      rc.ms.metadata.generation === undefined ? undefined : { [SPEC_GENERATION_ANNOTATION]: String(rc.ms.metadata.generation) },
    ),
    spec: {
      // kubectl scale on the ModelService sets spec.replicas, which lands here (autoscaling is refused with multiNode).
      replicas: rc.desiredReplicas,
      // Workers start with the leader, not after it is ready: a vLLM leader is ready only once its workers joined.
      startupPolicy: "LeaderCreated",
      // Counted in groups.
      rolloutStrategy: { type: "RollingUpdate", rollingUpdateConfiguration: { maxSurge, maxUnavailable } },
      leaderWorkerTemplate: {
        size: rc.podsPerReplica,
        // One model over several pods cannot lose a pod: any restart recreates the whole group.
        restartPolicy: "RecreateGroupOnPodRestart",
        leaderTemplate: podTemplate(rc, "leader"),
        workerTemplate: podTemplate(rc, "worker"),
      },
    },
  };
}
