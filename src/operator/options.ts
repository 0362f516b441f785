// Command-line flags and environment of `modelservice-operator run`, validated with zod. Every
// error names the flag it came from, so a typo in a Helm value is obvious in the pod's log.
import { z } from "zod";
import { noPositionals, parseFlags, UsageError } from "../cli/args.ts";
import { ConfigError, loadOperatorConfig } from "../config/load.ts";
import { defaultOperatorConfig, type OperatorConfig } from "../config/operator-config.ts";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const METRICS_AUTH = ["kubernetes", "none"] as const;
export type MetricsAuth = (typeof METRICS_AUTH)[number];

export type OperatorOptions = {
  kubeconfig?: string;
  /** Namespaces to watch; undefined watches all namespaces. */
  namespaces?: string[];
  leaderElect: boolean;
  leaderElectionNamespace: string;
  leaseName: string;
  /** Lease timings (client-go defaults 15 s / 10 s / 2 s). */
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  httpHost: string;
  /** 0 picks a free port (tests). */
  httpPort: number;
  /** Who may read /metrics: "kubernetes" = TokenReview + SubjectAccessReview (get /metrics); "none" = anyone. */
  metricsAuth: MetricsAuth;
  logLevel: LogLevel;
  workers: number;
  resyncPeriodMs: number;
  config: OperatorConfig;
  configFile?: string;
};

export const DEFAULT_OPTIONS: OperatorOptions = {
  leaderElect: false,
  leaderElectionNamespace: "default",
  leaseName: "modelservice-operator",
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
  httpHost: "0.0.0.0",
  httpPort: 8080,
  metricsAuth: "none",
  logLevel: "info",
  workers: 16,
  resyncPeriodMs: 10 * 60_000,
  config: defaultOperatorConfig,
};

/** A bad flag or environment variable; `main` prints it and exits 2. */
export class OptionsError extends Error {
  readonly flag: string;
  constructor(flag: string, message: string) {
    super(`${flag}: ${message}`);
    this.name = "OptionsError";
    this.flag = flag;
  }
}

export const usage = `usage: modelservice-operator run [flags]

flags (environment variable in brackets):
  --kubeconfig FILE                 kubeconfig to use [KUBECONFIG]; default in-cluster or ~/.kube/config
  --namespaces a,b                  watch only these namespaces [MSO_NAMESPACES]; default all
  --leader-elect=true|false         elect a leader through a Lease [MSO_LEADER_ELECT]; default false
  --leader-election-namespace NS    namespace of the Lease [POD_NAMESPACE]; default "default"
  --lease-name NAME                 name of the Lease; default modelservice-operator
  --lease-duration DURATION         default 15s
  --renew-deadline DURATION         default 10s
  --retry-period DURATION           default 2s
  --http-addr HOST:PORT             /metrics, /healthz, /readyz [MSO_HTTP_ADDR]; default 0.0.0.0:8080 (:0 = any port)
  --metrics-auth kubernetes|none    who may read /metrics [MSO_METRICS_AUTH]: kubernetes = a bearer token that
                                    RBAC allows "get" on /metrics (TokenReview + SubjectAccessReview); default none
  --log-level LEVEL                 fatal|error|warn|info|debug|trace|silent [MSO_LOG_LEVEL]; default info
  --workers N                       concurrent reconciles [MSO_WORKERS]; default 16
  --config FILE                     operator config YAML, merged over the defaults [MSO_CONFIG]
  --resync-period DURATION          re-check every ModelService this often [MSO_RESYNC_PERIOD]; default 10m
`;

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses "10m", "30s", "500ms", "1h" or a bare number of seconds into milliseconds. */
export function parseDuration(value: string): number | undefined {
  const m = DURATION.exec(value.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (UNIT_MS[m[2] ?? "s"] ?? 1000));
}

const BOOL: Record<string, boolean> = { true: true, false: false, "1": true, "0": false, yes: true, no: false };
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const STRING_FLAGS = [
  "kubeconfig",
  "namespaces",
  "leader-elect",
  "leader-election-namespace",
  "lease-name",
  "lease-duration",
  "renew-deadline",
  "retry-period",
  "http-addr",
  "metrics-auth",
  "log-level",
  "workers",
  "config",
  "resync-period",
] as const;
type Flag = (typeof STRING_FLAGS)[number];
const FLAG_OPTIONS = {
  ...(Object.fromEntries(STRING_FLAGS.map((f) => [f, { type: "string" }])) as Record<Flag, { type: "string" }>),
  help: { type: "boolean", short: "h" },
} as const;

/**
 * Splits argv into flag values (`--flag=value` or `--flag value`). `--leader-elect` alone means
 * true, as with the Kubernetes components: it is rewritten to `--leader-elect=true` unless a
 * true/false value follows.
 */
export function splitFlags(argv: string[]): { flags: Map<Flag, string>; help: boolean } {
  const args = argv.map((a, i) => (a === "--leader-elect" && !Object.hasOwn(BOOL, (argv[i + 1] ?? "").toLowerCase()) ? "--leader-elect=true" : a));
  let parsed: ReturnType<typeof parseFlags<typeof FLAG_OPTIONS>>;
  try {
    parsed = parseFlags(args, FLAG_OPTIONS);
    noPositionals(parsed.positionals);
  } catch (e) {
    if (e instanceof UsageError) throw new OptionsError(e.flag, e.message.slice(e.flag.length + 2));
    throw e;
  }
  const flags = new Map<Flag, string>();
  for (const f of STRING_FLAGS) {
    const v = parsed.values[f];
    if (typeof v === "string") flags.set(f, v);
  }
  return { flags, help: parsed.values.help === true };
}

type Source = { label: string; value: string };

function pick(flags: Map<Flag, string>, env: NodeJS.ProcessEnv, flag: Flag, envName?: string): Source | undefined {
  const v = flags.get(flag);
  if (v !== undefined) return { label: `--${flag}`, value: v };
  const e = envName ? env[envName] : undefined;
  if (e !== undefined && e !== "") return { label: `${envName} (--${flag})`, value: e };
  return undefined;
}

function check<T>(src: Source, schema: z.ZodType<T>, input: unknown = src.value): T {
  const r = schema.safeParse(input);
  if (!r.success) throw new OptionsError(src.label, `invalid value ${JSON.stringify(src.value)}: ${r.error.issues.map((i) => i.message).join("; ")}`);
  return r.data;
}

const durationSchema = (min: number) =>
  z
    .string()
    .transform((s, ctx) => {
      const ms = parseDuration(s);
      if (ms === undefined) {
        ctx.addIssue({ code: "custom", message: "must be a duration such as 30s, 10m, 1h or 500ms" });
        return z.NEVER;
      }
      return ms;
    })
    .pipe(z.number().min(min, `must be at least ${min} ms`));

/** Parses an "host:port" address; ":0" listens on all interfaces on a free port. */
export function parseAddr(value: string): { host: string; port: number } | undefined {
  const i = value.lastIndexOf(":");
  if (i < 0) return undefined;
  let host = value.slice(0, i);
  const portText = value.slice(i + 1);
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port > 65535) return undefined;
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  return { host: host === "" ? "0.0.0.0" : host, port };
}

/** Parses `run`'s flags and environment. Throws OptionsError naming the flag on bad input. */
export function parseOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): OperatorOptions & { help: boolean } {
  const { flags, help } = splitFlags(argv);
  const o: OperatorOptions & { help: boolean } = { ...DEFAULT_OPTIONS, help };

  const kc = pick(flags, env, "kubeconfig");
  if (kc) o.kubeconfig = check(kc, z.string().min(1, "must not be empty"));

  const ns = pick(flags, env, "namespaces", "MSO_NAMESPACES");
  if (ns) {
    const list = ns.value
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
    const bad = list.find((n) => !DNS1123_LABEL.test(n) || n.length > 63);
    if (bad !== undefined) throw new OptionsError(ns.label, `${JSON.stringify(bad)} is not a namespace name`);
    if (list.length > 0) o.namespaces = [...new Set(list)];
  }

  const le = pick(flags, env, "leader-elect", "MSO_LEADER_ELECT");
  if (le) {
    const v = BOOL[le.value.toLowerCase()];
    if (v === undefined) throw new OptionsError(le.label, `invalid value ${JSON.stringify(le.value)}: must be true or false`);
    o.leaderElect = v;
  }

  const len = pick(flags, env, "leader-election-namespace", "POD_NAMESPACE");
  if (len) o.leaderElectionNamespace = check(len, z.string().max(63).regex(DNS1123_LABEL, "must be a namespace name"));

  const lease = pick(flags, env, "lease-name");
  if (lease) o.leaseName = check(lease, z.string().max(253).regex(DNS1123_SUBDOMAIN, "must be a DNS-1123 subdomain"));

  for (const [flag, key, min] of [
    ["lease-duration", "leaseDurationMs", 1000],
    ["renew-deadline", "renewDeadlineMs", 500],
    ["retry-period", "retryPeriodMs", 100],
  ] as const) {
    const s = pick(flags, env, flag);
    if (s) o[key] = check(s, durationSchema(min));
  }
  if (o.renewDeadlineMs >= o.leaseDurationMs) throw new OptionsError("--renew-deadline", "must be shorter than --lease-duration");
  if (o.retryPeriodMs >= o.renewDeadlineMs) throw new OptionsError("--retry-period", "must be shorter than --renew-deadline");

  const addr = pick(flags, env, "http-addr", "MSO_HTTP_ADDR");
  if (addr) {
    const a = parseAddr(addr.value);
    if (!a) throw new OptionsError(addr.label, `invalid value ${JSON.stringify(addr.value)}: must be HOST:PORT such as 0.0.0.0:8080 or :0`);
    o.httpHost = a.host;
    o.httpPort = a.port;
  }

  const metricsAuth = pick(flags, env, "metrics-auth", "MSO_METRICS_AUTH");
  if (metricsAuth) o.metricsAuth = check(metricsAuth, z.enum(METRICS_AUTH, { message: `must be one of ${METRICS_AUTH.join(", ")}` }));

  const level = pick(flags, env, "log-level", "MSO_LOG_LEVEL");
  if (level) o.logLevel = check(level, z.enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(", ")}` }));

  const workers = pick(flags, env, "workers", "MSO_WORKERS");
  if (workers) o.workers = check(workers, z.string().regex(/^\d+$/, "must be a whole number").transform(Number).pipe(z.number().int().min(1).max(64)));

  const resync = pick(flags, env, "resync-period", "MSO_RESYNC_PERIOD");
  if (resync) o.resyncPeriodMs = check(resync, durationSchema(1000));

  const cfg = pick(flags, env, "config", "MSO_CONFIG");
  if (cfg) {
    o.configFile = cfg.value;
    try {
      o.config = loadOperatorConfig(cfg.value);
    } catch (e) {
      if (e instanceof ConfigError) throw new OptionsError(cfg.label, e.message);
      throw e;
    }
  }
  return o;
}
