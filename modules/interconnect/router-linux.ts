import { stringify } from "yaml";
import { checkUserDataSize } from "../core/instance";
import { renderAttachEniScript } from "../proxy/user-data";
import { IPSEC, tunnelEnds, TUNNEL_INTERFACES, type RouterParams } from "./router-config";

/** The Linux router's configuration files (Amazon Linux 2023: strongSwan, FRR, nftables). */
export interface LinuxRouterFiles {
  /** /etc/swanctl/conf.d/egresslink.conf: two route-based tunnels on XFRM interfaces (if_id 1, 2). */
  readonly swanctl: string;
  /** /etc/frr/frr.conf: bgpd with both tunnel neighbours, advertising only the advertised prefix. */
  readonly frr: string;
  /** /etc/nftables/egresslink.nft: 1:1 prefix NAT on the tunnel interfaces and a forwarding filter. */
  readonly nftables: string;
  /** /etc/sysctl.d/90-egresslink.conf. */
  readonly sysctl: string;
}

export const ROUTER_ENI_TAG = "egresslink:router-eni";

/** Renders the Linux router's files. Pure; values may be Terraform references. */
export function renderLinuxRouter(params: RouterParams): LinuxRouterFiles {
  return { swanctl: renderSwanctl(params), frr: renderFrr(params), nftables: renderNftables(params), sysctl: renderSysctl() };
}

function renderSwanctl(params: RouterParams): string {
  const proposal = `${IPSEC.encryption.toLowerCase()}-${IPSEC.integrity.toLowerCase()}-modp2048`;
  const ends = tunnelEnds(params);
  const connections = ends.map(
    (end, i) => `  tunnel${i + 1} {
    version = 2
    local_addrs = ${params.localAddress}
    remote_addrs = ${end.tunnel.outsideAddress}
    proposals = ${proposal}
    rekey_time = ${IPSEC.ikeLifetimeSeconds}s
    dpd_delay = 10s
    local {
      auth = psk
      id = ${params.publicIp}
    }
    remote {
      auth = psk
      id = ${end.tunnel.outsideAddress}
    }
    children {
      tunnel${i + 1} {
        local_ts = 0.0.0.0/0
        remote_ts = 0.0.0.0/0
        if_id_in = ${i + 1}
        if_id_out = ${i + 1}
        esp_proposals = ${proposal}
        rekey_time = ${IPSEC.espLifetimeSeconds}s
        dpd_action = restart
        start_action = start
        close_action = start
      }
    }
  }`,
  );
  const secrets = ends.map(
    (end, i) => `  ike-tunnel${i + 1} {
    id-1 = ${end.tunnel.outsideAddress}
    secret = "${end.tunnel.presharedKey}"
  }`,
  );
  return `# egresslink ${params.site}: route-based VPN to the Transit Gateway (XFRM interfaces ${TUNNEL_INTERFACES.join(", ")}).
connections {
${connections.join("\n")}
}

secrets {
${secrets.join("\n")}
}
`;
}

function renderFrr(params: RouterParams): string {
  const ends = tunnelEnds(params);
  return [
    "frr defaults traditional",
    `hostname egresslink-${params.site}`,
    "log syslog informational",
    "!",
    // A route so the advertised prefix exists; distance 250 lets any real route (the VPC's own CIDR) win.
    `ip route ${params.advertised} Null0 250`,
    "!",
    `ip prefix-list egresslink-advertise seq 5 permit ${params.advertised}`,
    ...params.remotePrefixes.map((p, i) => `ip prefix-list egresslink-remote seq ${(i + 1) * 5} permit ${p}`),
    ...(params.remotePrefixes.length === 0 ? ["ip prefix-list egresslink-remote seq 5 deny any"] : []),
    "!",
    "route-map egresslink-out permit 10",
    " match ip address prefix-list egresslink-advertise",
    "route-map egresslink-in permit 10",
    " match ip address prefix-list egresslink-remote",
    "!",
    `router bgp ${params.asn}`,
    ` bgp router-id ${ends[0].cgw}`,
    ...ends.flatMap((end) => [` neighbor ${end.vgw} remote-as ${params.transitGatewayAsn}`, ` neighbor ${end.vgw} timers 10 30`, ` neighbor ${end.vgw} description ${params.site}-${end.ifname}`]),
    " !",
    " address-family ipv4 unicast",
    `  network ${params.advertised}`,
    "  maximum-paths 2",
    ...ends.flatMap((end) => [`  neighbor ${end.vgw} route-map egresslink-out out`, `  neighbor ${end.vgw} route-map egresslink-in in`]),
    " exit-address-family",
    "!",
    "",
  ].join("\n");
}

function renderNftables(params: RouterParams): string {
  const tunnels = `{ ${TUNNEL_INTERFACES.map((i) => `"${i}"`).join(", ")} }`;
  const nat = params.translatedCidr
    ? [
        "  chain prerouting {",
        "    type nat hook prerouting priority dstnat; policy accept;",
        `    iifname ${tunnels} ip daddr ${params.translatedCidr} dnat ip prefix to ${params.realCidr}`,
        "  }",
        "  chain postrouting {",
        "    type nat hook postrouting priority srcnat; policy accept;",
        `    oifname ${tunnels} ip saddr ${params.realCidr} snat ip prefix to ${params.translatedCidr}`,
        "  }",
      ]
    : [];
  return [
    `# egresslink ${params.site}: ${params.translatedCidr ? `1:1 NAT ${params.realCidr} <-> ${params.translatedCidr} on the tunnels` : "no translation (unique prefix)"}.`,
    "table ip egresslink {",
    ...nat,
    "  chain forward {",
    "    type filter hook forward priority filter; policy drop;",
    "    ct state established,related accept",
    // After DNAT the destination is real: tunnels may reach the site, the site may reach the tunnels.
    `    iifname ${tunnels} ip daddr ${params.realCidr} accept`,
    `    oifname ${tunnels} ip saddr ${params.realCidr} accept`,
    "  }",
    "}",
    "",
  ].join("\n");
}

function renderSysctl(): string {
  return [
    "# egresslink router: forward between the site and the tunnels.",
    "net.ipv4.ip_forward = 1",
    "net.ipv4.conf.all.rp_filter = 0",
    "net.ipv4.conf.default.rp_filter = 0",
    "net.ipv4.conf.all.send_redirects = 0",
    "net.ipv4.conf.all.accept_redirects = 0",
    "",
  ].join("\n");
}

export interface LinuxRouterUserDataInput {
  readonly params: RouterParams;
  readonly region: string;
  /** Value of the `egresslink:router-eni` tag on the persistent ENI. */
  readonly eniTag: string;
  /** The site VPC's CIDR, routed through the persistent ENI. */
  readonly vpcCidr: string;
}

/**
 * cloud-init for the Linux router: installs strongSwan, FRR and nftables, writes the files,
 * attaches the persistent ENI (its EIP is the customer gateway's address), creates the XFRM
 * interfaces, and starts charon, FRR and nftables. No `${` anywhere: the result is passed
 * through Terraform, which would read it as interpolation.
 */
export function renderLinuxRouterUserData(input: LinuxRouterUserDataInput): string {
  const files = renderLinuxRouter(input.params);
  const ends = tunnelEnds(input.params);
  const setup = `#!/bin/bash
# egresslink ${input.params.site}: bring the router up.
set -euo pipefail
sysctl --system >/dev/null
eni_ip='${input.params.localAddress}'
eni_dev() { ip -o -4 addr show | awk -v ip="$eni_ip" '$4 ~ "^"ip"/" {print $2; exit}'; }
dev=""
for attempt in $(seq 1 30); do dev=$(eni_dev); [ -n "$dev" ] && break; sleep 2; done
[ -n "$dev" ] || { echo "egresslink: no interface holds $eni_ip" >&2; exit 1; }
gateway=$(ip -4 route show dev "$dev" | awk '/proto dhcp/ && /via/ {print $3; exit}')
ip route replace '${input.vpcCidr}' via "$gateway" dev "$dev"
${ends.map((end, i) => `ip link add ${end.ifname} type xfrm dev "$dev" if_id ${i + 1} 2>/dev/null || true
ip addr replace ${end.cgw}/${end.prefixLength} dev ${end.ifname}
ip link set ${end.ifname} up mtu 1419`).join("\n")}
nft -f /etc/nftables/egresslink.nft
sed -i 's/^bgpd=no/bgpd=yes/; s/^staticd=no/staticd=yes/' /etc/frr/daemons
systemctl enable --now strongswan frr
swanctl --load-all
echo "egresslink: router up on $dev"
`;
  const file = (path: string, content: string, permissions = "0644") => ({ path, content, owner: "root:root", permissions });
  const doc = {
    packages: ["strongswan", "frr", "nftables"],
    write_files: [
      file("/usr/local/sbin/egresslink-attach-eni", renderAttachEniScript(input.region, input.eniTag, ROUTER_ENI_TAG), "0755"),
      file("/usr/local/sbin/egresslink-router-setup", setup, "0755"),
      file("/etc/sysctl.d/90-egresslink.conf", files.sysctl),
      { ...file("/etc/swanctl/conf.d/egresslink.conf", files.swanctl, "0600"), defer: true },
      { ...file("/etc/frr/frr.conf", files.frr, "0640"), defer: true },
      { ...file("/etc/nftables/egresslink.nft", files.nftables), defer: true },
    ],
    runcmd: [["/usr/local/sbin/egresslink-attach-eni"], ["/usr/local/sbin/egresslink-router-setup"]],
  };
  return checkUserDataSize(`#cloud-config\n${stringify(doc, { lineWidth: 0 })}`, `Linux router user data for ${input.params.site}`);
}
