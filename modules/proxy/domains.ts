/**
 * Allow-list entries as Squid's `dstdomain` reads them: `api.example.com` matches that host
 * only, `.example.com` matches example.com and every subdomain. Pure validation, used by the
 * config schema (to name the YAML path) and by `renderSquidConf` (for library users).
 */
import { isIP } from "node:net";
import { domainToASCII } from "node:url";
import { INVISIBLE, quoted } from "../core/text";

/**
 * Most entries one allow-list may hold: far more than the few dozen domains a spoke needs, and
 * few enough that a pasted dump of names is refused rather than shipped in squid.conf.
 */
export const MAX_ALLOWED_DOMAINS = 1000;

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
/** Longest domain name in text form (no trailing dot); an entry may add a leading dot. */
const MAX_NAME = 253;

/** Why `entry` is not a usable allow-list entry, or undefined when it is. */
export function domainEntryProblem(entry: string): string | undefined {
  return diagnose(entry)?.message;
}

/**
 * The entry the message of `domainEntryProblem(entry)` suggests instead (it quotes it in full),
 * or undefined when `entry` is fine or has no safe repair. A suggestion is always a valid entry;
 * for a wildcard inside a name it allows more than the entry meant, which the message says.
 */
export function suggestDomainFix(entry: string): string | undefined {
  return diagnose(entry)?.suggestion;
}

/** Whether `entry` is matched by `cover` (Squid would warn that one of them is redundant). */
export function domainCovers(cover: string, entry: string): boolean {
  if (cover === entry) return true;
  if (!cover.startsWith(".")) return false;
  const bare = entry.startsWith(".") ? entry.slice(1) : entry;
  return bare === cover.slice(1) || bare.endsWith(cover);
}

/** A problem with one entry of a list, by its index, or with the whole list. */
export interface DomainListProblem {
  /** The entry's index; for a problem with the whole list, the first index past the limit. */
  readonly index: number;
  /** Set when the list as a whole is the problem (too many entries): report it at the list's path. */
  readonly wholeList?: true;
  readonly message: string;
}

/**
 * Problems in an allow-list: more than `MAX_ALLOWED_DOMAINS` entries (then that one problem,
 * without reading the entries), invalid entries, and entries another entry (in this list, or in
 * `alsoAllowed`, the list this one adds to) already covers. A covered entry is reported against
 * the earliest entry of the list that covers it (an earlier copy counts, a later one does not),
 * else against the earliest entry of `alsoAllowed` that covers it. Linear in the entries.
 */
export function domainListProblems(entries: readonly string[], alsoAllowed: readonly string[] = [], alsoAllowedName = "the global allow-list"): DomainListProblem[] {
  if (entries.length > MAX_ALLOWED_DOMAINS) {
    return [{
      index: MAX_ALLOWED_DOMAINS,
      wholeList: true,
      message: `the list has ${entries.length} entries, more than the ${MAX_ALLOWED_DOMAINS} allowed; ".example.com" allows a domain and all its subdomains in one entry`,
    }];
  }
  const invalid = entries.map((entry) => domainEntryProblem(entry));
  // Only valid entries cover others, as Squid would read them.
  const firstInList = firstIndexes(entries, (i) => invalid[i] === undefined);
  const firstGlobal = firstIndexes(alsoAllowed);
  const problems: DomainListProblem[] = [];
  entries.forEach((entry, index) => {
    const problem = invalid[index];
    if (problem !== undefined) return problems.push({ index, message: problem });
    const coverers = coverersOf(entry);
    const inList = earliest(coverers, firstInList, index);
    if (inList !== undefined) {
      return problems.push({ index, message: entries[inList] === entry ? `${quoted(entry)} is listed twice` : `${quoted(entry)} is already covered by ${quoted(entries[inList])}` });
    }
    const global = earliest(coverers, firstGlobal);
    if (global !== undefined) problems.push({ index, message: `${quoted(entry)} is already allowed for every spoke by ${quoted(alsoAllowed[global])} in ${alsoAllowedName}` });
    return undefined;
  });
  return problems;
}

/** Each value of `list` (at the indexes `include` takes) mapped to the index of its first occurrence. */
function firstIndexes(list: readonly string[], include: (index: number) => boolean = () => true): Map<string, number> {
  const first = new Map<string, number>();
  list.forEach((value, i) => {
    if (include(i) && !first.has(value)) first.set(value, i);
  });
  return first;
}

/**
 * Every string `cover` for which `domainCovers(cover, entry)` holds: the entry itself, `.entry`,
 * and each parent domain with a leading dot (at most 127 for a valid entry).
 */
function coverersOf(entry: string): string[] {
  const bare = entry.startsWith(".") ? entry.slice(1) : entry;
  const coverers = [entry, `.${bare}`];
  for (let dot = bare.indexOf("."); dot !== -1; dot = bare.indexOf(".", dot + 1)) coverers.push(bare.slice(dot));
  return coverers;
}

/** The smallest index any of `candidates` first appears at, other than `self`. */
function earliest(candidates: readonly string[], firstIndex: ReadonlyMap<string, number>, self = -1): number | undefined {
  let best: number | undefined;
  for (const candidate of candidates) {
    const i = firstIndex.get(candidate);
    if (i !== undefined && i !== self && (best === undefined || i < best)) best = i;
  }
  return best;
}

/** What is wrong: a message, or (when a repair may help) the message given the repaired entry if that is valid. */
type Finding = string | ((fix: string | undefined) => string);

function diagnose(entry: string): { message: string; suggestion?: string } | undefined {
  const finding = classify(entry);
  if (typeof finding !== "function") return finding === undefined ? undefined : { message: finding };
  const repaired = repair(entry);
  const suggestion = classify(repaired) === undefined ? repaired : undefined;
  return { message: finding(suggestion), suggestion };
}

/** The first problem with `entry`, most fundamental first, so the message names the real reason. */
function classify(entry: string): Finding | undefined {
  // Most entries are well-formed: skip quoting and the checks below for them (1,000 spokes x 40 entries).
  if (WELL_FORMED.test(entry) && entry.length <= MAX_NAME + 1 && !isIpAddress(entry)) return undefined;
  const q = quoted(entry);
  const write = (fix: string | undefined) => (fix === undefined ? "" : `; write "${fix}"`);
  const t = entry.trim();
  if (t === "") return `${q} is empty${entry === "" ? "" : " (only whitespace)"}`;
  if (/^\.+$/.test(t)) return `${q} is empty (only dots)`;
  if (/^[*.]+$/.test(t)) return `${q} would allow every domain; list the domains instead`;
  if (isIpRange(t)) return `${q} is an IP range; allow-lists take domain names (and private ranges are always denied)`;
  if (t.includes("/")) return (fix) => `${q} is a URL; list the host name only${fix === undefined ? "" : ` (e.g. "${fix}")`}`;
  if (isIpAddress(t)) return `${q} is an IP address; allow-lists take domain names`;
  if (/^[^:]*:\d+$/.test(t)) return (fix) => `${q} has a port; ports are allowed with connectPorts, not per domain${write(fix)}`;
  const bare = t.startsWith(".") ? t.slice(1) : t;
  if (bare.length > MAX_NAME) return `${q} is ${bare.length} characters long; a domain name has at most ${MAX_NAME}`;
  if (/^\*\.[^*]*$/.test(t)) {
    return (fix) => `${q} has a wildcard${fix === undefined ? `; a leading dot (".example.com") allows a domain and its subdomains` : `${write(fix)} to allow a domain and its subdomains`}`;
  }
  if (t.includes("*")) {
    const why = `${q} has a wildcard inside the name (Squid matches whole names, or a domain with its subdomains)`;
    return (fix) => (fix === undefined ? `${why}; list the names instead` : `${why}${write(fix)} to allow all of that domain, more than this entry`);
  }
  if (INVISIBLE.test(t)) return (fix) => `${q} has invisible or control characters (shown escaped)${write(fix)}`;
  if (/[^\x00-\x7f]/.test(t)) return (fix) => `${q} is not ASCII; Squid compares names in punycode (xn--) form${write(fix)}`;
  const labels = bare.split(".").filter((label) => label !== "");
  const bad = labels.find((label) => !LABEL.test(label.toLowerCase()));
  if (bad !== undefined) return `${q} has an invalid label ${quoted(bad)} (1-63 of a-z, 0-9, '-', not starting or ending with '-')`;
  if (labels.length < 2) return `${q} is a top-level domain; allow a registered domain (e.g. ".example.${labels[0].toLowerCase()}") or a host`;
  // Only cosmetic problems are left, so the repaired entry is valid unless it is an IP address.
  if (t !== entry) return (fix) => `${q} has leading or trailing whitespace${write(fix)}`;
  if (t.includes("..")) return (fix) => `${q} has an empty label ("..")${write(fix)}`;
  if (t.endsWith(".")) return (fix) => `${q} ends with a dot${write(fix)}`;
  if (t !== t.toLowerCase()) return (fix) => `${q} has capitals${write(fix)}`;
  return undefined;
}

/** CIDR notation: an IPv4 or IPv6 address (or a dotted IPv4 prefix) and a prefix length. */
function isIpRange(t: string): boolean {
  const cidr = /^([^/]+)\/\d{1,3}$/.exec(t);
  return cidr !== null && (isIP(cidr[1]) !== 0 || /^[\d.]+$/.test(cidr[1]));
}

/** IPv4 (also with a port or stray dots) or IPv6 (also in brackets, with a port). */
function isIpAddress(t: string): boolean {
  const host = t.replace(/^\[(.*)\](:\d+)?$/, "$1").replace(/^([\d.]+):\d+$/, "$1");
  return isIP(host) !== 0 || /^\.?\d+(\.\d+){3}\.?$/.test(host);
}

/** `entry` with every safe repair: a URL's host, no port, lowercase, `*.` as `.`, no stray dots, punycode. */
function repair(entry: string): string {
  let host = entry.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, "");
  const end = host.search(/[/?#]/);
  if (end !== -1) host = host.slice(0, end);
  // Whatever precedes the last label with a wildcard goes: "*.example.com" and "api.*.example.com" become ".example.com".
  host = host.slice(host.lastIndexOf("@") + 1).replace(/:\d+$/, "").toLowerCase().replace(/^[\s\S]*\*[^.]*/, "");
  // domainToASCII percent-decodes (a different name) and is slow on megabytes no name can be.
  if (/[^\x00-\x7f]/.test(host) && !host.includes("%") && host.length <= MAX_NAME + 1) host = domainToASCII(host);
  return host.replace(/\.{2,}/g, ".").replace(/\.$/, "");
}

/** A valid entry: an optional leading dot, then two or more valid labels. */
const WELL_FORMED = /^\.?(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$/;

