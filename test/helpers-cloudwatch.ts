import type { ProxyMetricFilter } from "../modules/monitoring/metrics";

/**
 * A test stand-in for CloudWatch Logs' space-delimited filter patterns, as its documentation
 * describes them (FilterAndPatternSyntax): a log event splits on spaces, text in "" or [] being
 * one field; the pattern names fields in order, `...` stands for any number of fields; a field's
 * condition is `=`/`!=` a string (`*` a wildcard, quotes optional) or `=`, `!=`, `<`, `<=`, `>`,
 * `>=` a number, joined by `&&` and `||`. CloudWatch's own matcher cannot run here (no AWS
 * account); this one implements exactly the subset egresslink's patterns use, and refuses
 * anything else, so a pattern outside that subset fails its test instead of passing unchecked.
 */
export function matchSpaceDelimited(pattern: string, event: string): Record<string, string> | undefined {
  if (!/^\[.*\]$/.test(pattern)) throw new Error(`not a space-delimited pattern: ${pattern}`);
  const columns = pattern.slice(1, -1).split(/,\s*/).map(parseColumn);
  const fields = splitEvent(event);
  const ellipsis = columns.findIndex((c) => c === "...");
  if (columns.filter((c) => c === "...").length > 1) throw new Error(`more than one ... in ${pattern}`);
  let aligned: (readonly [Column, string])[];
  if (ellipsis < 0) {
    if (fields.length !== columns.length) return undefined;
    aligned = columns.map((c, i) => [c as Column, fields[i]] as const);
  } else {
    const before = columns.slice(0, ellipsis) as Column[];
    const after = columns.slice(ellipsis + 1) as Column[];
    if (fields.length < before.length + after.length) return undefined;
    aligned = [...before.map((c, i) => [c, fields[i]] as const), ...after.map((c, i) => [c, fields[fields.length - after.length + i]] as const)];
  }
  for (const [column, value] of aligned) if (column.test && !column.test(value)) return undefined;
  return Object.fromEntries(aligned.map(([column, value]) => [column.name, value]));
}

/** What a metric filter publishes for one log event: the value and the dimensions, or undefined when the pattern does not match. */
export function metricEvent(filter: ProxyMetricFilter, event: string): { value: number; dimensions: Record<string, string> } | undefined {
  const fields = matchSpaceDelimited(filter.pattern, event);
  if (!fields) return undefined;
  const take = (ref: string) => (ref.startsWith("$") ? fields[ref.slice(1)] : ref);
  const value = Number(take(filter.value));
  // A non-numeric value field publishes nothing.
  if (!Number.isFinite(value)) return undefined;
  return { value, dimensions: Object.fromEntries(Object.entries(filter.dimensions ?? {}).map(([k, ref]) => [k, take(ref)])) };
}

interface Column {
  readonly name: string;
  readonly test?: (value: string) => boolean;
}

function parseColumn(text: string): Column | "..." {
  if (text === "...") return "...";
  const named = /^(\w+)(?:\s+(.*))?$/.exec(text);
  if (!named) throw new Error(`cannot read the pattern column "${text}"`);
  const [, name, condition] = named;
  if (condition === undefined) return { name };
  const any = condition.split(/\s*\|\|\s*/).map((alt) => alt.split(/\s*&&\s*/).map((term) => parseTerm(name, term)));
  return { name, test: (value) => any.some((all) => all.every((t) => t(value))) };
}

function parseTerm(name: string, term: string): (value: string) => boolean {
  const m = /^(?:(\w+)\s*)?(=|!=|<=|>=|<|>)\s*(.+)$/.exec(term);
  if (!m || (m[1] !== undefined && m[1] !== name)) throw new Error(`cannot read the condition "${term}" on ${name}`);
  const [, , op, raw] = m;
  const number = Number(raw);
  if (raw !== "" && /^-?\d+(\.\d+)?$/.test(raw) && Number.isFinite(number)) {
    const compare = (v: string) => {
      if (!/^-?\d+(\.\d+)?$/.test(v)) return undefined;
      return Number(v);
    };
    const ops: Record<string, (a: number) => boolean> = { "=": (a) => a === number, "!=": (a) => a !== number, "<": (a) => a < number, "<=": (a) => a <= number, ">": (a) => a > number, ">=": (a) => a >= number };
    return (v) => {
      const a = compare(v);
      return a !== undefined && ops[op](a);
    };
  }
  if (op !== "=" && op !== "!=") throw new Error(`a string comparison takes = or !=: "${term}"`);
  const literal = /^"(.*)"$/.exec(raw)?.[1] ?? raw;
  const regex = new RegExp(`^${literal.split("*").map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
  return op === "=" ? (v) => regex.test(v) : (v) => !regex.test(v);
}

/** A log event's fields: split on spaces, "..." and [...] one field each (without their quotes or brackets). */
function splitEvent(event: string): string[] {
  const fields: string[] = [];
  const re = /"([^"]*)"|\[([^\]]*)\]|(\S+)/g;
  for (let m = re.exec(event.trim()); m; m = re.exec(event.trim())) fields.push(m[1] ?? m[2] ?? m[3]);
  return fields;
}
