import type { V1Container, V1PodTemplateSpec } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { modelService, parsed, type SpecPatch, withSpec } from "../../test/support/model-service.ts";
import type { ModelService } from "../api/types.ts";
import { defaultOperatorConfig } from "../config/operator-config.ts";
import { InvalidSpecError, orderedChildren, podTemplates, render } from "./index.ts";

const ms = (spec: SpecPatch = {}, name = "big"): ModelService => parsed(modelService(name, withSpec(spec)));
const TWO_BY_8: SpecPatch = { gpu: { count: 8, products: ["NVIDIA-H100-80GB-HBM3", "NVIDIA-H100-80GB-HBM3e"] }, multiNode: { nodes: 2 } };
const engineOf = (t: V1PodTemplateSpec | undefined): V1Container => {
  const c = t?.spec?.containers.find((x) => x.name === "engine");
  if (!c) throw new Error("no engine container");
  return c;
};
const flag = (args: string[] | undefined, name: string) => {
  const i = (args ?? []).indexOf(name);
  return i < 0 ? undefined : args?.[i + 1];
};

describe("a replica over several nodes", () => {
  it("is a LeaderWorkerSet group instead of a Deployment: size, replicas, whole-group restarts", () => {
    const out = render(ms({ ...TWO_BY_8, replicas: 3 }), defaultOperatorConfig);
    expect(out.deployment).toBeUndefined();
    expect(orderedChildren(out).map((c) => c.kind)).toEqual(["NetworkPolicy", "LeaderWorkerSet", "Service", "PodDisruptionBudget"]);
    const lws = out.leaderWorkerSet;
    expect(lws?.metadata?.name).toBe("big-group");
    expect(lws?.spec).toMatchObject({
      replicas: 3,
      startupPolicy: "LeaderCreated",
      leaderWorkerTemplate: { size: 2, restartPolicy: "RecreateGroupOnPodRestart" },
    });
  });

  it("asks for the GPUs on every pod of the group, keeps the group on one GPU product, and tolerates the GPU taint", () => {
    const out = render(ms({ ...TWO_BY_8, multiNode: { nodes: 2, topologyKey: "example.com/rack" } }), defaultOperatorConfig);
    const templates = podTemplates(out);
    expect(templates).toHaveLength(2);
    for (const t of templates) {
      expect(engineOf(t).resources?.limits?.["nvidia.com/gpu"]).toBe("8");
      expect(t.spec?.tolerations).toContainEqual({ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" });
      const terms = t.spec?.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
      expect(terms.map((x) => x.topologyKey)).toEqual(["nvidia.com/gpu.product", "example.com/rack"]);
      for (const term of terms) {
        expect(term.matchLabelKeys).toEqual(["leaderworkerset.sigs.k8s.io/group-key"]);
        expect(term.labelSelector?.matchLabels).toEqual({ "modelservice.dev/name": "big" });
      }
      expect(t.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.[0]?.matchExpressions).toContainEqual({
        key: "nvidia.com/gpu.product",
        operator: "In",
        values: ["NVIDIA-H100-80GB-HBM3", "NVIDIA-H100-80GB-HBM3e"],
      });
    }
  });

  it("sends traffic to the leaders only", () => {
    const out = render(ms(TWO_BY_8), defaultOperatorConfig);
    expect(out.service.spec?.selector).toEqual({ "modelservice.dev/name": "big", "leaderworkerset.sigs.k8s.io/worker-index": "0" });
    expect(render(ms({ gpu: { count: 8 } }), defaultOperatorConfig).service.spec?.selector).toEqual({ "modelservice.dev/name": "big" });
  });

  it("vLLM: the leader starts the Ray head, waits for the group and serves with TP 8 × PP 2; the workers join it and have no probes", () => {
    const out = render(ms({ ...TWO_BY_8, startup: { timeoutSeconds: 7200 } }), defaultOperatorConfig);
    const [leaderT, workerT] = podTemplates(out);
    const leader = engineOf(leaderT);
    expect(leader.command?.slice(0, 2)).toEqual(["/bin/sh", "-c"]);
    expect(leader.command?.[2]).toContain('leader --ray_cluster_size="$LWS_GROUP_SIZE" && exec vllm serve "$@"');
    expect(flag(leader.args, "--tensor-parallel-size")).toBe("8");
    expect(flag(leader.args, "--pipeline-parallel-size")).toBe("2");
    expect(flag(leader.args, "--distributed-executor-backend")).toBe("ray");
    // The leader's startup probe holds the whole budget: it is ready only once the group loaded the model.
    expect((leader.startupProbe?.failureThreshold ?? 0) * (leader.startupProbe?.periodSeconds ?? 0)).toBe(7200);
    const worker = engineOf(workerT);
    expect(worker.command?.[2]).toContain('worker --ray_address="$LWS_LEADER_ADDRESS"');
    expect(worker.args).toEqual([]);
    expect(worker.startupProbe ?? worker.readinessProbe ?? worker.livenessProbe).toBeUndefined();
    expect(worker.ports).toBeUndefined();
  });

  it("vLLM honours spec.parallelism", () => {
    const leader = engineOf(podTemplates(render(ms({ ...TWO_BY_8, parallelism: { tensor: 16 } }), defaultOperatorConfig))[0]);
    expect(flag(leader.args, "--tensor-parallel-size")).toBe("16");
    expect(leader.args).not.toContain("--pipeline-parallel-size");
  });

  it("SGLang: every pod runs the server with TP over all 16 GPUs and its rank; workers keep the health probes", () => {
    const out = render(ms({ ...TWO_BY_8, engine: { type: "SGLang" } }), defaultOperatorConfig);
    for (const t of podTemplates(out)) {
      const c = engineOf(t);
      expect(c.command).toEqual(["python3", "-m", "sglang.launch_server"]);
      expect(flag(c.args, "--tp-size")).toBe("16");
      expect(flag(c.args, "--dist-init-addr")).toBe("$(LWS_LEADER_ADDRESS):20000");
      expect(flag(c.args, "--nnodes")).toBe("$(LWS_GROUP_SIZE)");
      expect(flag(c.args, "--node-rank")).toBe("$(LWS_WORKER_INDEX)");
      expect(c.readinessProbe?.httpGet?.path).toBe("/health");
    }
  });

  it("a single-pod replica with pipeline parallelism stays a Deployment", () => {
    const out = render(ms({ gpu: { count: 4 }, parallelism: { tensor: 2, pipeline: 2 } }), defaultOperatorConfig);
    expect(out.leaderWorkerSet).toBeUndefined();
    const args = engineOf(out.deployment?.spec?.template).args;
    expect(flag(args, "--tensor-parallel-size")).toBe("2");
    expect(flag(args, "--pipeline-parallel-size")).toBe("2");
    expect(args).not.toContain("--distributed-executor-backend");
  });

  it("refuses what admission refuses (TGI over two nodes), naming the field", () => {
    expect(() => render(ms({ ...TWO_BY_8, engine: { type: "TGI" } }), defaultOperatorConfig)).toThrow(InvalidSpecError);
    try {
      render(ms({ ...TWO_BY_8, engine: { type: "TGI" } }), defaultOperatorConfig);
    } catch (e) {
      expect((e as InvalidSpecError).problems).toContainEqual({ path: "spec.multiNode", message: expect.stringContaining("vLLM or SGLang") });
    }
  });
});

describe("LoRA adapters", () => {
  const ADAPTERS = [
    { name: "sql", uri: "hf://org/sql-lora@v2" },
    { name: "de", uri: "s3://loras/de" },
    { name: "legal", uri: "pvc://loras/legal" },
  ];
  const template = (spec: SpecPatch) =>
    podTemplates(render(ms({ gpu: { count: 1 }, cache: { size: "50Gi" }, adapters: ADAPTERS, ...spec }), defaultOperatorConfig))[0];

  it("vLLM serves each under its name from a local directory", () => {
    const c = engineOf(template({}));
    const args = c.args ?? [];
    expect(args).toContain("--enable-lora");
    expect(flag(args, "--max-loras")).toBe("3");
    const i = args.indexOf("--lora-modules");
    expect(args.slice(i + 1, i + 4)).toEqual(["sql=/cache/adapters/sql", "de=/cache/adapters/de", "legal=/mnt/adapters/legal/legal"]);
  });

  it("fetches hf:// with the engine image and the model's token, s3:// with the downloader, mounts pvc:// read-only", () => {
    const t = template({ model: { uri: "hf://org/base", credentialsSecret: "hf-token" } });
    const init = t?.spec?.initContainers ?? [];
    const hf = init.find((x) => x.name === "adapter-download-hf");
    expect(hf?.image).toBe(defaultOperatorConfig.images.vLLM);
    expect(hf?.args).toEqual(["org/sql-lora", "v2", "/cache/adapters/sql"]);
    expect(hf?.envFrom).toEqual([{ secretRef: { name: "hf-token" } }]);
    const s3 = init.find((x) => x.name === "adapter-download-s3");
    expect(s3?.image).toBe(defaultOperatorConfig.downloaderImages.s3);
    expect(s3?.args).toEqual(["s3://loras/de", "/cache/adapters/de"]);
    expect(t?.spec?.volumes).toContainEqual({ name: "adapter-2", persistentVolumeClaim: { claimName: "loras", readOnly: true } });
    expect(engineOf(t).volumeMounts).toContainEqual({ name: "adapter-2", mountPath: "/mnt/adapters/legal", readOnly: true });
  });

  it("without a cache, hf:// adapters land in a scratch volume the engine reads", () => {
    const t = podTemplates(render(ms({ gpu: { count: 1 }, adapters: [ADAPTERS[0] as { name: string; uri: string }] }), defaultOperatorConfig))[0];
    expect(t?.spec?.volumes).toContainEqual({ name: "adapters", emptyDir: {} });
    expect(engineOf(t).volumeMounts).toContainEqual({ name: "adapters", mountPath: "/adapters", readOnly: true });
    expect(flag(engineOf(t).args, "--lora-modules")).toBe("sql=/adapters/sql");
  });

  it("SGLang takes --lora-paths, TGI the LORA_ADAPTERS variable", () => {
    const sg = engineOf(template({ engine: { type: "SGLang" } })).args ?? [];
    const i = sg.indexOf("--lora-paths");
    expect(sg).toContain("--enable-lora");
    expect(sg.slice(i + 1, i + 4)).toEqual(["sql=/cache/adapters/sql", "de=/cache/adapters/de", "legal=/mnt/adapters/legal/legal"]);
    const tgi = engineOf(template({ engine: { type: "TGI" } }));
    expect(tgi.env).toContainEqual({ name: "LORA_ADAPTERS", value: "sql=/cache/adapters/sql,de=/cache/adapters/de,legal=/mnt/adapters/legal/legal" });
  });

  it("every pod of a multi-node group fetches them too", () => {
    const out = render(ms({ ...TWO_BY_8, adapters: [ADAPTERS[0] as { name: string; uri: string }] }), defaultOperatorConfig);
    for (const t of podTemplates(out)) expect(t.spec?.initContainers?.map((x) => x.name)).toEqual(["adapter-download-hf"]);
  });
});
