import { insideAddresses, type SitePlan } from "./planner";

/** One of the VPN connection's two tunnels, as the router sees it. Values may be Terraform references. */
export interface TunnelParams {
  /** AWS's public endpoint of the tunnel (`tunnelN_address`). */
  readonly outsideAddress: string;
  /**
   * The tunnel's pre-shared key (`tunnelN_preshared_key`; sensitive). Only VyOS takes it in its
   * configuration; Linux routers read `presharedKeyParameter` at boot instead.
   */
  readonly presharedKey: string;
  /** The SSM SecureString parameter holding the key. */
  readonly presharedKeyParameter: string;
  /** The tunnel's inside /30, pinned by the planner. */
  readonly insideCidr: string;
}

/** Everything a router's configuration is made from. */
export interface RouterParams {
  readonly site: string;
  /** The router's ASN and the Transit Gateway's. */
  readonly asn: number;
  readonly transitGatewayAsn: number;
  /** The site's real prefix, and its translated prefix when it has one. */
  readonly realCidr: string;
  readonly translatedCidr?: string;
  /** The one prefix the router advertises. */
  readonly advertised: string;
  /** Prefixes the router accepts: the other sites' advertised prefixes. */
  readonly remotePrefixes: readonly string[];
  /** The router's private address (IKE local address) and public address (its EIP; IKE identity). */
  readonly localAddress: string;
  readonly publicIp: string;
  /** IKE and ESP proposals, the tunnels' MTU and the TCP MSS clamped to it. */
  readonly ipsec: IpsecProfile;
  readonly tunnels: readonly [TunnelParams, TunnelParams];
}

/** Names of the tunnel interfaces, shared by every renderer and the NAT rules. */
export const TUNNEL_INTERFACES = ["vti1", "vti2"] as const;

/** Per tunnel: interface name, the AWS side and our side of the inside /30. */
export function tunnelEnds(params: RouterParams): { readonly ifname: string; readonly vgw: string; readonly cgw: string; readonly prefixLength: number; readonly tunnel: TunnelParams }[] {
  return params.tunnels.map((tunnel, i) => ({ ifname: TUNNEL_INTERFACES[i], ...insideAddresses(tunnel.insideCidr), tunnel }));
}

/** One set of IKE/ESP proposals, as the VPN connection, strongSwan and VyOS each spell it. */
export interface IpsecProfile {
  readonly ikeVersion: "ikev2";
  /** `aws_vpn_connection` tunnel options (both phases use the same algorithms). */
  readonly aws: { readonly encryption: string; readonly integrity: string; readonly dhGroup: number };
  /** swanctl.conf `proposals` and `esp_proposals`. */
  readonly strongswan: { readonly ike: string; readonly esp: string };
  /** VyOS ike-group / esp-group values. */
  readonly vyos: { readonly encryption: string; readonly hash: string; readonly dhGroup: number };
  readonly ikeLifetimeSeconds: number;
  readonly espLifetimeSeconds: number;
  /**
   * Tunnel interface MTU and TCP MSS: AWS's figures for these algorithms with NAT-T (an EC2
   * router is behind 1:1 NAT), from "Best practices for your customer gateway device".
   */
  readonly tunnelMtu: number;
  readonly tcpMss: number;
}

/** What both profiles share: IKEv2 and AWS's default (and longest) lifetimes. */
const AWS_TUNNEL_DEFAULTS = { ikeVersion: "ikev2", ikeLifetimeSeconds: 28800, espLifetimeSeconds: 3600 } as const;

/**
 * The proposal sets a site's VPN may use. `modern` (the default): AES-256-GCM, SHA2-384, DH 20
 * (ECP-384), among the strongest AWS offers; `compatible`: AES-128-CBC, SHA-1, DH 14, what
 * egresslink used before and what older devices speak.
 */
export const IPSEC_PROFILES: Readonly<Record<"modern" | "compatible", IpsecProfile>> = {
  modern: {
    ...AWS_TUNNEL_DEFAULTS,
    aws: { encryption: "AES256-GCM-16", integrity: "SHA2-384", dhGroup: 20 },
    strongswan: { ike: "aes256gcm16-prfsha384-ecp384", esp: "aes256gcm16-ecp384" },
    vyos: { encryption: "aes256gcm128", hash: "sha384", dhGroup: 20 },
    tunnelMtu: 1438,
    tcpMss: 1398,
  },
  compatible: {
    ...AWS_TUNNEL_DEFAULTS,
    aws: { encryption: "AES128", integrity: "SHA1", dhGroup: 14 },
    strongswan: { ike: "aes128-sha1-modp2048", esp: "aes128-sha1-modp2048" },
    vyos: { encryption: "aes128", hash: "sha1", dhGroup: 14 },
    tunnelMtu: 1422,
    tcpMss: 1382,
  },
};

/** What only exists once deployed: the router's addresses and each tunnel's endpoint, key and key parameter. */
export interface RouterEndpoints {
  readonly localAddress: string;
  readonly publicIp: string;
  readonly tunnels: readonly [TunnelEndpoint, TunnelEndpoint];
}

/** A tunnel's deployed values. */
export interface TunnelEndpoint {
  readonly outsideAddress: string;
  readonly presharedKey: string;
  readonly presharedKeyParameter: string;
}

/** A router's parameters: the planner's decisions for the site plus the deployed endpoints. */
export function routerParams(plan: SitePlan, transitGatewayAsn: number, ipsec: IpsecProfile, endpoints: RouterEndpoints): RouterParams {
  return {
    site: plan.name,
    asn: plan.asn,
    transitGatewayAsn,
    realCidr: plan.realCidr,
    translatedCidr: plan.translatedCidr,
    advertised: plan.advertised,
    remotePrefixes: plan.routes,
    localAddress: endpoints.localAddress,
    publicIp: endpoints.publicIp,
    ipsec,
    tunnels: [
      { ...endpoints.tunnels[0], insideCidr: plan.tunnelInsideCidrs[0] },
      { ...endpoints.tunnels[1], insideCidr: plan.tunnelInsideCidrs[1] },
    ],
  };
}
