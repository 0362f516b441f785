// How the operator's image runs Node: the runtime stage's ENV (NODE_OPTIONS, MALLOC_ARENA_MAX, …)
// read from the Dockerfile, so the benchmark measures the operator as it ships, not as a developer
// runs it from src/.
import { readFileSync } from "node:fs";

/** The ENV of the Dockerfile's last stage (`ENV K=V K2="V 2"`, continued lines joined). */
export function imageEnv(dockerfile: string): Record<string, string> {
  const joined = dockerfile.replace(/\\\r?\n/g, " ");
  const lines = joined.split(/\r?\n/);
  const lastFrom = lines.findLastIndex((l) => /^FROM\s/i.test(l));
  const env: Record<string, string> = {};
  for (const line of lines.slice(lastFrom + 1)) {
    const m = /^ENV\s+(.*)$/i.exec(line.trim());
    if (!m) continue;
    for (const [, key, quoted, bare] of (m[1] as string).matchAll(/([A-Za-z_][A-Za-z0-9_]*)=(?:"((?:[^"\\]|\\.)*)"|(\S*))/g))
      env[key as string] = quoted ?? bare ?? "";
  }
  return env;
}

export const imageEnvOf = (dockerfilePath: string): Record<string, string> => imageEnv(readFileSync(dockerfilePath, "utf8"));
