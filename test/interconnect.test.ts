import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { loadConfigFile } from "../modules/config/load";
import { cidrContains, cidrsOverlap } from "../modules/network/cidr";
import { insideAddresses, planInterconnect, PlanError, type SiteInput } from "../modules/interconnect/planner";
import { IPSEC_PROFILES, routerParams, type RouterParams } from "../modules/interconnect/router-config";
import { renderLinuxRouter, renderLinuxRouterUserData } from "../modules/interconnect/router-linux";
import { USER_DATA_LIMIT_BYTES } from "../modules/core/instance";
import { renderVyosCommands, renderVyosUserData } from "../modules/interconnect/router-vyos";
import { programTest, requireProgram } from "./helpers-programs";
import { addressAt, configFrom, resourceAt, resources, ROOT, synthConfig, TEST_ENDPOINTS, TEST_ROUTER_NETWORK } from "./helpers";

const ref = (address: string, attr: string) => `\${${address}.${attr}}`;
const SEED: SiteInput[] = [
  { name: "singapore", cidr: "10.0.1.0/24" },
  { name: "virginia", cidr: "10.0.1.0/24" },
  { name: "frankfurt", cidr: "10.30.0.0/24" },
];
const plan = (sites: readonly SiteInput[]) => planInterconnect({ transitGatewayAsn: 64512, sites });
const byName = (sites: readonly SiteInput[]) => Object.fromEntries(plan(sites).map((p) => [p.name, p]));

describe("planner", () => {
  test("finds overlapping sites and translates exactly those, 1:1 into 100.64.0.0/10", () => {
    const p = byName(SEED);
    expect(p.singapore.overlapsWith).toEqual(["virginia"]);
    expect(p.frankfurt.overlapsWith).toEqual([]);
    for (const site of [p.singapore, p.virginia]) {
      expect(site.translatedCidr).toMatch(/\/24$/);
      expect(cidrContains("100.64.0.0/10", site.translatedCidr!)).toBe(true);
      expect(site.advertised).toBe(site.translatedCidr);
    }
    expect(p.singapore.translatedCidr).not.toBe(p.virginia.translatedCidr);
    expect(p.frankfurt).toMatchObject({ translatedCidr: undefined, advertised: "10.30.0.0/24" });
  });

  test("overlap is any shared address, not only equal prefixes", () => {
    const p = byName([{ name: "big", cidr: "10.0.0.0/16" }, { name: "small", cidr: "10.0.7.0/24" }, { name: "apart", cidr: "10.1.0.0/16" }]);
    expect(p.big.overlapsWith).toEqual(["small"]);
    expect(p.big.translatedCidr).toMatch(/\/16$/);
    expect(p.small.translatedCidr).toMatch(/\/24$/);
    expect(p.apart.translatedCidr).toBeUndefined();
  });

  test("routes: every VPC routes the other sites' advertised prefixes, never a real colliding one", () => {
    const p = byName(SEED);
    expect(p.singapore.routes).toEqual([p.frankfurt.advertised, p.virginia.advertised]);
    expect(p.frankfurt.routes).toEqual([p.singapore.advertised, p.virginia.advertised]);
    expect(Object.values(p).flatMap((s) => s.routes)).not.toContain("10.0.1.0/24");
  });

  test("allocations are stable: adding sites leaves existing ones where they were", () => {
    const before = byName(SEED);
    const more = [...SEED, { name: "tokyo", cidr: "10.0.1.0/24" }, { name: "aaa-first", cidr: "10.0.1.0/24" }, { name: "sydney", cidr: "10.30.0.0/24" }];
    const after = byName(more);
    for (const name of ["singapore", "virginia"]) {
      expect(after[name].translatedCidr).toBe(before[name].translatedCidr);
      expect(after[name].asn).toBe(before[name].asn);
      expect(after[name].tunnelInsideCidrs).toEqual(before[name].tunnelInsideCidrs);
    }
    // Frankfurt now collides with Sydney, so it gains a translation (its ASN and tunnels stay).
    expect(after.frankfurt.translatedCidr).toBeDefined();
    expect(after.frankfurt.asn).toBe(before.frankfurt.asn);
    expect(byName([...SEED].reverse())).toEqual(before);
  });

  test("ASNs are unique, private and never the Transit Gateway's; pinned ones are kept", () => {
    const p = plan([...SEED, { name: "pinned", cidr: "10.9.0.0/24", asn: 65100 }]);
    const asns = p.map((s) => s.asn);
    expect(new Set(asns).size).toBe(asns.length);
    for (const asn of asns) expect(asn >= 64512 && asn <= 65534 && asn !== 64512).toBe(true);
    expect(p.find((s) => s.name === "pinned")?.asn).toBe(65100);
  });

  test("tunnel inside CIDRs: two /30s per site in 169.254/16, all distinct, none AWS reserves", () => {
    const inside = plan(SEED).flatMap((s) => s.tunnelInsideCidrs);
    expect(new Set(inside).size).toBe(6);
    for (const cidr of inside) {
      expect(cidrContains("169.254.0.0/16", cidr)).toBe(true);
      expect(cidr).toMatch(/\/30$/);
      expect(["169.254.0.0/30", "169.254.1.0/30", "169.254.2.0/30", "169.254.3.0/30", "169.254.4.0/30", "169.254.5.0/30", "169.254.169.252/30"]).not.toContain(cidr);
    }
    expect(insideAddresses("169.254.10.0/30")).toEqual({ vgw: "169.254.10.1", cgw: "169.254.10.2", prefixLength: 30 });
  });

  test.each([
    [[{ name: "a", cidr: "10.0.1.0/24", translatedCidr: "172.88.88.0/24" }, { name: "b", cidr: "10.0.1.0/24" }], /172\.88\.88\.0\/24 is public address space/],
    [[{ name: "a", cidr: "10.0.1.0/24", translatedCidr: "100.64.5.0/24" }, { name: "b", cidr: "10.0.1.0/24", translatedCidr: "100.64.5.0/24" }], /overlaps the translated prefix 100\.64\.5\.0\/24 of site b/],
    [[{ name: "a", cidr: "10.0.1.0/24", translatedCidr: "10.30.0.0/24" }, { name: "b", cidr: "10.30.0.0/24" }], /overlaps the real prefix 10\.30\.0\.0\/24 of site b/],
    [[{ name: "a", cidr: "10.0.1.0/24", translatedCidr: "100.64.5.0/25" }, { name: "b", cidr: "10.0.1.0/24" }], /must be a \/24 like the real prefix/],
    [[{ name: "a", cidr: "10.0.0.0/8" }, { name: "b", cidr: "10.0.0.0/8" }], /a \/8 cannot be translated 1:1 into 100\.64\.0\.0\/10/],
    [[{ name: "a", cidr: "10.0.1.0/24", asn: 64512 }, { name: "b", cidr: "10.2.0.0/24" }], /ASN 64512 is the Transit Gateway's/],
    [[{ name: "a", cidr: "10.0.1.0/24", asn: 65001 }, { name: "b", cidr: "10.2.0.0/24", asn: 65001 }], /ASN 65001 is also site b's/],
  ] as [SiteInput[], RegExp][])("rejects an impossible plan: %#", (sites, message) => {
    expect(() => plan(sites)).toThrow(PlanError);
    expect(() => plan(sites)).toThrow(message);
  });

  test("the pool can run out, and says so", () => {
    const sites = Array.from({ length: 65 }, (_, i) => ({ name: `s${i}`, cidr: "10.0.0.0/16" }));
    expect(() => plan(sites)).toThrow(/no free \/16 is left in 100\.64\.0\.0\/10/);
  });

  test("50 overlapping sites: planned in well under a second, all translations distinct", () => {
    const sites = Array.from({ length: 50 }, (_, i) => ({ name: `site-${String(i).padStart(2, "0")}`, cidr: "10.0.1.0/24" }));
    const started = process.hrtime.bigint();
    const result = plan(sites);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    expect(ms).toBeLessThan(1000);
    const translated = result.map((s) => s.translatedCidr!);
    expect(new Set(translated).size).toBe(50);
    translated.forEach((a, i) => translated.slice(i + 1).forEach((b) => expect(cidrsOverlap(a, b)).toBe(false)));
  });
});

const PARAMS: RouterParams = routerParams(byName(SEED).singapore, 64512, IPSEC_PROFILES.modern, TEST_ENDPOINTS);
const ENDS = PARAMS.tunnels.map((t) => insideAddresses(t.insideCidr));

describe("VyOS 1.4 renderer", () => {
  const commands = renderVyosCommands(PARAMS);

  test("every line is a VyOS set command", () => {
    for (const c of commands) expect(c).toMatch(/^set (system|vpn|interfaces|protocols|policy|nat) /);
  });

  test("BGP uses 1.4's system-as, both tunnel neighbours, only the advertised prefix, with a route so it exists", () => {
    expect(commands).toContain(`set protocols bgp system-as '${PARAMS.asn}'`);
    expect(commands.some((c) => /^set protocols bgp (\d+) /.test(c))).toBe(false); // 1.3's "bgp <asn>" form
    for (const end of ENDS) {
      expect(commands).toContain(`set protocols bgp neighbor ${end.vgw} remote-as '64512'`);
      expect(commands).toContain(`set protocols bgp neighbor ${end.vgw} address-family ipv4-unicast route-map export 'EGRESSLINK-OUT'`);
    }
    expect(commands).toContain(`set protocols bgp address-family ipv4-unicast network '${PARAMS.advertised}'`);
    expect(commands).toContain(`set policy prefix-list EGRESSLINK-ADVERTISE rule 10 prefix '${PARAMS.advertised}'`);
    expect(commands).toContain(`set protocols static route ${PARAMS.advertised} blackhole distance '250'`);
    expect(commands.filter((c) => c.includes("network '"))).toHaveLength(1);
  });

  test("IPsec uses 1.4's authentication psk, initiates both tunnels as VTIs with AWS-matching groups", () => {
    PARAMS.tunnels.forEach((tunnel, i) => {
      const n = i + 1;
      expect(commands).toContain(`set vpn ipsec authentication psk tunnel${n} id '${tunnel.outsideAddress}'`);
      expect(commands).toContain(`set vpn ipsec authentication psk tunnel${n} secret '${tunnel.presharedKey}'`);
      expect(commands).toContain(`set vpn ipsec site-to-site peer tunnel${n} connection-type 'initiate'`);
      expect(commands).toContain(`set vpn ipsec site-to-site peer tunnel${n} remote-address '${tunnel.outsideAddress}'`);
      expect(commands).toContain(`set vpn ipsec site-to-site peer tunnel${n} vti bind 'vti${n}'`);
      expect(commands).toContain(`set interfaces vti vti${n} address '${ENDS[i].cgw}/30'`);
    });
    expect(commands.some((c) => c.includes("pre-shared-secret '"))).toBe(false); // 1.3's inline secret
    expect(commands).toContain("set vpn ipsec ike-group AWS key-exchange 'ikev2'");
    expect(commands).toContain("set vpn ipsec ike-group AWS proposal 1 dh-group '20'");
    expect(commands).toContain("set vpn ipsec ike-group AWS proposal 1 encryption 'aes256gcm128'");
    expect(commands).toContain("set vpn ipsec esp-group AWS pfs 'dh-group20'");
    const compatible = renderVyosCommands({ ...PARAMS, ipsec: IPSEC_PROFILES.compatible });
    expect(compatible).toContain("set vpn ipsec ike-group AWS proposal 1 encryption 'aes128'");
    expect(compatible).toContain("set vpn ipsec esp-group AWS pfs 'dh-group14'");
  });

  test("tunnel MTU and TCP MSS from AWS's figures for the profile (NAT-T)", () => {
    for (const [profile, mtu, mss] of [["modern", 1438, 1398], ["compatible", 1422, 1382]] as const) {
      const lines = renderVyosCommands({ ...PARAMS, ipsec: IPSEC_PROFILES[profile] });
      for (const n of [1, 2]) {
        expect(lines).toContain(`set interfaces vti vti${n} mtu '${mtu}'`);
        expect(lines).toContain(`set interfaces vti vti${n} ip adjust-mss '${mss}'`);
      }
    }
  });

  test("1:1 NAT: destination and source rules per tunnel interface, with 1.4's interface name syntax", () => {
    ENDS.forEach((_end, i) => {
      const rule = (i + 1) * 10;
      expect(commands).toContain(`set nat destination rule ${rule} inbound-interface name 'vti${i + 1}'`);
      expect(commands).toContain(`set nat destination rule ${rule} destination address '${PARAMS.translatedCidr}'`);
      expect(commands).toContain(`set nat destination rule ${rule} translation address '${PARAMS.realCidr}'`);
      expect(commands).toContain(`set nat source rule ${rule} outbound-interface name 'vti${i + 1}'`);
      expect(commands).toContain(`set nat source rule ${rule} translation address '${PARAMS.translatedCidr}'`);
    });
    expect(commands.some((c) => /inbound-interface '/.test(c))).toBe(false); // 1.3's form
    const untranslated = renderVyosCommands({ ...PARAMS, translatedCidr: undefined, advertised: PARAMS.realCidr });
    expect(untranslated.some((c) => c.startsWith("set nat"))).toBe(false);
  });

  test("the cloud-config is valid YAML with vyos_config_commands, under 16 KB even with long values", () => {
    const long = { ...PARAMS, tunnels: PARAMS.tunnels.map((t) => ({ ...t, presharedKey: "k".repeat(64) })) as unknown as RouterParams["tunnels"], remotePrefixes: Array.from({ length: 40 }, (_, i) => `100.64.${i}.0/24`) };
    for (const params of [PARAMS, long]) {
      const userData = renderVyosUserData(params);
      expect(userData.startsWith("#cloud-config\n")).toBe(true);
      expect(parse(userData).vyos_config_commands).toEqual(renderVyosCommands(params));
      expect(Buffer.byteLength(userData)).toBeLessThan(USER_DATA_LIMIT_BYTES);
    }
  });
});

describe("Linux renderer", () => {
  const files = renderLinuxRouter(PARAMS, TEST_ROUTER_NETWORK);

  test("swanctl: two IKEv2 connections on XFRM interface ids 1 and 2, initiating, retrying for ever, with the updown hook and no keys", () => {
    expect(files.swanctl.match(/^\s+tunnel\d \{$/gm)).toHaveLength(4); // two connections, two children
    expect(files.swanctl).toContain("if_id_in = 1");
    expect(files.swanctl).toContain("if_id_out = 2");
    expect(files.swanctl.match(/start_action = start/g)).toHaveLength(2);
    expect(files.swanctl.match(/^\s+keyingtries = 0$/gm)).toHaveLength(2);
    expect(files.swanctl.match(/^\s+updown = \/usr\/local\/libexec\/egresslink-updown$/gm)).toHaveLength(2);
    expect(files.swanctl.match(/^\s+proposals = aes256gcm16-prfsha384-ecp384$/gm)).toHaveLength(2);
    expect(files.swanctl.match(/^\s+esp_proposals = aes256gcm16-ecp384$/gm)).toHaveLength(2);
    expect(files.swanctl).not.toMatch(/secrets? \{|secret =|Example\.Psk/);
    const compatible = renderLinuxRouter({ ...PARAMS, ipsec: IPSEC_PROFILES.compatible }, TEST_ROUTER_NETWORK);
    expect(compatible.swanctl.match(/^\s+(esp_)?proposals = aes128-sha1-modp2048$/gm)).toHaveLength(4);
  });

  test("the keys come from their SSM parameters at boot, never from the rendered files", () => {
    for (const tunnel of TEST_ENDPOINTS.tunnels) {
      expect(files.secretsScript).toContain(`key '${tunnel.presharedKeyParameter}'`);
      expect(files.secretsScript).toContain(`id-1 = ${tunnel.outsideAddress}`);
    }
    expect(files.secretsScript).toContain("--with-decryption");
    const everything = JSON.stringify(files);
    for (const tunnel of TEST_ENDPOINTS.tunnels) expect(everything).not.toContain(tunnel.presharedKey);
  });

  test("FRR: both neighbours, only the advertised prefix out, only remote prefixes in", () => {
    for (const end of ENDS) expect(files.frr).toContain(` neighbor ${end.vgw} remote-as 64512`);
    expect(files.frr).toContain(`ip prefix-list egresslink-advertise seq 5 permit ${PARAMS.advertised}`);
    expect(files.frr).toContain(`  network ${PARAMS.advertised}`);
    PARAMS.remotePrefixes.forEach((p) => expect(files.frr).toContain(`permit ${p}`));
  });

  test("nftables: NETMAP both ways on the tunnel interfaces, SYNs clamped to the profile's MSS both ways, reloadable", () => {
    expect(files.nftables).toContain(`iifname { "vti1", "vti2" } ip daddr ${PARAMS.translatedCidr} dnat ip prefix to ${PARAMS.realCidr}`);
    expect(files.nftables).toContain(`oifname { "vti1", "vti2" } ip saddr ${PARAMS.realCidr} snat ip prefix to ${PARAMS.translatedCidr}`);
    expect(files.nftables).toContain(`iifname { "vti1", "vti2" } tcp flags syn tcp option maxseg size set 1398`);
    expect(files.nftables).toContain(`oifname { "vti1", "vti2" } tcp flags syn tcp option maxseg size set 1398`);
    expect(files.nftables.indexOf("delete table ip egresslink")).toBeLessThan(files.nftables.indexOf("table ip egresslink {\n"));
  });

  test("the network script: the ENI found by MAC, IKE from its address through it, tunnel interfaces with the profile's MTU, and no ignored failure", () => {
    expect(files.networkScript).toContain(`eni_mac='${TEST_ROUTER_NETWORK.eniMac}'`);
    expect(files.networkScript).toContain('ip rule add from "$eni_ip" table 100 priority 100');
    expect(files.networkScript).toContain('ip route replace default via "$gateway" dev "$dev" table 100');
    expect(files.networkScript).toContain(`ip link set "$name" mtu ${IPSEC_PROFILES.modern.tunnelMtu} up`);
    expect(files.networkScript).not.toContain("|| true");
  });

  test("systemd: the network and the keys before charon, every boot; health every minute", () => {
    expect(Object.keys(files.units).sort()).toEqual([
      "egresslink-router-health.service",
      "egresslink-router-health.timer",
      "egresslink-router-net.service",
      "egresslink-router-secrets.service",
      "strongswan.service.d/egresslink.conf",
    ]);
    expect(files.units["strongswan.service.d/egresslink.conf"]).toContain("Requires=egresslink-router-net.service egresslink-router-secrets.service");
    expect(files.units["egresslink-router-net.service"]).toMatch(/Type=oneshot[\s\S]*RemainAfterExit=yes[\s\S]*WantedBy=multi-user.target/);
    expect(files.healthScript).toContain("set-instance-health");
    expect(files.healthScript).not.toMatch(/bgp|vtysh/i); // AWS maintenance takes BGP down: not a reason to replace the router
    // A permanent IKE error ends keyingtries' retries: tunnels without an IKE SA are started again every minute.
    expect(files.healthScript).toContain('swanctl --initiate --child "$tunnel" --timeout 20');
  });

  test("the user data installs Debian's packages and enables the units; runcmd does no network setup", () => {
    const doc = parse(renderLinuxRouterUserData(PARAMS, TEST_ROUTER_NETWORK));
    expect(doc.packages).toEqual(expect.arrayContaining(["strongswan-swanctl", "charon-systemd", "libstrongswan-standard-plugins", "frr", "nftables"]));
    expect(doc.packages).not.toContain("strongswan");
    const runcmd = JSON.stringify(doc.runcmd);
    expect(runcmd).toContain("egresslink-router-net.service");
    expect(runcmd).not.toMatch(/"ip"|"nft"|egresslink-router-net"\]/);
    expect(doc.write_files.map((f: { path: string }) => f.path)).toEqual(expect.arrayContaining(["/etc/systemd/system/egresslink-router-net.service", "/usr/local/sbin/egresslink-install-ssm-agent"]));
    // networkd would otherwise remove the policy rule and site routes whenever it restarts.
    expect(doc.write_files.find((f: { path: string }) => f.path === "/etc/systemd/networkd.conf.d/egresslink.conf").content).toBe("[Network]\nManageForeignRoutingPolicyRules=no\nManageForeignRoutes=no\n");
    expect(files.healthScript).toContain('ip rule show priority 100 | grep -q "lookup 100"');
  });

  programTest("the ruleset parses in nft (check mode)", () => {
    const nft = requireProgram("nft");
    const result = spawnSync(nft, ["-c", "-f", "-"], { input: files.nftables, encoding: "utf8" });
    expect([result.status, result.stderr]).toEqual([0, ""]);
  });
});

describe("examples/interconnect.yaml synthesized", () => {
  const config = loadConfigFile(join(ROOT, "examples", "interconnect.yaml"));
  const { json } = synthConfig(config);
  const tf = json.interconnect;
  const sites = Object.fromEntries(config.interconnect!.sites.map((s) => [s.name, s]));

  test("one provider per Region: the Transit Gateway's, and an alias for each site Region", () => {
    const providers = tf.provider?.aws as { region: string; alias?: string }[];
    expect(providers.map((p) => [p.region, p.alias ?? null]).sort()).toEqual([
      ["ap-southeast-1", "ap_southeast_1"],
      ["eu-central-1", "eu_central_1"],
      ["us-east-1", "us_east_1"],
      ["us-west-2", null],
    ]);
    expect(tf.terraform?.backend?.s3).toMatchObject({ key: "egresslink/interconnect.tfstate", use_lockfile: true });
  });

  test("the Transit Gateway: its own route table, no default association or propagation, ECMP for VPN", () => {
    expect(resourceAt(tf, "aws_ec2_transit_gateway", "interconnect/transit-gateway")).toMatchObject({
      amazon_side_asn: 64512,
      default_route_table_association: "disable",
      default_route_table_propagation: "disable",
      vpn_ecmp_support: "enable",
    });
    expect(resourceAt(tf, "aws_ec2_transit_gateway_route_table", "interconnect/route-table").transit_gateway_id).toBe(ref(addressAt(tf, "aws_ec2_transit_gateway", "interconnect/transit-gateway"), "id"));
  });

  test.each(["singapore", "virginia", "frankfurt"])("%s: customer gateway on the router's EIP, VPN with pinned tunnels and BGP, associated and propagated", (name) => {
    const at = (type: string, id: string) => addressAt(tf, type, `site-${name}/${id}`);
    const eip = at("aws_eip", "router-eip");
    const eni = at("aws_network_interface", "router-eni");
    expect(resourceAt(tf, "aws_eip", `site-${name}/router-eip`)).toMatchObject({ domain: "vpc", network_interface: ref(eni, "id"), provider: `aws.${sites[name].region.replace(/-/g, "_")}` });
    expect(resourceAt(tf, "aws_network_interface", `site-${name}/router-eni`)).toMatchObject({ source_dest_check: false, security_groups: [ref(at("aws_security_group", "router-sg"), "id")] });
    expect(resourceAt(tf, "aws_customer_gateway", `site-${name}/customer-gateway`)).toMatchObject({ bgp_asn: String(sites[name].plan.asn), ip_address: ref(eip, "public_ip"), type: "ipsec.1" });
    const vpn = resourceAt(tf, "aws_vpn_connection", `site-${name}/vpn`);
    expect(vpn).toMatchObject({
      customer_gateway_id: ref(at("aws_customer_gateway", "customer-gateway"), "id"),
      transit_gateway_id: ref(addressAt(tf, "aws_ec2_transit_gateway", "interconnect/transit-gateway"), "id"),
      static_routes_only: false,
      tunnel1_inside_cidr: sites[name].plan.tunnelInsideCidrs[0],
      tunnel2_inside_cidr: sites[name].plan.tunnelInsideCidrs[1],
      tunnel1_ike_versions: ["ikev2"],
      tunnel1_phase1_encryption_algorithms: ["AES256-GCM-16"],
      tunnel1_phase1_integrity_algorithms: ["SHA2-384"],
      tunnel2_phase1_dh_group_numbers: [20],
      tunnel2_phase2_encryption_algorithms: ["AES256-GCM-16"],
      tunnel2_phase2_dh_group_numbers: [20],
    });
    // The VPN lives with the Transit Gateway (the stack's own provider), the router side in the site's Region.
    expect(vpn.provider).toBe("aws");
    for (const kind of ["association", "propagation"]) {
      expect(resourceAt(tf, `aws_ec2_transit_gateway_route_table_${kind}`, `site-${name}/${kind}`)).toMatchObject({
        transit_gateway_attachment_id: ref(at("aws_vpn_connection", "vpn"), "transit_gateway_attachment_id"),
        transit_gateway_route_table_id: ref(addressAt(tf, "aws_ec2_transit_gateway_route_table", "interconnect/route-table"), "id"),
      });
    }
  });

  test("router security groups admit IKE, NAT-T and ESP only from the two tunnel endpoints", () => {
    const vpn = addressAt(tf, "aws_vpn_connection", "site-singapore/vpn");
    const sg = ref(addressAt(tf, "aws_security_group", "site-singapore/router-sg"), "id");
    const ingress = Object.values(resources(tf, "aws_vpc_security_group_ingress_rule")).filter((r) => r.security_group_id === sg);
    const fromTunnels = ingress.filter((r) => r.cidr_ipv4 !== "10.0.1.0/24");
    expect(fromTunnels.map((r) => [r.ip_protocol, r.from_port ?? null, r.cidr_ipv4]).sort()).toEqual(
      [
        ["udp", 500, `${ref(vpn, "tunnel1_address")}/32`],
        ["udp", 4500, `${ref(vpn, "tunnel1_address")}/32`],
        ["50", null, `${ref(vpn, "tunnel1_address")}/32`],
        ["udp", 500, `${ref(vpn, "tunnel2_address")}/32`],
        ["udp", 4500, `${ref(vpn, "tunnel2_address")}/32`],
        ["50", null, `${ref(vpn, "tunnel2_address")}/32`],
      ].sort(),
    );
    expect(ingress.some((r) => r.cidr_ipv4 === "0.0.0.0/0")).toBe(false);
  });

  test("a new site's router EIP waits for the site's internet gateway (EC2 refuses to associate an EIP in a VPC without one)", () => {
    const newSites = Object.entries(sites).filter(([, site]) => site.vpc.kind === "new");
    expect(newSites.length).toBeGreaterThan(0);
    for (const [name] of newSites) {
      const igw = addressAt(tf, "aws_internet_gateway", `site-${name}/network/igw`);
      expect(resourceAt(tf, "aws_eip", `site-${name}/router-eip`).depends_on).toEqual([igw]);
    }
    for (const [name] of Object.entries(sites).filter(([, site]) => site.vpc.kind === "existing")) {
      expect(resourceAt(tf, "aws_eip", `site-${name}/router-eip`).depends_on).toBeUndefined();
    }
  });

  test("Linux router: Debian 12, a public address on its own interface for the boot path, an Auto Scaling group of one", () => {
    expect(resourceAt(tf, "aws_autoscaling_group", "site-singapore/router-asg")).toMatchObject({ min_size: 1, max_size: 1, vpc_zone_identifier: [ref(addressAt(tf, "aws_subnet", "site-singapore/network/public-az1"), "id")] });
    const lt = resourceAt(tf, "aws_launch_template", "site-singapore/router-template");
    expect(lt.metadata_options).toMatchObject({ http_tokens: "required" });
    expect(lt.network_interfaces).toEqual([{ device_index: 0, associate_public_ip_address: "true", security_groups: [ref(addressAt(tf, "aws_security_group", "site-singapore/router-sg"), "id")], delete_on_termination: "true" }]);
    expect(lt.vpc_security_group_ids).toBeUndefined();
    const amis = Object.entries(tf.data?.aws_ami ?? {}).filter(([name]) => name.includes("_site-singapore_router-ami_"));
    expect(amis).toHaveLength(1);
    expect(lt.image_id).toBe(ref(`data.aws_ami.${amis[0][0]}`, "id"));
    expect(lt.lifecycle).toEqual({ ignore_changes: ["image_id"] });
    // t4g.small: Graviton, so arm64.
    expect(amis[0][1]).toMatchObject({ owners: ["136693071363"], most_recent: true, filter: [{ name: "name", values: ["debian-12-arm64-*"] }, { name: "architecture", values: ["arm64"] }] });
    expect(lt.user_data).toMatch(/^\$\{base64encode\("#cloud-config\\n/);
    expect(lt.user_data).toContain(ref(addressAt(tf, "aws_network_interface", "site-singapore/router-eni"), "mac_address"));
    // Egress for the boot path: HTTPS (SSM, EC2, Auto Scaling, the SSM Agent package) and HTTP (Debian's signed mirrors); nothing comes in from the internet.
    const sg = ref(addressAt(tf, "aws_security_group", "site-singapore/router-sg"), "id");
    const egress = Object.values(resources(tf, "aws_vpc_security_group_egress_rule")).filter((r) => r.security_group_id === sg && r.cidr_ipv4 === "0.0.0.0/0");
    expect(egress.map((r) => r.from_port).sort()).toEqual([443, 80]);
  });

  test("tunnel keys: SecureString parameters the site's router role alone may read; no key in user data, launch templates or outputs", () => {
    for (const [name, site] of Object.entries(sites)) {
      const vpn = addressAt(tf, "aws_vpn_connection", `site-${name}/vpn`);
      for (const n of [1, 2]) {
        expect(resourceAt(tf, "aws_ssm_parameter", `site-${name}/tunnel${n}-key`)).toMatchObject({
          name: `/egresslink/${config.name}/interconnect/${name}/tunnel${n}-psk`,
          type: "SecureString",
          value: ref(vpn, `tunnel${n}_preshared_key`),
        });
      }
      if (site.router !== "linux") continue;
      const policy = Object.entries(tf.data?.aws_iam_policy_document ?? {}).find(([key]) => key.startsWith(`site-${name}_router-policy`.replace(/-/g, "_")) || key.includes(`site-${name}_router-policy`))?.[1] as { statement: { sid: string; actions: string[]; resources: string[] }[] } | undefined;
      const statements = policy?.statement ?? [];
      const keys = [1, 2].map((n) => ref(addressAt(tf, "aws_ssm_parameter", `site-${name}/tunnel${n}-key`), "arn"));
      expect(statements.filter((s) => s.actions.some((a) => a.startsWith("ssm:")))).toEqual([expect.objectContaining({ sid: "ReadTunnelKeys", actions: ["ssm:GetParameter"], resources: keys })]);
      expect(statements.find((s) => s.sid === "ReportOwnHealth")).toMatchObject({ actions: ["autoscaling:SetInstanceHealth"], resources: [expect.stringMatching(new RegExp(`:autoScalingGroupName/${config.name}-${name}-router$`))] });
    }
    for (const lt of Object.values(resources(tf, "aws_launch_template"))) expect(lt.user_data).not.toMatch(/preshared_key/);
    expect(JSON.stringify(tf.output)).not.toMatch(/preshared|secret/i);
  });

  test("VyOS router: on its ENI with automatic recovery, replaced (ENI and EIP kept) when its configuration changes", () => {
    const vyos = resourceAt(tf, "aws_instance", "site-virginia/router");
    expect(vyos).toMatchObject({
      ami: "ami-0123456789abcdef0",
      primary_network_interface: { network_interface_id: ref(addressAt(tf, "aws_network_interface", "site-virginia/router-eni"), "id") },
      maintenance_options: { auto_recovery: "default" },
      metadata_options: { http_tokens: "required" },
      user_data_replace_on_change: true,
    });
    expect(parse(vyos.user_data).vyos_config_commands).toContain(`set protocols bgp system-as '${sites.virginia.plan.asn}'`);
  });

  test("ipsecProfile: compatible puts egresslink 0.1's proposals on every tunnel", () => {
    const data = parse(readFileSync(join(ROOT, "examples", "interconnect.yaml"), "utf8"));
    data.interconnect.ipsecProfile = "compatible";
    const vpn = resourceAt(synthConfig(configFrom(data)).json.interconnect, "aws_vpn_connection", "site-singapore/vpn");
    expect(vpn).toMatchObject({ tunnel1_phase1_encryption_algorithms: ["AES128"], tunnel2_phase2_integrity_algorithms: ["SHA1"], tunnel1_phase2_dh_group_numbers: [14] });
  });

  test("each site routes the other sites' advertised prefixes to its router's ENI", () => {
    const eni = ref(addressAt(tf, "aws_network_interface", "site-singapore/router-eni"), "id");
    const routes = Object.values(resources(tf, "aws_route")).filter((r) => r.network_interface_id === eni);
    expect(routes.map((r) => r.destination_cidr_block).sort()).toEqual([...sites.singapore.plan.routes, ...sites.singapore.plan.routes].sort());
    expect(routes.map((r) => r.destination_cidr_block)).not.toContain("10.0.1.0/24");
    expect(addressAt(tf, "aws_route", "site-singapore/route-private-to-virginia")).toBeDefined();
  });

  test("outputs: the Transit Gateway and the sites, no keys", () => {
    expect(Object.keys(tf.output ?? {}).sort()).toEqual(["sites", "transit_gateway_id"]);
  });
});
