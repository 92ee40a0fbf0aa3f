import { readFileSync } from "node:fs";
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node } from "yaml";
import type { z } from "zod";
import { ConfigError, formatPath, type ConfigIssue } from "./errors";
import { PlanError } from "../interconnect/planner";
import { resolveConfig, type EgressConfig } from "./model";
import { configSchema, crossFieldIssues } from "./schema";

/** The config file used when neither `--config` nor `EGRESS_CONFIG` names one. */
export const DEFAULT_CONFIG_FILE = "egress.config.yaml";

/** Reads, parses and validates a config file. Throws {@link ConfigError} listing every problem. */
export function loadConfigFile(file: string): EgressConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === "ENOENT" ? "file not found" : (err as Error).message;
    throw new ConfigError(file, [{ path: "", message: `cannot read the config: ${reason}` }]);
  }
  return parseConfigText(text, file);
}

/** Parses YAML text and validates it; `file` names the source in errors. */
export function parseConfigText(text: string, file: string): EgressConfig {
  const lineCounter = new LineCounter();
  // Duplicate keys are reported below with their YAML path rather than as a parse error.
  const doc = parseDocument(text, { uniqueKeys: false, lineCounter });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => ({ path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : "", message: `malformed YAML: ${firstLine(e.message)}` })),
    );
  }
  const duplicates = duplicateKeys(doc.contents, [], lineCounter);
  if (duplicates.length > 0) throw new ConfigError(file, duplicates);
  return validateConfig(doc.toJS(), file);
}

/** Validates already-parsed data (YAML or JSON) against the schema and resolves defaults. */
export function validateConfig(data: unknown, file: string): EgressConfig {
  if (data === null || data === undefined) throw new ConfigError(file, [{ path: "", message: "the config is empty" }]);
  const result = configSchema.safeParse(data);
  const issues = [
    ...(result.error?.issues.flatMap(toConfigIssues) ?? []),
    ...crossFieldIssues(data).map((i) => ({ path: formatPath(i.path), message: i.message })),
  ];
  if (!result.success || issues.length > 0) throw new ConfigError(file, issues);
  try {
    return resolveConfig(result.data);
  } catch (err) {
    if (err instanceof PlanError) throw new ConfigError(file, [{ path: formatPath(["interconnect", "sites", err.site, err.field]), message: err.message.replace(/^interconnect site [^:]+: /, "") }]);
    throw err;
  }
}

function toConfigIssues(issue: z.core.$ZodIssue): ConfigIssue[] {
  const path = formatPath(issue.path);
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) => ({ path: formatPath([...issue.path, key]), message: "is not a known setting (check the spelling against egress.config.schema.json)" }));
    case "invalid_key":
      return issue.issues.map((inner) => ({ path, message: `name ${inner.message}` }));
    case "invalid_type":
      return [{ path, message: /received undefined$/.test(issue.message) ? "is required" : issue.message.replace(/^Invalid input: /, "") }];
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
