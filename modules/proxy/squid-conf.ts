import type { HubConfig } from "../config/model";
import { cidrContains, parseCidr } from "../network/cidr";
import { ACCESS_LOG_FORMAT } from "../monitoring/access-log";
import { domainListProblems } from "./domains";
import { portBlocks } from "./port-blocks";

/** A spoke as the proxy sees it: a name, its own listening port and what it may reach. */
export interface ProxyListener {
  /** Spoke name; names the port, its ACLs and its log lines. */
  readonly name: string;
  /** The spoke's own port. */
  readonly port: number;
  /** Domains this spoke may reach in addition to the global list. @default [] */
  readonly allowedDomains?: readonly string[];
  /**
   * Learning until this day (YYYY-MM-DD): the spoke may reach every public destination, each logged,
   * to learn its allow-list from (see `egresslink allowlist suggest`). Private, shared, loopback
   * and link-local destinations (the metadata service), the hub's network, non-web ports and
   * methods stay refused. The config refuses a date in the past; this renderer only writes it down.
   * @default - enforcing: the global list and its own only
   */
  readonly learnUntil?: string;
}

/** Everything `renderSquidConf` renders a policy from. */
export interface SquidConfInput {
  /** One `http_port` per spoke; the port name is how Squid tells spokes apart. */
  readonly listeners: readonly ProxyListener[];
  /** Addresses allowed to use the proxy: the resource gateway's (and NLB's) subnets; they source-NAT every spoke. */
  readonly clientCidrs: readonly string[];
  /** Domains every spoke may reach (`host.example.com` exact, `.example.com` with subdomains). @default [] */
  readonly allowedDomains?: readonly string[];
  /** Ports CONNECT (HTTPS) may reach. @default [443] */
  readonly connectPorts?: readonly number[];
  /** The hub VPC's CIDR, denied as a destination besides the private, shared, loopback and link-local ranges. @default - only those ranges */
  readonly hubCidr?: string;
  /** Where the access log goes. @default "daemon:/var/log/squid/access.log" */
  readonly accessLog?: string;
  /** The program Squid writes a `daemon:` access log through (`logfile_daemon`). @default "/usr/local/libexec/egresslink-log-daemon" */
  readonly logDaemon?: string;
}

/**
 * IPv4 destinations no spoke may reach, even through an allowed name that resolves there:
 * this-network, private, shared, loopback and link-local ranges (the hub and the instance
 * metadata service). Squid keeps IPv4 addresses as IPv4-mapped IPv6 (`::ffff:a.b.c.d`), so
 * these entries also refuse mapped AAAA answers; listing `::ffff:0:0/96` itself would read as
 * 0.0.0.0/0 and deny every destination.
 */
const DENIED_IPV4: readonly string[] = ["0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16"];

/**
 * IPv6 destinations no spoke may reach: unique-local and link-local (the metadata service's
 * fd00:ec2::254), and every prefix that carries an IPv4 address a host or gateway may
 * translate to: `::/96` (`::`, `::1` and IPv4-compatible), NAT64 (well-known and local-use),
 * Teredo and 6to4.
 */
const DENIED_IPV6: readonly string[] = ["::/96", "64:ff9b::/96", "64:ff9b:1::/48", "2001::/32", "2002::/16", "fc00::/7", "fe80::/10"];

/** Destinations denied on every hub; `deniedDestinations` adds the hub's own VPC. */
export const DENIED_DESTINATIONS: readonly string[] = [...DENIED_IPV4, ...DENIED_IPV6];

/**
 * The destinations a hub denies: `DENIED_DESTINATIONS` plus the hub VPC's CIDR unless a range
 * already covers it (a hub on 100.64.0.0/10 or 10/8 is covered; one on 198.18.0.0/15 or public
 * space is not). No entry lies inside another: Squid warns about those and drops one.
 */
export function deniedDestinations(hubCidr: string): string[] {
  return DENIED_IPV4.some((range) => cidrContains(range, hubCidr)) ? [...DENIED_DESTINATIONS] : [...DENIED_IPV4, hubCidr, ...DENIED_IPV6];
}

/** Where the proxy's access log goes on the instance (the log shipper reads the file). */
export const DEFAULT_ACCESS_LOG = "daemon:/var/log/squid/access.log";

/**
 * egresslink's logfile daemon (installed by the user data, see `renderLogDaemon`): writes the
 * access log as Squid's own daemon does, and names the spoke (by its port) on the lines of
 * requests Squid rejected while parsing, which no ACL or `note` ever sees.
 */
export const DEFAULT_LOG_DAEMON = "/usr/local/libexec/egresslink-log-daemon";


/** Squid's default `url_rewrite_extras` and `store_id_extras` without the client's DNS name (%>A). */
const HELPER_EXTRAS = "%>a %un %>rm myip=%la myport=%lp";

/**
 * The line of the base config (`renderSquidBase`) that the port blocks' fragments
 * (`renderSquidPortBlock`) replace, in block order: after the global rules, before `deny all`.
 */
export const PORT_BLOCKS_MARKER = "# egresslink: port blocks";

/**
 * Renders squid.conf: deny by default, each spoke limited to the global allow-list plus its own,
 * no private or link-local destinations, CONNECT only to the allowed ports, plain HTTP URLs
 * only. Every check that needs no DNS comes first, so Squid resolves only names a spoke may
 * reach (a name outside the lists never reaches the hub's resolver). ACL names are our
 * own (`egress_*`, `spoke_*`) rather than version-specific built-ins, so one file parses on
 * Squid 5.7 and 6.x; Via is stripped by header rules because `via off` makes Squid log a WARNING.
 * The file is the base config with one fragment per port block (see `portBlocks`) in place of
 * its marker: what the proxies assemble from the hub's objects.
 */
export function renderSquidConf(input: SquidConfInput): string {
  validateListeners(input.listeners);
  const base = renderSquidBase(input);
  return assembleSquidConf(base, portBlocks(input.listeners).map((block) => renderSquidPortBlock(block.members, input.allowedDomains)));
}

/** The global part of squid.conf: every rule that names no spoke, with `PORT_BLOCKS_MARKER` where the spokes' rules go. */
export function renderSquidBase(input: Omit<SquidConfInput, "listeners">): string {
  validate(input);
  const global = input.allowedDomains ?? [];
  const connectPorts = [...new Set(input.connectPorts ?? [443])].sort((a, b) => a - b);
  const webPorts = [...new Set([80, ...connectPorts])].sort((a, b) => a - b);
  const denied = input.hubCidr === undefined ? DENIED_DESTINATIONS : deniedDestinations(input.hubCidr);

  return [
    "# Generated by egresslink from the hub config. Edits on the instance are replaced by the sync timer.",
    "visible_hostname egresslink-proxy",
    "",
    "# The load balancers' health check: Squid is up. A spoke port Squid could not bind is that spoke's",
    "# failure (reported by the port check), not the instance's. Every request on it is denied.",
    `http_port ${PROXY_HEALTH_PORT} name=${HEALTH_PORT_NAME}`,
    "",
    `acl egress_clients src ${input.clientCidrs.join(" ")}`,
    "acl egress_connect method CONNECT",
    "acl egress_http proto HTTP",
    `acl egress_connect_ports port ${connectPorts.join(" ")}`,
    `acl egress_web_ports port ${webPorts.join(" ")}`,
    // Squid's own URLs (the cache manager's /squid-internal-mgr/, its icons): refused on every host name, the proxy's own included.
    "acl egress_squid_internal urlpath_regex ^/squid-internal-",
    // DNS cannot carry a label over 63 or a name over 253 characters: Squid would send a mangled query and wait ~40 s.
    "acl egress_overlong_name dstdom_regex -n [^.]{64} .{254}",
    `acl egress_denied_dst dst ${denied.join(" ")}`,
    // -n: never reverse-resolve an IP-literal URL; a PTR record in an allowed domain must not open that IP.
    ...(global.length > 0 ? [`acl egress_allowed_everywhere dstdomain -n ${global.join(" ")}`] : []),
    "",
    "http_access deny !egress_clients",
    "http_access deny !egress_web_ports",
    "http_access deny egress_connect !egress_connect_ports",
    // Plain HTTP URLs and CONNECT only: no cache_object:// (the cache manager), ftp://, gopher://, whois://, urn: or https:// GET.
    "http_access deny !egress_http !egress_connect",
    "http_access deny egress_squid_internal",
    "http_access deny egress_overlong_name",
    // The name is checked first (no DNS), so a name outside the lists is never resolved; an
    // allowed name is then resolved, and refused if any of its addresses is denied.
    ...(global.length > 0 ? ["http_access allow egress_allowed_everywhere !egress_denied_dst"] : []),
    "",
    PORT_BLOCKS_MARKER,
    "http_access deny all",
    "",
    "cache deny all",
    "request_header_access Via deny all",
    "reply_header_access Via deny all",
    "forwarded_for delete",
    "httpd_suppress_version_string on",
    // Squid's defaults for these (unused) helpers hold %>A, which makes it reverse-resolve every client.
    `url_rewrite_extras "${HELPER_EXTRAS}"`,
    `store_id_extras "${HELPER_EXTRAS}"`,
    `logformat egress ${ACCESS_LOG_FORMAT}`,
    // Lines without a request (parse errors, connections closed before one) carry no note: the
    // daemon names their spoke from local_port, so every line names one.
    `logfile_daemon ${input.logDaemon ?? DEFAULT_LOG_DAEMON}`,
    `access_log ${input.accessLog ?? DEFAULT_ACCESS_LOG} egress`,
    "",
  ].join("\n");
}

/**
 * One port block's part of squid.conf: per spoke (by name) its port, its ACLs, the rule allowing
 * its own domains and the note naming it in the log. It goes after the global rules (which it
 * uses) and before `deny all`. `globalDomains` is the hub's list, which a spoke's may not repeat.
 */
export function renderSquidPortBlock(listeners: readonly ProxyListener[], globalDomains: readonly string[] = []): string {
  if (listeners.length === 0) throw new Error("renderSquidPortBlock: a port block has at least one spoke");
  validateListeners(listeners, globalDomains);
  const sorted = [...listeners].sort((a, b) => a.name.localeCompare(b.name));
  const own = (l: ProxyListener) => l.allowedDomains ?? [];
  const ports = sorted.map((l) => l.port);
  return [
    `# Spokes on ports ${Math.min(...ports)}-${Math.max(...ports)}. One port per spoke: PrivateLink hides client addresses, so the port is the spoke's identity.`,
    ...sorted.map((l) => `http_port ${l.port} name=${l.name}`),
    ...sorted.flatMap((l) => [`acl spoke_${l.name} myportname ${l.name}`, ...(own(l).length > 0 ? [`acl allowed_${l.name} dstdomain -n ${own(l).join(" ")}`] : [])]),
    ...sorted.filter((l) => own(l).length > 0).map((l) => `http_access allow spoke_${l.name} allowed_${l.name} !egress_denied_dst`),
    // Learning: any name (resolved) or address, unless one of its addresses is denied. After the lists, so they still match first.
    // The proxies' sync script drops the marker line and the rule after it once the date has passed.
    ...sorted.filter((l) => l.learnUntil !== undefined).flatMap((l) => [`${LEARN_MARKER} ${l.learnUntil} (${l.name}: every public destination, logged)`, `http_access allow spoke_${l.name} !egress_denied_dst`]),
    // Names the spoke in the log line of every request Squid could parse (the log daemon names the others' by local_port).
    ...sorted.map((l) => `note spoke ${l.name} spoke_${l.name}`),
    "",
  ].join("\n");
}

/**
 * The comment before a learning spoke's rule, then its last day (YYYY-MM-DD): the proxies drop the
 * comment and the rule after it from the day after (see `renderSyncScript`).
 */
export const LEARN_MARKER = "# egresslink: learn until";

/** squid.conf from its base and the port blocks' fragments in block order; the proxies' sync script assembles it the same way. */
export function assembleSquidConf(base: string, fragments: readonly string[]): string {
  const marker = `${PORT_BLOCKS_MARKER}\n`;
  const at = base.indexOf(marker);
  if (at < 0 || base.indexOf(marker, at + 1) >= 0) throw new Error(`assembleSquidConf: the base config must hold the line "${PORT_BLOCKS_MARKER}" once`);
  return `${base.slice(0, at)}${fragments.join("")}${base.slice(at + marker.length)}`;
}

/** Squid's health-check port: the NLB target groups check it instead of each spoke's port. Refused as a spoke port. */
export const PROXY_HEALTH_PORT = 32767;
/** The health-check port's name in squid.conf (the log daemon drops that port's lines). */
export const HEALTH_PORT_NAME = "egresslink-health";

function validate(input: Omit<SquidConfInput, "listeners">): void {
  if (input.clientCidrs.length === 0) throw new Error("renderSquidConf: 'clientCidrs' must not be empty (the proxy would be open to any client)");
  if (input.hubCidr !== undefined) {
    const hub = parseCidr(input.hubCidr);
    if (typeof hub === "string") throw new Error(`renderSquidConf: hubCidr: ${hub}`);
  }
  const problem = domainListProblems(input.allowedDomains ?? [])[0];
  if (problem) throw new Error(`renderSquidConf: allowedDomains[${problem.index}]: ${problem.message}`);
  for (const port of input.connectPorts ?? []) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`renderSquidConf: connect port ${port} is not 1-65535`);
  }
}

/** Names, ports (unique, not the health port) and each spoke's own domains against the global list. */
function validateListeners(listeners: readonly ProxyListener[], globalDomains?: readonly string[]): void {
  const ports = new Map<number, string>();
  for (const l of listeners) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(l.name)) throw new Error(`renderSquidConf: listener name "${l.name}" must be a-z, 0-9 and '-'`);
    if (ports.has(l.port)) throw new Error(`renderSquidConf: listeners "${ports.get(l.port)}" and "${l.name}" share port ${l.port}`);
    if (l.port === PROXY_HEALTH_PORT) throw new Error(`renderSquidConf: listener "${l.name}" uses port ${PROXY_HEALTH_PORT}, the proxy's health-check port`);
    ports.set(l.port, l.name);
    if (l.learnUntil !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(l.learnUntil)) throw new Error(`renderSquidConf: listener "${l.name}" learnUntil "${l.learnUntil}" is not a date like 2026-12-31`);
    if (globalDomains === undefined) continue;
    const problem = domainListProblems(l.allowedDomains ?? [], globalDomains)[0];
    if (problem) throw new Error(`renderSquidConf: listener "${l.name}" allowedDomains[${problem.index}]: ${problem.message}`);
  }
}

/** The hub's squid.conf inputs: clients are the gateway subnets (the resource gateway's and NLBs' ENIs), nothing else. */
function hubInput(hub: Pick<HubConfig, "cidr" | "gatewaySubnets" | "proxy">): Omit<SquidConfInput, "listeners"> {
  return {
    hubCidr: hub.cidr,
    // The resource gateway source-NATs every spoke into the gateway subnets (the NLBs live there too).
    clientCidrs: hub.gatewaySubnets,
    allowedDomains: hub.proxy.allowedDomains,
    connectPorts: hub.proxy.connectPorts,
  };
}

/** The hub's whole squid.conf: base and every port block's fragment, as the proxies assemble it. */
export function hubSquidConf(hub: Pick<HubConfig, "cidr" | "gatewaySubnets" | "proxy">, spokes: readonly ProxyListener[]): string {
  return renderSquidConf({ ...hubInput(hub), listeners: spokes });
}

/** The hub's base squid.conf (the hub core's object). */
export function hubSquidBase(hub: Pick<HubConfig, "cidr" | "gatewaySubnets" | "proxy">): string {
  return renderSquidBase(hubInput(hub));
}

/** One port block's fragment of the hub's squid.conf (the block's object). */
export function hubSquidPortBlock(hub: Pick<HubConfig, "proxy">, members: readonly ProxyListener[]): string {
  return renderSquidPortBlock(members, hub.proxy.allowedDomains);
}
