/**
 * Allow-list entries as Squid's `dstdomain` reads them: `api.example.com` matches that host
 * only, `.example.com` matches example.com and every subdomain. Pure validation, used by the
 * config schema (to name the YAML path) and by `renderSquidConf` (for library users).
 */

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** Why `entry` is not a usable allow-list entry, or undefined when it is. */
export function domainEntryProblem(entry: string): string | undefined {
  if (entry.includes("://") || entry.includes("/")) return `"${entry}" is a URL; list the host name only (e.g. "${hostOf(entry)}")`;
  if (entry.includes("*")) return `"${entry}" has a wildcard; write ".${entry.replace(/^[*.]+/, "")}" to allow a domain and its subdomains`;
  if (entry.includes(":")) return `"${entry}" has a port; ports are allowed with connectPorts, not per domain`;
  if (entry !== entry.toLowerCase()) return `"${entry}" has capitals; write "${entry.toLowerCase()}"`;
  if (/^\.?\d+(\.\d+){3}$/.test(entry)) return `"${entry}" is an IP address; allow-lists take domain names`;
  const labels = (entry.startsWith(".") ? entry.slice(1) : entry).split(".");
  if (labels.length < 2) return `"${entry}" is a top-level domain; allow a registered domain (e.g. ".example${entry.startsWith(".") ? entry : `.${entry}`}") or a host`;
  const bad = labels.find((l) => !LABEL.test(l));
  if (bad !== undefined) return `"${entry}" has an invalid label "${bad}" (1-63 of a-z, 0-9, '-', not starting or ending with '-')`;
  if (entry.length > 254) return `"${entry}" is longer than a DNS name can be`;
  return undefined;
}

/** Whether `entry` is matched by `cover` (Squid would warn that one of them is redundant). */
export function domainCovers(cover: string, entry: string): boolean {
  if (cover === entry) return true;
  if (!cover.startsWith(".")) return false;
  const bare = entry.startsWith(".") ? entry.slice(1) : entry;
  return bare === cover.slice(1) || bare.endsWith(cover);
}

/** A problem with one entry of a list, by its index. */
export interface DomainListProblem {
  readonly index: number;
  readonly message: string;
}

/**
 * Problems in an allow-list: invalid entries, and entries another entry (in this list, or in
 * `alsoAllowed`, the list this one adds to) already covers.
 */
export function domainListProblems(entries: readonly string[], alsoAllowed: readonly string[] = [], alsoAllowedName = "the global allow-list"): DomainListProblem[] {
  const problems: DomainListProblem[] = [];
  entries.forEach((entry, index) => {
    const invalid = domainEntryProblem(entry);
    if (invalid) return problems.push({ index, message: invalid });
    const inList = entries.findIndex((other, j) => j !== index && domainEntryProblem(other) === undefined && domainCovers(other, entry) && !(other === entry && j > index));
    if (inList !== -1) {
      return problems.push({ index, message: entries[inList] === entry ? `"${entry}" is listed twice` : `"${entry}" is already covered by "${entries[inList]}"` });
    }
    const global = alsoAllowed.find((other) => domainCovers(other, entry));
    if (global !== undefined) problems.push({ index, message: `"${entry}" is already allowed for every spoke by "${global}" in ${alsoAllowedName}` });
    return undefined;
  });
  return problems;
}

function hostOf(url: string): string {
  return url.replace(/^[a-z]+:\/\//i, "").split(/[/:]/)[0];
}
