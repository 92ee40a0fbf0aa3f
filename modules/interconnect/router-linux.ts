import { stringify } from "yaml";
import { checkUserDataSize } from "../core/instance";
import { awsDnsSuffix } from "../endpoints/services";
import { renderAttachEniScript } from "../proxy/user-data";
import { tunnelEnds, TUNNEL_INTERFACES, type RouterParams } from "./router-config";
import { shellQuote } from "../core/text";

/**
 * The Linux router runs Debian 12: its archive has the exact packages the tests run here
 * (strongswan-swanctl + charon-systemd 5.9.8, frr 8.4, nftables 1.0.6); Amazon Linux 2023 has no
 * strongSwan and FRR only in an opt-in repository. What must survive a reboot (interfaces,
 * addresses, routes, policy routing, nftables, the keys) is rebuilt by systemd units on every
 * boot; cloud-init's runcmd only installs and enables them, once.
 */
export const ROUTER_ENI_TAG = "egresslink:router-eni";

/** Where each file lives on the router. */
export const ROUTER_PATHS = {
  swanctl: "/etc/swanctl/conf.d/egresslink.conf",
  secrets: "/etc/swanctl/conf.d/egresslink-secrets.conf",
  frr: "/etc/frr/frr.conf",
  nftables: "/etc/egresslink/router.nft",
  networkd: "/etc/systemd/networkd.conf.d/egresslink.conf",
  sysctl: "/etc/sysctl.d/90-egresslink.conf",
  networkScript: "/usr/local/sbin/egresslink-router-net",
  secretsScript: "/usr/local/sbin/egresslink-router-secrets",
  healthScript: "/usr/local/sbin/egresslink-router-health",
  attachEniScript: "/usr/local/sbin/egresslink-attach-eni",
  ssmAgentScript: "/usr/local/sbin/egresslink-install-ssm-agent",
  updown: "/usr/local/libexec/egresslink-updown",
  unitDir: "/etc/systemd/system",
} as const;

/** Debian 12 packages: charon-systemd (not the `strongswan` metapackage, which adds the legacy `ipsec` starter); GCM and ECP come with the standard plugins. */
export const ROUTER_PACKAGES = ["strongswan-swanctl", "charon-systemd", "libstrongswan-standard-plugins", "frr", "nftables", "awscli", "curl"] as const;

/** Policy-routing table and rule priority for traffic from the router ENI's address (IKE, ESP). */
const ENI_TABLE = 100;
/** Metric of the site routes on the router ENI: below the primary interface's DHCP routes (100 and up). */
const SITE_ROUTE_METRIC = 50;
/**
 * Debian 12's networkd (netplan) removes routing-policy rules and routes it did not make whenever
 * it starts, e.g. on a systemd upgrade: the router's policy routing and site routes would go.
 */
const NETWORKD_KEEP_FOREIGN = "[Network]\nManageForeignRoutingPolicyRules=no\nManageForeignRoutes=no\n";

/** Consecutive failed health checks (one a minute) before the router reports itself unhealthy. */
const HEALTH_FAILURES = 3;

/** What only the deployment knows about the router's network. Values may be Terraform references. */
export interface LinuxRouterNetwork {
  /** Region of the site (SSM, EC2 and Auto Scaling calls). */
  readonly region: string;
  /** Value of the `egresslink:router-eni` tag on the persistent ENI (to attach it). */
  readonly eniTag: string;
  /** The persistent ENI's MAC address: how the router finds its device. */
  readonly eniMac: string;
  /** The router subnet's CIDR: the ENI address's prefix length, and its first host is the gateway. */
  readonly routerSubnetCidr: string;
  /** The site VPC's CIDR: forwarded traffic to it leaves through the ENI. */
  readonly vpcCidr: string;
  /** The router's Auto Scaling group: where it reports itself unhealthy. */
  readonly groupName: string;
}

/** The Linux router's files, by role (see ROUTER_PATHS). */
export interface LinuxRouterFiles {
  /** Two route-based tunnels on XFRM interfaces (if_id 1, 2); no keys. */
  readonly swanctl: string;
  /** bgpd with both tunnel neighbours, advertising only the advertised prefix. */
  readonly frr: string;
  /** 1:1 prefix NAT on the tunnel interfaces, a forwarding filter and the TCP MSS clamp; reloadable. */
  readonly nftables: string;
  readonly sysctl: string;
  /** Rebuilds the router's network on every boot: ENI, policy routing, site routes, tunnel interfaces, nftables. */
  readonly networkScript: string;
  /** Writes the tunnels' keys from SSM SecureString parameters into swanctl's secrets file, on every boot. */
  readonly secretsScript: string;
  /** strongSwan's updown hook: a tunnel interface is up exactly while its CHILD_SA is. */
  readonly updown: string;
  /** Reports the instance unhealthy to its Auto Scaling group when charon, FRR or an interface is gone. */
  readonly healthScript: string;
  /** systemd units and drop-ins, by path under /etc/systemd/system. */
  readonly units: Readonly<Record<string, string>>;
}

/** Renders the Linux router's files. Pure; values may be Terraform references, and no file holds `${`. */
export function renderLinuxRouter(params: RouterParams, network: LinuxRouterNetwork): LinuxRouterFiles {
  return {
    swanctl: renderSwanctl(params),
    frr: renderFrr(params),
    nftables: renderNftables(params),
    sysctl: renderSysctl(),
    networkScript: renderNetworkScript(params, network),
    secretsScript: renderSecretsScript(params, network.region),
    updown: renderUpdown(),
    healthScript: renderHealthScript(params, network),
    units: renderUnits(),
  };
}

function renderSwanctl(params: RouterParams): string {
  const { ipsec } = params;
  const connections = tunnelEnds(params).map(
    (end, i) => `  tunnel${i + 1} {
    version = 2
    local_addrs = ${params.localAddress}
    remote_addrs = ${end.tunnel.outsideAddress}
    proposals = ${ipsec.strongswan.ike}
    rekey_time = ${ipsec.ikeLifetimeSeconds}s
    dpd_delay = 10s
    # Retry for ever: the default (1) gives up on a peer that is silent once, e.g. during AWS maintenance.
    keyingtries = 0
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
        esp_proposals = ${ipsec.strongswan.esp}
        rekey_time = ${ipsec.espLifetimeSeconds}s
        updown = ${ROUTER_PATHS.updown}
        dpd_action = restart
        start_action = start
        close_action = start
      }
    }
  }`,
  );
  return `# egresslink ${params.site}: route-based VPN to the Transit Gateway (XFRM interfaces ${TUNNEL_INTERFACES.join(", ")}).
# The keys are not here: ${ROUTER_PATHS.secretsScript} writes them at boot from SSM Parameter Store.
connections {
${connections.join("\n")}
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
    // Declared, deleted and declared again: loading the file twice (every boot, a restart) leaves one copy.
    "table ip egresslink {}",
    "delete table ip egresslink",
    "table ip egresslink {",
    ...nat,
    // Site hosts use MTU 9001; the tunnels carry about 1,400 bytes. Clamping SYNs both ways avoids
    // relying on ICMP "fragmentation needed" getting through.
    "  chain clamp {",
    "    type filter hook forward priority mangle; policy accept;",
    `    iifname ${tunnels} tcp flags syn tcp option maxseg size set ${params.ipsec.tcpMss}`,
    `    oifname ${tunnels} tcp flags syn tcp option maxseg size set ${params.ipsec.tcpMss}`,
    "  }",
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

/**
 * The router's network, idempotent, run on every boot before charon. The instance's primary
 * interface (a public address) reaches packages, SSM and the EC2 API; the persistent ENI carries
 * the Elastic IP, so IKE and ESP from its address leave through it (policy routing), and so does
 * forwarded traffic to the site (its source/destination check is off; the primary's is on).
 * Tunnel interfaces are XFRM interfaces bound to the ENI; a failure to create one stops the unit.
 */
function renderNetworkScript(params: RouterParams, network: LinuxRouterNetwork): string {
  const tunnels = tunnelEnds(params)
    .map((end, i) => `tunnel_link ${end.ifname} ${i + 1} ${shellQuote(`${end.cgw}/${end.prefixLength}`)}`)
    .join("\n");
  return `#!/bin/bash
# egresslink ${params.site}: the router's network, rebuilt on every boot (egresslink-router-net.service).
set -euo pipefail
eni_ip=${shellQuote(params.localAddress)}
eni_mac=${shellQuote(network.eniMac)}
subnet=${shellQuote(network.routerSubnetCidr)}
vpc_cidr=${shellQuote(network.vpcCidr)}

${ROUTER_PATHS.attachEniScript}
dev=""
for attempt in $(seq 1 60); do
  dev=$(ip -o link show | awk -v mac="$(echo "$eni_mac" | tr 'A-F' 'a-f')" '$0 ~ "link/ether " mac " " {sub(/:$/, "", $2); sub(/@.*/, "", $2); print $2; exit}')
  [ -n "$dev" ] && break
  sleep 2
done
[ -n "$dev" ] || { echo "egresslink: no interface has the router ENI's MAC address $eni_mac" >&2; exit 1; }
IFS=./ read -r o1 o2 o3 o4 prefix_length <<<"$subnet"
gateway="$o1.$o2.$o3.$((o4 + 1))"

ip link set "$dev" up
ip addr replace "$eni_ip/$prefix_length" dev "$dev"
# IKE and ESP leave from the Elastic IP's private address: through its interface, whatever the main table says.
while ip rule del priority ${ENI_TABLE} 2>/dev/null; do :; done
ip rule add from "$eni_ip" table ${ENI_TABLE} priority ${ENI_TABLE}
ip route replace "$subnet" dev "$dev" src "$eni_ip" table ${ENI_TABLE}
ip route replace default via "$gateway" dev "$dev" table ${ENI_TABLE}
# Traffic from the tunnels to the site leaves through the ENI, ahead of the primary interface's routes.
ip route replace "$subnet" dev "$dev" src "$eni_ip" metric ${SITE_ROUTE_METRIC}
if [ "$vpc_cidr" != "$subnet" ]; then ip route replace "$vpc_cidr" via "$gateway" dev "$dev" metric ${SITE_ROUTE_METRIC}; fi

tunnel_link() {
  local name=$1 if_id=$2 address=$3
  if ! ip link show "$name" >/dev/null 2>&1; then
    ip link add "$name" type xfrm dev "$dev" if_id "$if_id"
  fi
  ip addr replace "$address" dev "$name"
  ip link set "$name" mtu ${params.ipsec.tunnelMtu} up
}
${tunnels}

sysctl -q -p ${ROUTER_PATHS.sysctl}
nft -f ${ROUTER_PATHS.nftables}
echo "egresslink: router network up on $dev ($eni_ip)"
`;
}

/**
 * The tunnels' pre-shared keys, fetched at every boot from SSM SecureString parameters the
 * instance role may read (its own site's two, nothing else), into a root-only file swanctl loads.
 * Keys never appear in user data, the launch template or instance metadata.
 */
function renderSecretsScript(params: RouterParams, region: string): string {
  const ends = tunnelEnds(params);
  // Assigned first: set -e stops at a failed assignment, not at a failed substitution inside echo.
  const fetch = ends.map((end, i) => `key${i + 1}=$(key ${shellQuote(end.tunnel.presharedKeyParameter)})`).join("\n");
  const secrets = ends
    .map(
      (end, i) => `  echo "  ike-tunnel${i + 1} {"
  echo "    id-1 = ${end.tunnel.outsideAddress}"
  printf '    secret = "%s"\\n' "$key${i + 1}"
  echo "  }"`,
    )
    .join("\n");
  return `#!/bin/bash
# egresslink ${params.site}: the tunnels' keys, from SSM Parameter Store (egresslink-router-secrets.service).
set -euo pipefail
umask 077
key() {
  for attempt in $(seq 1 30); do
    if aws ssm get-parameter --region ${shellQuote(region)} --name "$1" --with-decryption --query Parameter.Value --output text; then return 0; fi
    sleep 5
  done
  echo "egresslink: cannot read $1" >&2
  return 1
}
${fetch}
tmp=$(mktemp ${ROUTER_PATHS.secrets}.XXXXXX)
trap 'rm -f "$tmp"' EXIT
{
  echo "secrets {"
${secrets}
  echo "}"
} >"$tmp"
mv "$tmp" ${ROUTER_PATHS.secrets}
`;
}

function renderUpdown(): string {
  const cases = TUNNEL_INTERFACES.map((name, i) => `  ${i + 1}) link=${name} ;;`).join("\n");
  return `#!/bin/bash
# egresslink: strongSwan's updown hook. A tunnel interface is up exactly while its CHILD_SA is, so
# BGP over it drops at once when the SA dies instead of after the 30 s hold timer.
set -eu
case "$((PLUTO_IF_ID_OUT))" in
${cases}
  *) exit 0 ;;
esac
case "$PLUTO_VERB" in
  up-client) ip link set "$link" up ;;
  down-client) ip link set "$link" down ;;
esac
`;
}

/**
 * Health is the daemons and the interfaces, not BGP: AWS takes tunnels down for maintenance, and
 * a router replaced then would be a worse outage. After ${HEALTH_FAILURES} failed checks in a row the
 * instance tells its Auto Scaling group it is unhealthy, which replaces it.
 */
function renderHealthScript(params: RouterParams, network: LinuxRouterNetwork): string {
  return `#!/bin/bash
# egresslink ${params.site}: router health (egresslink-router-health.timer, every minute).
set -uo pipefail
# keyingtries = 0 retries a silent peer for ever, but a permanent IKE error (a proposal or key the
# AWS side no longer accepts, e.g. after its tunnel options changed) ends the attempt for good: start
# every tunnel that has no IKE SA again. A tunnel down for AWS maintenance is not a health problem.
for tunnel in ${TUNNEL_INTERFACES.map((_, i) => `tunnel${i + 1}`).join(" ")}; do
  if systemctl is-active --quiet strongswan.service && ! swanctl --list-sas --ike "$tunnel" 2>/dev/null | grep -q "^$tunnel:"; then
    swanctl --initiate --child "$tunnel" --timeout 20 >/dev/null 2>&1 || echo "egresslink: $tunnel did not come up; tried again in a minute" >&2
  fi
done
failures_file=/run/egresslink-router-health-failures
problem=""
for unit in strongswan.service frr.service egresslink-router-net.service; do
  systemctl is-active --quiet "$unit" || problem="$problem $unit"
done
for link in ${TUNNEL_INTERFACES.join(" ")}; do
  ip link show "$link" >/dev/null 2>&1 || problem="$problem $link"
done
ip -o -4 addr show | grep -q " inet ${params.localAddress}/" || problem="$problem router-eni"
ip rule show priority ${ENI_TABLE} | grep -q "lookup ${ENI_TABLE}" || problem="$problem policy-routing"
if [ -z "$problem" ]; then
  rm -f "$failures_file"
  exit 0
fi
failures=$(( $(cat "$failures_file" 2>/dev/null || echo 0) + 1 ))
echo "$failures" >"$failures_file"
echo "egresslink: unhealthy ($failures of ${HEALTH_FAILURES}):$problem" >&2
[ "$failures" -ge ${HEALTH_FAILURES} ] || exit 0
token=$(curl -sS -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 60')
instance=$(curl -sS -H "X-aws-ec2-metadata-token: $token" http://169.254.169.254/latest/meta-data/instance-id)
aws autoscaling set-instance-health --region ${shellQuote(network.region)} --instance-id "$instance" --health-status Unhealthy --no-should-respect-grace-period
`;
}

/** The units: the network and keys before charon (ordered by a drop-in), and the health timer. */
function renderUnits(): Record<string, string> {
  const oneshot = (description: string, exec: string, extra: string[] = []) =>
    ["[Unit]", `Description=${description}`, "Wants=network-online.target", "After=network-online.target", ...extra, "", "[Service]", "Type=oneshot", "RemainAfterExit=yes", `ExecStart=${exec}`, "", "[Install]", "WantedBy=multi-user.target", ""].join("\n");
  return {
    "egresslink-router-net.service": oneshot("egresslink: router network (ENI, policy routing, tunnel interfaces, nftables)", ROUTER_PATHS.networkScript, ["Before=strongswan.service"]),
    "egresslink-router-secrets.service": oneshot("egresslink: tunnel keys from SSM Parameter Store", ROUTER_PATHS.secretsScript, ["Before=strongswan.service"]),
    "strongswan.service.d/egresslink.conf": [
      "[Unit]",
      "Requires=egresslink-router-net.service egresslink-router-secrets.service",
      "After=egresslink-router-net.service egresslink-router-secrets.service",
      "",
    ].join("\n"),
    "egresslink-router-health.service": ["[Unit]", "Description=egresslink: router health", "", "[Service]", "Type=oneshot", `ExecStart=${ROUTER_PATHS.healthScript}`, ""].join("\n"),
    "egresslink-router-health.timer": ["[Unit]", "Description=egresslink: router health every minute", "", "[Timer]", "OnBootSec=5min", "OnUnitActiveSec=1min", "", "[Install]", "WantedBy=timers.target", ""].join("\n"),
  };
}

/**
 * SSM Agent is not in Debian's archive or AMI: AWS's package for Debian, from the Region's own
 * bucket over HTTPS (AWS documents this for Debian). It gives Session Manager access instead of SSH.
 */
function renderSsmAgentScript(region: string): string {
  return `#!/bin/bash
# egresslink: SSM Agent, as AWS documents it for Debian.
set -euo pipefail
arch=$(dpkg --print-architecture)
package=$(mktemp --suffix=.deb)
curl -fsS --retry 10 --retry-connrefused -o "$package" "https://s3.${region}.${awsDnsSuffix(region)}/amazon-ssm-${region}/latest/debian_$arch/amazon-ssm-agent.deb"
dpkg -i "$package"
rm -f "$package"
systemctl enable --now amazon-ssm-agent
`;
}

/**
 * cloud-init for the Linux router (Debian 12): installs the packages and SSM Agent, writes the
 * files and units, and enables them; from then on the units bring the router up on every boot.
 * No `${` anywhere: the result is passed through Terraform, which would read it as interpolation.
 */
export function renderLinuxRouterUserData(params: RouterParams, network: LinuxRouterNetwork): string {
  const files = renderLinuxRouter(params, network);
  const file = (path: string, content: string, permissions = "0644") => ({ path, content, owner: "root:root", permissions });
  const units = Object.entries(files.units).map(([name, content]) => file(`${ROUTER_PATHS.unitDir}/${name}`, content));
  const doc = {
    packages: [...ROUTER_PACKAGES],
    write_files: [
      file(ROUTER_PATHS.attachEniScript, renderAttachEniScript(network.region, network.eniTag, ROUTER_ENI_TAG), "0755"),
      file(ROUTER_PATHS.ssmAgentScript, renderSsmAgentScript(network.region), "0755"),
      file(ROUTER_PATHS.networkScript, files.networkScript, "0755"),
      file(ROUTER_PATHS.secretsScript, files.secretsScript, "0755"),
      file(ROUTER_PATHS.healthScript, files.healthScript, "0755"),
      file(ROUTER_PATHS.updown, files.updown, "0755"),
      file(ROUTER_PATHS.sysctl, files.sysctl),
      file(ROUTER_PATHS.nftables, files.nftables),
      file(ROUTER_PATHS.networkd, NETWORKD_KEEP_FOREIGN),
      ...units,
      // Written after the packages are installed, over the files they ship.
      { ...file(ROUTER_PATHS.swanctl, files.swanctl, "0600"), defer: true },
      { ...file(ROUTER_PATHS.frr, files.frr, "0640"), owner: "frr:frr", defer: true },
    ],
    runcmd: [
      [ROUTER_PATHS.ssmAgentScript],
      ["sed", "-i", "s/^bgpd=no/bgpd=yes/", "/etc/frr/daemons"],
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "egresslink-router-net.service", "egresslink-router-secrets.service", "strongswan.service", "frr.service", "egresslink-router-health.timer"],
      // The packages started charon and FRR before their configuration was written.
      ["systemctl", "restart", "egresslink-router-net.service", "egresslink-router-secrets.service", "strongswan.service", "frr.service", "egresslink-router-health.timer"],
    ],
  };
  return checkUserDataSize(`#cloud-config\n${stringify(doc, { lineWidth: 0 })}`, `Linux router user data for ${params.site}`);
}
