// `modelservice-operator run`: parse the flags, start the operator (src/operator/start.ts), stop it
// gracefully on SIGTERM/SIGINT.
import { pino } from "pino";
import { OptionsError, parseOptions, usage } from "../operator/options.ts";
import { type RunningOperator, startOperator } from "../operator/start.ts";

export async function main(argv: string[]): Promise<number> {
  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions(argv);
  } catch (e) {
    if (e instanceof OptionsError) {
      process.stderr.write(`modelservice-operator run: ${e.message}\n\n${usage}`);
      return 2;
    }
    throw e;
  }
  if (options.help) {
    process.stdout.write(usage);
    return 0;
  }
  const logger = pino({ level: options.logLevel });
  const signalled = new Promise<string>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  let op: RunningOperator;
  try {
    // Start-up waits for the caches, which never sync while a list is refused (RBAC, a missing
    // CRD): a signal meanwhile must still end the process cleanly.
    const first = await Promise.race([startOperator({ ...options, logger }), signalled]);
    if (typeof first === "string") {
      logger.info({ signal: first }, "signal received before the caches synced; exiting");
      // Nothing to hand over: no lease is held and no worker ran before the caches synced.
      process.exit(0);
    }
    op = first;
  } catch (e) {
    logger.fatal({ err: e }, "cannot start");
    return 1;
  }
  const signal = await signalled;
  logger.info({ signal }, "signal received");
  const force = setTimeout(() => {
    logger.error("shutdown took longer than 25s; exiting");
    process.exit(1);
    // Below the pod's 30 s grace period, so we exit before the kubelet's SIGKILL.
  }, 25_000);
  force.unref();
  await op.stop();
  return 0;
}
