// The KEDA HTTP add-on's InterceptorRoute (http.keda.sh/v1beta1, add-on v0.15.0) for
// autoscaling.wake.mode Request: callers reach the model through the add-on's interceptor, which
// counts in-flight requests (the ScaledObject's external-push trigger reads them through the
// add-on's scaler) and holds a request while the model has no ready replica, up to the readiness
// timeout, then answers 504.
import type { KubernetesObject } from "@kubernetes/client-node";
import type { RenderContext } from "./context.ts";
import { childMeta } from "./meta.ts";

export type InterceptorRoute = KubernetesObject & {
  spec: {
    target: { service: string; port: number };
    rules: { hosts: string[] }[];
    timeouts: { readiness: string };
    scalingMetric: { concurrency: { targetValue: number } };
  };
};

/**
 * The concurrency target when the user scales on something else (GPU or CPU utilisation): so high
 * that the interceptor's metric only wakes the model (it is active while any request waits) and
 * never asks for more than one replica itself.
 */
export const WAKE_ONLY_CONCURRENCY = 100000;

/** The Service's in-cluster names, as a caller in the cluster writes them in the Host header. */
export function defaultWakeHosts(rc: RenderContext): string[] {
  const ns = rc.namespace ?? "default";
  const svc = rc.names.service;
  return [`${svc}.${ns}`, `${svc}.${ns}.svc`, `${svc}.${ns}.svc.${rc.config.clusterDomain}`];
}

export function interceptorRoute(rc: RenderContext): InterceptorRoute | undefined {
  const a = rc.spec.autoscaling;
  const wake = a?.wake;
  if (wake?.mode !== "Request" || !rc.wake) return undefined;
  return {
    apiVersion: "http.keda.sh/v1beta1",
    kind: "InterceptorRoute",
    metadata: childMeta(rc, rc.names.interceptorRoute),
    spec: {
      target: { service: rc.names.service, port: rc.servicePort },
      rules: [{ hosts: wake.hosts ?? defaultWakeHosts(rc) }],
      // Per route (the add-on's global KEDA_HTTP_READINESS_TIMEOUT is the fallback): a request
      // waits as long as a replica may take to load, instead of failing fast.
      timeouts: { readiness: `${rc.wake.holdSeconds}s` },
      scalingMetric: { concurrency: { targetValue: a?.target?.inFlightRequests ?? WAKE_ONLY_CONCURRENCY } },
    },
  };
}
