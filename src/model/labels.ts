// Labels and annotations the operator puts on its children: written by render, read by the
// controller (ownership, pruning) and by status. The selector labels are fixed at creation and
// never change (a Deployment's selector is immutable), so they hold only the ModelService's name.
export const NAME_LABEL = "modelservice.dev/name";
export const MANAGED_BY = "modelservice-operator";

export const selectorLabels = (name: string): Record<string, string> => ({ [NAME_LABEL]: name });

export const commonLabels = (name: string, engine: string): Record<string, string> => ({
  "app.kubernetes.io/name": "modelservice",
  "app.kubernetes.io/instance": name,
  "app.kubernetes.io/component": "inference",
  "app.kubernetes.io/part-of": "modelservice-operator",
  "app.kubernetes.io/managed-by": MANAGED_BY,
  "modelservice.dev/engine": engine.toLowerCase(),
  ...selectorLabels(name),
});

/** On the Deployment: the ModelService generation it was rendered from, so status never reports
 * a stale Deployment (read from cache right after a spec edit) as serving the new spec. */
export const SPEC_GENERATION_ANNOTATION = "modelservice.dev/generation";

/** Annotation on the cache PVC: whether to delete it when spec.cache is removed (the spec no longer says). */
export const DELETE_ON_REMOVAL_ANNOTATION = "modelservice.dev/delete-on-removal";
