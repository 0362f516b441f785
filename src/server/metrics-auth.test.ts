import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { ApiError, type KubeClient } from "../kube/client.ts";
import { kubernetesMetricsAuth } from "./metrics-auth.ts";

type Body = { spec: { token?: string; user?: string; nonResourceAttributes?: { path: string; verb: string } } };

/** Answers TokenReviews from `users` (token → username) and SubjectAccessReviews from `readers`. */
function apiServer(users: Record<string, string>, readers: string[], o: { fail?: boolean } = {}) {
  const calls: string[] = [];
  const client = {
    async request(_method: string, path: string, opts?: { body?: unknown }) {
      const body = opts?.body as Body;
      calls.push(path.split("/").at(-1) as string);
      if (o.fail) throw new ApiError(503, "service unavailable");
      if (path.endsWith("/tokenreviews")) {
        const user = users[body.spec.token ?? ""];
        return { status: user ? { authenticated: true, user: { username: user, groups: ["system:authenticated"] } } : { authenticated: false } };
      }
      const attrs = body.spec.nonResourceAttributes;
      const ok = readers.includes(body.spec.user ?? "") && attrs?.path === "/metrics" && attrs.verb === "get";
      return { status: { allowed: ok } };
    },
  } as unknown as KubeClient;
  return { client, calls };
}

const logger = pino({ level: "silent" });

describe("kubernetesMetricsAuth", () => {
  it("401 without a valid bearer token, 403 for a user RBAC does not allow, 200 for a reader", async () => {
    const api = apiServer({ "tok-prom": "system:serviceaccount:monitoring:prometheus", "tok-other": "system:serviceaccount:x:y" }, [
      "system:serviceaccount:monitoring:prometheus",
    ]);
    const auth = kubernetesMetricsAuth({ client: api.client, logger });
    expect(await auth(undefined)).toMatchObject({ status: 401 });
    expect(await auth("Basic dXNlcjpwYXNz")).toMatchObject({ status: 401 });
    expect(await auth("Bearer not-a-token")).toMatchObject({ status: 401 });
    expect(await auth("Bearer tok-other")).toEqual({ status: 403, message: 'Forbidden: user "system:serviceaccount:x:y" cannot get path "/metrics"' });
    expect(await auth("Bearer tok-prom")).toEqual({ status: 200 });
    // No review for a request without a token.
    expect(api.calls.filter((c) => c === "tokenreviews")).toHaveLength(3);
  });

  it("reuses a decision for the TTL, then asks again", async () => {
    const api = apiServer({ t: "u" }, ["u"]);
    let now = 1_000_000;
    const auth = kubernetesMetricsAuth({ client: api.client, logger, ttlMs: 10_000, now: () => now });
    for (let i = 0; i < 5; i++) expect(await auth("Bearer t")).toEqual({ status: 200 });
    expect(api.calls).toEqual(["tokenreviews", "subjectaccessreviews"]);
    now += 10_001;
    expect(await auth("Bearer t")).toEqual({ status: 200 });
    expect(api.calls).toHaveLength(4);
  });

  it("remembers at most maxEntries tokens, forgetting the oldest", async () => {
    const users = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`t${i}`, `u${i}`]));
    const api = apiServer(users, Object.values(users));
    const auth = kubernetesMetricsAuth({ client: api.client, logger, maxEntries: 3 });
    for (let i = 0; i < 5; i++) await auth(`Bearer t${i}`);
    const reviews = () => api.calls.filter((c) => c === "tokenreviews").length;
    expect(reviews()).toBe(5);
    await auth("Bearer t4"); // still remembered
    expect(reviews()).toBe(5);
    await auth("Bearer t0"); // forgotten
    expect(reviews()).toBe(6);
  });

  it("answers 500 when the API server cannot review, and does not cache that", async () => {
    const api = apiServer({ t: "u" }, ["u"], { fail: true });
    const auth = kubernetesMetricsAuth({ client: api.client, logger });
    expect(await auth("Bearer t")).toMatchObject({ status: 500 });
    expect(await auth("Bearer t")).toMatchObject({ status: 500 });
    expect(api.calls).toHaveLength(2);
  });
});
