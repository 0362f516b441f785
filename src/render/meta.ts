import type { V1ObjectMeta, V1OwnerReference } from "@kubernetes/client-node";
import { API_VERSION, KIND } from "../api/schema.ts";
import { commonLabels } from "../model/labels.ts";
import type { RenderContext } from "./context.ts";

export function ownerReference(rc: RenderContext): V1OwnerReference {
  return { apiVersion: API_VERSION, kind: KIND, name: rc.name, uid: rc.ms.metadata.uid ?? "", controller: true, blockOwnerDeletion: true };
}

/** Metadata every child carries: name, namespace, common labels, controller owner reference. */
export function childMeta(rc: RenderContext, name: string, annotations?: Record<string, string>): V1ObjectMeta {
  return {
    name,
    ...(rc.namespace ? { namespace: rc.namespace } : {}),
    labels: commonLabels(rc.name, rc.spec.engine.type),
    ...(annotations ? { annotations } : {}),
    ownerReferences: [ownerReference(rc)],
  };
}
