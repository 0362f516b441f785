import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { MAX_INPUT_BYTES, main } from "./render-command.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const examples = readdirSync(join(root, "examples"))
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .map((f) => join("examples", f));
const dir = mkdtempSync(join(tmpdir(), "render-command-"));
const write = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

/** Runs main() in-process with captured output. */
async function run(argv: string[], stdin = ""): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    stdin: Readable.from([stdin]),
  });
  return { code, stdout, stderr };
}

/** Runs the real binary entry point, as users do. */
function spawnCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["src/cli/main.ts", "render", ...args], { cwd: root }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

const valid = `apiVersion: modelservice.dev/v1alpha1
kind: ModelService
metadata:
  name: chat
spec:
  model:
    uri: hf://org/model
  engine:
    type: vLLM
`;

const malformed = `apiVersion: modelservice.dev/v1alpha1
kind: ModelService
metadata:
  name: Chat
spec:
  model:
    uri: ftp://x
  engine:
    type: vllm
  gpu:
    count: 65
  sharedMemory: lots
`;

describe("render command (spawned)", () => {
  it("rejects a malformed file with exit 1 and one `path: rule` line per problem, no stack", async () => {
    const { code, stdout, stderr } = await spawnCli(["-f", write("bad.yaml", malformed)]);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    const lines = stderr.trim().split("\n");
    expect(lines).toEqual(
      expect.arrayContaining([
        "spec.model.uri: must be hf://ORG/NAME[@REVISION], s3://BUCKET/PATH, gs://BUCKET/PATH, pvc://CLAIM/PATH or ollama://NAME[:TAG]",
        "spec.engine.type: must be one of: vLLM, SGLang, TGI, Ollama, Triton, Custom",
        "spec.gpu.count: must be at most 64",
        "spec.sharedMemory: must be a Kubernetes quantity such as 16Gi or 500m",
      ]),
    );
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it("renders every example (exit 0) exactly as the golden files", async () => {
    const { code, stdout, stderr } = await spawnCli(examples.flatMap((f) => ["-f", f]));
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const goldens = examples.map((f) => readFileSync(join(root, "test", "golden", f.replace(/^examples\//, "")), "utf8"));
    expect(stdout).toBe(goldens.join(""));
  });
});

describe("render command", () => {
  it.each(examples)("%s renders", async (file) => {
    const { code, stderr } = await run(["-f", join(root, file)]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
  });

  it("prints children in apply order with a default namespace and placeholder uid", async () => {
    const doc = valid.replace("spec:", "spec:\n  replicas: 2\n  cache:\n    size: 10Gi");
    const { code, stdout } = await run(["-f", write("ok.yaml", doc)]);
    expect(code).toBe(0);
    expect([...stdout.matchAll(/^kind: (\w+)/gm)].map((m) => m[1])).toEqual([
      "NetworkPolicy",
      "PersistentVolumeClaim",
      "Deployment",
      "Service",
      "PodDisruptionBudget",
    ]);
    expect(stdout).toContain("namespace: default");
    expect(stdout).toContain("uid: 00000000-0000-0000-0000-000000000000");
  });

  it("reads multi-document YAML from stdin", async () => {
    const { code, stdout } = await run(["-f", "-"], `${valid}---\n${valid.replace("name: chat", "name: chat-2")}\n---\n`);
    expect(code).toBe(0);
    expect(stdout.match(/^kind: Deployment$/gm)).toHaveLength(2);
  });

  it("reports specs the CRD accepts but that cannot work", async () => {
    const doc = valid.replace("spec:", "spec:\n  autoscaling:\n    minReplicas: 1\n    maxReplicas: 2\n    target:\n      inFlightRequests: 4");
    const { code, stderr, stdout } = await run(["-f", write("keda.yaml", doc)]);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toMatch(/^spec\.autoscaling\.target\.inFlightRequests: .*KEDA/m);
  });

  it("--config is merged over the defaults and validated", async () => {
    const doc = valid.replace("spec:", "spec:\n  autoscaling:\n    minReplicas: 1\n    maxReplicas: 2\n    target:\n      inFlightRequests: 4");
    const config = write("config.yaml", "keda:\n  enabled: true\nimages:\n  vLLM: registry.local/vllm:1\n");
    const { code, stdout } = await run(["-f", write("keda2.yaml", doc), "--config", config]);
    expect(code).toBe(0);
    expect(stdout).toContain("kind: ScaledObject");
    expect(stdout).toContain("image: registry.local/vllm:1");
    const bad = await run(["-f", write("ok2.yaml", valid), "--config", write("bad-config.yaml", "gpu:\n  resourceName: ''\n")]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("config.gpu.resourceName: must not be empty");
  });

  it("warns about unknown fields (likely typos)", async () => {
    const { code, stderr } = await run(["-f", write("typo.yaml", valid.replace("engine:", "engine:\n    tpye: x"))]);
    expect(code).toBe(0);
    expect(stderr).toContain("unknown field spec.engine.tpye");
  });

  it("explains unreadable files and YAML syntax errors in one line", async () => {
    const missing = await run(["-f", join(dir, "nope.yaml")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`error: ${join(dir, "nope.yaml")}: cannot read file: no such file\n`);
    const syntax = await run(["-f", write("syntax.yaml", "spec:\n  model: [unclosed\n")]);
    expect(syntax.code).toBe(1);
    expect(syntax.stderr.trim().split("\n")).toHaveLength(1);
    expect(syntax.stderr).toMatch(/invalid YAML at line \d+, column \d+/);
    const empty = await run(["-f", "-"], "");
    expect(empty.stderr).toContain("no ModelService found");
  });

  it("refuses an input over the size limit without parsing it, naming the file", async () => {
    // 50 MB of valid-looking YAML: the size that once took 522 s and 2.9 GB before failing.
    const big = write("big.yaml", valid);
    truncateSync(big, 50_000_000); // sparse: cheap to make, 50 MB to whoever reads it
    const started = performance.now();
    const file = await run(["-f", big]);
    console.log(`[measure] render -f of a ${(statSync(big).size / 1e6).toFixed(0)} MB file refused in ${(performance.now() - started).toFixed(0)} ms`);
    expect(file.code).toBe(1);
    expect(file.stdout).toBe("");
    expect(file.stderr).toMatch(
      new RegExp(`^error: ${big.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: too large \\(\\d+ bytes\\); render reads at most 1 MiB per input\n$`),
    );
    const piped = await run(["-f", "-"], "x".repeat(MAX_INPUT_BYTES + 1));
    expect(piped.code).toBe(1);
    expect(piped.stderr).toBe(`error: stdin: too large (more than ${MAX_INPUT_BYTES} bytes); render reads at most 1 MiB per input\n`);
    // Just under the limit is read and rendered as usual.
    const under = await run(["-f", write("under.yaml", `${valid}# ${"x".repeat(MAX_INPUT_BYTES - valid.length - 3)}\n`)]);
    expect(under.code).toBe(0);
  });

  it("usage errors exit 2", async () => {
    expect((await run([])).code).toBe(2);
    expect((await run(["-x"])).code).toBe(2);
    expect((await run(["--help"])).code).toBe(0);
  });
});

describe("render --class", () => {
  const cls = "examples/classes/gpu-shared.yaml";
  const hostile = write(
    "hostile.yaml",
    `apiVersion: modelservice.dev/v1alpha1
kind: ModelService
metadata: {name: hostile}
spec:
  model: {uri: hf://org/model}
  engine: {type: vLLM}
  service: {type: NodePort}
  podMetadata: {labels: {app: payments}}
`,
  );

  it("refuses what the class forbids, one line per field, as the operator's ClassViolation says", async () => {
    const r = await run(["-f", hostile, "--class", cls]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`error: ModelService "hostile" in ${hostile} is not allowed by ModelServiceClass gpu-shared:\n`);
    expect(r.stderr).toContain("spec.service.type: NodePort is not allowed by ModelServiceClass gpu-shared (allowed: ClusterIP)\n");
    expect(r.stderr).toContain("spec.podMetadata.labels: app is not allowed by ModelServiceClass gpu-shared (allowed: team.example.com/*)");
  });

  it("renders every example under the example class (the default class), with the class's scheduling", async () => {
    for (const file of examples) {
      const r = await run(["-f", file, "--class", cls]);
      expect(r.stderr, file).toBe("");
      expect(r.stdout, file).toContain("example.com/gpu-pool: shared");
    }
  });

  it("says when a ModelService names a class the files do not hold", async () => {
    const named = write("named.yaml", readFileSync(hostile, "utf8").replace("spec:\n", "spec:\n  className: premium\n"));
    const r = await run(["-f", named, "--class", cls]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("names ModelServiceClass premium, which is not in the --class files");
  });

  it("refuses a class admission would refuse", async () => {
    const bad = write("bad-class.yaml", readFileSync(join(root, cls), "utf8").replace('"vllm/vllm-openai:"', '"vllm"'));
    const r = await run(["-f", examples[0] as string, "--class", bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("invalid ModelServiceClass:\nspec.allow.images[vLLM]: allow.images prefixes must end with '/', ':' or '@'");
  });
});
