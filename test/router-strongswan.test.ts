import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { planInterconnect } from "../modules/interconnect/planner";
import { routerParams } from "../modules/interconnect/router-config";
import { renderLinuxRouter } from "../modules/interconnect/router-linux";
import { TEST_ENDPOINTS } from "./helpers";
import { programDescribe, requireProgram, requireRoot } from "./helpers-programs";

/**
 * strongSwan reads the rendered swanctl.conf: a real charon (in a namespace of its own, with its
 * own vici socket) loads both connections and both secrets. The tunnels cannot come up here (the
 * kernel has no XFRM interfaces; see router-netns.test.ts), so this checks the config, not IPsec.
 */
programDescribe("the rendered swanctl.conf in a real charon", () => {
  const ip = requireProgram("ip");
  const swanctl = requireProgram("swanctl");
  const charonPath = "/usr/lib/ipsec/charon";
  if (!existsSync(charonPath)) throw new Error("strongSwan's charon is not installed (see .ci/run)");
  requireRoot();
  const dir = mkdtempSync(join(tmpdir(), "egresslink-charon-"));
  const netns = `egl-charon-${process.pid % 100000}`;
  const uri = `unix://${dir}/charon.vici`;
  let charon: ChildProcess | undefined;

  beforeAll(async () => {
    spawnSync(ip, ["netns", "add", netns]);
    spawnSync(ip, ["netns", "exec", netns, ip, "link", "set", "lo", "up"]);
    writeFileSync(join(dir, "strongswan.conf"), `charon {\n  install_routes = no\n  plugins {\n    vici {\n      socket = ${uri}\n    }\n  }\n}\n`);
    charon = spawn(ip, ["netns", "exec", netns, charonPath], { env: { ...process.env, STRONGSWAN_CONF: join(dir, "strongswan.conf") }, stdio: "ignore" });
    const deadline = Date.now() + 10_000;
    while (!existsSync(join(dir, "charon.vici")) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (!existsSync(join(dir, "charon.vici"))) throw new Error("charon did not open its vici socket");
  }, 20_000);

  afterAll(async () => {
    if (charon && charon.exitCode === null) {
      const exited = new Promise((r) => charon!.once("exit", r));
      charon.kill("SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 5000)))]);
      clearTimeout(timer); // or jest waits for it (an open handle)
      charon.kill("SIGKILL");
    }
    spawnSync(ip, ["netns", "del", netns]);
    rmSync(dir, { recursive: true, force: true });
  });

  test("loads two connections and two IKE secrets", () => {
    const site = planInterconnect({ transitGatewayAsn: 64512, sites: [{ name: "site-a", cidr: "10.0.1.0/24" }, { name: "site-b", cidr: "10.0.1.0/24" }] })[0];
    const files = renderLinuxRouter(routerParams(site, 64512, TEST_ENDPOINTS));
    writeFileSync(join(dir, "swanctl.conf"), files.swanctl);
    const load = spawnSync(ip, ["netns", "exec", netns, swanctl, "--load-all", "--file", join(dir, "swanctl.conf"), "--uri", uri], { encoding: "utf8", timeout: 15_000 });
    expect(load.status).toBe(0);
    expect(load.stdout).toContain("loaded ike secret 'ike-tunnel1'");
    expect(load.stdout).toContain("loaded ike secret 'ike-tunnel2'");
    expect(load.stdout).toContain("successfully loaded 2 connections, 0 unloaded");
    const conns = spawnSync(ip, ["netns", "exec", netns, swanctl, "--list-conns", "--uri", uri], { encoding: "utf8", timeout: 15_000 }).stdout;
    // Both tunnels: IKEv2 from the router's private address, identified by its public one, to AWS's endpoints.
    for (const [n, endpoint] of [[1, "203.0.113.1"], [2, "203.0.113.2"]] as const) {
      expect(conns).toMatch(new RegExp(`tunnel${n}: IKEv2, no reauthentication, rekeying every 28800s[\\s\\S]*?local:  192\\.0\\.2\\.10\\s+remote: ${endpoint.replace(/\./g, "\\.")}`));
      expect(conns).toMatch(new RegExp(`tunnel${n}: TUNNEL, rekeying every 3600s`));
    }
    expect(conns.match(/id: 198\.51\.100\.20/g)).toHaveLength(2);
  });

  test("a broken file is refused (the check can fail)", () => {
    writeFileSync(join(dir, "broken.conf"), "connections {\n  tunnel1 {\n    version = 2\n    proposals = not-a-proposal\n    children { x { } }\n  }\n}\n");
    const load = spawnSync(ip, ["netns", "exec", netns, swanctl, "--load-conns", "--file", join(dir, "broken.conf"), "--uri", uri], { encoding: "utf8", timeout: 15_000 });
    expect(`${load.stdout}${load.stderr}`).toMatch(/invalid value for: proposals|loading connection 'tunnel1' failed/);
    expect(load.status).not.toBe(0);
  });
});
