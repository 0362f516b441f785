// Scale to zero and back with the real KEDA operator (v2.21.0) and the real KEDA HTTP add-on
// interceptor and scaler (v0.15.0), built from the Go module proxy and run as local processes
// against the local control plane (src/localcluster/keda.ts says what differs from a cluster).
//
// The data path: the test's request goes to the real interceptor, which holds it while the model
// has no ready endpoint (its EndpointSlice, written by the real EndpointSlice controller from the
// kwok pod) and then forwards it to <service>.<namespace>:80. kwok pods serve no traffic and this
// machine has no cluster DNS, so that one hop — Service VIP → pod → engine — is simulated: the
// interceptor's HTTP_PROXY is a small local HTTP server that answers in the engine's place. Every
// other hop is real: interceptor → admin endpoint → scaler → KEDA (external-push) → Deployment
// scale → ReplicaSet → kwok pod Ready → EndpointSlice → interceptor.
import { describe, expect, it } from "vitest";
import { applyModelService, condition, get, getDeployment, getModelService, gpuSpec, testClient, waitFor } from "./controller-helpers.ts";
import { useKedaStack } from "./helpers/keda-stack.ts";
import { callThroughInterceptor } from "./helpers/upstream.ts";

const NAME = "idle";
const LOAD_SECONDS = 4;
// The shortest the schema allows; the startup budget must not be longer (admission rule).
const COOLDOWN_SECONDS = 60;
const STARTUP_SECONDS = 60;

describe("scale to zero with the real KEDA and HTTP add-on", () => {
  const client = testClient();
  const stack = useKedaStack(client, { namespacePrefix: "s2z", addOnNamespacePrefix: "keda", kedaOperator: true });
  const seen = stack.seen;

  it("goes to zero when idle, wakes on a request held by the interceptor, and hands replicas back", async () => {
    const spec = {
      ...gpuSpec({ loadSeconds: LOAD_SECONDS }),
      startup: { timeoutSeconds: STARTUP_SECONDS },
      autoscaling: { minReplicas: 0, maxReplicas: 1, target: { inFlightRequests: 1 }, cooldownSeconds: COOLDOWN_SECONDS, wake: { mode: "Request" } },
    };
    await applyModelService(client, stack.ns, NAME, spec);

    // KEDA, not the operator, makes the HPA, and it targets our Deployment.
    const hpa = await waitFor(
      "KEDA's HPA for the ScaledObject",
      () =>
        get<{ spec?: { scaleTargetRef?: { kind?: string; name?: string } }; metadata?: { ownerReferences?: { kind?: string }[] } }>(
          client,
          "autoscaling/v2",
          "horizontalpodautoscalers",
          stack.ns,
          `keda-hpa-${NAME}`,
        ),
      90_000,
      500,
    );
    expect(hpa.spec?.scaleTargetRef).toMatchObject({ kind: "Deployment", name: NAME });
    expect(hpa.metadata?.ownerReferences?.[0]?.kind).toBe("ScaledObject");
    const route = await get<{ spec?: { timeouts?: { readiness?: string } } }>(client, "http.keda.sh/v1beta1", "interceptorroutes", stack.ns, NAME);
    expect(route?.spec?.timeouts?.readiness).toBe(`${STARTUP_SECONDS}s`);

    // No traffic: KEDA scales the Deployment to 0 (through the scale subresource), the model is Idle.
    const idleStart = performance.now();
    const idle = await waitFor(
      "ScaledToZero",
      async () => {
        const ms = await getModelService(client, stack.ns, NAME);
        return condition(ms, "Ready")?.reason === "ScaledToZero" ? ms : undefined;
      },
      COOLDOWN_SECONDS * 1000 + 90_000,
      500,
    );
    process.stderr.write(
      `[measure] scale to zero: ScaledToZero ${((performance.now() - idleStart) / 1000).toFixed(1)}s after the HPA appeared (cooldown ${COOLDOWN_SECONDS}s)\n`,
    );
    expect(idle.status?.phase).toBe("Idle");
    expect(condition(idle, "Ready")?.status).toBe("True");
    expect(condition(idle, "Ready")?.message).toMatch(
      /scaled to zero by KEDA after 1m without requests; the next request through the KEDA HTTP add-on's interceptor wakes it/,
    );
    const zero = await getDeployment(client, stack.ns, NAME);
    expect(zero?.spec?.replicas).toBe(0);

    // A request to the interceptor wakes it: held until the replica is ready, then answered. The
    // status is polled from before the request until this same poller has seen Ready, so no
    // transition is missed between two looks.
    const statuses: string[] = [];
    let stopped = false;
    const watchStatus = (async () => {
      const deadline = Date.now() + 120_000;
      while (!stopped) {
        const ms = await getModelService(client, stack.ns, NAME).catch(() => undefined);
        const reason = condition(ms, "Ready")?.reason;
        if (reason && statuses.at(-1) !== reason) statuses.push(reason);
        if (ms && reason === "Ready") return ms;
        if (Date.now() > deadline) throw new Error(`not Ready 120 s after the wake request; reasons seen: ${statuses.join(" → ")}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error("stopped: the test failed before the wake completed");
    })();
    watchStatus.catch(() => undefined); // awaited below; this only keeps an early failure from being "unhandled"
    const host = `${NAME}.${stack.ns}.svc.cluster.local`;
    const answer = await callThroughInterceptor(stack.interceptorUrl, host, "/v1/models").catch((e: unknown) => {
      stopped = true; // no poller left running after the test has failed
      throw e;
    });
    process.stderr.write(
      `[measure] wake time (request sent to the interceptor -> first byte): ${(answer.firstByteMs / 1000).toFixed(1)}s, with a simulated load of ${LOAD_SECONDS}s\n`,
    );
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ object: "list", data: [{ id: "stand-in" }] });
    // The interceptor forwarded to the model's Service (the simulated hop received it for that host).
    expect(seen.at(-1)?.method).toBe("GET");
    expect(seen.at(-1)?.url).toMatch(new RegExp(`^http://${NAME}\\.${stack.ns}[.:a-z0-9]*/v1/models$`));

    const woken = await watchStatus;
    expect(woken.status?.phase).toBe("Ready");
    // The status went ScaledToZero → Activating → Ready, and each transition left an Event.
    expect(statuses.indexOf("Activating")).toBeGreaterThan(statuses.indexOf("ScaledToZero"));
    expect(statuses.indexOf("Ready")).toBeGreaterThan(statuses.indexOf("Activating"));
    const events = await waitFor(
      "the Activating and Ready Events",
      async () => {
        const list = await client.request<{ items: { reason?: string; message?: string }[] }>("GET", `/api/v1/namespaces/${stack.ns}/events`, {
          query: { fieldSelector: `involvedObject.kind=ModelService,involvedObject.name=${NAME}` },
        });
        const reasons = list.items.map((e) => e.reason);
        return reasons.includes("Activating") && reasons.includes("ScaledToZero") && reasons.includes("Ready") ? list.items : undefined;
      },
      10_000,
    );
    expect(events.find((e) => e.reason === "Activating")?.message).toMatch(/woken from zero by KEDA/);
    const one = await getDeployment(client, stack.ns, NAME);
    expect(one?.spec?.replicas).toBe(1);

    // Autoscaling off: the operator takes replicas back, KEDA's objects go.
    await applyModelService(client, stack.ns, NAME, { ...gpuSpec({ loadSeconds: 1 }), replicas: 2 });
    await waitFor(
      "replicas 2 written by the operator",
      async () => {
        const d = await getDeployment(client, stack.ns, NAME);
        return d?.spec?.replicas === 2 ? d : undefined;
      },
      60_000,
      200,
    );
    await waitFor("the ScaledObject and InterceptorRoute pruned", async () => {
      const so = await get(client, "keda.sh/v1alpha1", "scaledobjects", stack.ns, NAME);
      const ir = await get(client, "http.keda.sh/v1beta1", "interceptorroutes", stack.ns, NAME);
      return !so && !ir;
    });
    await waitFor("KEDA's HPA gone", async () => !(await get(client, "autoscaling/v2", "horizontalpodautoscalers", stack.ns, `keda-hpa-${NAME}`)), 60_000, 500);
    const ready = await waitFor(
      "Ready with 2 replicas",
      async () => {
        const ms = await getModelService(client, stack.ns, NAME);
        return condition(ms, "Ready")?.status === "True" && ms.status?.readyReplicas === 2 ? ms : undefined;
      },
      60_000,
      200,
    );
    expect(condition(ready, "Ready")?.reason).toBe("Ready");
    // KEDA does not scale it back: still 2 a moment later.
    await new Promise((r) => setTimeout(r, 3000));
    expect((await getDeployment(client, stack.ns, NAME))?.spec?.replicas).toBe(2);
  }, 400_000);
});
