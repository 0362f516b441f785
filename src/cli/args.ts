// Flag parsing for every subcommand: node:util parseArgs (strict), with its errors turned into one
// short line naming the flag, so each command prints it with its usage and exits 2.
import { type ParseArgsOptionsConfig, parseArgs } from "node:util";

/** Bad command-line input: an unknown flag, a missing or unwanted value, a stray argument. */
export class UsageError extends Error {
  readonly flag: string;
  constructor(flag: string, message: string) {
    super(`${flag}: ${message}`);
    this.name = "UsageError";
    this.flag = flag;
  }
}

type Parsed<T extends ParseArgsOptionsConfig> = ReturnType<typeof parseArgs<{ options: T; allowPositionals: true; allowNegative: true }>>;

/**
 * Parses `argv` against `options`. Positionals are returned (the caller decides whether it takes
 * any). Values given as `--flag=` (empty) count as missing.
 */
export function parseFlags<T extends ParseArgsOptionsConfig>(argv: string[], options: T): Parsed<T> {
  let parsed: Parsed<T>;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true, allowNegative: true }) as Parsed<T>;
  } catch (e) {
    const err = e as Error & { code?: string };
    const flag = /'(-{1,2}[^' =,]+)/.exec(err.message)?.[1] ?? "";
    switch (err.code) {
      case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
        throw new UsageError(flag, "unknown flag");
      case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
        throw new UsageError(flag, /does not take/.test(err.message) ? "takes no value" : "needs a value");
      default:
        throw new UsageError(flag || "arguments", err.message.split("\n")[0] ?? err.message);
    }
  }
  for (const [name, value] of Object.entries(parsed.values)) {
    const values = Array.isArray(value) ? value : [value];
    if (values.some((v) => v === "")) throw new UsageError(`--${name}`, "needs a value");
  }
  return parsed;
}

/** Fails on positionals a command does not take. */
export function noPositionals(positionals: string[]): void {
  const [first] = positionals;
  if (first !== undefined) throw new UsageError(first, "unexpected argument (flags start with --)");
}
