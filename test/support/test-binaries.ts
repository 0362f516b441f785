// Tools only the tests need (cyclonus, the LeaderWorkerSet controller, KEDA's operator and the KEDA
// HTTP add-on's interceptor and scaler), built by scripts/build-test-binaries.sh from the Go module
// proxy, each cached under ~/.cache/modelservice-operator/test-tools/<tool>-<version>/ and linked into
// test-tools/bin. The first build
// takes minutes; later calls return at once. MSO_TEST_BIN_DIR names a directory that already
// holds them (nothing is built).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { KEDA_BINARIES } from "../../src/localcluster/keda.ts";

export const TEST_BINARIES = ["cyclonus", "lws-manager", ...KEDA_BINARIES] as const;
export const TEST_BUILD_SCRIPT = fileURLToPath(new URL("../../scripts/build-test-binaries.sh", import.meta.url));

export async function ensureTestBinaries(opts: { onProgress?: (line: string) => void } = {}): Promise<string> {
  const preset = process.env.MSO_TEST_BIN_DIR;
  const check = (dir: string, what: string) => {
    const missing = TEST_BINARIES.filter((b) => !existsSync(join(dir, b)));
    if (missing.length > 0) throw new Error(`${what} lacks ${missing.join(", ")} in ${dir}`);
    return dir;
  };
  if (preset) return check(preset, "MSO_TEST_BIN_DIR");
  const child = spawn("bash", [TEST_BUILD_SCRIPT], { stdio: ["ignore", "pipe", "pipe"] });
  const stdout: string[] = [];
  const tail: string[] = [];
  createInterface({ input: child.stdout }).on("line", (l) => stdout.push(l));
  createInterface({ input: child.stderr }).on("line", (l) => {
    tail.push(l);
    if (tail.length > 40) tail.shift();
    opts.onProgress?.(l);
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", resolve);
  });
  const dir = stdout
    .filter((l) => l.trim() !== "")
    .at(-1)
    ?.trim();
  if (code !== 0 || !dir) throw new Error(`${TEST_BUILD_SCRIPT} failed (exit code ${code}):\n${tail.join("\n")}`);
  return check(dir, TEST_BUILD_SCRIPT);
}
