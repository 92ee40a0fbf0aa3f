import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { insideAddresses, planInterconnect, type SitePlan } from "../modules/interconnect/planner";
import { IPSEC_PROFILES, routerParams, type RouterParams } from "../modules/interconnect/router-config";
import { renderLinuxRouter } from "../modules/interconnect/router-linux";
import { TEST_ENDPOINTS, TEST_ROUTER_NETWORK } from "./helpers";
import { programDescribe, requireProgram, requireRoot } from "./helpers-programs";

/**
 * The Linux router renderer, run for real: two sites that both use 10.0.1.0/24, each a host
 * namespace and a router namespace running the rendered FRR (zebra, staticd, bgpd), nftables
 * and sysctls, joined through a namespace that plays the Transit Gateway's BGP side (AS 64512).
 *
 * The sandbox kernel (6.18, Firecracker) has no `xfrm` or `vti` link types ("Unknown device
 * type"), so strongSwan's route-based tunnels cannot come up here: each tunnel is a veth pair
 * carrying its planned inside /30, named like the XFRM interface (vti1, vti2), so the rendered
 * FRR and nftables files run unchanged. Every wait is bounded; afterAll removes everything.
 */
const TGW_ASN = 64512;
const HOST = "10.0.1.10";
const GATEWAY = "10.0.1.1";
const TEST_PORT = 7000;
const sites = ["site-a", "site-b"];
const plan = planInterconnect({ transitGatewayAsn: TGW_ASN, sites: sites.map((name) => ({ name, cidr: "10.0.1.0/24" })) });
const planOf = (name: string) => plan.find((p) => p.name === name) as SitePlan;
/** The n-th host of a prefix. */
const hostIn = (cidr: string, n: number) => cidr.replace(/\.0\/24$/, `.${n}`);

function paramsFor(site: SitePlan): RouterParams {
  return routerParams(site, TGW_ASN, IPSEC_PROFILES.modern, TEST_ENDPOINTS);
}

programDescribe("the Linux router config in network namespaces", () => {
  const ip = requireProgram("ip");
  const nft = requireProgram("nft");
  const vtysh = requireProgram("vtysh");
  const sysctl = requireProgram("sysctl");
  for (const daemon of ["zebra", "staticd", "bgpd"]) if (!existsSync(`/usr/lib/frr/${daemon}`)) throw new Error(`FRR's ${daemon} is not installed (see .ci/run)`);
  requireRoot();

  const tag = `${process.pid % 100000}`;
  const ns = (role: string) => `egl-${role}-${tag}`;
  const pathspace = (role: string) => `egl${role}${tag}`;
  const dir = mkdtempSync(join(tmpdir(), "egresslink-routers-"));
  const namespaces = ["host-a", "rtr-a", "tgw", "rtr-b", "host-b"].map(ns);
  const frrRoles: string[] = [];
  let server: ChildProcess | undefined;

  const run = (args: string[]) => {
    const r = spawnSync(args[0], args.slice(1), { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${args.join(" ")} failed: ${r.stderr}`);
    return r.stdout;
  };
  const inNs = (name: string, args: string[]) => run([ip, "netns", "exec", name, ...args]);
  /** A veth pair between two namespaces, with names and addresses on each side. */
  const link = (a: string, aName: string, aAddr: string, b: string, bName: string, bAddr: string) => {
    const [ta, tb] = [`e${tag}x${frrRoles.length}${aName.length}a`.slice(0, 15), `e${tag}y${Math.random().toString(36).slice(2, 6)}`.slice(0, 15)];
    run([ip, "link", "add", ta, "type", "veth", "peer", "name", tb]);
    for (const [nsName, tmp, name, addr] of [[a, ta, aName, aAddr], [b, tb, bName, bAddr]]) {
      run([ip, "link", "set", tmp, "netns", nsName]);
      inNs(nsName, [ip, "link", "set", tmp, "name", name]);
      inNs(nsName, [ip, "addr", "add", addr, "dev", name]);
      inNs(nsName, [ip, "link", "set", name, "up"]);
    }
  };
  const startFrr = (role: string, config: string) => {
    const confDir = join(dir, role);
    mkdirSync(confDir, { recursive: true });
    mkdirSync(`/var/run/frr/${pathspace(role)}`, { recursive: true });
    writeFileSync(join(confDir, "frr.conf"), config);
    for (const p of [confDir, join(confDir, "frr.conf"), `/var/run/frr/${pathspace(role)}`]) chownSync(p, frrUid(), frrGid());
    for (const daemon of ["zebra", "staticd", "bgpd"]) {
      inNs(ns(role), [`/usr/lib/frr/${daemon}`, "-d", "-N", pathspace(role), "-f", join(confDir, "frr.conf"), "-i", join(confDir, `${daemon}.pid`)]);
    }
    frrRoles.push(role);
  };
  const vty = (role: string, command: string) => JSON.parse(inNs(ns(role), [vtysh, "-N", pathspace(role), "-c", command]));
  const waitFor = async (what: string, ms: number, check: () => boolean) => {
    const deadline = Date.now() + ms;
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        if (check()) return;
      } catch (err) {
        last = err;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
  };
  const bgpRoutes = (role: string) => (JSON.parse(inNs(ns(role), [ip, "-j", "route", "show", "proto", "bgp"])) as { dst: string }[]).map((r) => r.dst).sort();

  beforeAll(async () => {
    chmodSync(dir, 0o755);
    for (const name of namespaces) {
      run([ip, "netns", "add", name]);
      inNs(name, [ip, "link", "set", "lo", "up"]);
    }
    // Each site: host <-> router on 10.0.1.0/24; router <-> "Transit Gateway" on two inside /30s.
    for (const [side, site] of [["a", planOf("site-a")], ["b", planOf("site-b")]] as const) {
      link(ns(`host-${side}`), "lan0", `${HOST}/24`, ns(`rtr-${side}`), "lan0", `${GATEWAY}/24`);
      inNs(ns(`host-${side}`), [ip, "route", "add", "default", "via", GATEWAY]);
      site.tunnelInsideCidrs.forEach((cidr, i) => {
        const ends = insideAddresses(cidr);
        link(ns(`rtr-${side}`), `vti${i + 1}`, `${ends.cgw}/30`, ns("tgw"), `t${side}${i + 1}`, `${ends.vgw}/30`);
      });
      const files = renderLinuxRouter(paramsFor(site), TEST_ROUTER_NETWORK);
      for (const line of files.sysctl.split("\n").filter((l) => l.includes("="))) inNs(ns(`rtr-${side}`), [sysctl, "-q", "-w", line.replace(/\s/g, "")]);
      writeFileSync(join(dir, `nft-${side}.nft`), files.nftables);
      inNs(ns(`rtr-${side}`), [nft, "-f", join(dir, `nft-${side}.nft`)]);
      startFrr(`rtr-${side}`, files.frr);
    }
    // The Transit Gateway's side of BGP: accepts every site and passes routes on, like a TGW route table with propagation.
    inNs(ns("tgw"), [sysctl, "-q", "-w", "net.ipv4.ip_forward=1"]);
    const neighbours = plan.flatMap((site) => site.tunnelInsideCidrs.map((cidr) => ` neighbor ${insideAddresses(cidr).cgw} remote-as ${site.asn}`));
    startFrr("tgw", ["frr defaults traditional", `router bgp ${TGW_ASN}`, " bgp router-id 192.0.2.254", " no bgp ebgp-requires-policy", ...neighbours, " address-family ipv4 unicast", "  maximum-paths 2", " exit-address-family", ""].join("\n"));

    // Site B's host: a TCP server that answers with the address it sees.
    server = spawn(ip, ["netns", "exec", ns("host-b"), process.execPath, "-e", `require("net").createServer((s) => s.end(s.remoteAddress + "\\n")).listen(${TEST_PORT}, "0.0.0.0", () => console.log("ready"))`], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("test server did not start")), 10_000);
      server!.stdout!.on("data", (d) => String(d).includes("ready") && (clearTimeout(timer), resolve()));
    });
  }, 60_000);

  afterAll(async () => {
    server?.kill("SIGKILL");
    const pids = frrRoles.flatMap((role) =>
      ["bgpd", "staticd", "zebra"].map((daemon) => join(dir, role, `${daemon}.pid`)).filter(existsSync).map((f) => Number(readFileSync(f, "utf8").trim())),
    );
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    pids.forEach((pid) => alive(pid) && process.kill(pid, "SIGTERM"));
    for (let i = 0; i < 50 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
    pids.forEach((pid) => alive(pid) && process.kill(pid, "SIGKILL"));
    for (const role of frrRoles) rmSync(`/var/run/frr/${pathspace(role)}`, { recursive: true, force: true });
    for (const name of namespaces) spawnSync(ip, ["netns", "del", name]);
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  test("every BGP session is Established: both tunnels of both routers", async () => {
    await waitFor("four Established sessions", 60_000, () =>
      ["rtr-a", "rtr-b"].every((role) => {
        const peers = vty(role, "show bgp ipv4 unicast summary json").peers as Record<string, { state: string }>;
        return Object.keys(peers).length === 2 && Object.values(peers).every((p) => p.state === "Established");
      }),
    );
    for (const side of ["a", "b"]) {
      const peers = vty(`rtr-${side}`, "show bgp ipv4 unicast summary json").peers as Record<string, { state: string; remoteAs: number }>;
      expect(Object.keys(peers).sort()).toEqual(planOf(`site-${side}`).tunnelInsideCidrs.map((c) => insideAddresses(c).vgw).sort());
      for (const peer of Object.values(peers)) expect(peer).toMatchObject({ state: "Established", remoteAs: TGW_ASN });
    }
  }, 70_000);

  test("each router learned only the other site's translated prefix, over both tunnels", async () => {
    const [a, b] = [planOf("site-a"), planOf("site-b")];
    expect(a.translatedCidr).toBeDefined();
    expect(b.translatedCidr).toBeDefined();
    await waitFor("the translated prefixes", 60_000, () => bgpRoutes("rtr-a").length > 0 && bgpRoutes("rtr-b").length > 0);
    expect(bgpRoutes("rtr-a")).toEqual([b.translatedCidr]);
    expect(bgpRoutes("rtr-b")).toEqual([a.translatedCidr]);
    // The Transit Gateway side never saw a real 10.0.1.0/24: only translated prefixes are advertised.
    expect(bgpRoutes("tgw")).toEqual([a.translatedCidr, b.translatedCidr].sort());
    const route = (JSON.parse(inNs(ns("rtr-a"), [ip, "-j", "route", "show", b.translatedCidr!])) as { nexthops?: unknown[] }[])[0];
    expect(route.nexthops).toHaveLength(2);
  }, 70_000);

  test("site A's host reaches site B's host at B's translated address, and B sees A's translated source", async () => {
    const [a, b] = [planOf("site-a"), planOf("site-b")];
    await waitFor("routes on both routers", 60_000, () => bgpRoutes("rtr-a").length > 0 && bgpRoutes("rtr-b").length > 0);
    const target = hostIn(b.translatedCidr!, 10);
    const client = `const s = require("net").connect(${TEST_PORT}, "${target}"); let out = ""; s.setTimeout(5000, () => { console.error("timeout"); process.exit(2); }); s.on("data", (d) => (out += d)); s.on("end", () => { console.log(out.trim()); process.exit(0); }); s.on("error", (e) => { console.error(e.message); process.exit(1); });`;
    const result = spawnSync(ip, ["netns", "exec", ns("host-a"), process.execPath, "-e", client], { encoding: "utf8", timeout: 15_000 });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(hostIn(a.translatedCidr!, 10));
  }, 70_000);
});

function frrUid(): number {
  return Number(spawnSync("id", ["-u", "frr"], { encoding: "utf8" }).stdout.trim());
}

function frrGid(): number {
  return Number(spawnSync("id", ["-g", "frr"], { encoding: "utf8" }).stdout.trim());
}
