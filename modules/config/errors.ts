/** One problem in a config file: where (a YAML path like `spokes.project-b.cidr`) and why. */
export interface ConfigIssue {
  /** Dotted YAML path of the offending value, keyed by names (`spokes.project-b.cidr`); empty for the top level. */
  readonly path: string;
  /** Why the value cannot be used, as printed. */
  readonly message: string;
}

/** Problems printed in full; a config with thousands of bad entries gets the first ones and a count. */
export const MAX_PRINTED_ISSUES = 50;

/** A config that cannot be used. Carries every problem found, so users fix them in one pass. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(formatIssues(file, issues));
    this.name = "ConfigError";
  }
}

export function formatIssues(file: string, issues: readonly ConfigIssue[]): string {
  const head = `${printable(file)}: ${issues.length} problem${issues.length === 1 ? "" : "s"}`;
  const shown = issues.slice(0, MAX_PRINTED_ISSUES).map((i) => `  ${printable(i.path) || "(top level)"}: ${printable(i.message)}`);
  const more = issues.length > MAX_PRINTED_ISSUES ? [`  ... and ${issues.length - MAX_PRINTED_ISSUES} more (fix these first)`] : [];
  return [head, ...shown, ...more].join("\n");
}

/** Joins a path the way a user would point at the YAML node. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === "number" ? `[${p}]` : String(p))).join(".").replace(/\.\[/g, "[");
}

/** Longest message line printed; longer ones were built around a value nobody should see in full. */
const MAX_LINE = 400;

/** Last line of defence for text bound for a terminal: no control characters, no endless lines. */
function printable(text: string): string {
  const safe = text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).replace(/[\r\n\t]+/g, " ");
  return safe.length > MAX_LINE ? `${safe.slice(0, MAX_LINE)}... (${safe.length - MAX_LINE} more characters)` : safe;
}
