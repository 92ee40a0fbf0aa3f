/**
 * Text helpers for messages about the user's input: quoting a value safely and measuring how far
 * a typo is from a known name. Pure.
 */

/** Longest part of a value a message quotes (after escaping): a 20 MB string is named, not echoed. */
const QUOTE_MAX = 80;

/** Characters a terminal would not show as themselves: controls, format (bidi), separators, odd spaces. */
export const INVISIBLE = /(?! )[\p{C}\p{Z}]/u;

/**
 * `value` in double quotes for a message: escaped like JSON, invisible characters as `\uXXXX`
 * too (so terminal escapes and bidi overrides never reach the terminal raw), cut after
 * {@link QUOTE_MAX} characters with `...`.
 */
export function quoted(value: unknown): string {
  let shown = "";
  for (const ch of typeof value === "string" ? value : String(value)) {
    const json = JSON.stringify(ch).slice(1, -1);
    const escaped = json === ch && INVISIBLE.test(ch) ? ch.split("").map((unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, "0")}`).join("") : json;
    if (shown.length + escaped.length > QUOTE_MAX) return `"${shown}..."`;
    shown += escaped;
  }
  return `"${shown}"`;
}

/**
 * Edits (insert, delete, substitute, swap adjacent letters) turning `a` into `b`: the optimal
 * string alignment form of Damerau-Levenshtein distance, so `Statment`/`Statement` is 1 and
 * `ssm`/`sms` is 1.
 */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** `value` single-quoted for bash, quotes inside escaped. Terraform references (no quotes in them) pass through. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
