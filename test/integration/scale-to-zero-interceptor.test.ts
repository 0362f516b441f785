// What a caller sees at the real KEDA HTTP add-on interceptor (v0.15.0, a local process) with the
// InterceptorRoute the operator renders, without KEDA's operator (nothing scales here; the
// Deployment keeps its one replica): a request waits while the model has no ready endpoint, and is
// answered 504 when the route's readiness timeout (autoscaling.wake.timeoutSeconds, default the
// startup budget) runs out; once a replica is ready it is forwarded. Readiness comes from the real
// EndpointSlice of the model's Service; the forwarded hop lands on a local stand-in
// (helpers/upstream.ts).
import { describe, expect, it } from "vitest";
import { applyModelService, condition, get, getModelService, gpuSpec, testClient, waitFor } from "./controller-helpers.ts";
import { useKedaStack } from "./helpers/keda-stack.ts";
import { callThroughInterceptor } from "./helpers/upstream.ts";

const HOLD_SECONDS = 30;

describe("the real interceptor with the rendered InterceptorRoute", () => {
  const client = testClient();
  const stack = useKedaStack(client, { namespacePrefix: "s2z-hold", addOnNamespacePrefix: "keda-http", kedaOperator: false });
  const seen = stack.seen;

  const wakeSpec = (podAnnotations: Record<string, string>) => ({
    ...gpuSpec(),
    podMetadata: { annotations: podAnnotations },
    startup: { timeoutSeconds: 60 },
    autoscaling: { minReplicas: 0, maxReplicas: 1, target: { inFlightRequests: 1 }, wake: { mode: "Request", timeoutSeconds: HOLD_SECONDS } },
  });

  const routed = (name: string) =>
    waitFor(`the InterceptorRoute ${name}`, () => get(client, "http.keda.sh/v1beta1", "interceptorroutes", stack.ns, name), 60_000, 200);

  it("holds a request while no replica is ready, then answers 504 when the route's timeout runs out", async () => {
    await applyModelService(client, stack.ns, "stuck", wakeSpec({ "modelservice.dev/simulate": "never-ready" }));
    await routed("stuck");
    // The interceptor's route table follows the InterceptorRoute through its watch.
    await new Promise((r) => setTimeout(r, 2000));
    const before = seen.length;
    const answer = await callThroughInterceptor(stack.interceptorUrl, `stuck.${stack.ns}.svc.cluster.local`, "/v1/models");
    process.stderr.write(
      `[measure] held request answered ${answer.status} after ${(answer.firstByteMs / 1000).toFixed(1)}s (wake.timeoutSeconds ${HOLD_SECONDS})\n`,
    );
    expect(answer.status).toBe(504);
    expect(seen.length).toBe(before);
    expect(condition(await getModelService(client, stack.ns, "stuck"), "Ready")?.status).toBe("False");
  }, 120_000);

  it("forwards a request to the model's Service once a replica is ready", async () => {
    await applyModelService(client, stack.ns, "quick", wakeSpec({ "modelservice.dev/simulate-load-seconds": "2" }));
    await routed("quick");
    await new Promise((r) => setTimeout(r, 2000));
    const answer = await callThroughInterceptor(stack.interceptorUrl, `quick.${stack.ns}.svc`, "/v1/models");
    process.stderr.write(`[measure] request answered ${answer.status} after ${(answer.firstByteMs / 1000).toFixed(1)}s (model loading ~2s)\n`);
    expect(answer.status).toBe(200);
    expect(answer.headers["x-keda-http-cold-start"]).toBeDefined();
    expect(seen.at(-1)?.url).toMatch(new RegExp(`^http://quick\\.${stack.ns}[.:a-z0-9]*/v1/models$`));
  }, 120_000);
});
