import { cidrsOverlap, cidrSubnet, formatCidr, mustParseCidr, parseCidr } from "../network/cidr";

/**
 * The interconnect planner: which sites' real prefixes collide, which translated prefix each such
 * site presents (1:1, same length, from 100.64.0.0/10 - shared address space, never public), what
 * each router advertises and what each VPC routes to its router, plus BGP ASNs and tunnel inside
 * CIDRs. Pure, deterministic and stable: an allocation starts from a slot derived from the site's
 * own name and probes forward, so adding a site leaves the others where they were unless the new
 * one lands exactly on their slot. `translatedCidr` / `asn` in the config pin a value for good.
 */

/** Where translated prefixes come from. */
export const TRANSLATION_POOL = "100.64.0.0/10";
/** Private 16-bit ASNs (RFC 6996). */
export const PRIVATE_ASN_MIN = 64512;
export const PRIVATE_ASN_MAX = 65534;
/** Tunnel inside CIDRs are /30s in 169.254.0.0/16; AWS reserves these. */
export const INSIDE_POOL = "169.254.0.0/16";
const RESERVED_INSIDE = ["169.254.0.0/30", "169.254.1.0/30", "169.254.2.0/30", "169.254.3.0/30", "169.254.4.0/30", "169.254.5.0/30", "169.254.169.252/30"];
const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", TRANSLATION_POOL];

/** One site as the planner takes it: its real prefix, and any translation or ASN pinned in config. */
export interface SiteInput {
  /** The site's name: planning is deterministic in it, so the same config always gets the same plan. */
  readonly name: string;
  /** The site's real prefix (its VPC's CIDR). */
  readonly cidr: string;
  /** Pinned translated prefix. @default - allocated when the real prefix collides */
  readonly translatedCidr?: string;
  /** Pinned BGP ASN. @default - allocated from the private range */
  readonly asn?: number;
}

/** Everything `planInterconnect` plans from. */
export interface PlanInput {
  /** The Transit Gateway's ASN (its side of every BGP session). */
  readonly transitGatewayAsn: number;
  /** The sites to join; names unique. */
  readonly sites: readonly SiteInput[];
}

/** What the planner decided for one site. */
export interface SitePlan {
  /** The site's name. */
  readonly name: string;
  /** The site's real prefix: never advertised when it collides with another site's. */
  readonly realCidr: string;
  /**
   * The prefix the site's hosts are known by elsewhere (1:1 NAT, same size as the real one).
   * @default - none: the real prefix is unique and advertised as it is
   */
  readonly translatedCidr?: string;
  /** The one prefix the router advertises: the translated prefix, or the real one when unique. */
  readonly advertised: string;
  /** The router's BGP ASN. */
  readonly asn: number;
  /** Other sites' advertised prefixes: routed to this site's router. */
  readonly routes: readonly string[];
  /** The VPN connection's two tunnel inside CIDRs (/30). */
  readonly tunnelInsideCidrs: readonly [string, string];
  /** Sites whose real prefix collides with this one. */
  readonly overlapsWith: readonly string[];
}

/** A plan that cannot be made, with the site it concerns. */
export class PlanError extends Error {
  constructor(
    readonly site: string,
    readonly field: string,
    message: string,
  ) {
    super(`interconnect site ${site}: ${message}`);
    this.name = "PlanError";
  }
}

/** Plans every site; throws {@link PlanError} naming the site and field when it cannot. */
export function planInterconnect(input: PlanInput): SitePlan[] {
  const sites = [...input.sites].sort((a, b) => a.name.localeCompare(b.name));
  for (const site of sites) checkSite(site, input);

  const overlaps = new Map(sites.map((s) => [s.name, sites.filter((o) => o.name !== s.name && cidrsOverlap(o.cidr, s.cidr)).map((o) => o.name)]));
  checkPinnedTranslations(sites);

  // Every prefix anyone uses is off limits to the allocator.
  const taken: string[] = [...sites.map((s) => s.cidr), ...sites.flatMap((s) => (s.translatedCidr ? [s.translatedCidr] : []))];
  const translated = new Map<string, string>();
  for (const site of sites) {
    if (site.translatedCidr) translated.set(site.name, site.translatedCidr);
    else if (overlaps.get(site.name)!.length > 0) {
      const allocated = allocatePrefix(site, taken);
      taken.push(allocated);
      translated.set(site.name, allocated);
    }
  }

  const asns = allocateAsns(sites, input.transitGatewayAsn);
  const inside = allocateInsideCidrs(sites);
  const advertised = new Map(sites.map((s) => [s.name, translated.get(s.name) ?? s.cidr]));
  return sites.map((site) => ({
    name: site.name,
    realCidr: site.cidr,
    translatedCidr: translated.get(site.name),
    advertised: advertised.get(site.name)!,
    asn: asns.get(site.name)!,
    routes: sites.filter((o) => o.name !== site.name).map((o) => advertised.get(o.name)!),
    tunnelInsideCidrs: inside.get(site.name)!,
    overlapsWith: overlaps.get(site.name)!,
  }));
}

function checkSite(site: SiteInput, input: PlanInput): void {
  const real = parseCidr(site.cidr);
  if (typeof real === "string") throw new PlanError(site.name, "cidr", real);
  if (site.asn !== undefined && site.asn === input.transitGatewayAsn) {
    throw new PlanError(site.name, "asn", `ASN ${site.asn} is the Transit Gateway's; a site needs its own`);
  }
  if (site.translatedCidr === undefined) return;
  const translated = parseCidr(site.translatedCidr);
  if (typeof translated === "string") throw new PlanError(site.name, "translatedCidr", translated);
  if (translated.prefix !== real.prefix) {
    throw new PlanError(site.name, "translatedCidr", `${site.translatedCidr} must be a /${real.prefix} like the real prefix ${site.cidr} (1:1 translation)`);
  }
  if (!PRIVATE_RANGES.some((range) => cidrsOverlap(range, site.translatedCidr!) && mustParseCidr(range).prefix <= translated.prefix)) {
    throw new PlanError(site.name, "translatedCidr", `${site.translatedCidr} is public address space; use ${TRANSLATION_POOL} (or RFC 1918 space no site uses)`);
  }
}

function checkPinnedTranslations(sites: readonly SiteInput[]): void {
  for (const site of sites) {
    if (!site.translatedCidr) continue;
    for (const other of sites) {
      if (cidrsOverlap(site.translatedCidr, other.cidr)) {
        throw new PlanError(site.name, "translatedCidr", `${site.translatedCidr} overlaps the real prefix ${other.cidr} of site ${other.name}`);
      }
      if (other.name !== site.name && other.translatedCidr && cidrsOverlap(site.translatedCidr, other.translatedCidr)) {
        throw new PlanError(site.name, "translatedCidr", `${site.translatedCidr} overlaps the translated prefix ${other.translatedCidr} of site ${other.name}`);
      }
    }
  }
}

function allocatePrefix(site: SiteInput, taken: readonly string[]): string {
  const { prefix } = mustParseCidr(site.cidr);
  const pool = mustParseCidr(TRANSLATION_POOL);
  if (prefix < pool.prefix) throw new PlanError(site.name, "cidr", `a /${prefix} cannot be translated 1:1 into ${TRANSLATION_POOL}; split the site or pin translatedCidr in RFC 1918 space`);
  const slots = 2 ** (prefix - pool.prefix);
  const start = hash(site.name) % slots;
  for (let i = 0; i < slots; i++) {
    const candidate = cidrSubnet(TRANSLATION_POOL, prefix - pool.prefix, (start + i) % slots);
    if (!taken.some((t) => cidrsOverlap(t, candidate))) return candidate;
  }
  throw new PlanError(site.name, "cidr", `no free /${prefix} is left in ${TRANSLATION_POOL}`);
}

function allocateAsns(sites: readonly SiteInput[], tgwAsn: number): Map<string, number> {
  const result = new Map<string, number>();
  const used = new Set<number>([tgwAsn, ...sites.flatMap((s) => (s.asn !== undefined ? [s.asn] : []))]);
  for (const site of sites) {
    if (site.asn !== undefined) {
      const clash = sites.find((o) => o.name !== site.name && o.asn === site.asn);
      if (clash) throw new PlanError(site.name, "asn", `ASN ${site.asn} is also site ${clash.name}'s`);
      result.set(site.name, site.asn);
    }
  }
  const size = PRIVATE_ASN_MAX - PRIVATE_ASN_MIN + 1;
  for (const site of sites) {
    if (result.has(site.name)) continue;
    const start = hash(`asn:${site.name}`) % size;
    let asn: number | undefined;
    for (let i = 0; i < size && asn === undefined; i++) {
      const candidate = PRIVATE_ASN_MIN + ((start + i) % size);
      if (!used.has(candidate)) asn = candidate;
    }
    if (asn === undefined) throw new PlanError(site.name, "asn", "no private ASN is left");
    used.add(asn);
    result.set(site.name, asn);
  }
  return result;
}

function allocateInsideCidrs(sites: readonly SiteInput[]): Map<string, [string, string]> {
  const slots = 2 ** (30 - 16);
  const used: string[] = [...RESERVED_INSIDE];
  const result = new Map<string, [string, string]>();
  for (const site of sites) {
    const pick = (tunnel: number): string => {
      const start = hash(`inside:${site.name}:${tunnel}`) % slots;
      for (let i = 0; i < slots; i++) {
        const candidate = cidrSubnet(INSIDE_POOL, 14, (start + i) % slots);
        if (!used.includes(candidate)) {
          used.push(candidate);
          return candidate;
        }
      }
      throw new PlanError(site.name, "tunnels", "no tunnel inside CIDR is left in 169.254.0.0/16");
    };
    result.set(site.name, [pick(1), pick(2)]);
  }
  return result;
}

/** The addresses of a tunnel inside /30: AWS's side (first host) and the customer gateway's (second). */
export function insideAddresses(insideCidr: string): { readonly vgw: string; readonly cgw: string; readonly prefixLength: number } {
  const net = mustParseCidr(insideCidr);
  const host = (n: number) => formatCidr({ base: (net.base + n) >>> 0, prefix: 32 }).split("/")[0];
  return { vgw: host(1), cgw: host(2), prefixLength: net.prefix };
}

/** FNV-1a, 32 bits: a stable, well-spread slot from a name. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
