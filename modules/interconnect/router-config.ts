import { insideAddresses, type SitePlan } from "./planner";

/** One of the VPN connection's two tunnels, as the router sees it. Values may be Terraform references. */
export interface TunnelParams {
  /** AWS's public endpoint of the tunnel (`tunnelN_address`). */
  readonly outsideAddress: string;
  /** The tunnel's pre-shared key (`tunnelN_preshared_key`; sensitive). */
  readonly presharedKey: string;
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
  readonly tunnels: readonly [TunnelParams, TunnelParams];
}

/** Names of the tunnel interfaces, shared by every renderer and the NAT rules. */
export const TUNNEL_INTERFACES = ["vti1", "vti2"] as const;

/** Per tunnel: interface name, the AWS side and our side of the inside /30. */
export function tunnelEnds(params: RouterParams): { readonly ifname: string; readonly vgw: string; readonly cgw: string; readonly prefixLength: number; readonly tunnel: TunnelParams }[] {
  return params.tunnels.map((tunnel, i) => ({ ifname: TUNNEL_INTERFACES[i], ...insideAddresses(tunnel.insideCidr), tunnel }));
}

/** IKE/ESP proposals shared by the VPN connection and both router kinds (AWS supports these). */
export const IPSEC = {
  ikeVersion: "ikev2",
  encryption: "AES128",
  integrity: "SHA1",
  dhGroup: 14,
  ikeLifetimeSeconds: 28800,
  espLifetimeSeconds: 3600,
} as const;

/** What only exists once deployed: the router's addresses and each tunnel's endpoint and key. */
export interface RouterEndpoints {
  readonly localAddress: string;
  readonly publicIp: string;
  readonly tunnels: readonly [{ readonly outsideAddress: string; readonly presharedKey: string }, { readonly outsideAddress: string; readonly presharedKey: string }];
}

/** A router's parameters: the planner's decisions for the site plus the deployed endpoints. */
export function routerParams(plan: SitePlan, transitGatewayAsn: number, endpoints: RouterEndpoints): RouterParams {
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
    tunnels: [
      { ...endpoints.tunnels[0], insideCidr: plan.tunnelInsideCidrs[0] },
      { ...endpoints.tunnels[1], insideCidr: plan.tunnelInsideCidrs[1] },
    ],
  };
}
