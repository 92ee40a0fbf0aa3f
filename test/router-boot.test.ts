import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parse } from "yaml";
import { planInterconnect } from "../modules/interconnect/planner";
import { IPSEC_PROFILES, routerParams, tunnelEnds } from "../modules/interconnect/router-config";
import { renderLinuxRouter, renderLinuxRouterUserData, ROUTER_PATHS } from "../modules/interconnect/router-linux";
import { TEST_ENDPOINTS, TEST_ROUTER_NETWORK } from "./helpers";
import { programDescribe, requireProgram, requireRoot, substituteExactly, writeStubAws } from "./helpers-programs";

/**
 * The Linux router's boot path, run for real: the persistent network script rebuilds the router's
 * network in a fresh namespace (and again, and after a simulated reboot), fails loudly, the
 * secrets script writes swanctl's keys from a stand-in `aws`, the updown hook follows the
 * CHILD_SAs, systemd accepts the units, and cloud-init accepts the user data. No runcmd is run.
 *
 * The router namespace has two veth devices whose peers sit in a gateway namespace: `ens5`, the
 * instance's primary interface (198.18.0.2/24, default route via 198.18.0.1), and `ens6`, the
 * persistent ENI (TEST_ROUTER_NETWORK.eniMac, down, no address) whose peer is the subnet gateway
 * 192.0.2.1: a veth (this kernel has no dummy devices anyway), so the gateway the script computes
 * is a real neighbour and the MAC search runs on the kind of `ip -o link` line an ENI gives.
 *
 * systemd-analyze verify runs on a temp root holding every file of the user data (with its mode),
 * a copy of the host's /usr/lib/systemd/system, and the programs strongswan.service runs (verify
 * requires every Exec program to exist in the root); strongswan.service comes from charon-systemd.
 *
 * The scripts run with `bash` with these substitutions only, each required to apply exactly as
 * often as stated (substituteExactly):
 * - the attach-ENI command becomes a no-op (it calls IMDS and EC2; the ENI is already present);
 * - the absolute paths of the sysctl and nftables files point at copies in a temp root;
 * - the XFRM stand-in: `ip link add "$name" type xfrm dev "$dev" if_id "$if_id"` becomes
 *   `ip link add "$name" type ifb`, because this kernel has no `xfrm` link type (FACTS.md), and no
 *   `dummy` either: ifb is the plainest virtual device it has (NOARP, like an XFRM interface).
 *   What that leaves to static checks: that each tunnel interface is bound to the ENI device found
 *   by MAC (`dev "$dev"`) with the if_id its swanctl child uses; the real iproute2 does parse the
 *   rendered command here (the kernel, not iproute2, refuses it).
 * - in the failure controls, the wait loops are shortened (`seq 1 60` -> `seq 1 2`, `sleep 2` ->
 *   `sleep 0`; secrets: `seq 1 30` -> `seq 1 2`, `sleep 5` -> `sleep 0`), and the secrets file's
 *   path points into a temp folder.
 */
const site = planInterconnect({ transitGatewayAsn: 64512, sites: [{ name: "site-a", cidr: "10.0.1.0/24" }, { name: "site-b", cidr: "10.0.1.0/24" }] })[0];
const params = routerParams(site, 64512, IPSEC_PROFILES.modern, TEST_ENDPOINTS);
const files = renderLinuxRouter(params, TEST_ROUTER_NETWORK);
const ends = tunnelEnds(params);
const ENI = "ens6";
const PRIMARY = "ens5";
const ENI_IP = TEST_ENDPOINTS.localAddress;
const SUBNET_GATEWAY = "192.0.2.1";
const PRIMARY_GATEWAY = "198.18.0.1";
const XFRM_LINK = 'ip link add "$name" type xfrm dev "$dev" if_id "$if_id"';
const UP_MESSAGE = `egresslink: router network up on ${ENI} (${ENI_IP})`;

programDescribe("the Linux router's boot path (systemd units, no runcmd), with the real programs", () => {
  const ip = requireProgram("ip");
  const nft = requireProgram("nft");
  const sysctl = requireProgram("sysctl");
  const bash = requireProgram("bash");
  const systemdAnalyze = requireProgram("systemd-analyze");
  const systemctl = requireProgram("systemctl");
  const cloudInit = requireProgram("cloud-init");
  requireRoot();

  const tag = `${process.pid % 100000}`;
  const router = `egl-boot-${tag}`;
  const gateway = `egl-bootgw-${tag}`;
  const scratch = `egl-bootx-${tag}`;
  const dir = mkdtempSync(join(tmpdir(), "egresslink-boot-"));
  const root = join(dir, "root");

  const run = (args: string[], env?: NodeJS.ProcessEnv) => spawnSync(args[0], args.slice(1), { encoding: "utf8", timeout: 30_000, env: env && { ...process.env, ...env } });
  const must = (args: string[]) => {
    const r = run(args);
    if (r.status !== 0) throw new Error(`${args.join(" ")} exited ${r.status}: ${r.stderr}`);
    return r.stdout;
  };
  const inNs = (ns: string, args: string[]) => must([ip, "netns", "exec", ns, ...args]);
  const json = <T>(ns: string, args: string[]): T => JSON.parse(inNs(ns, [ip, "-j", ...args]) || "[]");
  /** Writes a script into the temp folder and runs it with bash inside `ns`. */
  const runScript = (ns: string, name: string, script: string, env?: NodeJS.ProcessEnv) => {
    const file = join(dir, name);
    writeFileSync(file, script);
    return run([ip, "netns", "exec", ns, bash, file], env);
  };
  /** The network script with the documented substitutions (see above), plus `extra`. */
  const networkScript = (script: string, extra: [string, string, number][] = [], link = 'ip link add "$name" type ifb') =>
    substituteExactly(script, [
      [`\n${ROUTER_PATHS.attachEniScript}\n`, "\n: attach-ENI skipped, no EC2 here\n", 1],
      [ROUTER_PATHS.sysctl, join(root, ROUTER_PATHS.sysctl), 1],
      [ROUTER_PATHS.nftables, join(root, ROUTER_PATHS.nftables), 1],
      [XFRM_LINK, link, 1],
      ...extra,
    ]);
  const boot = () => runScript(router, "router-net", networkScript(files.networkScript));

  interface Link {
    ifname: string;
    flags: string[];
    mtu: number;
    addr_info: { family: string; local: string; prefixlen: number }[];
  }
  interface Rule {
    priority: number;
    src?: string;
    table: string;
  }
  interface Route {
    dst: string;
    gateway?: string;
    dev: string;
    metric?: number;
    prefsrc?: string;
  }
  /** Every link with its IPv4 addresses (`ip -4 addr` would leave out links that have none). */
  const links = () => json<Link[]>(router, ["addr", "show"]).map((l) => ({ ...l, addr_info: l.addr_info.filter((a) => a.family === "inet") }));
  const linkOf = (name: string) => links().find((l) => l.ifname === name);
  const rules = () => json<Rule[]>(router, ["rule", "show"]);
  const routes = (table: string): Route[] => {
    const result = run([ip, "netns", "exec", router, ip, "-j", "route", "show", "table", table]);
    if (result.status !== 0 && result.stderr.includes("FIB table does not exist")) return []; // table 100 before the first run
    if (result.status !== 0) throw new Error(`ip route show table ${table}: ${result.stderr}`);
    return JSON.parse(result.stdout);
  };
  const egresslinkTables = (ns: string) => (JSON.parse(inNs(ns, [nft, "-j", "list", "tables"])).nftables as { table?: { family: string; name: string } }[]).filter((e) => e.table?.family === "ip" && e.table.name === "egresslink");
  /** Everything the script sets, without what changes when an interface is re-created (ifindex) or settles (operstate). */
  const state = () => ({
    links: links().map((l) => ({ ifname: l.ifname, up: l.flags.includes("UP"), mtu: l.mtu, addresses: l.addr_info.map((a) => `${a.local}/${a.prefixlen}`) })),
    rules: rules(),
    main: routes("main"),
    table100: routes("100"),
    nftables: inNs(router, [nft, "list", "ruleset"]),
    forwarding: inNs(router, [sysctl, "-n", "net.ipv4.ip_forward"]).trim(),
  });
  let firstBoot: ReturnType<typeof state> | undefined;

  /** A veth pair from the router namespace (`name`, with an optional MAC) to the gateway namespace (`peer`, with `peerAddress`). */
  const veth = (n: number, name: string, peer: string, peerAddress: string, mac?: string) => {
    const [a, b] = [`eb${tag}a${n}`, `eb${tag}b${n}`];
    must([ip, "link", "add", a, ...(mac ? ["address", mac] : []), "type", "veth", "peer", "name", b]);
    must([ip, "link", "set", a, "netns", router]);
    inNs(router, [ip, "link", "set", a, "name", name]);
    must([ip, "link", "set", b, "netns", gateway]);
    inNs(gateway, [ip, "link", "set", b, "name", peer]);
    inNs(gateway, [ip, "addr", "add", peerAddress, "dev", peer]);
    inNs(gateway, [ip, "link", "set", peer, "up"]);
  };

  beforeAll(() => {
    for (const ns of [router, gateway, scratch]) {
      must([ip, "netns", "add", ns]);
      inNs(ns, [ip, "link", "set", "lo", "up"]);
    }
    // The primary ENI, as networkd leaves it: an address and the default route.
    veth(1, PRIMARY, "to-primary", `${PRIMARY_GATEWAY}/24`);
    inNs(router, [ip, "addr", "add", "198.18.0.2/24", "dev", PRIMARY]);
    inNs(router, [ip, "link", "set", PRIMARY, "up"]);
    inNs(router, [ip, "route", "add", "default", "via", PRIMARY_GATEWAY, "dev", PRIMARY]);
    // The persistent ENI, as a hot attach leaves it: present, down, unconfigured.
    veth(2, ENI, "to-eni", `${SUBNET_GATEWAY}/24`, TEST_ROUTER_NETWORK.eniMac);
    // The files the network script reads, in a temp root at their paths on the router.
    for (const [path, content] of [[ROUTER_PATHS.sysctl, files.sysctl], [ROUTER_PATHS.nftables, files.nftables]]) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), content);
    }
  }, 30_000);

  afterAll(() => {
    for (const ns of [router, gateway, scratch]) spawnSync(ip, ["netns", "del", ns]);
    // A veth still in this namespace if setup stopped half-way (deleting one end deletes both).
    for (const n of [1, 2]) if (existsSync(`/sys/class/net/eb${tag}a${n}`)) spawnSync(ip, ["link", "del", `eb${tag}a${n}`]);
    rmSync(dir, { recursive: true, force: true });
  });

  describe("the network script (egresslink-router-net.service)", () => {
    test("first boot: rebuilds the ENI, policy routing, site routes, tunnel interfaces and nftables from nothing", () => {
      // Nothing of the router's network exists yet.
      expect(linkOf(ENI)).toMatchObject({ addr_info: [] });
      expect(linkOf(ENI)!.flags).not.toContain("UP");
      expect(rules().filter((r) => r.priority === 100)).toEqual([]);
      expect(egresslinkTables(router)).toHaveLength(0);

      const result = boot();
      expect([result.status, result.stderr]).toEqual([0, ""]);
      expect(result.stdout).toContain(UP_MESSAGE);

      // The ENI, found by its MAC, carries the router's address.
      expect(linkOf(ENI)!.addr_info.map((a) => `${a.local}/${a.prefixlen}`)).toEqual([`${ENI_IP}/24`]);
      expect(linkOf(ENI)!.flags).toContain("UP");
      // Policy routing: from the ENI's address, table 100, whose default leaves through the ENI.
      expect(rules().filter((r) => r.priority === 100)).toEqual([{ priority: 100, src: ENI_IP, table: "100" }]);
      expect(inNs(router, [ip, "rule", "show"])).toMatch(new RegExp(`^100:\\s+from ${ENI_IP.replace(/\./g, "\\.")} lookup 100\\s*$`, "m"));
      expect(routes("100")).toEqual(expect.arrayContaining([expect.objectContaining({ dst: "default", gateway: SUBNET_GATEWAY, dev: ENI })]));
      // Site routes on the ENI with metric 50: the site VPC via the subnet gateway, and the subnet itself.
      const main = routes("main");
      expect(main).toContainEqual(expect.objectContaining({ dst: TEST_ROUTER_NETWORK.vpcCidr, gateway: SUBNET_GATEWAY, dev: ENI, metric: 50 }));
      expect(main).toContainEqual(expect.objectContaining({ dst: TEST_ROUTER_NETWORK.routerSubnetCidr, dev: ENI, metric: 50, prefsrc: ENI_IP }));
      // The primary interface keeps the default route.
      expect(main).toContainEqual(expect.objectContaining({ dst: "default", gateway: PRIMARY_GATEWAY, dev: PRIMARY }));
      // Both tunnel interfaces: up, the profile's MTU, their inside /30 addresses.
      for (const end of ends) {
        const link = linkOf(end.ifname);
        expect(link).toBeDefined();
        expect(link!.flags).toContain("UP");
        expect(link!.mtu).toBe(params.ipsec.tunnelMtu);
        expect(link!.addr_info.map((a) => `${a.local}/${a.prefixlen}`)).toEqual([`${end.cgw}/30`]);
      }
      // nftables: the 1:1 NAT and the MSS clamp, both ways.
      const table = inNs(router, [nft, "list", "table", "ip", "egresslink"]);
      // nft 1.0.6 lists `dnat ip prefix to` as `dnat prefix to`.
      expect(table).toContain(`iifname { "vti1", "vti2" } ip daddr ${site.translatedCidr} dnat prefix to ${site.realCidr}`);
      expect(table).toContain(`oifname { "vti1", "vti2" } ip saddr ${site.realCidr} snat prefix to ${site.translatedCidr}`);
      expect(table.match(new RegExp(`tcp option maxseg size set ${params.ipsec.tcpMss}\\b`, "g"))).toHaveLength(2);
      // The sysctls, in the namespace.
      expect(inNs(router, [sysctl, "-n", "net.ipv4.ip_forward"]).trim()).toBe("1");
      expect(inNs(router, [sysctl, "-n", "net.ipv4.conf.all.rp_filter"]).trim()).toBe("0");
      firstBoot = state();
    });

    test("a second and third run (a restart; the next boot's unit) succeed and duplicate nothing", () => {
      expect(firstBoot).toBeDefined();
      for (let i = 0; i < 2; i++) {
        const result = boot();
        expect([result.status, result.stderr]).toEqual([0, ""]);
        expect(rules().filter((r) => r.priority === 100)).toHaveLength(1);
        expect(egresslinkTables(router)).toHaveLength(1);
        expect(state()).toEqual(firstBoot);
      }
    });

    test("a reboot: with the tunnel links, address, rule, routes, nftables and sysctls gone, it brings back the same state", () => {
      expect(firstBoot).toBeDefined();
      for (const end of ends) inNs(router, [ip, "link", "del", end.ifname]);
      inNs(router, [ip, "rule", "del", "priority", "100"]);
      inNs(router, [ip, "route", "flush", "table", "100"]);
      inNs(router, [ip, "addr", "flush", "dev", ENI]); // takes the ENI's routes in the main table with it
      inNs(router, [ip, "link", "set", ENI, "down"]);
      inNs(router, [nft, "delete", "table", "ip", "egresslink"]);
      inNs(router, [sysctl, "-q", "-w", "net.ipv4.ip_forward=0"]);
      const gone = state();
      expect(gone.rules.filter((r) => r.priority === 100)).toEqual([]);
      expect(gone.main.filter((r) => r.dev === ENI)).toEqual([]);
      expect(gone.links.map((l) => l.ifname)).not.toContain("vti1");
      expect(gone.forwarding).toBe("0");

      const result = boot();
      expect([result.status, result.stderr]).toEqual([0, ""]);
      expect(state()).toEqual(firstBoot);
    });

    test("policy routing: traffic from the ENI's address (IKE, ESP) leaves through the ENI, other traffic through the primary interface", () => {
      const get = (args: string[]) => json<Route[]>(router, ["route", "get", ...args])[0];
      expect(get(["203.0.113.1", "from", ENI_IP])).toMatchObject({ gateway: SUBNET_GATEWAY, dev: ENI });
      expect(get(["203.0.113.1"])).toMatchObject({ gateway: PRIMARY_GATEWAY, dev: PRIMARY, prefsrc: "198.18.0.2" });
      // Forwarded from a tunnel to the site: out through the ENI (metric 50), not the primary's default route.
      expect(get(["10.0.1.20", "from", ends[0].vgw, "iif", ends[0].ifname])).toMatchObject({ gateway: SUBNET_GATEWAY, dev: ENI });
    });

    test("static: each tunnel interface is an XFRM interface on the ENI's device with its swanctl child's if_id, and iproute2 parses the command", () => {
      const script = files.networkScript;
      // `dev` is the device whose MAC is the ENI's; the one XFRM command binds to it.
      expect(script).toMatch(/^ {2}dev=\$\(ip -o link show \| awk -v mac=/m);
      expect(script.split(XFRM_LINK)).toHaveLength(2);
      ends.forEach((end, i) => {
        expect(script).toContain(`\ntunnel_link ${end.ifname} ${i + 1} '${end.cgw}/${end.prefixLength}'\n`);
        expect(files.swanctl).toMatch(new RegExp(`children \\{\\s+tunnel${i + 1} \\{[^}]*if_id_in = ${i + 1}\\s+if_id_out = ${i + 1}\\s`));
      });
      // The real iproute2 on the rendered command: the kernel, not the parser, has the last word.
      inNs(scratch, [ip, "link", "add", "eni0", "type", "ifb"]);
      const attempt = (ifId: string) => run([ip, "netns", "exec", scratch, bash, "-c", `name=vti9 dev=eni0 if_id=${ifId}; ${XFRM_LINK}`]);
      const rendered = attempt("1");
      if (rendered.status === 0) {
        // A kernel with XFRM interfaces: the link is bound as rendered.
        const [info] = json<{ linkinfo: { info_kind: string; info_data: { link: string; if_id: string } } }[]>(scratch, ["-d", "link", "show", "vti9"]);
        expect(info.linkinfo).toMatchObject({ info_kind: "xfrm", info_data: { link: "eni0", if_id: "0x1" } });
        inNs(scratch, [ip, "link", "del", "vti9"]);
      } else {
        expect(rendered.stderr.trim()).toBe("Error: Unknown device type.");
      }
      // Control: a malformed if_id is refused by the parser itself.
      expect(attempt("zz").stderr).toContain('argument "zz" is wrong: if_id value is invalid');
      inNs(scratch, [ip, "link", "del", "eni0"]);
    });
  });

  describe("the updown hook (after the network script)", () => {
    const updown = (verb: string, ifId: string) => runScript(router, "updown", files.updown, { PLUTO_VERB: verb, PLUTO_IF_ID_OUT: ifId });
    const up = (name: string) => linkOf(name)!.flags.includes("UP");

    test.each(["2", "0x2"])("down-client on if_id %s takes vti2 down and leaves vti1 up; up-client brings it back", (ifId) => {
      expect([up("vti1"), up("vti2")]).toEqual([true, true]);
      const down = updown("down-client", ifId);
      expect([down.status, down.stderr]).toEqual([0, ""]);
      expect([up("vti1"), up("vti2")]).toEqual([true, false]);
      const back = updown("up-client", ifId);
      expect([back.status, back.stderr]).toEqual([0, ""]);
      expect([up("vti1"), up("vti2")]).toEqual([true, true]);
    });

    test("an unknown if_id changes nothing", () => {
      const before = state();
      const result = updown("down-client", "7");
      expect([result.status, result.stderr]).toEqual([0, ""]);
      expect(state()).toEqual(before);
      expect([up("vti1"), up("vti2")]).toEqual([true, true]);
    });
  });

  describe("failure is loud", () => {
    test("the ENI never appears: exits non-zero, says so, and configures nothing", () => {
      const other = renderLinuxRouter(params, { ...TEST_ROUTER_NETWORK, eniMac: "02:00:5e:00:53:99" });
      const start = Date.now();
      const result = runScript(scratch, "router-net-no-eni", networkScript(other.networkScript, [["seq 1 60", "seq 1 2", 1], ["sleep 2", "sleep 0", 1]]));
      expect(Date.now() - start).toBeLessThan(10_000);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain("egresslink: no interface has the router ENI's MAC address 02:00:5e:00:53:99");
      expect(result.stdout).not.toContain("router network up");
      expect((JSON.parse(inNs(scratch, [ip, "-j", "rule", "show"])) as Rule[]).filter((r) => r.priority === 100)).toEqual([]);
    });

    test("a tunnel interface cannot be created: exits non-zero before nftables, with no `|| true` to hide it", () => {
      expect(files.networkScript).not.toContain("|| true");
      inNs(scratch, [ip, "link", "add", ENI, "address", TEST_ROUTER_NETWORK.eniMac, "type", "ifb"]);
      const result = runScript(scratch, "router-net-bad-link", networkScript(files.networkScript, [], 'ip link add "$name" type egresslink-none'));
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain("Unknown device type");
      expect(result.stdout).not.toContain("router network up");
      expect(egresslinkTables(scratch)).toHaveLength(0);
    });
  });

  describe("the secrets script (egresslink-router-secrets.service)", () => {
    const [name1, name2] = TEST_ENDPOINTS.tunnels.map((t) => t.presharedKeyParameter);
    const stubKeys = { [name1]: "Stub.Key_one1", [name2]: "Stub.Key_two2" };
    const secretsRun = (label: string, fail: boolean, extra: [string, string, number][] = []) => {
      const work = join(dir, label);
      const confDir = join(work, "conf.d");
      mkdirSync(confDir, { recursive: true });
      const stub = writeStubAws(work, stubKeys, fail);
      const script = substituteExactly(files.secretsScript, [[ROUTER_PATHS.secrets, join(confDir, "egresslink-secrets.conf"), 2], ...extra]);
      const result = runScript(router, `${label}.sh`, script, { PATH: `${stub.binDir}:${process.env.PATH}` });
      return { result, confDir, calls: stub.calls() };
    };

    test("writes a root-only file with both tunnels' sections: the stub's keys and AWS's outside addresses", () => {
      const { result, confDir, calls } = secretsRun("secrets-ok", false);
      expect([result.status, result.stderr]).toEqual([0, ""]);
      expect(readdirSync(confDir)).toEqual(["egresslink-secrets.conf"]); // no temp file left
      const file = join(confDir, "egresslink-secrets.conf");
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const text = readFileSync(file, "utf8");
      ends.forEach((end, i) => {
        const section = text.match(new RegExp(`ike-tunnel${i + 1} \\{([^}]*)\\}`))?.[1] ?? "";
        expect(section).toMatch(new RegExp(`^\\s*id-1 = ${end.tunnel.outsideAddress.replace(/\./g, "\\.")}$`, "m"));
        // The renderer means `secret = "KEY"`; today it emits the key unquoted (see the report), which swanctl reads the same for AWS's key alphabet.
        expect(section).toMatch(new RegExp(`^\\s*secret = "${stubKeys[end.tunnel.presharedKeyParameter].replace(/\./g, "\\.")}"$`, "m"));
      });
      for (const key of TEST_ENDPOINTS.tunnels.map((t) => t.presharedKey)) expect(text).not.toContain(key);
      // Exactly the two parameters, decrypted, in the site's Region.
      expect(calls).toEqual(
        [name1, name2].map((name) => ["ssm", "get-parameter", "--region", TEST_ROUTER_NETWORK.region, "--name", name, "--with-decryption", "--query", "Parameter.Value", "--output", "text"]),
      );
    });

    test("when SSM cannot be read: exits non-zero after its retries, and leaves no secrets file and no temp file", () => {
      const { result, confDir, calls } = secretsRun("secrets-fail", true, [["seq 1 30", "seq 1 2", 1], ["sleep 5", "sleep 0", 1]]);
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain(`egresslink: cannot read ${name1}`);
      expect(readdirSync(confDir)).toEqual([]);
      expect(calls).toHaveLength(2); // two attempts at the first key, then it stopped
      expect(calls.every((args) => args.includes("--with-decryption") && args.includes(name1))).toBe(true);
    });
  });

  describe("systemd and cloud-init accept what the user data installs", () => {
    const userData = renderLinuxRouterUserData(params, TEST_ROUTER_NETWORK);
    const doc = parse(userData) as { write_files: { path: string; content: string; permissions: string }[]; runcmd: string[][] };
    const sysroot = join(dir, "sysroot");
    const hostStrongswan = "/usr/lib/systemd/system/strongswan.service";
    /** The units to verify: each unit file, and for a drop-in the unit it extends. */
    const units = [...new Set(Object.keys(files.units).map((name) => name.replace(/\.d\/[^/]+$/, "")))];
    const verify = (unit: string) => run([systemdAnalyze, `--root=${sysroot}`, "verify", unit]);

    beforeAll(() => {
      if (!existsSync(hostStrongswan)) throw new Error("strongswan.service is not installed (package charon-systemd; see .ci/run)");
      // The router's files where cloud-init writes them, with their modes; the host's unit library.
      for (const file of doc.write_files) {
        mkdirSync(dirname(join(sysroot, file.path)), { recursive: true });
        writeFileSync(join(sysroot, file.path), file.content, { mode: parseInt(file.permissions, 8) });
        chmodSync(join(sysroot, file.path), parseInt(file.permissions, 8));
      }
      mkdirSync(join(sysroot, "usr/lib/systemd"), { recursive: true });
      must(["cp", "-a", "/usr/lib/systemd/system", join(sysroot, "usr/lib/systemd/")]);
      // strongswan.service's programs (verify checks every Exec line's program exists in the root).
      const programs = [...readFileSync(hostStrongswan, "utf8").matchAll(/^Exec\w*=[-@:+!]*(\/\S+)/gm)].map((m) => m[1]);
      for (const program of new Set(programs)) {
        mkdirSync(dirname(join(sysroot, program)), { recursive: true });
        must(["cp", program, join(sysroot, program)]);
      }
    }, 30_000);

    test("the units and the drop-in are in the user data, at their paths", () => {
      for (const [name, content] of Object.entries(files.units)) expect(doc.write_files).toContainEqual(expect.objectContaining({ path: `${ROUTER_PATHS.unitDir}/${name}`, content }));
      expect(units).toEqual(expect.arrayContaining(["egresslink-router-net.service", "egresslink-router-secrets.service", "strongswan.service", "egresslink-router-health.timer"]));
    });

    test("systemd-analyze verify passes on every unit, strongswan.service with its drop-in included", () => {
      for (const unit of units) {
        const result = verify(unit);
        expect([unit, result.status, result.stderr]).toEqual([unit, 0, ""]);
      }
    });

    test("controls: a missing ExecStart program and a drop-in requiring a unit that does not exist both fail verify", () => {
      const script = join(sysroot, ROUTER_PATHS.networkScript);
      renameSync(script, `${script}.away`);
      try {
        const missing = verify("egresslink-router-net.service");
        expect(missing.status).not.toBe(0);
        expect(missing.stderr).toContain(`Command ${ROUTER_PATHS.networkScript} is not executable`);
      } finally {
        renameSync(`${script}.away`, script);
      }
      const dropIn = join(sysroot, ROUTER_PATHS.unitDir, "strongswan.service.d/egresslink.conf");
      const original = readFileSync(dropIn, "utf8");
      writeFileSync(dropIn, original.replace(/egresslink-router-net\.service/g, "egresslink-router-nett.service"));
      try {
        const broken = verify("strongswan.service");
        expect(broken.status).not.toBe(0);
        expect(broken.stderr).toContain("Unit egresslink-router-nett.service not found");
      } finally {
        writeFileSync(dropIn, original);
      }
      expect(verify("strongswan.service").status).toBe(0);
    });

    test("runcmd's `systemctl enable` line works on those files (offline, --root): every unit is wanted at boot", () => {
      const enable = doc.runcmd.find((c) => c[0] === "systemctl" && c[1] === "enable");
      expect(enable).toBeDefined();
      const result = run([systemctl, `--root=${sysroot}`, ...enable!.slice(1)]);
      expect(result.status).toBe(0);
      // The links are absolute (as on the router), so read them rather than follow them.
      const wanted = (target: string, unit: string) => readlinkSync(join(sysroot, ROUTER_PATHS.unitDir, `${target}.wants`, unit));
      for (const unit of ["egresslink-router-net.service", "egresslink-router-secrets.service"]) expect(wanted("multi-user.target", unit)).toBe(`${ROUTER_PATHS.unitDir}/${unit}`);
      expect(wanted("multi-user.target", "strongswan.service")).toMatch(/^\/(usr\/)?lib\/systemd\/system\/strongswan\.service$/);
      expect(wanted("timers.target", "egresslink-router-health.timer")).toBe(`${ROUTER_PATHS.unitDir}/egresslink-router-health.timer`);
    });

    test("every script is valid bash; the document is valid cloud-config; no `${` and no pre-shared key anywhere", () => {
      const scripts = doc.write_files.filter((f) => f.content.startsWith("#!/bin/bash"));
      expect(scripts.map((f) => f.path).sort()).toEqual(
        [ROUTER_PATHS.attachEniScript, ROUTER_PATHS.ssmAgentScript, ROUTER_PATHS.networkScript, ROUTER_PATHS.secretsScript, ROUTER_PATHS.healthScript, ROUTER_PATHS.updown].sort(),
      );
      for (const script of scripts) {
        const check = spawnSync(bash, ["-n"], { input: script.content, encoding: "utf8" });
        expect([script.path, check.status, check.stderr]).toEqual([script.path, 0, ""]);
      }
      const file = join(dir, "user-data.yaml");
      writeFileSync(file, userData);
      const schema = run([cloudInit, "schema", "-c", file]);
      expect(`${schema.stdout}${schema.stderr}`).toContain("Valid cloud-config");
      expect(schema.status).toBe(0);
      expect(userData).not.toContain("${");
      for (const key of TEST_ENDPOINTS.tunnels.map((t) => t.presharedKey)) expect(userData).not.toContain(key);
    });
  });
});
