// Which pod may reach which pod and port under a set of NetworkPolicies — answered by a real
// NetworkPolicy evaluator (cyclonus, built by scripts/build-test-binaries.sh) offline, without a
// cluster or a CNI. Tests describe a small world (namespaces with labels, pods with labels and
// ports) and get one verdict per (source pod, destination pod, destination port).
//
// cyclonus `analyze --mode query-traffic` takes the policies (one YAML file each; it reads neither
// multi-document YAML nor a policy without spec.policyTypes) and a JSON list of traffic
// descriptions, and prints, per traffic in input order, a table ending in the line
// `| IS ALLOWED? |  TRUE  |` or `... FALSE ...`. A traffic is allowed when the destination's
// ingress policies and the source's egress policies both allow it.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";

const execFileAsync = promisify(execFile);

export type Protocol = "TCP" | "UDP" | "SCTP";
export type PodPort = { port: number; name?: string; protocol?: Protocol };
export type WorldPod = { namespace: string; name: string; labels?: Record<string, string>; ports?: PodPort[] };
export type World = {
  /** Namespace name → its labels; `kubernetes.io/metadata.name` is added as the API server does. */
  namespaces: Record<string, Record<string, string>>;
  pods: WorldPod[];
};
/** `from` and `to` are "namespace/pod". */
export type Verdict = { from: string; to: string; port: number; portName?: string; protocol: Protocol; allowed: boolean };

type NetworkPolicy = {
  metadata?: { name?: string; namespace?: string };
  spec?: { policyTypes?: string[]; egress?: unknown[]; [k: string]: unknown };
  [k: string]: unknown;
};

type CyclonusPeer = { Internal: { Namespace: string; NamespaceLabels: Record<string, string>; PodLabels: Record<string, string> } };
type CyclonusTraffic = { Source: CyclonusPeer; Destination: CyclonusPeer; ResolvedPort: number; ResolvedPortName: string; Protocol: Protocol };

const podId = (p: WorldPod) => `${p.namespace}/${p.name}`;

/** Every (source pod, other destination pod, destination port) of the world, in a stable order, with cyclonus' traffic description. */
export function trafficOf(world: World): { verdict: Omit<Verdict, "allowed">; traffic: CyclonusTraffic }[] {
  const peer = (p: WorldPod): CyclonusPeer => {
    const labels = world.namespaces[p.namespace];
    if (!labels) throw new Error(`pod ${podId(p)}: namespace ${p.namespace} is not in world.namespaces`);
    return { Internal: { Namespace: p.namespace, NamespaceLabels: { ...labels, "kubernetes.io/metadata.name": p.namespace }, PodLabels: p.labels ?? {} } };
  };
  const out: { verdict: Omit<Verdict, "allowed">; traffic: CyclonusTraffic }[] = [];
  for (const from of world.pods) {
    for (const to of world.pods) {
      if (from === to) continue;
      for (const port of to.ports ?? []) {
        const protocol = port.protocol ?? "TCP";
        out.push({
          verdict: { from: podId(from), to: podId(to), port: port.port, ...(port.name ? { portName: port.name } : {}), protocol },
          traffic: { Source: peer(from), Destination: peer(to), ResolvedPort: port.port, ResolvedPortName: port.name ?? "", Protocol: protocol },
        });
      }
    }
  }
  return out;
}

/** The allowed/denied answers of `cyclonus analyze --mode query-traffic`, in input order. */
export function parseQueryTraffic(stdout: string, expected: number): boolean[] {
  const answers = [...stdout.matchAll(/^\|\s*IS ALLOWED\?\s*\|\s*(TRUE|FALSE)\s*\|/gm)].map((m) => m[1] === "TRUE");
  const asked = (stdout.match(/^Is traffic allowed\?$/gm) ?? []).length;
  if (answers.length !== expected || asked !== expected) {
    throw new Error(`cyclonus answered ${answers.length} of ${expected} traffic questions (${asked} result tables); output:\n${stdout.slice(0, 4000)}`);
  }
  return answers;
}

/** spec.policyTypes as the API server defaults it (cyclonus refuses a policy without it). */
export function withPolicyTypes<P extends NetworkPolicy>(policy: P): P {
  if (policy.spec?.policyTypes?.length) return policy;
  const types = ["Ingress", ...(policy.spec?.egress ? ["Egress"] : [])];
  return { ...policy, spec: { ...policy.spec, policyTypes: types } };
}

/** Runs cyclonus on the policies and the world; one verdict per (source pod, destination pod, destination port). */
export async function evaluateNetworkPolicies(cyclonus: string, policies: readonly NetworkPolicy[], world: World): Promise<Verdict[]> {
  const questions = trafficOf(world);
  if (questions.length === 0) return [];
  const dir = await mkdtemp(join(tmpdir(), "mso-netpol-eval-"));
  try {
    const policyDir = join(dir, "policies");
    await writeFile(join(dir, "traffic.json"), JSON.stringify(questions.map((q) => q.traffic)));
    await mkdir(policyDir);
    await Promise.all(policies.map((p, i) => writeFile(join(policyDir, `${String(i).padStart(3, "0")}.yaml`), stringify(withPolicyTypes(p)))));
    const args = ["analyze", "--mode", "query-traffic", "--traffic-path", join(dir, "traffic.json")];
    // Without --policy-path cyclonus evaluates no policies (everything allowed), as on a cluster without any.
    if (policies.length > 0) args.push("--policy-path", policyDir);
    let stdout: string;
    try {
      ({ stdout } = await execFileAsync(cyclonus, args, { maxBuffer: 256 * 1024 * 1024 }));
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string; message: string };
      throw new Error(`cyclonus failed: ${err.message}\n${err.stderr ?? ""}${(err.stdout ?? "").slice(0, 2000)}`);
    }
    const answers = parseQueryTraffic(stdout, questions.length);
    return questions.map((q, i) => ({ ...q.verdict, allowed: answers[i] === true }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The verdict for one (from, to, port), or an error naming what is not in the world. */
export function verdict(verdicts: readonly Verdict[], from: string, to: string, port: number): boolean {
  const v = verdicts.find((x) => x.from === from && x.to === to && x.port === port);
  if (!v) throw new Error(`no traffic ${from} -> ${to}:${port} in the evaluated world`);
  return v.allowed;
}
