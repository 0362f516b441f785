// LoRA adapters on the local control plane: a base model with adapters becomes Ready with the
// adapters fetched by init containers before the engine starts, and the status lists the served
// adapter names; changing the list rolls the pods (a new ReplicaSet), and the status follows it.
import type { V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { resourcePath } from "../../src/kube/client.ts";
import { applyModelService, getModelService, isReady, useOperator, waitFor } from "./controller-helpers.ts";

const fx = useOperator("lora");
const NAME = "llama-lora";
const spec = (adapters: { name: string; uri: string }[]) => ({
  model: { uri: "hf://meta-llama/Llama-3.1-8B-Instruct" },
  engine: { type: "vLLM" },
  gpu: { count: 1 },
  adapters,
  podMetadata: { annotations: { "modelservice.dev/simulate-load-seconds": "1" } },
});
const readyWith = async (names: string[]) =>
  waitFor(
    `Ready serving ${names.join(", ")}`,
    async () => {
      const m = await getModelService(fx.client, fx.ns, NAME);
      return isReady(m) && JSON.stringify(m.status?.adapters) === JSON.stringify(names) && m.status?.replicaSummary === "1/1" ? m : undefined;
    },
    90_000,
  );

describe("a base model with LoRA adapters", () => {
  it("is Ready with the adapters fetched before the engine, and lists them; a new list rolls the pods", async () => {
    await applyModelService(fx.client, fx.ns, NAME, spec([{ name: "sql", uri: "hf://org/sql-lora" }]));
    await readyWith(["sql"]);
    const pods = async () =>
      (await fx.client.request<{ items: V1Pod[] }>("GET", resourcePath({ apiVersion: "v1", plural: "pods", namespace: fx.ns }))).items.filter(
        (p) => !p.metadata?.deletionTimestamp,
      );
    const [first] = await pods();
    expect(first?.spec?.initContainers?.map((c) => c.name)).toEqual(["adapter-download-hf"]);
    expect(first?.spec?.containers[0]?.args).toEqual(expect.arrayContaining(["--enable-lora", "--lora-modules", "sql=/adapters/sql"]));

    await applyModelService(
      fx.client,
      fx.ns,
      NAME,
      spec([
        { name: "sql", uri: "hf://org/sql-lora" },
        { name: "chat", uri: "hf://org/chat-lora@v2" },
      ]),
    );
    await readyWith(["sql", "chat"]);
    const now = await waitFor(
      "the old pod gone",
      async () => ((ps) => (ps.length === 1 && ps[0]?.metadata?.name !== first?.metadata?.name ? ps : undefined))(await pods()),
      60_000,
    );
    expect(now[0]?.spec?.containers[0]?.args).toEqual(expect.arrayContaining(["sql=/adapters/sql", "chat=/adapters/chat"]));
  });
});
