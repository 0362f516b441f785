// Children the API server refuses, end to end (issue 15, item 9): a desired child that is not
// applied never leaves Ready True, whether the refusal is permanent (a quota) or transient and
// persisting (an admission webhook that cannot be reached answers 500 on every apply, as the HPA
// with a fractional stabilizationWindowSeconds did); and a namespace being deleted under running
// ModelServices leaves no ApplyFailed status, no error-level log line.
import type { V1HorizontalPodAutoscaler } from "@kubernetes/client-node";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ModelService } from "../../src/api/types.ts";
import { TRANSIENT_REPORT_MS } from "../../src/controller/reconcile.ts";
import type { KubeClient } from "../../src/kube/client.ts";
import { installCrd } from "../../src/operator/install-crd.ts";
import type { RunningOperator } from "../../src/operator/start.ts";
import {
  applyModelService,
  condition,
  createNamespace,
  deleteNamespace,
  get,
  getModelService,
  gpuSpec,
  isReady,
  sleep,
  startTestOperator,
  testClient,
  waitFor,
} from "./controller-helpers.ts";

let client: KubeClient;
let op: RunningOperator;
let webhookNs: string;
let quotaNs: string;
const webhookName = `refuse-hpa-${Date.now()}`;

const autoscaled = () => ({
  ...gpuSpec(),
  resources: { requests: { cpu: "1" } },
  autoscaling: { minReplicas: 1, maxReplicas: 2, target: { cpuUtilization: 70 } },
});
const getHpa = (ns: string, name: string) => get<V1HorizontalPodAutoscaler>(client, "autoscaling/v2", "horizontalpodautoscalers", ns, name);

beforeAll(async () => {
  client = testClient();
  await installCrd(client);
  webhookNs = await createNamespace(client, "af-webhook");
  quotaNs = await createNamespace(client, "af-quota");
  // A webhook nobody serves, for HPAs in one namespace: every HPA apply there gets a 500 ("failed calling webhook").
  await client.request("POST", "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations", {
    body: {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: { name: webhookName },
      webhooks: [
        {
          name: "refuse-hpa.modelservice.dev",
          clientConfig: { url: "https://127.0.0.1:1/refuse" },
          rules: [{ apiGroups: ["autoscaling"], apiVersions: ["*"], operations: ["CREATE", "UPDATE"], resources: ["horizontalpodautoscalers"] }],
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": webhookNs } },
          failurePolicy: "Fail",
          sideEffects: "None",
          admissionReviewVersions: ["v1"],
          timeoutSeconds: 2,
        },
      ],
    },
  });
  // No HPA may exist in the other: a permanent refusal (403, exceeded quota).
  await client.request("POST", `/api/v1/namespaces/${quotaNs}/resourcequotas`, {
    body: { apiVersion: "v1", kind: "ResourceQuota", metadata: { name: "no-hpa" }, spec: { hard: { "count/horizontalpodautoscalers.autoscaling": "0" } } },
  });
  op = await startTestOperator({ namespaces: [webhookNs, quotaNs] });
});

afterAll(async () => {
  await op?.stop();
  await client?.request("DELETE", `/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${webhookName}`).catch(() => {});
  for (const ns of [webhookNs, quotaNs]) if (ns) await deleteNamespace(client, ns);
  client?.close();
});

/** Polls the ModelService until Ready has `reason`, failing at once if Ready is ever True on the way. */
async function neverReadyUntil(ns: string, name: string, reason: string, timeoutMs: number): Promise<ModelService> {
  return waitFor(
    `${ns}/${name} Ready reason ${reason}`,
    async () => {
      const ms = await getModelService(client, ns, name);
      if (isReady(ms)) throw new Error(`Ready became True while a child was refused: ${JSON.stringify(condition(ms, "Ready"))}`);
      return condition(ms, "Ready")?.reason === reason ? ms : undefined;
    },
    timeoutMs,
    100,
  );
}

describe("a child the API server refuses", () => {
  it("transient but persisting (500 from an unreachable webhook): Ready False, reason ApplyFailed with the message, still retried; Ready once it goes", async () => {
    const started = Date.now();
    await applyModelService(client, webhookNs, "m", autoscaled());
    const ms = await neverReadyUntil(webhookNs, "m", "ApplyFailed", TRANSIENT_REPORT_MS + 50_000);
    console.log(`[measure] persisting 500 reached the status after ${Date.now() - started} ms (threshold ${TRANSIENT_REPORT_MS} ms)`);
    const ready = condition(ms, "Ready");
    expect(ready?.status).toBe("False");
    expect(ready?.message).toMatch(/^applying the children failed: .*HorizontalPodAutoscaler m.*500.*failed calling webhook.*; retrying/);
    expect(condition(ms, "Stalled")?.status).toBe("False");
    expect(condition(ms, "Reconciling")).toMatchObject({ status: "True", reason: "ApplyFailed" });
    expect(await getHpa(webhookNs, "m")).toBeUndefined();

    // The webhook goes: the retries apply the HPA and the ModelService becomes Ready.
    await client.request("DELETE", `/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${webhookName}`);
    await waitFor("HPA applied after the webhook is gone", () => getHpa(webhookNs, "m"), 120_000, 500);
    await waitFor("Ready once the HPA exists", async () => isReady(await getModelService(client, webhookNs, "m")), 120_000, 500);
  });

  it("permanent (exceeded quota): Ready False, reason ApplyFailed naming the HPA and the quota, Stalled", async () => {
    await applyModelService(client, quotaNs, "m", autoscaled());
    const ms = await neverReadyUntil(quotaNs, "m", "ApplyFailed", 60_000);
    expect(condition(ms, "Ready")?.message).toMatch(/^applying the children failed: .*HorizontalPodAutoscaler m.*403.*exceeded quota: no-hpa/);
    expect(condition(ms, "Stalled")?.status).toBe("True");
    expect(await getHpa(quotaNs, "m")).toBeUndefined();
    // Its replicas run meanwhile; Ready stays False as long as the HPA is refused.
    await sleep(3000);
    expect(isReady(await getModelService(client, quotaNs, "m"))).toBe(false);
  });
});

describe("a namespace being deleted under running ModelServices", () => {
  it("writes no ApplyFailed status and logs no error", async () => {
    const lines: { level: number; msg?: string; reason?: string; err?: unknown }[] = [];
    const logger = pino({ level: "debug" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    const ns = await createNamespace(client, "af-term");
    const nsOp = await startTestOperator({ namespaces: [ns], logger });
    try {
      const names = ["a", "b", "c", "d"];
      for (const n of names) await applyModelService(client, ns, n, gpuSpec());
      for (const n of names) await waitFor(`${ns}/${n} Ready`, async () => isReady(await getModelService(client, ns, n)), 120_000, 500);
      const seen: string[] = [];
      await deleteNamespace(client, ns);
      await waitFor(
        `namespace ${ns} gone`,
        async () => {
          for (const n of names) {
            const ms = await getModelService(client, ns, n).catch(() => undefined);
            const reason = condition(ms, "Ready")?.reason;
            if (reason) seen.push(reason);
          }
          return (await get(client, "v1", "namespaces", "", ns)) === undefined;
        },
        180_000,
        100,
      );
      const quiet = lines.filter((l) => String(l.msg).includes("namespace is being terminated")).length;
      console.log(`[measure] namespace deletion: ${quiet} refused writes recognised as a terminating namespace`);
      expect(seen).not.toContain("ApplyFailed");
      expect(lines.filter((l) => l.msg === "status updated" && l.reason === "ApplyFailed")).toEqual([]);
      expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    } finally {
      await nsOp.stop();
    }
  });
});
