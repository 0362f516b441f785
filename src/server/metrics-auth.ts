// Who may read /metrics, decided the Kubernetes way (as kube-rbac-proxy and controller-runtime's
// secure metrics do): the request's bearer token goes to a TokenReview, the user it names to a
// SubjectAccessReview for the non-resource URL /metrics, verb get. So access is plain RBAC: bind
// the chart's `<fullname>-metrics-reader` ClusterRole to Prometheus's ServiceAccount.
//
// Decisions are cached briefly per token (by its SHA-256, never the token itself), so a scrape
// every 15 s does not cost two API requests each time; the cache is bounded. API errors are not
// cached: the next scrape asks again.
import { createHash } from "node:crypto";
import type { Logger } from "pino";
import type { KubeClient } from "../kube/client.ts";

export type MetricsDecision = { status: 200 } | { status: 401 | 403 | 500; message: string };
export type MetricsAuthorizer = (authorization: string | undefined) => Promise<MetricsDecision>;

export const METRICS_PATH = "/metrics";

type UserInfo = { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
type TokenReview = { status?: { authenticated?: boolean; user?: UserInfo; error?: string } };
type SubjectAccessReview = { status?: { allowed?: boolean; denied?: boolean; reason?: string } };

export type KubernetesMetricsAuthOptions = {
  client: Pick<KubeClient, "request">;
  logger: Logger;
  /** How long a decision is reused; default 10 s. */
  ttlMs?: number;
  /** Most tokens remembered; the oldest is forgotten first. Default 1,000. */
  maxEntries?: number;
  now?: () => number;
};

const BEARER = /^Bearer\s+(\S+)\s*$/i;

export function kubernetesMetricsAuth(opts: KubernetesMetricsAuthOptions): MetricsAuthorizer {
  const ttl = opts.ttlMs ?? 10_000;
  const max = opts.maxEntries ?? 1000;
  const now = opts.now ?? Date.now;
  const cache = new Map<string, { until: number; decision: Promise<MetricsDecision> }>();

  const review = async (token: string): Promise<MetricsDecision> => {
    const tr = await opts.client.request<TokenReview>("POST", "/apis/authentication.k8s.io/v1/tokenreviews", {
      body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token } },
    });
    const user = tr.status?.user;
    if (!tr.status?.authenticated || !user?.username) return { status: 401, message: "Unauthorized: the bearer token is not valid" };
    const sar = await opts.client.request<SubjectAccessReview>("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
      body: {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: {
          user: user.username,
          ...(user.uid ? { uid: user.uid } : {}),
          ...(user.groups ? { groups: user.groups } : {}),
          ...(user.extra ? { extra: user.extra } : {}),
          nonResourceAttributes: { path: METRICS_PATH, verb: "get" },
        },
      },
    });
    if (sar.status?.allowed) return { status: 200 };
    return { status: 403, message: `Forbidden: user "${user.username}" cannot get path "${METRICS_PATH}"` };
  };

  return (authorization) => {
    const token = BEARER.exec(authorization ?? "")?.[1];
    if (!token) return Promise.resolve({ status: 401, message: "Unauthorized: send a bearer token (Authorization: Bearer <token>)" });
    const key = createHash("sha256").update(token).digest("hex");
    const t = now();
    const hit = cache.get(key);
    if (hit && hit.until > t) return hit.decision;
    cache.delete(key);
    for (const [k, v] of cache) {
      if (cache.size < max && v.until > t) break;
      cache.delete(k); // expired or over the bound: the oldest go first
    }
    const decision = review(token).catch((err: unknown) => {
      cache.delete(key);
      opts.logger.warn({ err: { message: (err as Error).message, status: (err as { status?: number }).status } }, "metrics authentication: review failed");
      return { status: 500 as const, message: "Internal Server Error: cannot review the token" };
    });
    cache.set(key, { until: t + ttl, decision });
    return decision;
  };
}
