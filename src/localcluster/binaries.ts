// The local control plane's binaries (kube-apiserver, kube-controller-manager, kube-scheduler,
// kubectl, etcd, kwok, helm), built from the Go module proxy by scripts/build-binaries.sh and
// cached under ~/.cache/modelservice-operator/<versions>/bin. The first build takes many minutes;
// later calls return at once (the script finds every binary in place).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const BINARIES = ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "etcd", "kwok", "helm"] as const;

// src/localcluster and build/localcluster are both two levels below the repository root.
export const BUILD_SCRIPT = fileURLToPath(new URL("../../scripts/build-binaries.sh", import.meta.url));

/** Root of the operator's cache, as in scripts/build-binaries.sh. */
export const cacheRoot = (): string => process.env.MSO_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "modelservice-operator");

export type EnsureBinariesOptions = {
  /** Called with every progress line of the build (its stderr), e.g. to print it. */
  onProgress?: (line: string) => void;
};

/**
 * Builds the binaries if needed and returns their directory. MSO_BIN_DIR, when set, names a
 * directory that already holds them (nothing is built).
 */
export const ensureBinaries = async (opts: EnsureBinariesOptions = {}): Promise<string> => {
  const preset = process.env.MSO_BIN_DIR;
  if (preset) {
    const missing = BINARIES.filter((b) => !existsSync(join(preset, b)));
    if (missing.length > 0) throw new Error(`MSO_BIN_DIR=${preset} lacks ${missing.join(", ")}`);
    return preset;
  }
  const child = spawn("bash", [BUILD_SCRIPT], { stdio: ["ignore", "pipe", "pipe"] });
  const stdout: string[] = [];
  const stderrTail: string[] = [];
  createInterface({ input: child.stdout }).on("line", (line) => stdout.push(line));
  createInterface({ input: child.stderr }).on("line", (line) => {
    stderrTail.push(line);
    if (stderrTail.length > 40) stderrTail.shift();
    opts.onProgress?.(line);
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (c) => resolve(c));
  });
  const binDir = stdout
    .filter((l) => l.trim() !== "")
    .at(-1)
    ?.trim();
  if (code !== 0 || !binDir) {
    throw new Error(`${BUILD_SCRIPT} failed (exit code ${code}):\n${stderrTail.join("\n")}`);
  }
  const missing = BINARIES.filter((b) => !existsSync(join(binDir, b)));
  if (missing.length > 0) throw new Error(`${BUILD_SCRIPT} did not produce ${missing.join(", ")} in ${binDir}`);
  return binDir;
};
