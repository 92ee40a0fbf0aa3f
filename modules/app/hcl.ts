/**
 * The HCL output (`cdktf synth --hcl`, env SYNTH_HCL_OUTPUT=true): a `cdk.tf` that means exactly
 * what the JSON output (`cdk.tf.json`) means and is `terraform fmt` clean, without needing Terraform.
 *
 * cdktf 0.21 renders HCL from strings (cdktf/lib/hcl/render.js) and loses meaning on the way:
 * - `renderString` writes every multi-line string as `<<EOF\n<string>\nEOF`. A heredoc's value
 *   ends with the newline before its closing marker, so each such value gains a "\n" (user data,
 *   scripts, documents, outputs): a plan diff against the same stack synthesized as JSON.
 * - `renderTerraform` passes the terraform block's other keys as an array, so `required_version`
 *   comes out as `0 = "required_version"`: no HCL parser accepts the file, and the constraint is lost.
 * - lifecycle `precondition`/`postcondition` come out as a list attribute, which Terraform rejects
 *   (they are blocks); `provider` and `depends_on` as quoted references, which it deprecates.
 * - `"` is escaped only in strings without `${`, `\` never; strings that look like numbers, lists or
 *   objects are written bare in some places. Nothing is indented or aligned (not fmt clean).
 *
 * So the file is rendered again here: every value from the stack's JSON (what `cdk.tf.json` holds),
 * written in the forms whose meaning equals the JSON's. cdktf's HCL is read for one thing the JSON
 * cannot tell: which keys are nested blocks rather than attributes (that is the provider's schema,
 * which only the generated bindings know). The layout is what `terraform fmt` writes: two-space
 * indents, `=` aligned across consecutive one-line attributes, `"${x}"` written as `x`.
 */

type Json = string | number | boolean | null | Json[] | JsonObject;
interface JsonObject {
  [key: string]: Json;
}

/** Nested block types by name, each with the block types nested in it. */
type Blocks = Map<string, Blocks>;

interface ParsedBlock {
  readonly type: string;
  readonly labels: readonly string[];
  readonly blocks: readonly ParsedBlock[];
}

/** One line-starting item of a body: an attribute (its value rendered at the body's indent) or a rendered block. */
type Item = Attribute | Block;
interface Attribute {
  readonly name: string;
  readonly value: string;
}
interface Block {
  readonly block: string;
}

const INDENT = "  ";
/** Top-level keys of the JSON, in the order the HCL writes them; any other key is refused. */
const TOP_LEVEL = ["terraform", "provider", "data", "resource", "output"];
/** Resource meta-arguments that would need more than a value rendering; no stack of ours uses them. */
const UNSUPPORTED_META = ["connection", "provisioner", "dynamic"];
/** Object keys that must be quoted even though they look like identifiers (`{ for = 1 }` starts a for expression). */
const KEYWORDS = ["for", "in", "if", "true", "false", "null"];

/**
 * The stack's HCL: `json` is the stack's Terraform JSON (`TerraformStack.toTerraform()`), and
 * `cdktfHcl` the `cdk.tf` cdktf wrote for it, read only for which keys are nested blocks. Throws
 * on what it cannot render with the same meaning (top-level blocks other than terraform, provider,
 * data, resource and output; dynamic blocks, provisioners).
 */
export function stackHcl(json: Record<string, unknown>, cdktfHcl: string): string {
  const schemas = blockSchemas(cdktfHcl);
  const unsupported = Object.keys(json).filter((key) => key !== "//" && !TOP_LEVEL.includes(key));
  if (unsupported.length) throw new Error(`the HCL output cannot render top-level ${unsupported.join(", ")}; synthesize JSON instead`);
  const doc = json as JsonObject;
  const sections: string[] = [];
  for (const kind of TOP_LEVEL) {
    if (doc[kind] === undefined) continue;
    const section = asObject(doc[kind], kind);
    if (kind === "terraform") sections.push(block("terraform", [], terraformItems(section), "").block);
    if (kind === "provider") {
      for (const [name, configs] of entries(section)) {
        const blocks = schemaFor(schemas, `provider.${name}`);
        for (const config of blockBodies(configs, `provider ${name}`)) sections.push(block("provider", [name], schemaItems(config, blocks, INDENT), "").block);
      }
    }
    if (kind === "data" || kind === "resource") {
      for (const [type, byName] of entries(section)) {
        const blocks = schemaFor(schemas, `${kind}.${type}`);
        for (const [name, body] of entries(asObject(byName, `${kind} ${type}`))) {
          sections.push(block(kind, [type, name], resourceItems(asObject(body, `${kind} ${type}.${name}`), blocks, INDENT), "").block);
        }
      }
    }
    if (kind === "output") {
      for (const [name, body] of entries(section)) sections.push(block("output", [name], outputItems(asObject(body, `output ${name}`), INDENT), "").block);
    }
  }
  return `${sections.join("\n\n")}\n`;
}

function terraformItems(body: JsonObject): Item[] {
  const items: Item[] = [];
  const blocks: Item[] = [];
  for (const [key, value] of entries(body)) {
    if (key === "required_version") items.push({ name: key, value: expression(value, INDENT) });
    else if (key === "required_providers") blocks.push(block(key, [], attributeItems(asObject(value, key), INDENT + INDENT), INDENT));
    else if (key === "backend") {
      for (const [type, config] of entries(asObject(value, key))) blocks.push(block(key, [type], attributeItems(asObject(config, `backend ${type}`), INDENT + INDENT), INDENT));
    } else if (key === "cloud") {
      const { workspaces, ...settings } = asObject(value, key);
      const workspace = workspaces === undefined ? [] : [block("workspaces", [], attributeItems(asObject(workspaces, "cloud workspaces"), INDENT.repeat(3)), INDENT.repeat(2))];
      blocks.push(block(key, [], [...attributeItems(settings, INDENT.repeat(2)), ...workspace], INDENT));
    } else throw new Error(`the HCL output cannot render terraform.${key}; synthesize JSON instead`);
  }
  return [...items, ...blocks];
}

/**
 * A resource's or data source's body. In JSON, `provider` and `depends_on` hold references as
 * strings, and lifecycle's `ignore_changes`/`replace_triggered_by` too: HCL writes them bare.
 */
function resourceItems(body: JsonObject, blocks: Blocks, indent: string): Item[] {
  const { provider, depends_on: dependsOn, lifecycle, ...rest } = body;
  const unsupported = Object.keys(rest).filter((key) => UNSUPPORTED_META.includes(key));
  if (unsupported.length) throw new Error(`the HCL output cannot render ${unsupported.join(", ")}; synthesize JSON instead`);
  return [
    ...(provider === undefined ? [] : [{ name: "provider", value: asString(provider, "provider") }]),
    ...schemaItems(rest, blocks, indent),
    ...(dependsOn === undefined ? [] : [{ name: "depends_on", value: references(dependsOn, indent) }]),
    ...(lifecycle === undefined ? [] : [lifecycleBlock(asObject(lifecycle, "lifecycle"), indent)]),
  ];
}

function lifecycleBlock(body: JsonObject, indent: string): Block {
  const inner = indent + INDENT;
  const items: Item[] = [];
  const conditions: Item[] = [];
  for (const [key, value] of entries(body)) {
    if (key === "precondition" || key === "postcondition") {
      conditions.push(...blockBodies(value, key).map((condition) => block(key, [], attributeItems(condition, inner + INDENT), inner)));
    } else if (key === "ignore_changes" && value === "all") items.push({ name: key, value: "all" });
    else if (key === "ignore_changes" || key === "replace_triggered_by") items.push({ name: key, value: references(value, inner) });
    else if (key === "create_before_destroy" || key === "prevent_destroy") items.push({ name: key, value: expression(value, inner) });
    else throw new Error(`the HCL output cannot render lifecycle.${key}; synthesize JSON instead`);
  }
  return block("lifecycle", [], [...items, ...conditions], indent);
}

function outputItems(body: JsonObject, indent: string): Item[] {
  const { depends_on: dependsOn, precondition, ...rest } = body;
  return [
    ...attributeItems(rest, indent),
    ...(dependsOn === undefined ? [] : [{ name: "depends_on", value: references(dependsOn, indent) }]),
    ...(precondition === undefined ? [] : blockBodies(precondition, "precondition").map((condition) => block("precondition", [], attributeItems(condition, indent + INDENT), indent))),
  ];
}

/** A body whose keys are nested blocks where `blocks` says so, attributes otherwise; attributes first. */
function schemaItems(body: JsonObject, blocks: Blocks, indent: string): Item[] {
  const attributes: JsonObject = {};
  const nested: Item[] = [];
  for (const [key, value] of entries(body)) {
    const inner = blocks.get(key);
    if (inner) nested.push(...blockBodies(value, key).map((b) => block(key, [], schemaItems(b, inner, indent + INDENT), indent)));
    else attributes[key] = value;
  }
  return [...attributeItems(attributes, indent), ...nested];
}

function attributeItems(body: JsonObject, indent: string): Item[] {
  return entries(body).map(([name, value]) => ({ name, value: attributeValue(value, indent) }));
}

/** A block's text at `indent`: its header, then its items one level deeper. */
function block(type: string, labels: readonly string[], items: readonly Item[], indent: string): Block {
  const header = [type, ...labels.map((label) => `"${escapeLiteral(label)}"`)].join(" ");
  return { block: items.length ? `${indent}${header} {\n${lines(items, indent + INDENT)}\n${indent}}` : `${indent}${header} {}` };
}

/**
 * Items as lines at `indent`. Like `terraform fmt`, the `=` of consecutive attributes whose value
 * fits on their line (or is a heredoc) line up; a block or a multi-line value breaks the run.
 */
function lines(items: readonly Item[], indent: string): string {
  const out: string[] = [];
  let run: Attribute[] = [];
  const flush = () => {
    if (!run.length) return;
    const width = Math.max(...run.map((a) => a.name.length));
    out.push(...run.map((a) => `${indent}${a.name.padEnd(width)} = ${a.value}`));
    run = [];
  };
  for (const item of items) {
    if ("block" in item) {
      flush();
      out.push(item.block);
    } else if (!item.value.includes("\n") || item.value.startsWith("<<")) {
      run.push(item);
    } else {
      flush();
      out.push(`${indent}${item.name} = ${item.value}`);
    }
  }
  flush();
  return out.join("\n");
}

/** An attribute's value: a multi-line string as a heredoc where one can hold it exactly, else `expression`. */
function attributeValue(value: Json, indent: string): string {
  return (typeof value === "string" && heredoc(value)) || expression(value, indent);
}

/**
 * A heredoc's value is its lines, each with its newline, so it holds exactly the strings that end
 * with "\n" (a string without one stays quoted, with `\n` escapes). Its template syntax is the
 * JSON string's (`${`, `%{`, `$${`; no backslash escapes), so the content is the string as it is.
 * The marker must not appear as a line of its own (indented or not, it would end the heredoc).
 */
function heredoc(value: string): string | undefined {
  if (!value.endsWith("\n") || value.includes("\r")) return undefined;
  const contentLines = value.split("\n").map((line) => line.trim());
  let marker = "EOT";
  for (let n = 2; contentLines.includes(marker); n++) marker = `EOT${n}`;
  return `<<${marker}\n${value}${marker}`;
}

/** A JSON value as an HCL expression starting at a line indented by `indent`. */
function expression(value: Json, indent: string): string {
  if (value === null || typeof value === "boolean" || typeof value === "number") return String(value);
  if (typeof value === "string") return stringExpression(value);
  const inner = indent + INDENT;
  if (Array.isArray(value)) {
    const items = value.map((v) => expression(v, inner));
    const scalar = value.length === 1 && (value[0] === null || typeof value[0] !== "object") && !items[0].includes("\n");
    return scalar ? `[${items[0]}]` : list(items, indent);
  }
  const items = Object.keys(value)
    .sort()
    .map((key) => ({ name: objectKey(key), value: expression(value[key], inner) }));
  return items.length ? `{\n${lines(items, inner)}\n${indent}}` : "{}";
}

/** A list of already rendered items, one per line (`[]` when empty). */
function list(items: readonly string[], indent: string): string {
  return items.length ? `[\n${items.map((item) => `${indent}${INDENT}${item},`).join("\n")}\n${indent}]` : "[]";
}

/** JSON `provider`/`depends_on`-style strings are references: written bare, as HCL wants them. */
function references(value: Json, indent: string): string {
  if (!Array.isArray(value)) throw new Error(`expected a list of references, got ${JSON.stringify(value)}`);
  return list(value.map((v) => asString(v, "reference")), indent);
}

/**
 * A JSON string is a template; the same template in HCL. One that is a single interpolation
 * `${x}` is written `x` (what `terraform fmt` does; both mean x's value, unconverted).
 */
function stringExpression(value: string): string {
  const parts = templateParts(value);
  const only = parts.length === 1 ? parts[0] : undefined;
  if (only?.sequence && only.text.startsWith("${") && !/^\$\{~|~\}$/.test(only.text)) return only.text.slice(2, -1).trim();
  return quoted(parts);
}

/** Object keys are templates too; bare when the key is a plain identifier. */
function objectKey(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) && !KEYWORDS.includes(key) ? key : quoted(templateParts(key));
}

/** A quoted template: literal text escaped, `${...}`/`%{...}` sequences as they are (their inner strings are HCL already). */
function quoted(parts: readonly TemplatePart[]): string {
  return `"${parts.map((part) => (part.sequence ? part.text : escapeLiteral(part.text))).join("")}"`;
}

const ESCAPES: Record<string, string> = { "\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** Literal text inside HCL quotes. `$${` and `%%{` are left alone: they are the same escapes in JSON and HCL. */
function escapeLiteral(text: string): string {
  return text.replace(/[\\"\x00-\x1f]/g, (c) => ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

interface TemplatePart {
  readonly text: string;
  /** A `${...}` interpolation or `%{...}` directive, delimiters included; literal text otherwise. */
  readonly sequence: boolean;
}

/** Splits a template into literal text and sequences, as HCL's template scanner does. */
function templateParts(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let literal = "";
  let i = 0;
  while (i < template.length) {
    if (template.startsWith("$${", i) || template.startsWith("%%{", i)) {
      literal += template.slice(i, i + 3);
      i += 3;
    } else if (template.startsWith("${", i) || template.startsWith("%{", i)) {
      if (literal) parts.push({ text: literal, sequence: false });
      literal = "";
      const end = sequenceEnd(template, i + 2);
      parts.push({ text: template.slice(i, end + 1), sequence: true });
      i = end + 1;
    } else {
      literal += template[i++];
    }
  }
  if (literal) parts.push({ text: literal, sequence: false });
  return parts;
}

/** The index of the `}` closing the sequence whose expression starts at `from`; quoted strings inside may nest. */
function sequenceEnd(text: string, from: number): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    if (text[i] === '"') i = quotedEnd(text, i + 1);
    else if (text[i] === "{") depth++;
    else if (text[i] === "}" && depth-- === 0) return i;
  }
  throw new Error(`unterminated template sequence at ${from - 2} in ${JSON.stringify(text.slice(from - 2, from + 60))}`);
}

/** The index of the `"` closing the quoted string whose content starts at `from`. */
function quotedEnd(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    if (text[i] === "\\" || text.startsWith("$${", i) || text.startsWith("%%{", i)) i += text[i] === "\\" ? 1 : 2;
    else if (text.startsWith("${", i) || text.startsWith("%{", i)) i = sequenceEnd(text, i + 2);
    else if (text[i] === '"') return i;
  }
  throw new Error(`unterminated string at ${from - 1}: ${JSON.stringify(text.slice(from - 1, from + 60))}`);
}

/**
 * Which keys are nested blocks, per `resource.<type>`, `data.<type>` and `provider.<name>`, read
 * from cdktf's HCL: the union over every block of that type (the schema is the type's, so blocks
 * one instance leaves out still count).
 */
function blockSchemas(cdktfHcl: string): Map<string, Blocks> {
  const schemas = new Map<string, Blocks>();
  for (const top of parseBody(cdktfHcl, 0, false).blocks) {
    if (!["resource", "data", "provider"].includes(top.type)) continue;
    const key = `${top.type}.${top.labels[0]}`;
    schemas.set(key, mergeBlocks(top.blocks, schemas.get(key) ?? new Map()));
  }
  return schemas;
}

function mergeBlocks(blocks: readonly ParsedBlock[], into: Blocks): Blocks {
  for (const b of blocks) into.set(b.type, mergeBlocks(b.blocks, into.get(b.type) ?? new Map()));
  return into;
}

function schemaFor(schemas: Map<string, Blocks>, key: string): Blocks {
  const blocks = schemas.get(key);
  if (!blocks) throw new Error(`cdktf's HCL has no ${key.replace(".", " ")} block, though the stack's JSON has one`);
  return blocks;
}

/**
 * The blocks of a body of cdktf's HCL, from `from` to its closing `}` (or the end, at the top).
 * Attribute values are skipped, not read: they may be wrongly quoted (see above), but their
 * strings, brackets and heredocs are balanced, which is all the skipping needs.
 */
function parseBody(text: string, from: number, nested: boolean): { blocks: ParsedBlock[]; end: number } {
  const blocks: ParsedBlock[] = [];
  let head: string[] = [];
  let i = from;
  const fail = (what: string): never => {
    const line = text.slice(0, i).split("\n").length;
    throw new Error(`cannot read cdktf's HCL at line ${line}: ${what}`);
  };
  while (i < text.length) {
    const c = text[i];
    if (c === "\n") {
      if (head.length) fail(`"${head.join(" ")}" is neither an attribute nor a block`);
      i++;
    } else if (c === " " || c === "\t" || c === "\r") {
      i++;
    } else if (c === "#") {
      i = lineEnd(text, i);
    } else if (c === "}") {
      if (!nested || head.length) fail("unexpected }");
      return { blocks, end: i + 1 };
    } else if (c === "{") {
      if (!head.length) fail("a block without a type");
      const body = parseBody(text, i + 1, true);
      blocks.push({ type: head[0], labels: head.slice(1), blocks: body.blocks });
      head = [];
      i = body.end;
    } else if (c === "=") {
      i = stringLineEnd(text, i + 1) ?? expressionEnd(text, i + 1);
      head = [];
    } else if (c === '"') {
      const end = quotedEnd(text, i + 1);
      head.push(text.slice(i + 1, end));
      i = end + 1;
    } else {
      const word = /^[A-Za-z0-9_-]+/.exec(text.slice(i, i + 256))?.[0] ?? fail(`unexpected ${JSON.stringify(c)}`);
      head.push(word);
      i += word.length;
    }
  }
  if (nested) fail("a block is not closed");
  return { blocks, end: i };
}

/**
 * Where a one-line string value starting at `from` ends: its line's end, when the line holds a
 * quoted string and nothing else. cdktf writes a string's inner quotes unescaped (a JSON document
 * such as a dashboard body), so the quotes inside cannot be followed; the line still can.
 */
function stringLineEnd(text: string, from: number): number | undefined {
  const end = lineEnd(text, from);
  const value = text.slice(from, end).trim();
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? end : undefined;
}

/** Where the expression starting at `from` ends: the newline (or enclosing `}`) after its brackets close. */
function expressionEnd(text: string, from: number): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === '"') i = quotedEnd(text, i + 1);
    else if (text.startsWith("<<", i)) i = heredocEnd(text, i);
    else if ("([{".includes(c)) depth++;
    else if (")]}".includes(c) && depth-- === 0) return i;
    else if (c === "\n" && depth === 0) return i;
  }
  return text.length;
}

/** The index of the last character of the heredoc starting at `from` (its closing marker). */
function heredocEnd(text: string, from: number): number {
  const opener = /^<<-?([A-Za-z_][A-Za-z0-9_-]*)\n/.exec(text.slice(from, from + 256));
  if (!opener) throw new Error(`cannot read cdktf's HCL: a heredoc without a marker at ${JSON.stringify(text.slice(from, from + 40))}`);
  for (let start = from + opener[0].length; start < text.length; start = lineEnd(text, start) + 1) {
    const end = lineEnd(text, start);
    if (text.slice(start, end).trim() === opener[1]) return end - 1;
  }
  throw new Error(`cannot read cdktf's HCL: heredoc ${opener[1]} is not closed`);
}

function lineEnd(text: string, from: number): number {
  const end = text.indexOf("\n", from);
  return end === -1 ? text.length : end;
}

/** A body's keys sorted, as cdk.tf.json has them, JSON comments ("//", cdktf's construct metadata) left out. */
function entries(body: JsonObject): [string, Json][] {
  return Object.keys(body)
    .filter((key) => key !== "//")
    .sort()
    .map((key) => [key, body[key]]);
}

/** A nested block's JSON: one object, or a list of them. */
function blockBodies(value: Json, what: string): JsonObject[] {
  return (Array.isArray(value) ? value : [value]).map((body) => asObject(body, what));
}

function asObject(value: Json | undefined, what: string): JsonObject {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error(`${what}: expected an object in the stack's JSON, got ${JSON.stringify(value)}`);
  return value;
}

function asString(value: Json, what: string): string {
  if (typeof value !== "string") throw new Error(`${what}: expected a string in the stack's JSON, got ${JSON.stringify(value)}`);
  return value;
}
