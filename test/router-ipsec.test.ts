import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { insideAddresses, planInterconnect, type SitePlan } from "../modules/interconnect/planner";
import { IPSEC_PROFILES, routerParams, TUNNEL_INTERFACES, type IpsecProfile, type RouterEndpoints } from "../modules/interconnect/router-config";
import { renderLinuxRouter, ROUTER_PATHS } from "../modules/interconnect/router-linux";
import { TEST_ROUTER_NETWORK } from "./helpers";
import { programDescribe, requireProgram, requireRoot, stopChild, stopPidFiles, substituteExactly, waitUntil, writeStubAws } from "./helpers-programs";

/**
 * Real IKEv2 and ESP between the rendered Linux router and an AWS-like peer, in network namespaces.
 *
 * Topology (all addresses from documentation or benchmarking ranges; nothing leaves the namespaces):
 *
 *   host-a 10.0.1.10 ── vpc-a ── rtr-a (ENI 192.0.2.10)            aws (203.0.113.11, 203.0.113.12) ── rtr-b ── host-b 10.0.1.10
 *                       │ VPC router: B's translated prefix -> ENI     responder charon + FRR "Transit Gateway" (AS 64512)
 *                       │ IGW: 1:1 NAT ENI 192.0.2.10 <-> EIP 198.51.100.10 ── 198.18.0.0/30 ── aws
 *
 * - rtr-a is the rendered router: swanctl.conf and the keys the rendered secrets script writes
 *   (from a stand-in `aws`), FRR (zebra, staticd, bgpd) with the rendered frr.conf, the rendered
 *   sysctls and nftables. Its network is what the network script builds (router-boot.test.ts runs
 *   that script), made by hand: the ENI address, policy routing of the ENI's address (table 100,
 *   the only way to the internet here), the site route via the subnet gateway.
 * - vpc-a is site A's VPC router and internet gateway: it routes B's translated prefix to the ENI
 *   (the stack's VPC route) and does the Elastic IP's 1:1 NAT, so the router's IKE identity (its
 *   EIP) differs from its local address and NAT-T is negotiated, as on EC2.
 * - aws plays both AWS VPN endpoints of the connection in one responder charon, set up as AWS's
 *   endpoints are for our tunnel options: the same IPSEC_PROFILES entry, one PSK per tunnel,
 *   identities = outside addresses and the customer gateway's EIP, 0.0.0.0/0 selectors, lifetimes
 *   28800 s / 3600 s, replay window 1024, DPD every 10 s with action clear, and responder only (no
 *   start_action: AWS's startup action "add"). Its FRR is the Transit Gateway (AS 64512) peering
 *   with the router over the tunnel inside addresses from the plan. It also offers site B's real
 *   prefix (a control for the router's inbound filter).
 * - Site B is as small as the assertions allow: rtr-b runs site B's rendered nftables (1:1 NAT)
 *   and sysctls behind a veth named vti1 carrying B's tunnel-1 inside /30 (the router-netns.test.ts
 *   stand-in); the TGW's FRR routes B's translated prefix to it statically and advertises it.
 * - ctl-r / ctl-aws: a second router/responder pair for the controls (no NAT between them: the
 *   control responder expects the router's private address).
 * - "Started late": both routers boot while the AWS side is absent and fail their first attempts;
 *   then the responders start, load their configuration while their namespace drops IKE (an
 *   unconfigured charon answers NO_PROPOSAL_CHOSEN, which a router takes as final), and IKE is let
 *   in; the Transit Gateway's FRR starts with them.
 *
 * Substitutions (kernel-libipsec: the kernel here has no ESP and no XFRM interfaces, FACTS.md):
 * - charon-systemd (the router's daemon; it writes no pid file, so several run at once) reads the
 *   test's strongswan.conf: an explicit plugin list with kernel-libipsec (userspace ESP over one
 *   TUN device, `ipsec0`, always UDP-encapsulated), its own vici socket and log file, and short
 *   retransmits (`retransmit_tries = 2`, `retransmit_timeout = 0.5`, `retransmit_base = 1.4`: an
 *   attempt gives up after about 2.2 s instead of about 165 s).
 * - kernel-libipsec ignores `if_id` and installs a route through its TUN for every outbound policy
 *   (it does not honour install_routes) into charon's table 220: the test deletes charon's rule for
 *   table 220, so those routes are never used and FRR's routes decide, as with if_id on the router.
 * - Tunnel 1's interface is the TUN: it keeps its name `ipsec0` (kernel-libipsec routes through it
 *   by that name and fails the CHILD_SA if it is renamed), holds tunnel 1's inside address and
 *   libipsec's MTU (1400; its read buffer is sized by it). So `"vti1"` becomes `"ipsec0"` in the
 *   rendered nftables (6 times) and in the updown hook (`1) link=vti1`). Tunnel 2's interface vti2
 *   is an ifb stand-in (carries nothing) with its inside address, down until the updown hook runs.
 * - swanctl.conf: the updown path points at a copy of the rendered hook (2 times); for the
 *   keyingtries control, `keyingtries = 0` becomes `keyingtries = 1` (2 times).
 * - The secrets script writes into the test's conf.d (its path, 2 times), from a stand-in `aws`.
 *
 * Only checkable statically here (see the static test): each tunnel's if_id binding to its own
 * XFRM interface (libipsec has one SPD and one TUN; which CHILD_SA carries a packet is not chosen by
 * if_id), two independent tunnel interfaces (tunnel 2's SAs establish but nothing routes through
 * them, so its BGP session stays down and ECMP over both tunnels is not exercised), the XFRM
 * interfaces' MTU (1438) and the MSS clamp's fit to it, the network script's `ip link add ... type
 * xfrm dev "$dev" if_id` (router-boot.test.ts), and the updown hook taking an interface down with its
 * SA (router-boot.test.ts runs the hook; here charon runs it for up-client only).
 *
 * Every wait is bounded; afterAll stops every process, namespace and temp file the suite made.
 */
const TGW_ASN = 64512;
const PROFILE = IPSEC_PROFILES.modern;
const sites = planInterconnect({ transitGatewayAsn: TGW_ASN, sites: ["site-a", "site-b"].map((name) => ({ name, cidr: "10.0.1.0/24" })) });
const planOf = (name: string) => sites.find((p) => p.name === name) as SitePlan;
const [A, B] = [planOf("site-a"), planOf("site-b")];
const ENI_IP = "192.0.2.10";
const SUBNET_GATEWAY = "192.0.2.1";
const EIP = "198.51.100.10";
const ENDPOINTS: RouterEndpoints = {
  localAddress: ENI_IP,
  publicIp: EIP,
  tunnels: [
    { outsideAddress: "203.0.113.11", presharedKey: "Ipsec.Test_Tunnel1", presharedKeyParameter: "/egresslink/test/site-a/tunnel1-psk" },
    { outsideAddress: "203.0.113.12", presharedKey: "Ipsec.Test_Tunnel2", presharedKeyParameter: "/egresslink/test/site-a/tunnel2-psk" },
  ],
};
const params = routerParams(A, TGW_ASN, PROFILE, ENDPOINTS);
const files = renderLinuxRouter(params, TEST_ROUTER_NETWORK);
const [inside1, inside2] = A.tunnelInsideCidrs.map(insideAddresses);
const insideB1 = insideAddresses(B.tunnelInsideCidrs[0]);
const TEST_PORT = 7000;
/** Milliseconds as seconds, for the report. */
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
/** The n-th host of a /24. */
const hostIn = (cidr: string, n: number) => cidr.replace(/\.0\/24$/, `.${n}`);
/** One IKE_SA_INIT attempt with the test's retransmits (0.5 s + 0.7 s + 0.98 s): the unit of the windows in which something must not happen. */
const ATTEMPT_MS = 2180;
const CHARON_SYSTEMD = "/usr/sbin/charon-systemd";
const LIBIPSEC_PLUGIN = "/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so";
const XFRM_LINK = 'ip link add "$name" type xfrm dev "$dev" if_id "$if_id"';

/** What the suite saw, one line per topic, printed by afterAll (for the issue note). */
const report: string[] = [];

programDescribe("the rendered router with real IKEv2 and ESP (strongSwan kernel-libipsec) against an AWS-like peer", () => {
  const ip = requireProgram("ip");
  const nft = requireProgram("nft");
  const swanctl = requireProgram("swanctl");
  const vtysh = requireProgram("vtysh");
  const sysctl = requireProgram("sysctl");
  for (const path of [CHARON_SYSTEMD, LIBIPSEC_PLUGIN, ...["zebra", "staticd", "bgpd"].map((d) => `/usr/lib/frr/${d}`)]) {
    if (!existsSync(path)) throw new Error(`${path} is not installed (charon-systemd, libcharon-extra-plugins, frr: see .ci/run)`);
  }
  requireRoot();

  const tag = `${process.pid % 100000}`;
  const ns = (role: string) => `egli-${role}-${tag}`;
  const pathspace = (role: string) => `egli${role}${tag}`;
  const roles = ["host-a", "vpc-a", "rtr-a", "aws", "rtr-b", "host-b", "ctl-r", "ctl-aws"];
  const made: string[] = [];
  const frrRoles: string[] = [];
  const children: ChildProcess[] = [];
  // Made in beforeAll: the fast tier collects this suite without running it.
  let dir = "";
  let started = 0;
  let links = 0;
  let responderUp = 0;
  let attemptsBeforeResponder = 0;

  const run = (args: string[], timeout = 15_000) => spawnSync(args[0], args.slice(1), { encoding: "utf8", timeout });
  const must = (args: string[]) => {
    const r = run(args);
    if (r.status !== 0) throw new Error(`${args.join(" ")} exited ${r.status}: ${r.stderr}`);
    return r.stdout;
  };
  const inNs = (role: string, args: string[]) => must([ip, "netns", "exec", ns(role), ...args]);
  const json = <T>(role: string, args: string[]): T => JSON.parse(inNs(role, [ip, "-j", ...args]) || "[]");
  /** A veth pair between two namespaces; an address is optional on either side. */
  const veth = (a: string, aName: string, aAddr: string | undefined, b: string, bName: string, bAddr: string | undefined) => {
    const [ta, tb] = [`ei${tag}l${links}a`, `ei${tag}l${links++}b`];
    must([ip, "link", "add", ta, "type", "veth", "peer", "name", tb]);
    for (const [role, tmp, name, addr] of [[a, ta, aName, aAddr], [b, tb, bName, bAddr]] as const) {
      must([ip, "link", "set", tmp, "netns", ns(role)]);
      inNs(role, [ip, "link", "set", tmp, "name", name]);
      if (addr) inNs(role, [ip, "addr", "add", addr, "dev", name]);
      inNs(role, [ip, "link", "set", name, "up"]);
    }
  };
  const sysctls = (role: string, text: string) => {
    for (const line of text.split("\n").filter((l) => l.includes("="))) inNs(role, [sysctl, "-q", "-w", line.replace(/\s/g, "")]);
  };
  const nftFile = (role: string, name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    inNs(role, [nft, "-f", join(dir, name)]);
  };
  /** FRR's zebra, staticd and bgpd in a namespace, with their own pathspace (vty sockets) and pid files. */
  const startFrr = (role: string, config: string) => {
    const conf = join(dir, `frr-${role}`);
    const runDir = `/var/run/frr/${pathspace(role)}`;
    mkdirSync(conf);
    mkdirSync(runDir, { recursive: true });
    writeFileSync(join(conf, "frr.conf"), config);
    const frr = { uid: Number(must(["id", "-u", "frr"]).trim()), gid: Number(must(["id", "-g", "frr"]).trim()) };
    for (const path of [conf, join(conf, "frr.conf"), runDir]) chownSync(path, frr.uid, frr.gid);
    frrRoles.push(role);
    for (const daemon of ["zebra", "staticd", "bgpd"]) inNs(role, [`/usr/lib/frr/${daemon}`, "-d", "-N", pathspace(role), "-f", join(conf, "frr.conf"), "-i", join(conf, `${daemon}.pid`)]);
  };
  const vty = (role: string, command: string) => JSON.parse(inNs(role, [vtysh, "-N", pathspace(role), "-c", command]));
  const bgpRoutes = (role: string) => json<{ dst: string }[]>(role, ["route", "show", "proto", "bgp"]).map((r) => r.dst).sort();

  // --- strongSwan -------------------------------------------------------------------------------
  const charonDir = (role: string) => join(dir, `charon-${role}`);
  const uri = (role: string) => `unix://${join(charonDir(role), "charon.vici")}`;
  const charonLog = (role: string) => {
    const file = join(charonDir(role), "charon.log");
    return existsSync(file) ? readFileSync(file, "utf8") : "";
  };
  const count = (text: string, pattern: RegExp) => (text.match(new RegExp(pattern.source, "g")) ?? []).length;
  const swan = (role: string, args: string[]) => run([ip, "netns", "exec", ns(role), swanctl, ...args, "--uri", uri(role)], 20_000);
  const mustSwan = (role: string, args: string[]) => {
    const r = swan(role, args);
    if (r.status !== 0) throw new Error(`swanctl ${args.join(" ")} in ${role} exited ${r.status}: ${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  const sas = (role: string) => parseListSas(mustSwan(role, ["--list-sas", "--raw"]));

  /** Starts charon-systemd with the test's strongswan.conf (see the header), and removes its table-220 rule. */
  const startCharon = async (role: string) => {
    mkdirSync(charonDir(role), { recursive: true });
    writeFileSync(join(charonDir(role), "strongswan.conf"), strongswanConf(charonDir(role)));
    const child = spawn(ip, ["netns", "exec", ns(role), CHARON_SYSTEMD], {
      env: { ...process.env, PATH: `/usr/sbin:/usr/bin:/sbin:/bin`, STRONGSWAN_CONF: join(charonDir(role), "strongswan.conf") },
      stdio: "ignore",
    });
    children.push(child);
    await waitUntil(`charon's vici socket in ${role}`, 10_000, () => existsSync(join(charonDir(role), "charon.vici")) || child.exitCode !== null, 50);
    if (child.exitCode !== null) throw new Error(`charon-systemd in ${role} exited ${child.exitCode}:\n${charonLog(role)}`);
    // kernel-netlink adds the rule at start-up, before vici listens.
    expect(inNs(role, [ip, "rule", "show", "table", "220"])).toMatch(/^220:\s+from all lookup 220/m);
    inNs(role, [ip, "rule", "del", "table", "220"]);
  };

  /** The router's swanctl files in `role`'s folder: connections (substituted as the header says) and the keys from the rendered secrets script. */
  const writeRouterSwanctl = (role: string, swanctlConf: string, extra: [string, string, number][] = []) => {
    const confDir = join(charonDir(role), "conf.d");
    mkdirSync(confDir, { recursive: true });
    writeFileSync(join(confDir, "egresslink.conf"), substituteExactly(swanctlConf, [[`updown = ${ROUTER_PATHS.updown}\n`, `updown = ${join(dir, "updown")}\n`, 2], ...extra]));
    const stub = writeStubAws(join(charonDir(role), "aws"), Object.fromEntries(ENDPOINTS.tunnels.map((t) => [t.presharedKeyParameter, t.presharedKey])));
    const script = join(charonDir(role), "secrets.sh");
    writeFileSync(script, substituteExactly(files.secretsScript, [[ROUTER_PATHS.secrets, join(confDir, "egresslink-secrets.conf"), 2]]));
    const secrets = spawnSync("bash", [script], { encoding: "utf8", timeout: 15_000, env: { ...process.env, PATH: `${stub.binDir}:${process.env.PATH}` } });
    if (secrets.status !== 0) throw new Error(`the secrets script failed: ${secrets.stderr}`);
    writeFileSync(join(charonDir(role), "swanctl.conf"), "include conf.d/*.conf\n");
    return join(charonDir(role), "swanctl.conf");
  };
  /** The AWS side's configuration, for a customer gateway seen at `peer`. */
  const writeResponderSwanctl = (role: string, peer: string) => {
    const file = join(charonDir(role), "swanctl.conf");
    writeFileSync(file, renderAwsEndpoints(PROFILE, ENDPOINTS, peer));
    return file;
  };
  /** Drops IKE in `role` until the responder has its configuration: an unconfigured charon answers NO_PROPOSAL_CHOSEN, which the router treats as final. */
  const closeIke = (role: string) => inNs(role, [nft, "add table ip egresslink-gate; add chain ip egresslink-gate input { type filter hook input priority 0; policy accept; }; add rule ip egresslink-gate input udp dport { 500, 4500 } drop"]);
  const openIke = (role: string) => inNs(role, [nft, "delete", "table", "ip", "egresslink-gate"]);

  const linkUp = (role: string, name: string) => json<{ flags: string[] }[]>(role, ["link", "show", name])[0].flags.includes("UP");
  const established = (role: string) => {
    const list = sas(role);
    return list.length === 2 && list.every((sa) => sa.state === "ESTABLISHED" && Object.values(sa.children).some((c) => c.state === "INSTALLED"));
  };

  beforeAll(async () => {
    started = Date.now();
    dir = mkdtempSync(join(tmpdir(), "egresslink-ipsec-"));
    chmodSync(dir, 0o755);
    for (const role of roles) {
      must([ip, "netns", "add", ns(role)]);
      made.push(ns(role));
      inNs(role, [ip, "link", "set", "lo", "up"]);
    }
    // The AWS endpoints answer nothing until their responder is configured (see closeIke).
    closeIke("aws");
    closeIke("ctl-aws");

    // Site A: host, VPC router + internet gateway (EIP NAT), router ENI.
    veth("host-a", "lan0", "10.0.1.10/24", "vpc-a", "hosts", "10.0.1.1/24");
    inNs("host-a", [ip, "route", "add", "default", "via", "10.0.1.1"]);
    veth("rtr-a", "eni0", `${ENI_IP}/24`, "vpc-a", "rsub", `${SUBNET_GATEWAY}/24`);
    veth("vpc-a", "wan", "198.18.0.1/30", "aws", "wan", "198.18.0.2/30");
    inNs("vpc-a", [ip, "route", "add", B.translatedCidr!, "via", ENI_IP]);
    inNs("vpc-a", [ip, "route", "add", "203.0.113.0/24", "via", "198.18.0.2"]);
    sysctls("vpc-a", "net.ipv4.ip_forward = 1");
    nftFile("vpc-a", "igw.nft", `table ip igw {\n  chain prerouting { type nat hook prerouting priority dstnat; policy accept; iifname "wan" ip daddr ${EIP} dnat to ${ENI_IP}; }\n  chain postrouting { type nat hook postrouting priority srcnat; policy accept; oifname "wan" ip saddr ${ENI_IP} snat to ${EIP}; }\n}\n`);
    // The router's network as the network script leaves it: IKE and ESP from the ENI's address use table 100.
    inNs("rtr-a", [ip, "rule", "add", "from", ENI_IP, "table", "100", "priority", "100"]);
    inNs("rtr-a", [ip, "route", "add", "default", "via", SUBNET_GATEWAY, "dev", "eni0", "table", "100"]);
    inNs("rtr-a", [ip, "route", "add", A.realCidr, "via", SUBNET_GATEWAY, "dev", "eni0", "metric", "50"]);
    // Tunnel 2's stand-in: it carries nothing; down until the updown hook sees tunnel 2's CHILD_SA (if_id 2).
    inNs("rtr-a", [ip, "link", "add", "vti2", "type", "ifb"]);
    inNs("rtr-a", [ip, "addr", "add", `${inside2.cgw}/${inside2.prefixLength}`, "dev", "vti2"]);
    expect(linkUp("rtr-a", "vti2")).toBe(false);
    sysctls("rtr-a", files.sysctl);
    nftFile("rtr-a", "router-a.nft", substituteExactly(files.nftables, [['"vti1"', '"ipsec0"', 6]]));
    writeFileSync(join(dir, "updown"), substituteExactly(files.updown, [["  1) link=vti1 ;;", "  1) link=ipsec0 ;;", 1]]), { mode: 0o755 });

    // The AWS side: both outside addresses, the route to the EIP; site B behind it.
    for (const t of ENDPOINTS.tunnels) inNs("aws", [ip, "addr", "add", `${t.outsideAddress}/32`, "dev", "wan"]);
    inNs("aws", [ip, "route", "add", `${EIP}/32`, "via", "198.18.0.1"]);
    sysctls("aws", "net.ipv4.ip_forward = 1");
    veth("aws", "site-b", `${insideB1.vgw}/30`, "rtr-b", "vti1", `${insideB1.cgw}/30`);
    veth("rtr-b", "lan0", "10.0.1.1/24", "host-b", "lan0", "10.0.1.10/24");
    inNs("host-b", [ip, "route", "add", "default", "via", "10.0.1.1"]);
    inNs("rtr-b", [ip, "route", "add", "default", "via", insideB1.vgw]);
    const filesB = renderLinuxRouter(routerParams(B, TGW_ASN, PROFILE, ENDPOINTS), TEST_ROUTER_NETWORK);
    sysctls("rtr-b", filesB.sysctl);
    nftFile("rtr-b", "router-b.nft", filesB.nftables);

    // The control pair, without NAT.
    veth("ctl-r", "eni0", `${ENI_IP}/24`, "ctl-aws", "wan", `${SUBNET_GATEWAY}/24`);
    inNs("ctl-r", [ip, "route", "add", "default", "via", SUBNET_GATEWAY]);
    for (const t of ENDPOINTS.tunnels) inNs("ctl-aws", [ip, "addr", "add", `${t.outsideAddress}/32`, "dev", "wan"]);

    // Site B's host answers with the address it sees.
    const server = spawn(ip, ["netns", "exec", ns("host-b"), process.execPath, "-e", `require("net").createServer((s) => s.end(s.remoteAddress + "\\n")).listen(${TEST_PORT}, "0.0.0.0", () => console.log("ready"))`], { stdio: ["ignore", "pipe", "inherit"] });
    children.push(server);
    let ready = false;
    server.stdout!.on("data", (d) => (ready ||= String(d).includes("ready")));
    await waitUntil("the TCP echo server in site B", 10_000, () => ready, 50);

    // Boot: router A's FRR, then charon with the rendered connections (start_action = start initiates both).
    startFrr("rtr-a", files.frr);
    await startCharon("rtr-a");
    inNs("rtr-a", [ip, "addr", "add", `${inside1.cgw}/${inside1.prefixLength}`, "dev", "ipsec0"]);
    mustSwan("rtr-a", ["--load-all", "--file", writeRouterSwanctl("rtr-a", files.swanctl)]);
    await startCharon("ctl-r");
    mustSwan("ctl-r", ["--load-all", "--file", writeRouterSwanctl("ctl-r", files.swanctl, [["keyingtries = 0\n", "keyingtries = 1\n", 2]])]);

    // Both routers' first attempts fail: the AWS side is not there yet.
    await waitUntil("the rendered router's first attempts to fail", 15_000, () => count(charonLog("rtr-a"), /peer not responding, trying again/) >= 2);
    await waitUntil("the keyingtries = 1 router to give up", 15_000, () => count(charonLog("ctl-r"), /establishing IKE_SA failed, peer not responding/) === 2);

    // The AWS side comes up: responders (configured before IKE is let in) and the Transit Gateway's BGP.
    for (const role of ["aws", "ctl-aws"]) await startCharon(role);
    inNs("aws", [ip, "addr", "add", `${inside1.vgw}/${inside1.prefixLength}`, "dev", "ipsec0"]);
    mustSwan("aws", ["--load-all", "--file", writeResponderSwanctl("aws", EIP)]);
    mustSwan("ctl-aws", ["--load-all", "--file", writeResponderSwanctl("ctl-aws", ENI_IP)]);
    startFrr("aws", transitGatewayFrr());
    attemptsBeforeResponder = count(charonLog("rtr-a"), /initiating IKE_SA tunnel\d/);
    openIke("aws");
    openIke("ctl-aws");
    responderUp = Date.now();
    report.push(`setup: ${seconds(responderUp - started)} to the responders' start, including the routers' failed first attempts`);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(children.map((child) => stopChild(child)));
    await stopPidFiles(frrRoles.flatMap((role) => ["bgpd", "staticd", "zebra"].map((d) => join(dir, `frr-${role}`, `${d}.pid`))));
    for (const role of frrRoles) rmSync(`/var/run/frr/${pathspace(role)}`, { recursive: true, force: true });
    for (const name of made) spawnSync(ip, ["netns", "del", name]);
    // A veth still in this namespace if setup stopped half-way (deleting one end deletes both).
    for (let n = 0; n < links; n++) if (existsSync(`/sys/class/net/ei${tag}l${n}a`)) spawnSync(ip, ["link", "del", `ei${tag}l${n}a`]);
    if (dir) rmSync(dir, { recursive: true, force: true });
    report.push(`wall time: ${seconds(Date.now() - started)} (setup, tests and clean-up)`);
    process.stderr.write(`router-ipsec report (strongSwan kernel-libipsec, FRR; the rendered site-a router vs an AWS-like peer):\n${report.map((line) => `  ${line}\n`).join("")}`);
  }, 30_000);

  test("static: each connection's if_id is its tunnel interface's index; the network script, updown hook and nftables name exactly those interfaces", () => {
    const conf = parseSwanctlConf(files.swanctl);
    const connections = conf.connections as SwanctlSection;
    expect(Object.keys(connections)).toEqual(["tunnel1", "tunnel2"]);
    const bindings = Object.entries(connections).map(([name, c]) => {
      const child = ((c as SwanctlSection).children as SwanctlSection)[name] as SwanctlSection;
      return { name, in: child.if_id_in, out: child.if_id_out };
    });
    expect(TUNNEL_INTERFACES).toEqual(["vti1", "vti2"]);
    // tunnelN <-> vtiN <-> if_id N.
    expect(bindings).toEqual(TUNNEL_INTERFACES.map((ifname) => ({ name: ifname.replace("vti", "tunnel"), in: ifname.slice(3), out: ifname.slice(3) })));
    // The network script: one XFRM command, taking the if_id from each call, and exactly these calls.
    expect(files.networkScript.split(XFRM_LINK)).toHaveLength(2);
    expect(files.networkScript).toContain("\ntunnel_link() {\n  local name=$1 if_id=$2 address=$3\n");
    expect(files.networkScript.match(/^tunnel_link .*$/gm)).toEqual([`tunnel_link vti1 1 '${inside1.cgw}/30'`, `tunnel_link vti2 2 '${inside2.cgw}/30'`]);
    // The updown hook maps PLUTO_IF_ID_OUT N to vtiN and nothing else.
    expect(files.updown.match(/^ {2}\d+\) link=\S+ ;;$/gm)).toEqual(["  1) link=vti1 ;;", "  2) link=vti2 ;;"]);
    // nftables: every interface match names exactly the tunnel interfaces.
    const sets = [...files.nftables.matchAll(/\b[io]ifname (\{[^}]*\}|"\S+")/g)].map((m) => m[1]);
    expect(sets).toHaveLength(6);
    for (const set of sets) expect(set).toBe('{ "vti1", "vti2" }');
    // FRR: one neighbour per tunnel, the AWS end of that tunnel's inside /30.
    expect(files.frr).toContain(` neighbor ${inside1.vgw} description site-a-vti1\n`);
    expect(files.frr).toContain(` neighbor ${inside2.vgw} description site-a-vti2\n`);
  });

  test("control: keyingtries = 1 gives up for good while the AWS side is down; the rendered keyingtries = 0 keeps trying and establishes once it is up", async () => {
    expect(responderUp).toBeGreaterThan(0);
    let establishedAfter: string | undefined;
    const watchRendered = waitUntil("the rendered router's IKE and CHILD SAs", 20_000, () => established("rtr-a")).then(() => (establishedAfter = seconds(Date.now() - responderUp)));
    // Three of the rendered router's attempt cycles after the responders came up.
    const window = new Promise((r) => setTimeout(r, 3 * ATTEMPT_MS));
    await Promise.all([watchRendered, window]);
    const rendered = charonLog("rtr-a");
    const control = charonLog("ctl-r");
    const controlSas = sas("ctl-r").length;
    report.push(
      `late responder: rendered keyingtries = 0: ${attemptsBeforeResponder} attempts before the responder came up, ESTABLISHED ${establishedAfter} after it; ` +
        `control keyingtries = 1: ${count(control, /initiating IKE_SA tunnel\d/)} attempts (one per tunnel), given up, ${controlSas} SAs ${seconds(Date.now() - responderUp)} after the responder came up`,
    );
    // The rendered router had failed before the AWS side came up, then established.
    expect(attemptsBeforeResponder).toBeGreaterThanOrEqual(4);
    expect(rendered).toMatch(/peer not responding, trying again \(2\/0\)/);
    expect(establishedAfter).toBeDefined();
    // The control: one attempt per tunnel, each given up; never again, no SA on either side.
    expect(count(control, /initiating IKE_SA tunnel\d/)).toBe(2);
    expect(count(control, /establishing IKE_SA failed, peer not responding/)).toBe(2);
    expect(controlSas).toBe(0);
    expect(sas("ctl-aws")).toEqual([]);
    expect(charonLog("ctl-aws")).not.toContain("is initiating an IKE_SA");
  }, 30_000);

  test("both IKE SAs and both CHILD SAs, on both sides, with the profile's algorithms; a CHILD_SA rekey uses the ESP proposal's DH group (PFS)", async () => {
    expect(PROFILE.strongswan).toEqual({ ike: "aes256gcm16-prfsha384-ecp384", esp: "aes256gcm16-ecp384" });
    await waitUntil("both routers' SAs", 20_000, () => established("rtr-a") && established("aws"));
    const summary = (role: string) =>
      sas(role).map((sa) => ({
        name: sa.name,
        state: sa.state,
        ike: `${sa["encr-alg"]}-${sa["encr-keysize"]}/${sa["prf-alg"]}/${sa["dh-group"]}`,
        remote: `${sa["remote-id"]}@${sa["remote-host"]}:${sa["remote-port"]}`,
        children: Object.values(sa.children).map((c) => `${c.name} ${c.state} ${c.protocol}:${c["encr-alg"]}-${c["encr-keysize"]}${c.encap === "yes" ? " UDP-encapsulated" : ""}`),
      }));
    const router = summary("rtr-a").sort((x, y) => x.name.localeCompare(y.name));
    const aws = summary("aws").sort((x, y) => x.name.localeCompare(y.name));
    expect(router).toEqual([
      { name: "tunnel1", state: "ESTABLISHED", ike: "AES_GCM_16-256/PRF_HMAC_SHA2_384/ECP_384", remote: "203.0.113.11@203.0.113.11:4500", children: ["tunnel1 INSTALLED ESP:AES_GCM_16-256 UDP-encapsulated"] },
      { name: "tunnel2", state: "ESTABLISHED", ike: "AES_GCM_16-256/PRF_HMAC_SHA2_384/ECP_384", remote: "203.0.113.12@203.0.113.12:4500", children: ["tunnel2 INSTALLED ESP:AES_GCM_16-256 UDP-encapsulated"] },
    ]);
    // AWS sees the router by its EIP (identity and NATed address), as an AWS endpoint sees the customer gateway.
    expect(aws).toEqual(
      ["1", "2"].map((n) => ({ name: `vpn-tunnel${n}`, state: "ESTABLISHED", ike: "AES_GCM_16-256/PRF_HMAC_SHA2_384/ECP_384", remote: `${EIP}@${EIP}:4500`, children: [`vpn-tunnel${n} INSTALLED ESP:AES_GCM_16-256 UDP-encapsulated`] })),
    );
    // The router's side of each CHILD_SA carries its if_id (kernel-libipsec does not use it).
    for (const sa of sas("rtr-a")) for (const c of Object.values(sa.children)) expect([c.name, c["if-id-in"], c["if-id-out"]]).toEqual([sa.name, `0000000${sa.name.slice(-1)}`, `0000000${sa.name.slice(-1)}`]);

    // The first CHILD_SA comes with IKE_AUTH (no DH); a rekey runs CREATE_CHILD_SA with the ESP proposal's group.
    for (const n of [1, 2]) mustSwan("rtr-a", ["--rekey", "--child", `tunnel${n}`]);
    const rekeyed = (role: string) => sas(role).flatMap((sa) => Object.values(sa.children)).filter((c) => c.state === "INSTALLED" && c["dh-group"] === "ECP_384").length === 2;
    await waitUntil("rekeyed CHILD_SAs with ECP_384 on both sides", 10_000, () => rekeyed("rtr-a") && rekeyed("aws"));
    const line = (list: typeof router) => list.map((sa) => `${sa.name} ${sa.state} ${sa.ike} with ${sa.remote} [${sa.children.join("; ")}]`).join(", ");
    report.push(`IKE/CHILD SAs on the router: ${line(router)}`);
    report.push(`IKE/CHILD SAs on the AWS side: ${line(aws)}`);
    report.push("CHILD_SA rekey (CREATE_CHILD_SA, PFS): ECP_384 on both sides, both tunnels");
  }, 40_000);

  test("charon runs the rendered updown hook with each CHILD_SA's if_id: tunnel 2's interface came up with its SA", () => {
    // vti2 was down (beforeAll checks it); only the hook, given PLUTO_IF_ID_OUT=2, brings it up.
    expect(linkUp("rtr-a", "vti2")).toBe(true);
    // Tunnel 1's interface was up already: kernel-libipsec's route needs its TUN up when the CHILD_SA installs.
    expect(linkUp("rtr-a", "ipsec0")).toBe(true);
    expect(charonLog("rtr-a")).not.toMatch(/updown.*(failed|error)/i);
  });

  test("BGP is Established over tunnel 1 inside the ESP tunnel; tunnel 2's session cannot come up (one TUN device)", async () => {
    type Peers = Record<string, { state: string; remoteAs: number }>;
    const peers = () => vty("rtr-a", "show bgp ipv4 unicast summary json").peers as Peers;
    await waitUntil("BGP over tunnel 1", 30_000, () => peers()[inside1.vgw]?.state === "Established");
    const now = peers();
    const tgw = vty("aws", "show bgp ipv4 unicast summary json").peers as Peers;
    report.push(
      `BGP (router, AS ${A.asn}): ${inside1.vgw} (tunnel 1) ${now[inside1.vgw]?.state}, ` +
        `${inside2.vgw} (tunnel 2) ${now[inside2.vgw]?.state}; TGW (AS ${TGW_ASN}): ${inside1.cgw} ${tgw[inside1.cgw]?.state}, ${inside2.cgw} ${tgw[inside2.cgw]?.state}`,
    );
    expect(Object.keys(now).sort()).toEqual([inside1.vgw, inside2.vgw].sort());
    expect(now[inside1.vgw]).toMatchObject({ state: "Established", remoteAs: TGW_ASN });
    expect(now[inside2.vgw].state).not.toBe("Established");
    // The session runs inside the tunnel: the router reaches the TGW's inside address only through the TUN.
    expect(json<{ dev: string }[]>("rtr-a", ["route", "get", inside1.vgw])[0].dev).toBe("ipsec0");
    expect(tgw[inside1.cgw]).toMatchObject({ state: "Established", remoteAs: A.asn });
  }, 40_000);

  test("the router learns only site B's translated prefix (the TGW also offered B's real one); the AWS side learns only A's advertised prefix", async () => {
    await waitUntil("routes on both sides", 20_000, () => bgpRoutes("rtr-a").length > 0 && bgpRoutes("aws").length > 0);
    const offered = Object.keys(vty("aws", `show bgp ipv4 unicast neighbors ${inside1.cgw} advertised-routes json`).advertisedRoutes ?? {}).sort();
    report.push(`routes: the TGW offered the router ${offered.join(", ")}; the router installed ${bgpRoutes("rtr-a").join(", ")}; the AWS side installed ${bgpRoutes("aws").join(", ")}`);
    // Everything the TGW has, A's own prefix too (the router drops that by its AS path as well as its filter).
    expect(offered).toEqual([B.realCidr, A.advertised, B.translatedCidr!].sort());
    expect(bgpRoutes("rtr-a")).toEqual([B.translatedCidr]);
    expect(bgpRoutes("aws")).toEqual([A.advertised]);
    expect(A.advertised).toBe(A.translatedCidr);
    expect(json<{ dev: string }[]>("rtr-a", ["route", "show", B.translatedCidr!])[0].dev).toBe("ipsec0");
  }, 30_000);

  test("TCP from site A's host reaches site B's host at B's translated address through ESP; B sees A's translated source", () => {
    /** Bytes each of the router's CHILD_SAs counted, by IKE_SA name and CHILD_SA id. */
    const bytes = () => new Map(sas("rtr-a").flatMap((sa) => Object.entries(sa.children).map(([id, c]) => [`${sa.name}/${id} ${c.state}`, [Number(c["bytes-out"]), Number(c["bytes-in"])]] as const)));
    const before = bytes();
    const target = hostIn(B.translatedCidr!, 10);
    const client = `const s = require("net").connect(${TEST_PORT}, "${target}"); let out = ""; s.setTimeout(5000, () => { console.error("timeout"); process.exit(2); }); s.on("data", (d) => (out += d)); s.on("end", () => { console.log(out.trim()); process.exit(0); }); s.on("error", (e) => { console.error(e.message); process.exit(1); });`;
    const result = run([ip, "netns", "exec", ns("host-a"), process.execPath, "-e", client]);
    const moved = [...bytes()].map(([child, [out, inn]]) => ({ child, bytesOut: out - (before.get(child)?.[0] ?? 0), bytesIn: inn - (before.get(child)?.[1] ?? 0) }));
    const counted = moved.filter((m) => m.bytesOut || m.bytesIn).map((m) => `${m.child} out ${m.bytesOut} B, in ${m.bytesIn} B`);
    report.push(`TCP: host-a 10.0.1.10 -> ${target}:${TEST_PORT} exit ${result.status}${result.stderr ? ` (${result.stderr.trim()})` : ""}; the far end saw ${result.stdout.trim() || "nothing"}; ESP on the router: ${counted.join(", ") || "no bytes"}`);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(hostIn(A.translatedCidr!, 10));
    // It went through ESP: the router's CHILD_SAs counted it both ways (libipsec picks one of the two 0.0.0.0/0 SAs).
    expect(moved.reduce((n, m) => n + m.bytesOut, 0)).toBeGreaterThan(0);
    expect(moved.reduce((n, m) => n + m.bytesIn, 0)).toBeGreaterThan(0);
  }, 20_000);

  test("control: a proposal the AWS side was not set up for (the compatible profile) fails with NO_PROPOSAL_CHOSEN, and no SA", async () => {
    const compatible = renderLinuxRouter(routerParams(A, TGW_ASN, IPSEC_PROFILES.compatible, ENDPOINTS), TEST_ROUTER_NETWORK);
    expect(compatible.swanctl.match(/^ +proposals = .*$/gm)).toEqual(["    proposals = aes128-sha1-modp2048", "    proposals = aes128-sha1-modp2048"]);
    const confDir = join(charonDir("ctl-r"), "conf.d");
    writeFileSync(join(confDir, "egresslink.conf"), substituteExactly(compatible.swanctl, [[`updown = ${ROUTER_PATHS.updown}\n`, `updown = ${join(dir, "updown")}\n`, 2]]));
    const logBefore = charonLog("ctl-r").length;
    // Replacing the connections runs their start_action (start) again.
    mustSwan("ctl-r", ["--load-conns", "--file", join(charonDir("ctl-r"), "swanctl.conf")]);
    const log = () => charonLog("ctl-r").slice(logBefore);
    await waitUntil("NO_PROPOSAL_CHOSEN for both tunnels", 10_000, () => count(log(), /received NO_PROPOSAL_CHOSEN notify error/) === 2);
    // keyingtries = 0 retries only a silent peer: a refused proposal is final.
    await new Promise((r) => setTimeout(r, ATTEMPT_MS));
    report.push(
      `proposal control: router proposed ${IPSEC_PROFILES.compatible.strongswan.ike}, the AWS side allows ${PROFILE.strongswan.ike}: ` +
        `${count(log(), /received NO_PROPOSAL_CHOSEN notify error/)} NO_PROPOSAL_CHOSEN, ${count(log(), /initiating IKE_SA tunnel\d/)} attempts (not retried within ${seconds(ATTEMPT_MS)}), ${sas("ctl-r").length} SAs`,
    );
    expect(count(log(), /initiating IKE_SA tunnel\d/)).toBe(2);
    expect(sas("ctl-r")).toEqual([]);
    expect(sas("ctl-aws")).toEqual([]);
    expect(charonLog("ctl-aws")).toMatch(/received proposals: IKE:AES_CBC_128\/HMAC_SHA1_96\/PRF_HMAC_SHA1\/MODP_2048/);
    expect(charonLog("ctl-aws")).toMatch(/configured proposals: IKE:AES_GCM_16_256\/PRF_HMAC_SHA2_384\/ECP_384/);
  }, 20_000);
});

/**
 * The test's strongswan.conf: kernel-libipsec for ESP, charon's vici socket and log file in `dir`,
 * short retransmits. The `!` marks plugins charon must not start without; kernel-netlink is not
 * one of them because charon takes one IPsec backend (kernel-libipsec's) and refuses
 * kernel-netlink's, loading only its networking part (addresses, routes, rules).
 */
function strongswanConf(dir: string): string {
  return `# egresslink test: charon in a network namespace (router-ipsec.test.ts)
charon {
  load = random nonce openssl! pem pkcs1 x509 pubkey kdf gcm aes sha1 sha2 hmac kernel-libipsec! kernel-netlink socket-default! vici! updown!
  retransmit_tries = 2
  retransmit_timeout = 0.5
  retransmit_base = 1.4
  plugins {
    vici {
      socket = unix://${dir}/charon.vici
    }
  }
  filelog {
    test {
      path = ${dir}/charon.log
      time_format = %T
      default = 1
      flush_line = yes
    }
  }
}
`;
}

/**
 * Both AWS endpoints of a VPN connection as our stacks configure it (aws_vpn_connection tunnel
 * options from `profile`; AWS's defaults where we set none), for a customer gateway at `peer`.
 */
function renderAwsEndpoints(profile: IpsecProfile, endpoints: RouterEndpoints, peer: string): string {
  const tunnels = endpoints.tunnels.map((t, i) => ({ name: `vpn-tunnel${i + 1}`, ...t }));
  return `# An AWS Site-to-Site VPN connection's two endpoints: responder only (startup action "add").
connections {
${tunnels
  .map(
    (t) => `  ${t.name} {
    version = 2
    local_addrs = ${t.outsideAddress}
    remote_addrs = ${peer}
    proposals = ${profile.strongswan.ike}
    rekey_time = ${profile.ikeLifetimeSeconds}s
    # DPD: AWS probes every 10 s and clears the tunnel after 30 s of silence.
    dpd_delay = 10s
    local {
      auth = psk
      id = ${t.outsideAddress}
    }
    remote {
      auth = psk
      id = ${endpoints.publicIp}
    }
    children {
      ${t.name} {
        local_ts = 0.0.0.0/0
        remote_ts = 0.0.0.0/0
        esp_proposals = ${profile.strongswan.esp}
        rekey_time = ${profile.espLifetimeSeconds}s
        replay_window = 1024
        dpd_action = clear
      }
    }
  }`,
  )
  .join("\n")}
}
secrets {
${tunnels.map((t) => `  ike-${t.name} {\n    id-1 = ${t.outsideAddress}\n    id-2 = ${endpoints.publicIp}\n    secret = "${t.presharedKey}"\n  }`).join("\n")}
}
`;
}

/**
 * The Transit Gateway's BGP side (AS 64512): both of site A's tunnel neighbours, site B's
 * translated prefix (static, to the site B stand-in), and site B's real prefix as a control that
 * the router's inbound filter must refuse.
 */
function transitGatewayFrr(): string {
  return [
    "frr defaults traditional",
    "hostname transit-gateway",
    "!",
    `ip route ${B.translatedCidr} ${insideB1.cgw}`,
    `ip route ${B.realCidr} Null0`,
    "!",
    `router bgp ${TGW_ASN}`,
    ` bgp router-id ${inside1.vgw}`,
    " no bgp ebgp-requires-policy",
    ...[inside1, inside2].flatMap((end) => [` neighbor ${end.cgw} remote-as ${A.asn}`, ` neighbor ${end.cgw} timers 10 30`]),
    " address-family ipv4 unicast",
    `  network ${B.translatedCidr}`,
    `  network ${B.realCidr}`,
    " exit-address-family",
    "",
  ].join("\n");
}

type SwanctlSection = { [key: string]: string | SwanctlSection };

/** swanctl.conf's nested sections and `key = value` lines (no includes), comments dropped. */
function parseSwanctlConf(text: string): SwanctlSection {
  const stack: SwanctlSection[] = [{}];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    const top = stack[stack.length - 1];
    let m: RegExpExecArray | null;
    if (!line) continue;
    else if (line === "}") stack.pop();
    else if ((m = /^([\w.-]+)\s*\{$/.exec(line))) stack.push((top[m[1]] = {}));
    else if ((m = /^([\w.-]+)\s*=\s*(.*)$/.exec(line))) top[m[1]] = m[2];
    else throw new Error(`unexpected swanctl.conf line: ${raw}`);
  }
  return stack[0];
}

interface ChildSa extends Record<string, string> {
  name: string;
  state: string;
}
interface IkeSa extends Record<string, string | Record<string, ChildSa>> {
  name: string;
  state: string;
  children: Record<string, ChildSa>;
}

/** `swanctl --list-sas --raw`: one `list-sa event {name {key=value ... child-sas {...}}}` line per IKE_SA. */
function parseListSas(text: string): IkeSa[] {
  type Node = { [key: string]: string | string[] | Node };
  const parse = (tokens: string[], at: { i: number }): Node => {
    const node: Node = {};
    while (at.i < tokens.length) {
      const token = tokens[at.i++];
      if (token === "}") return node;
      if (token.endsWith("=")) {
        const key = token.slice(0, -1);
        if (tokens[at.i] === "[") {
          const list: string[] = [];
          for (at.i++; tokens[at.i] !== "]"; at.i++) list.push(tokens[at.i]);
          at.i++;
          node[key] = list;
        } else node[key] = /^[{}\]]$|=$/.test(tokens[at.i] ?? "}") ? "" : tokens[at.i++];
      } else if (tokens[at.i] === "{") {
        at.i++;
        node[token] = parse(tokens, at);
      } else throw new Error(`unexpected token ${token} in swanctl --raw output`);
    }
    return node;
  };
  return text
    .split("\n")
    .filter((line) => line.startsWith("list-sa event {"))
    .flatMap((line) => {
      const tokens = line.slice("list-sa event ".length).match(/[{}[\]]|[^\s{}[\]=]+=|[^\s{}[\]]+/g) ?? [];
      const event = parse(tokens.slice(1), { i: 0 });
      return Object.entries(event).map(([name, sa]) => {
        const { "child-sas": childSas, ...fields } = sa as Node;
        const children = Object.fromEntries(Object.entries((childSas ?? {}) as Node).map(([id, c]) => [id, c as ChildSa]));
        return { ...(fields as Record<string, string>), name, children } as IkeSa;
      });
    });
}
