import { stringify } from "yaml";
import { checkUserDataSize } from "../core/instance";
import { tunnelEnds, type RouterParams } from "./router-config";

/**
 * VyOS 1.4 configuration commands for a site router: two VTI tunnels initiating to the Transit
 * Gateway, IKE/ESP groups matching the VPN connection, BGP (`system-as`) with both tunnel
 * neighbours advertising only the advertised prefix (a blackhole route makes it exist), and 1:1
 * destination + source NAT per tunnel interface when the site is translated. VyOS 1.4 syntax:
 * `protocols bgp system-as`, `vpn ipsec authentication psk`, `nat ... inbound-interface name`.
 */
export function renderVyosCommands(params: RouterParams): string[] {
  const q = (value: string | number) => `'${String(value).replace(/'/g, "")}'`;
  const ends = tunnelEnds(params);
  const esp = "set vpn ipsec esp-group AWS";
  const ike = "set vpn ipsec ike-group AWS";
  const { ipsec } = params;
  const commands = [
    `set system host-name ${q(`egresslink-${params.site}`)}`,
    "set vpn ipsec interface 'eth0'",
    `${esp} lifetime ${q(ipsec.espLifetimeSeconds)}`,
    `${esp} mode 'tunnel'`,
    `${esp} pfs ${q(`dh-group${ipsec.vyos.dhGroup}`)}`,
    `${esp} proposal 1 encryption ${q(ipsec.vyos.encryption)}`,
    `${esp} proposal 1 hash ${q(ipsec.vyos.hash)}`,
    `${ike} key-exchange ${q(ipsec.ikeVersion)}`,
    `${ike} lifetime ${q(ipsec.ikeLifetimeSeconds)}`,
    `${ike} dead-peer-detection action 'restart'`,
    `${ike} dead-peer-detection interval '15'`,
    `${ike} dead-peer-detection timeout '30'`,
    `${ike} proposal 1 dh-group ${q(ipsec.vyos.dhGroup)}`,
    `${ike} proposal 1 encryption ${q(ipsec.vyos.encryption)}`,
    `${ike} proposal 1 hash ${q(ipsec.vyos.hash)}`,
  ];
  ends.forEach((end, i) => {
    const name = `tunnel${i + 1}`;
    const psk = `set vpn ipsec authentication psk ${name}`;
    const peer = `set vpn ipsec site-to-site peer ${name}`;
    commands.push(
      `${psk} id ${q(params.publicIp)}`,
      `${psk} id ${q(end.tunnel.outsideAddress)}`,
      `${psk} secret ${q(end.tunnel.presharedKey)}`,
      `${peer} authentication local-id ${q(params.publicIp)}`,
      `${peer} authentication mode 'pre-shared-secret'`,
      `${peer} authentication remote-id ${q(end.tunnel.outsideAddress)}`,
      `${peer} connection-type 'initiate'`,
      `${peer} ike-group 'AWS'`,
      `${peer} local-address ${q(params.localAddress)}`,
      `${peer} remote-address ${q(end.tunnel.outsideAddress)}`,
      `${peer} vti bind ${q(end.ifname)}`,
      `${peer} vti esp-group 'AWS'`,
      `set interfaces vti ${end.ifname} address ${q(`${end.cgw}/${end.prefixLength}`)}`,
      `set interfaces vti ${end.ifname} description ${q(`egresslink ${params.site} AWS tunnel ${i + 1}`)}`,
      `set interfaces vti ${end.ifname} mtu ${q(ipsec.tunnelMtu)}`,
      `set interfaces vti ${end.ifname} ip adjust-mss ${q(ipsec.tcpMss)}`,
    );
  });
  commands.push(
    `set protocols static route ${params.advertised} blackhole distance '250'`,
    "set policy prefix-list EGRESSLINK-ADVERTISE rule 10 action 'permit'",
    `set policy prefix-list EGRESSLINK-ADVERTISE rule 10 prefix ${q(params.advertised)}`,
    ...params.remotePrefixes.flatMap((prefix, i) => [
      `set policy prefix-list EGRESSLINK-REMOTE rule ${(i + 1) * 10} action 'permit'`,
      `set policy prefix-list EGRESSLINK-REMOTE rule ${(i + 1) * 10} prefix ${q(prefix)}`,
    ]),
    "set policy route-map EGRESSLINK-OUT rule 10 action 'permit'",
    "set policy route-map EGRESSLINK-OUT rule 10 match ip address prefix-list 'EGRESSLINK-ADVERTISE'",
    "set policy route-map EGRESSLINK-IN rule 10 action 'permit'",
    "set policy route-map EGRESSLINK-IN rule 10 match ip address prefix-list 'EGRESSLINK-REMOTE'",
    `set protocols bgp system-as ${q(params.asn)}`,
    `set protocols bgp parameters router-id ${q(ends[0].cgw)}`,
    `set protocols bgp address-family ipv4-unicast network ${q(params.advertised)}`,
    "set protocols bgp address-family ipv4-unicast maximum-paths ebgp '2'",
  );
  for (const end of ends) {
    const neighbor = `set protocols bgp neighbor ${end.vgw}`;
    commands.push(
      `${neighbor} remote-as ${q(params.transitGatewayAsn)}`,
      `${neighbor} timers holdtime '30'`,
      `${neighbor} timers keepalive '10'`,
      `${neighbor} address-family ipv4-unicast route-map export 'EGRESSLINK-OUT'`,
      `${neighbor} address-family ipv4-unicast route-map import 'EGRESSLINK-IN'`,
      `${neighbor} address-family ipv4-unicast soft-reconfiguration inbound`,
    );
  }
  if (params.translatedCidr) {
    ends.forEach((end, i) => {
      const rule = (i + 1) * 10;
      commands.push(
        `set nat destination rule ${rule} description ${q(`egresslink ${params.site}: ${params.translatedCidr} to ${params.realCidr} from ${end.ifname}`)}`,
        `set nat destination rule ${rule} inbound-interface name ${q(end.ifname)}`,
        `set nat destination rule ${rule} destination address ${q(params.translatedCidr!)}`,
        `set nat destination rule ${rule} translation address ${q(params.realCidr)}`,
        `set nat source rule ${rule} description ${q(`egresslink ${params.site}: ${params.realCidr} to ${params.translatedCidr} via ${end.ifname}`)}`,
        `set nat source rule ${rule} outbound-interface name ${q(end.ifname)}`,
        `set nat source rule ${rule} source address ${q(params.realCidr)}`,
        `set nat source rule ${rule} translation address ${q(params.translatedCidr!)}`,
      );
    });
  }
  return commands;
}

/** The VyOS user data: `#cloud-config` with `vyos_config_commands`, checked against the 16 KB limit. */
export function renderVyosUserData(params: RouterParams): string {
  return checkUserDataSize(`#cloud-config\n${stringify({ vyos_config_commands: renderVyosCommands(params) }, { lineWidth: 0 })}`, `VyOS user data for ${params.site}`);
}
