// `render -f FILE|- [--config FILE] [--class FILE]`: validate ModelServices and print their children
// as YAML, without a cluster. Exit 1 with one `path: rule` line per problem when the input is
// invalid: the field shapes (zod), then the CRD's CEL rules (as admission reports them), then what
// the ModelServiceClass forbids (as the operator's ClassViolation says), then what the operator
// config cannot serve.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { parseAllDocuments } from "yaml";
import { celViolations, classCelViolations } from "../api/cel.ts";
import { type ModelServiceClass, modelServiceClassSchema } from "../api/class-schema.ts";
import { modelServiceSchema } from "../api/schema.ts";
import type { ModelService } from "../api/types.ts";
import { droppedFields, formatIssue } from "../api/zod-issues.ts";
import { ConfigError, parseOperatorConfig } from "../config/load.ts";
import { defaultOperatorConfig, type OperatorConfig } from "../config/operator-config.ts";
import { resolveClass } from "../policy/model-service-class.ts";
import { ClassViolationError, childrenYaml, InvalidSpecError, render } from "../render/index.ts";
import { noPositionals, parseFlags, UsageError } from "./args.ts";

/** Owner references need a uid; a file has none, so the output shows this placeholder. */
export const PLACEHOLDER_UID = "00000000-0000-0000-0000-000000000000";

const usage = `usage: modelservice-operator render -f FILE|- [-f FILE ...] [--config FILE] [--class FILE]

  -f, --filename FILE   ModelService YAML (may hold several documents); - reads stdin
  --config FILE         operator config YAML, merged over the defaults
  --class FILE          ModelServiceClass YAML (one or more): each ModelService renders under the
                        class it names, or the one annotated modelservice.dev/is-default-class
`;

export type Io = {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  stdin: AsyncIterable<Buffer | string>;
};

/** A problem already explained to the user in one line. */
class InputError extends Error {}

type Args = { files: string[]; config: string | undefined; classes: string[] };

function parseRenderArgs(argv: string[]): Args | "help" {
  const { values, positionals } = parseFlags(argv, {
    filename: { type: "string", short: "f", multiple: true },
    config: { type: "string" },
    class: { type: "string", multiple: true },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) return "help";
  noPositionals(positionals);
  const files = values.filename ?? [];
  if (files.length === 0) throw new UsageError("-f", "FILE is required");
  return { files, config: values.config, classes: values.class ?? [] };
}

/**
 * The largest input read: a ModelService is a few KiB, and parsing YAML costs far more memory and
 * time than the text (a 50 MB file once took minutes and gigabytes before failing).
 */
export const MAX_INPUT_BYTES = 1024 * 1024;

const tooLarge = (source: string, size: string) =>
  new InputError(`${source}: too large (${size}); render reads at most ${MAX_INPUT_BYTES / 1024 / 1024} MiB per input`);

/** Reads chunks until the end or until more than MAX_INPUT_BYTES arrived. */
async function readBounded(chunks: AsyncIterable<Buffer | string>, source: string): Promise<string> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of chunks) {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    total += buf.length;
    if (total > MAX_INPUT_BYTES) throw tooLarge(source, `more than ${MAX_INPUT_BYTES} bytes`);
    parts.push(buf);
  }
  return Buffer.concat(parts).toString("utf8");
}

async function readInput(file: string, io: Io): Promise<string> {
  if (file === "-") return readBounded(io.stdin, "stdin");
  try {
    // The size first, so a huge file is refused without reading it; the bounded read still
    // covers files whose size stat cannot tell (pipes, /dev/zero).
    const info = await stat(file);
    if (info.isDirectory()) throw new InputError(`${file}: is a directory`);
    if (info.size > MAX_INPUT_BYTES) throw tooLarge(file, `${info.size} bytes`);
    return await readBounded(createReadStream(file), file);
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`${file}: cannot read file${code === "ENOENT" ? ": no such file" : code ? ` (${code})` : ""}`);
  }
}

/** Every YAML document of the input as plain data; empty documents are skipped. */
function parseYaml(text: string, source: string): unknown[] {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) return [];
  const out: unknown[] = [];
  for (const doc of docs) {
    const error = doc.errors[0];
    if (error) {
      const pos = error.linePos?.[0];
      const where = pos ? ` at line ${pos.line}, column ${pos.col}` : "";
      const reason = (error.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "");
      throw new InputError(`${source}: invalid YAML${where}: ${reason}`);
    }
    const value: unknown = doc.toJS();
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

async function loadConfig(file: string | undefined, io: Io): Promise<OperatorConfig> {
  if (file === undefined) return defaultOperatorConfig;
  try {
    return parseOperatorConfig(await readInput(file, io), file === "-" ? "stdin" : file);
  } catch (e) {
    if (e instanceof ConfigError) throw new InputError([`${file}: invalid operator config:`, ...e.problems].join("\n"));
    throw e;
  }
}

/** The classes of --class files, checked as admission would check them. */
async function loadClasses(files: string[], io: Io): Promise<ModelServiceClass[]> {
  const out: ModelServiceClass[] = [];
  for (const file of files) {
    const source = file === "-" ? "stdin" : file;
    for (const doc of parseYaml(await readInput(file, io), source)) {
      const parsed = modelServiceClassSchema.safeParse(doc, { reportInput: true });
      const problems = parsed.success ? classCelViolations(parsed.data).map((p) => `${p.path}: ${p.message}`) : parsed.error.issues.map((i) => formatIssue(i));
      if (problems.length > 0 || !parsed.success) throw new InputError([`${source}: invalid ModelServiceClass:`, ...problems].join("\n"));
      out.push(parsed.data as ModelServiceClass);
    }
  }
  return out;
}

/** Fills what the API server would: a namespace and a uid, so owner references render. */
function withServerFields(doc: unknown): unknown {
  if (!isRecord(doc) || !isRecord(doc.metadata)) return doc;
  return { ...doc, metadata: { namespace: "default", uid: PLACEHOLDER_UID, ...doc.metadata } };
}

function describe(doc: unknown, source: string, index: number, count: number): string {
  const meta = isRecord(doc) && isRecord(doc.metadata) ? doc.metadata : {};
  const name = typeof meta.name === "string" ? `ModelService "${meta.name}"` : "ModelService";
  return `${name} in ${source}${count > 1 ? ` (document ${index + 1})` : ""}`;
}

export async function main(argv: string[], io: Io = process): Promise<number> {
  try {
    const args = parseRenderArgs(argv);
    if (args === "help") {
      io.stdout.write(usage);
      return 0;
    }
    const config = await loadConfig(args.config, io);
    const classes = await loadClasses(args.classes, io);
    const outputs: string[] = [];
    let failed = false;
    for (const file of args.files) {
      const source = file === "-" ? "stdin" : file;
      const docs = parseYaml(await readInput(file, io), source);
      if (docs.length === 0) throw new InputError(`${source}: no ModelService found`);
      docs.forEach((raw, index) => {
        const what = describe(raw, source, index, docs.length);
        const doc = withServerFields(raw);
        const parsed = modelServiceSchema.safeParse(doc, { reportInput: true });
        if (!parsed.success) {
          failed = true;
          io.stderr.write(`error: ${what} is invalid:\n${parsed.error.issues.map((i) => `${formatIssue(i)}\n`).join("")}`);
          return;
        }
        for (const f of droppedFields(doc, parsed.data)) io.stderr.write(`warning: ${what}: unknown field ${f} (ignored)\n`);
        // The CRD's CEL rules, as admission would report them.
        const refused = celViolations(parsed.data);
        if (refused.length > 0) {
          failed = true;
          io.stderr.write(`error: ${what} is invalid:\n${refused.map((p) => `${p.path}: ${p.message}\n`).join("")}`);
          return;
        }
        const ms = parsed.data as ModelService;
        // No --class at all: the operator config alone, as on a cluster without classes.
        const cls = args.classes.length ? resolveClass(ms, classes) : ({ kind: "none" } as const);
        if (ms.spec.className && !args.classes.length)
          io.stderr.write(`warning: ${what}: rendered without ModelServiceClass ${ms.spec.className} (pass --class FILE)\n`);
        if (cls.kind === "notFound") {
          failed = true;
          io.stderr.write(`error: ${what} names ModelServiceClass ${cls.name}, which is not in the --class files\n`);
          return;
        }
        try {
          outputs.push(childrenYaml(render(ms, config, cls.kind === "found" ? cls.cls : undefined)));
        } catch (e) {
          if (!(e instanceof InvalidSpecError)) throw e;
          failed = true;
          const why = e instanceof ClassViolationError ? `is not allowed by ModelServiceClass ${e.className}` : "cannot be served";
          io.stderr.write(`error: ${what} ${why}:\n${e.problems.map((p) => `${p.path}: ${p.message}\n`).join("")}`);
        }
      });
    }
    if (failed) return 1;
    io.stdout.write(outputs.join(""));
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`error: ${e.message}\n${usage}`);
      return 2;
    }
    io.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
