/** One problem in a config file: where (a YAML path like `spokes.project-b.cidr`) and why. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

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
  const head = `${file}: ${issues.length} problem${issues.length === 1 ? "" : "s"}`;
  return [head, ...issues.map((i) => `  ${i.path || "(top level)"}: ${i.message}`)].join("\n");
}

/** Joins a path the way a user would point at the YAML node. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === "number" ? `[${p}]` : String(p))).join(".").replace(/\.\[/g, "[");
}
