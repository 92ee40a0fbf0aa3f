import { isUtf8 } from "node:buffer";
import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { isAlias, isCollection, isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Node } from "yaml";
import { quoted } from "../core/text";
import { ConfigError, formatPath, type ConfigIssue } from "./errors";
import { PlanError } from "../interconnect/planner";
import { resolveConfig, type EgressConfig } from "./model";
import { quotaWarnings } from "./quotas";
import { configSchema, configWarnings, crossFieldIssues, EXTENSION_KEY_PREFIX, plainIssueMessage } from "./schema";

/** The config file used when neither `--config` nor `EGRESS_CONFIG` names one. */
export const DEFAULT_CONFIG_FILE = "egress.config.yaml";

/**
 * Largest config file read. A 1,000-spoke config with 40 domains per spoke is about 1.5 MB;
 * anything far beyond is the wrong file or an attack, and is refused before it is parsed.
 */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** Deepest nesting of lists and maps (after aliases). The schema needs 8; IAM policies a few more. */
export const MAX_CONFIG_DEPTH = 32;

/** Most values the YAML may expand to through aliases: far above any real config, far below an alias bomb. */
export const MAX_CONFIG_VALUES = 1_000_000;

/** How a config is judged beyond its text. */
export interface ConfigCheckOptions {
  /** The day (YYYY-MM-DD, UTC) learning spokes' `learnUntil` is judged by. @default - today */
  readonly today?: string;
  /**
   * Refuse a spoke whose learning has expired (the main job); false only warns (the allow-list
   * command, which writes the list that ends learning). @default true
   */
  readonly refuseExpiredLearning?: boolean;
}

/** Reads, parses and validates a config file. Throws {@link ConfigError} listing every problem. */
export function loadConfigFile(file: string, options: ConfigCheckOptions = {}): EgressConfig {
  return parseConfigText(readConfigText(file), file, options);
}

/** The file's text, or a ConfigError that says in plain words why it cannot be a config. */
function readConfigText(file: string): string {
  const fail = (message: string): never => {
    throw new ConfigError(file, [{ path: "", message }]);
  };
  let fd: number | undefined;
  try {
    // stat first: opening a FIFO would block, reading /dev/zero would never end.
    const stat = statSync(file);
    if (stat.isDirectory()) fail(`is a folder, not a config file: name the YAML file in it (e.g. ${join(file, DEFAULT_CONFIG_FILE)})`);
    if (!stat.isFile()) fail("is not a regular file (a device, pipe or socket): name a YAML config file");
    fd = openSync(file, "r");
    const size = fstatSync(fd).size;
    if (size > MAX_CONFIG_BYTES) fail(tooLarge(size));
    // Read at most one byte past the cap, in case the file grew since the stat.
    const buffer = Buffer.alloc(Math.min(size, MAX_CONFIG_BYTES) + 1);
    let length = 0;
    for (let n = 1; n > 0 && length < buffer.length; length += n) n = readSync(fd, buffer, length, buffer.length - length, null);
    if (length > MAX_CONFIG_BYTES) fail(tooLarge(length));
    return decodeText(buffer.subarray(0, length), fail);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    return fail(unreadable(err as NodeJS.ErrnoException));
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function tooLarge(bytes: number): string {
  const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `is ${mib(bytes)}; a config may be at most ${mib(MAX_CONFIG_BYTES)} (a 1,000-spoke config with 40 domains per spoke is about 1.5 MiB): is this the right file?`;
}

function unreadable(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case "ENOENT":
      return "cannot read the config: file not found";
    case "EACCES":
    case "EPERM":
      return "cannot read the config: permission denied (the user running egresslink may not read it)";
    case "ELOOP":
      return "cannot read the config: the path is a loop of symbolic links";
    case "ENOTDIR":
      return "cannot read the config: a part of the path is a file, not a folder";
    case "ENAMETOOLONG":
      return "cannot read the config: the path is too long";
    case "EISDIR":
      return "is a folder, not a config file";
    default:
      return `cannot read the config (${err.code ?? "error"})`;
  }
}

/** UTF-8 text without NUL bytes, or a message saying what the bytes are instead. */
function decodeText(bytes: Buffer, fail: (message: string) => never): string {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) fail("is UTF-16 text: save it as UTF-8");
  const nul = bytes.indexOf(0);
  if (nul !== -1) fail(`holds a NUL byte (line ${lineAt(bytes, nul)}): it is a binary file, not YAML text`);
  const bad = firstInvalidUtf8(bytes);
  if (bad !== -1) fail(`is not UTF-8 text (line ${lineAt(bytes, bad)}, byte ${bad + 1}): save it as UTF-8`);
  return bytes.toString("utf8");
}

function lineAt(bytes: Buffer, offset: number): number {
  let line = 1;
  for (let i = bytes.indexOf(10); i !== -1 && i < offset; i = bytes.indexOf(10, i + 1)) line++;
  return line;
}

/** Offset of the first byte that is not part of a well-formed UTF-8 sequence, or -1. */
function firstInvalidUtf8(bytes: Buffer): number {
  if (isUtf8(bytes)) return -1;
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    const length = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (length === 0 || i + length > bytes.length || !isUtf8(bytes.subarray(i, i + length))) return i;
    i += length;
  }
  return -1;
}

/** Parses YAML text and validates it; `file` names the source in errors. */
export function parseConfigText(text: string, file: string, options: ConfigCheckOptions = {}): EgressConfig {
  if (text.length > MAX_CONFIG_BYTES) throw new ConfigError(file, [{ path: "", message: tooLarge(Buffer.byteLength(text)) }]);
  const lineCounter = new LineCounter();
  let docs: Document.Parsed[];
  try {
    // Duplicate keys are reported below with their YAML path rather than as a parse error.
    docs = [...parseAllDocuments(text, { uniqueKeys: false, merge: true, lineCounter, logLevel: "silent" })];
  } catch (err) {
    // The YAML library recurses once per level: thousands of levels exhaust the stack (a RangeError,
    // or a SyntaxError when it happens while a regular expression is compiled).
    if (err instanceof Error && /Maximum call stack size exceeded/.test(err.message)) throw new ConfigError(file, [{ path: "", message: tooDeep() }]);
    throw err;
  }
  if (docs.length > 1) {
    const starts = docs.slice(1).map((d) => lineCounter.linePos(d.range[0]).line);
    throw new ConfigError(file, [
      { path: "", message: `holds ${docs.length} YAML documents (a new one starts at line ${starts.join(", ")} after "---"); a config is one document: keep one, or put each in its own file` },
    ]);
  }
  const doc = docs[0];
  if (!doc) throw new ConfigError(file, [{ path: "", message: "the config is empty" }]);
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => ({ path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : "", message: `malformed YAML: ${firstLine(e.message)}` })),
    );
  }
  const shape = shapeIssues(doc, lineCounter);
  if (shape.length > 0) throw new ConfigError(file, shape);
  const duplicates = duplicateKeys(doc.contents, [], lineCounter);
  if (duplicates.length > 0) throw new ConfigError(file, duplicates);
  // Aliases were counted above; the library's own limit (100) would refuse 101 spokes sharing `<<: *defaults`.
  return validateConfig(doc.toJS({ maxAliasCount: -1 }), file, options);
}

function tooDeep(): string {
  return `nests lists and maps more than ${MAX_CONFIG_DEPTH} levels deep; a config needs about 8: is this the right file?`;
}

/**
 * Problems of the document's shape that would hang or crash later steps: nesting deeper than
 * {@link MAX_CONFIG_DEPTH}, aliases that expand beyond {@link MAX_CONFIG_VALUES} values (an
 * alias bomb) or into themselves, and keys that are lists or maps.
 */
function shapeIssues(doc: Document.Parsed, lines: LineCounter): ConfigIssue[] {
  const at = (node: Node) => (node.range ? `line ${lines.linePos(node.range[0]).line}` : "");
  const measured = new Map<Node, { values: number; depth: number } | "busy">();
  const issues: ConfigIssue[] = [];
  // Depth is checked before recursing, so this recursion itself stays within MAX_CONFIG_DEPTH + 1 frames.
  const measure = (node: unknown, depth: number): { values: number; depth: number } => {
    if (depth > MAX_CONFIG_DEPTH) throw new ShapeProblem(at(node as Node), tooDeep());
    if (isAlias(node)) {
      const target = node.resolve(doc);
      if (!target) return { values: 1, depth: 0 };
      const known = measured.get(target);
      if (known === "busy") throw new ShapeProblem(at(node), `the alias *${node.source} refers to the collection that holds it (an endless value)`);
      const inner = known ?? measure(target, depth);
      if (depth + inner.depth > MAX_CONFIG_DEPTH) throw new ShapeProblem(at(node), tooDeep());
      return inner;
    }
    if (!isCollection(node)) return { values: 1, depth: 0 };
    measured.set(node, "busy");
    let values = 1;
    let deepest = 0;
    for (const item of node.items) {
      const parts = isPair(item) ? [item.key, item.value] : [item];
      if (isPair(item) && (isCollection(item.key) || isAlias(item.key))) {
        issues.push({ path: at(item.key as Node), message: "a key is a list, map or alias; keys are plain names" });
      }
      for (const part of parts) {
        if (part === null || part === undefined) continue;
        const m = measure(part, depth + 1);
        values += m.values;
        deepest = Math.max(deepest, m.depth + 1);
        if (values > MAX_CONFIG_VALUES) {
          throw new ShapeProblem(at(node), `its aliases expand the config to more than ${MAX_CONFIG_VALUES.toLocaleString("en-US")} values (an alias bomb?); a config needs far fewer`);
        }
      }
    }
    const result = { values, depth: deepest };
    measured.set(node, result);
    return result;
  };
  try {
    measure(doc.contents, 0);
  } catch (err) {
    if (err instanceof ShapeProblem) return [{ path: err.path, message: err.message }];
    throw err;
  }
  return issues;
}

class ShapeProblem extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/** Validates already-parsed data (YAML or JSON) against the schema and resolves defaults. */
export function validateConfig(data: unknown, file: string, options: ConfigCheckOptions = {}): EgressConfig {
  if (data === null || data === undefined) throw new ConfigError(file, [{ path: "", message: "the config is empty" }]);
  if (typeof data !== "object" || Array.isArray(data)) {
    throw new ConfigError(file, [{ path: "", message: `must be a map of settings (state:, hub:, spokes:, ...), not ${Array.isArray(data) ? "a list" : `the value ${quoted(data)}`}` }]);
  }
  const settings = withoutExtensionKeys(data as Record<string, unknown>);
  const result = configSchema.safeParse(settings, { error: plainIssueMessage });
  const issues = [
    ...(result.error?.issues.flatMap(toConfigIssues) ?? []),
    ...crossFieldIssues(settings).map((i) => ({ path: formatPath(i.path), message: i.message })),
  ];
  if (!result.success || issues.length > 0) throw new ConfigError(file, issues);
  let config: EgressConfig;
  try {
    config = resolveConfig(result.data);
  } catch (err) {
    if (err instanceof PlanError) throw new ConfigError(file, [{ path: formatPath(["interconnect", "sites", err.site, err.field]), message: err.message.replace(/^interconnect site [^:]+: /, "") }]);
    throw err;
  }
  const learning = learningIssues(config.spokes, options.today ?? new Date().toISOString().slice(0, 10));
  if (learning.expired.length > 0 && (options.refuseExpiredLearning ?? true)) throw new ConfigError(file, learning.expired);
  return { ...config, warnings: [...configWarnings(result.data), ...quotaWarnings(config), ...learning.expired, ...learning.active] };
}

/** Spokes in learn mode: those past their date, and those still learning (a warning each: they reach any public destination). */
function learningIssues(spokes: EgressConfig["spokes"], today: string): { expired: ConfigIssue[]; active: ConfigIssue[] } {
  const expired: ConfigIssue[] = [];
  const active: ConfigIssue[] = [];
  for (const spoke of spokes) {
    if (spoke.learnUntil === undefined) continue;
    const path = formatPath(["spokes", spoke.name, "learnUntil"]);
    if (spoke.learnUntil < today) {
      expired.push({
        path,
        message: `${spoke.learnUntil} has passed (today is ${today}): learning has ended. Run \`egresslink allowlist suggest --config <this file> <access log>\`, put the spoke's list in spokes.${spoke.name}.allowedDomains and set policy: enforce (or choose a later learnUntil)`,
      });
    } else {
      active.push({ path, message: `spoke ${spoke.name} is learning until ${spoke.learnUntil}: it may reach every public destination, not only its allow-list` });
    }
  }
  return { expired, active };
}

/** The data without top-level `x-...` keys (anchors for YAML aliases, notes). */
function withoutExtensionKeys(data: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(data).filter(([key]) => !key.startsWith(EXTENSION_KEY_PREFIX)));
}

function toConfigIssues(issue: { code: string; path: PropertyKey[]; message: string; keys?: string[]; issues?: { message: string }[] }): ConfigIssue[] {
  const path = formatPath(issue.path);
  switch (issue.code) {
    case "unrecognized_keys":
      return (issue.keys ?? []).map((key) => ({
        path: formatPath([...issue.path, key]),
        message: `is not a known setting (check the spelling against egress.config.schema.json${issue.path.length === 0 ? `; top-level keys starting with "${EXTENSION_KEY_PREFIX}" are ignored` : ""})`,
      }));
    case "invalid_key":
      return (issue.issues ?? []).map((inner) => ({ path, message: `name ${inner.message}` }));
    default:
      return [{ path, message: issue.message }];
  }
}

function duplicateKeys(node: Node | null, path: (string | number)[], lines: LineCounter): ConfigIssue[] {
  if (isSeq(node)) return node.items.flatMap((item, i) => duplicateKeys(item as Node, [...path, i], lines));
  if (!isMap(node)) return [];
  const seen = new Map<string, number>();
  const issues: ConfigIssue[] = [];
  for (const pair of node.items) {
    if (!isPair(pair)) continue;
    // A merge key (`<<: *defaults`) may repeat, and keys after it override what it merged.
    if (isScalar(pair.key) && typeof pair.key.value === "symbol") continue;
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    const line = isScalar(pair.key) && pair.key.range ? lines.linePos(pair.key.range[0]).line : 0;
    const first = seen.get(key);
    if (first !== undefined) issues.push({ path: formatPath([...path, key]), message: `is defined twice (lines ${first} and ${line}); names must be unique` });
    else seen.set(key, line);
    issues.push(...duplicateKeys(pair.value as Node, [...path, key], lines));
  }
  return issues;
}

function firstLine(message: string): string {
  return message.split("\n")[0];
}
