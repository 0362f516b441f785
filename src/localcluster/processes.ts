// Child processes of the local control plane. Each component runs in its own process group, led
// by a tiny bash watchdog that starts the binary and kills it (SIGTERM, then SIGKILL after 5 s)
// as soon as the parent Node process is gone, however that process died (even SIGKILL). Stopping
// signals the whole group, so the watchdog and the binary go together.
import { spawn } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

/** A TCP port on 127.0.0.1 that was free a moment ago (bound, read, released). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });

// $1: pid to watch (0: none, the process outlives us), $2...: the command. A guard subshell polls
// the parent once a second; the watchdog itself just waits for the command, so a SIGTERM to the
// group ends it as soon as the command has shut down.
const WATCHDOG = `
parent="$1"; shift
# The parent is alive while it is still our parent (a dead parent can linger as a zombie when
# PID 1 does not reap; by then we have been reparented).
alive() {
  if [ -r /proc/$$/stat ]; then
    local f; read -r -a f < /proc/$$/stat; [ "\${f[3]}" = "$parent" ]
  else
    kill -0 "$parent" 2>/dev/null
  fi
}
"$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM INT HUP
guard=
if [ "$parent" != 0 ]; then
  (
    trap - TERM INT HUP
    while alive; do sleep 1; done
    kill -TERM "$child" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$child" 2>/dev/null || exit 0; sleep 0.1; done
    kill -KILL "$child" 2>/dev/null
  ) &
  guard=$!
fi
code=0
wait "$child" || code=$?
# wait returns early when a trapped signal arrives: wait until the command is really gone.
while kill -0 "$child" 2>/dev/null; do wait "$child" || code=$?; done
if [ "$parent" != 0 ] && ! alive; then
  # Orphaned: the guard stopped the command; remove what the parent can no longer remove.
  if [ -n "$MSO_WATCHDOG_CLEANUP" ]; then sleep 2; rm -rf "$MSO_WATCHDOG_CLEANUP"; fi
elif [ -n "$guard" ]; then
  kill "$guard" 2>/dev/null
fi
exit "$code"
`;

export type ManagedProcess = {
  name: string;
  /** pid of the watchdog, which is also the process group id. */
  pid: number;
  logPath: string;
  /** Resolves with the exit code (or signal name) when the watchdog exits. */
  exited: Promise<number | string>;
  /** True once exited. */
  hasExited: () => boolean;
};

export type SpawnOptions = {
  logPath: string;
  /** Keep running after this Node process exits (no watchdog on the parent, no reference held). */
  persistent?: boolean;
  /** A directory the watchdog removes after killing the command because this Node process died. */
  cleanupOnParentDeath?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
};

export const spawnManaged = (name: string, command: string, args: string[], opts: SpawnOptions): ManagedProcess => {
  const log = openSync(opts.logPath, "a");
  const parent = opts.persistent ? "0" : String(process.pid);
  const child = spawn("bash", ["-c", WATCHDOG, `watchdog-${name}`, parent, command, ...args], {
    detached: true,
    stdio: ["ignore", log, log],
    env: { ...(opts.env ?? process.env), MSO_WATCHDOG_CLEANUP: opts.cleanupOnParentDeath ?? "" },
    cwd: opts.cwd,
  });
  closeSync(log);
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
  let done = false;
  const exited = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => {
      done = true;
      resolve(code ?? signal ?? "unknown");
    });
    child.once("error", (err) => {
      done = true;
      resolve(String(err));
    });
  });
  if (opts.persistent) child.unref();
  return { name, pid: child.pid, logPath: opts.logPath, exited, hasExited: () => done };
};

/**
 * True while any process of the group led by pgid is alive. On Linux it reads /proc and ignores
 * zombies: a SIGKILLed binary is reparented to PID 1, which in a container may never reap it.
 */
export const groupAlive = (pgid: number): boolean => {
  if (process.platform === "linux") {
    for (const entry of readdirSync("/proc")) {
      if (!/^[0-9]+$/.test(entry)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      } catch {
        continue;
      }
      // pid (comm) state ppid pgrp ...; comm may contain spaces and parentheses.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid && fields[0] !== "Z" && fields[0] !== "X") return true;
    }
    return false;
  }
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
};

const signalGroup = (pgid: number, signal: NodeJS.Signals): void => {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
};

/** SIGTERM every group, wait up to graceMs for them to go, SIGKILL what is left, wait for that too. */
export const stopGroups = async (pgids: number[], graceMs = 3000): Promise<void> => {
  for (const pgid of pgids) signalGroup(pgid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (pgids.some(groupAlive) && Date.now() < deadline) await sleep(50);
  const left = pgids.filter(groupAlive);
  for (const pgid of left) signalGroup(pgid, "SIGKILL");
  const killDeadline = Date.now() + 5000;
  while (left.some(groupAlive) && Date.now() < killDeadline) await sleep(20);
};

/** Synchronous last resort (process 'exit' handlers cannot wait): SIGKILL every group. */
export const killGroupsNow = (pgids: number[]): void => {
  for (const pgid of pgids) signalGroup(pgid, "SIGKILL");
};
