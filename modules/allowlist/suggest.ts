import { getDomain, parse as parseHost } from "tldts";
import { stringify } from "yaml";
import { parseAccessLine } from "../monitoring/access-log";
import { domainCovers, domainEntryProblem } from "../proxy/domains";

/**
 * Registrable domains (by the Public Suffix List) whose subdomains belong to many tenants: the PSL
 * lists some of their tenant suffixes (`s3.amazonaws.com`) but not the domain itself, so a
 * wildcard on it would open every tenant's endpoint. Hosts under them are proposed one by one.
 */
export const SHARED_PLATFORM_DOMAINS: readonly string[] = ["amazonaws.com", "appspot.com", "azurewebsites.net", "cloudapp.net", "cloudfront.net", "googleapis.com", "googleusercontent.com", "windows.net"];

/** What the access log showed one spoke reaching, and the allow-list entries that cover it. */
export interface SpokeSuggestion {
  /** The spoke, as its log lines name it. */
  readonly spoke: string;
  /** Allow-list entries, sorted: `.example.com` (the registrable domain and its subdomains) or `host.example.com` (that host). */
  readonly allowedDomains: readonly string[];
  /** Requests counted per entry. */
  readonly requests: Readonly<Record<string, number>>;
  /** Hosts seen that no entry may name: IP literals, public suffixes reached as a whole (`github.io`). */
  readonly skipped: readonly string[];
}

/** Already allowed: entries a suggestion leaves out because these cover them. */
export interface KnownLists {
  /** The hub's global list. @default [] */
  readonly global?: readonly string[];
  /** Each spoke's own list. @default {} */
  readonly spokes?: Readonly<Record<string, readonly string[]>>;
}

/**
 * The spoke and destination host of an access-log line (see `parseAccessLine`), found anywhere in
 * the text, so a row of a CloudWatch Logs Insights result works too. Lines that name no spoke
 * (`-`) or no host are not requests to a destination.
 */
export function accessDestination(line: string): { spoke: string; host: string } | undefined {
  const fields = parseAccessLine(line);
  if (!fields || !/^[a-z0-9][a-z0-9-]*$/.test(fields.spoke) || fields.host === "-") return undefined;
  const { spoke, host } = fields;
  // CONNECT targets and some URLs carry a port; IPv6 literals come in brackets.
  const bare = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.replace(/:\d+$/, "");
  return { spoke, host: bare.toLowerCase().replace(/\.$/, "") };
}

/**
 * Per spoke, the allow-list that covers what its log lines reached: each host collapsed to its
 * registrable domain by the Public Suffix List (tldts, private suffixes included, so that
 * `user.github.io` is its own domain), as `.domain` when the spoke reached subdomains of it and
 * `domain` when it reached only the domain itself. Never a public suffix as a whole (`.github.io`,
 * `.co.uk`), nor a shared platform's domain (`SHARED_PLATFORM_DOMAINS`: `.amazonaws.com`): a host
 * that is itself a suffix, or under such a domain, is proposed as that exact host, and IP literals
 * are never proposed. Hosts the known lists already allow are left out before collapsing.
 */
export function suggestAllowLists(lines: Iterable<string>, known: KnownLists = {}): SpokeSuggestion[] {
  const seen = new Map<string, Map<string, number>>();
  for (const line of lines) {
    const parsed = accessDestination(line);
    if (!parsed) continue;
    const hosts = seen.get(parsed.spoke) ?? new Map<string, number>();
    hosts.set(parsed.host, (hosts.get(parsed.host) ?? 0) + 1);
    seen.set(parsed.spoke, hosts);
  }
  return [...seen.keys()].sort().map((spoke) => {
    const skipped: string[] = [];
    const covered = [...(known.global ?? []), ...(known.spokes?.[spoke] ?? [])];
    // Registrable domain -> hosts under it that no known entry allows yet, with their request counts.
    const byDomain = new Map<string, Map<string, number>>();
    for (const [host, count] of seen.get(spoke)!) {
      if (covered.some((c) => domainCovers(c, host))) continue;
      const info = parseHost(host, { allowPrivateDomains: true });
      if (info.isIp || host.startsWith("[") || domainEntryProblem(host) !== undefined) {
        skipped.push(host);
        continue;
      }
      // A host that is itself a public suffix has no registrable domain: only that host may be named.
      const domain = getDomain(host, { allowPrivateDomains: true }) ?? host;
      const hosts = byDomain.get(domain) ?? new Map<string, number>();
      hosts.set(host, count);
      byDomain.set(domain, hosts);
    }
    const requests: Record<string, number> = {};
    const propose = (entry: string, count: number) => {
      requests[entry] = (requests[entry] ?? 0) + count;
    };
    for (const [domain, hosts] of byDomain) {
      if (SHARED_PLATFORM_DOMAINS.includes(domain)) {
        for (const [host, count] of hosts) propose(host, count);
        continue;
      }
      // A suffix reached as a host is alone under its key (hosts below it have domains of their own).
      propose([...hosts.keys()].every((h) => h === domain) ? domain : `.${domain}`, [...hosts.values()].reduce((a, b) => a + b, 0));
    }
    const allowedDomains = Object.keys(requests).sort((a, b) => a.replace(/^\./, "").localeCompare(b.replace(/^\./, "")));
    return { spoke, allowedDomains, requests: Object.fromEntries(allowedDomains.map((e) => [e, requests[e]])), skipped: skipped.sort() };
  });
}

/**
 * The suggestions as YAML to paste under `spokes:`, each new entry with its request count. With
 * `known`, each spoke's list is whole (its own entries first, then the new ones), so that pasting
 * it replaces the spoke's list without losing any; a spoke with nothing new is left out. What
 * was skipped, and the spokes left out, are comments.
 */
export function renderSuggestionYaml(suggestions: readonly SpokeSuggestion[], known?: KnownLists): string {
  const fresh = suggestions.filter((s) => s.allowedDomains.length > 0);
  const notes = [
    ...suggestions.filter((s) => s.skipped.length).map((s) => `# ${s.spoke}: not proposed (IP literals and public suffixes are never allow-list entries): ${s.skipped.join(", ")}`),
    ...suggestions.filter((s) => s.allowedDomains.length === 0).map((s) => `# ${s.spoke}: nothing new: its lists already allow every host it reached`),
  ];
  const head = [`# Suggested by egresslink allowlist suggest from the access log: review before pasting into the config.`, ...notes];
  if (fresh.length === 0) return `${[...head, "# no new entries"].join("\n")}\n`;
  const own = (s: SpokeSuggestion) => [...(known?.spokes?.[s.spoke] ?? [])];
  const body = stringify({ spokes: Object.fromEntries(fresh.map((s) => [s.spoke, { allowedDomains: [...own(s), ...s.allowedDomains] }])) }, { lineWidth: 0 });
  // Each new entry's count as a trailing comment, in the YAML's own line order (a spoke's own entries get none).
  const comments = fresh.flatMap((s) => [...own(s).map(() => "already allowed"), ...s.allowedDomains.map((e) => `${s.requests[e]} request${s.requests[e] === 1 ? "" : "s"}`)]);
  let i = 0;
  const lines = body.split("\n").map((line) => (/^ {6}- /.test(line) ? `${line}  # ${comments[i++]}` : line));
  return [...head, ...lines].join("\n");
}
