/**
 * IPv4 CIDR arithmetic on plain strings. Pure: no constructs, no tokens.
 */

/** A parsed IPv4 network: first address as an unsigned 32-bit integer, and the prefix length. */
export interface Ipv4Network {
  readonly base: number;
  readonly prefix: number;
}

const CIDR_SHAPE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Parses `a.b.c.d/n`; returns a reason string instead of throwing so validators can report it. */
export function parseCidr(cidr: string): Ipv4Network | string {
  const m = CIDR_SHAPE.exec(cidr);
  if (!m) return `"${cidr}" is not an IPv4 CIDR of the form a.b.c.d/n`;
  const octets = m.slice(1, 5).map(Number);
  if (octets.some((o, i) => o > 255 || (m[i + 1].length > 1 && m[i + 1].startsWith("0")))) {
    return `"${cidr}" has an octet that is not 0-255 (or has a leading zero)`;
  }
  const prefix = Number(m[5]);
  if (prefix > 32) return `"${cidr}" has prefix /${prefix}; it must be 0-32`;
  const addr = ipToInt(octets);
  const base = (addr & prefixMask(prefix)) >>> 0;
  if (base !== addr) {
    return `"${cidr}" has host bits set; the network address is ${intToIp(base)}/${prefix}`;
  }
  return { base, prefix };
}

/** Like {@link parseCidr} but throws; for values already validated. */
export function mustParseCidr(cidr: string): Ipv4Network {
  const parsed = parseCidr(cidr);
  if (typeof parsed === "string") throw new Error(parsed);
  return parsed;
}

export function formatCidr(net: Ipv4Network): string {
  return `${intToIp(net.base)}/${net.prefix}`;
}

/** Number of addresses in the network (2^(32-prefix)). */
export function networkSize(net: Ipv4Network): number {
  return 2 ** (32 - net.prefix);
}

/** True when `inner` lies entirely within `outer`. */
export function cidrContains(outer: string, inner: string): boolean {
  const o = mustParseCidr(outer);
  const i = mustParseCidr(inner);
  return i.prefix >= o.prefix && ((i.base & prefixMask(o.prefix)) >>> 0) === o.base;
}

/** True when the two networks share at least one address. */
export function cidrsOverlap(a: string, b: string): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

/**
 * The `netnum`-th subnet of `cidr` after adding `newbits` to its prefix
 * (the semantics of Terraform's `cidrsubnet`).
 */
export function cidrSubnet(cidr: string, newbits: number, netnum: number): string {
  const net = mustParseCidr(cidr);
  const prefix = net.prefix + newbits;
  if (!Number.isInteger(newbits) || newbits < 0 || prefix > 32) {
    throw new Error(`cannot add ${newbits} bits to ${cidr}: the prefix would be /${prefix}`);
  }
  if (!Number.isInteger(netnum) || netnum < 0 || netnum >= 2 ** newbits) {
    throw new Error(`${cidr} has no subnet number ${netnum} with ${newbits} new bits`);
  }
  return formatCidr({ base: (net.base + netnum * 2 ** (32 - prefix)) >>> 0, prefix });
}

/** The `hostnum`-th address of `cidr` (Terraform's `cidrhost`). */
export function cidrHost(cidr: string, hostnum: number): string {
  const net = mustParseCidr(cidr);
  if (!Number.isInteger(hostnum) || hostnum < 0 || hostnum >= networkSize(net)) throw new Error(`${cidr} has no host number ${hostnum}`);
  return intToIp((net.base + hostnum) >>> 0);
}

/** Whether `ip` (a.b.c.d) lies in `cidr`. */
export function cidrHasIp(cidr: string, ip: string): boolean {
  return typeof parseCidr(`${ip}/32`) !== "string" && cidrContains(cidr, `${ip}/32`);
}

function prefixMask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

function ipToInt(octets: number[]): number {
  return ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
}

function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}
