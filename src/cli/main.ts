#!/usr/bin/env node
// modelservice-operator: one binary, a few subcommands. Each subcommand lives in its own module and
// is loaded only when used, so `render` starts without the Kubernetes client.
const usage = `usage: modelservice-operator <command> [options]

commands:
  render -f FILE|-     validate a ModelService and print the child manifests as YAML
  run                  run the operator against the current kubeconfig (or in-cluster config)
  demo                 run the operator on the current cluster, or on a local simulated GPU cluster
  cluster up|down      start or stop the local simulated GPU cluster
`;

const commands: Record<string, () => Promise<{ main: (argv: string[]) => Promise<number> }>> = {
  render: () => import("./render-command.ts"),
  run: () => import("./run-command.ts"),
  demo: () => import("./demo-command.ts"),
  cluster: () => import("./cluster-command.ts"),
};

const [command, ...rest] = process.argv.slice(2);
const load = command ? commands[command] : undefined;
if (!load) {
  process.stderr.write(usage);
  process.exit(command === "help" || command === "--help" ? 0 : 2);
}
const { main } = await load();
process.exitCode = await main(rest);
