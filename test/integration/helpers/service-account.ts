// A kubeconfig that acts as a ServiceAccount, for tests that must run with exactly the RBAC the
// Helm chart grants the operator (not as cluster admin). Equivalent by hand:
//
//   TOKEN=$(kubectl -n NS create token SA --duration 1h)
//   kubectl config view --raw --minify > sa.kubeconfig
//   kubectl --kubeconfig sa.kubeconfig config set-credentials sa --token "$TOKEN"
//   kubectl --kubeconfig sa.kubeconfig config set-context --current --user sa
//
// Use: const kc = await serviceAccountKubeconfig({ kubectl, kubeconfig, namespace, serviceAccount });
// then run the operator with --kubeconfig kc (or KUBECONFIG=kc), e.g. with the chart's
// ServiceAccount "<release>-modelservice-operator" in the release namespace.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parse, stringify } from "yaml";

const run = promisify(execFile);

export type ServiceAccountKubeconfigOptions = {
  /** Path of kubectl (e.g. join(inject("binDir"), "kubectl")). */
  kubectl: string;
  /** Admin kubeconfig (inject("kubeconfig")); its current cluster is reused. */
  kubeconfig: string;
  namespace: string;
  serviceAccount: string;
  /** Token lifetime; default 1h. */
  duration?: string;
  /** Where to write the kubeconfig; default a new temporary directory. */
  out?: string;
};

type Named<T> = { name: string } & T;
type KubeconfigFile = {
  "current-context"?: string;
  contexts?: Named<{ context: { cluster: string; user?: string; namespace?: string } }>[];
  clusters?: Named<{ cluster: Record<string, unknown> }>[];
};

/** Mints a token for the ServiceAccount (kubectl create token) and writes a kubeconfig using it. Returns its path. */
export async function serviceAccountKubeconfig(opts: ServiceAccountKubeconfigOptions): Promise<string> {
  const { stdout } = await run(opts.kubectl, [
    "--kubeconfig",
    opts.kubeconfig,
    "-n",
    opts.namespace,
    "create",
    "token",
    opts.serviceAccount,
    `--duration=${opts.duration ?? "1h"}`,
  ]);
  const token = stdout.trim();
  const admin = parse(readFileSync(opts.kubeconfig, "utf8")) as KubeconfigFile;
  const context = admin.contexts?.find((c) => c.name === admin["current-context"]) ?? admin.contexts?.[0];
  const cluster = admin.clusters?.find((c) => c.name === context?.context.cluster) ?? admin.clusters?.[0];
  if (!cluster) throw new Error(`${opts.kubeconfig} has no cluster`);
  const user = `system:serviceaccount:${opts.namespace}:${opts.serviceAccount}`;
  const out = opts.out ?? join(mkdtempSync(join(tmpdir(), "mso-sa-")), "kubeconfig");
  writeFileSync(
    out,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [cluster],
      users: [{ name: user, user: { token } }],
      contexts: [{ name: user, context: { cluster: cluster.name, user, namespace: opts.namespace } }],
      "current-context": user,
    }),
    { mode: 0o600 },
  );
  return out;
}
