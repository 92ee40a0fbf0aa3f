import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { planInterconnect } from "../modules/interconnect/planner";
import { IPSEC_PROFILES, routerParams } from "../modules/interconnect/router-config";
import { renderLinuxRouter, ROUTER_PATHS } from "../modules/interconnect/router-linux";
import { TEST_ENDPOINTS, TEST_ROUTER_NETWORK } from "./helpers";
import { programDescribe, requireProgram, requireRoot, substituteExactly, writeStubAws } from "./helpers-programs";

/**
 * strongSwan reads the rendered swanctl files: a real charon (in a namespace of its own, with its
 * own vici socket) loads both connections, and both secrets from the file the rendered secrets
 * script writes (the keys are not in swanctl.conf), for each IPsec profile; and it has every
 * algorithm the profile proposes. The tunnels cannot come up here (the kernel has no XFRM
 * interfaces; see router-netns.test.ts), so this checks the config, not IPsec.
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
  const site = planInterconnect({ transitGatewayAsn: 64512, sites: [{ name: "site-a", cidr: "10.0.1.0/24" }, { name: "site-b", cidr: "10.0.1.0/24" }] })[0];

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

  /** Charon's names for the proposal keywords the profiles use (a new keyword must be added here). */
  const ALGORITHMS: Record<string, string[]> = {
    aes256gcm16: ["AES_GCM_16"],
    aes128: ["AES_CBC"],
    prfsha384: ["PRF_HMAC_SHA2_384"],
    sha1: ["HMAC_SHA1_96", "PRF_HMAC_SHA1"],
    ecp384: ["ECP_384"],
    modp2048: ["MODP_2048"],
  };

  /**
   * The router's two swanctl files, as on the router: the rendered connections, and the keys the
   * rendered secrets script writes (from a stand-in `aws`; its path substituted into a temp
   * conf.d), both included by a swanctl.conf like Debian's (`include conf.d/*.conf`).
   */
  const routerConfig = (name: keyof typeof IPSEC_PROFILES) => {
    const files = renderLinuxRouter(routerParams(site, 64512, IPSEC_PROFILES[name], TEST_ENDPOINTS), TEST_ROUTER_NETWORK);
    const confDir = join(dir, name, "conf.d");
    mkdirSync(confDir, { recursive: true });
    writeFileSync(join(confDir, "egresslink.conf"), files.swanctl);
    const stub = writeStubAws(join(dir, name), Object.fromEntries(TEST_ENDPOINTS.tunnels.map((t, i) => [t.presharedKeyParameter, `Stub.Key_${name}${i + 1}`])));
    writeFileSync(join(dir, name, "secrets.sh"), substituteExactly(files.secretsScript, [[ROUTER_PATHS.secrets, join(confDir, "egresslink-secrets.conf"), 2]]));
    const secrets = spawnSync("bash", [join(dir, name, "secrets.sh")], { encoding: "utf8", timeout: 15_000, env: { ...process.env, PATH: `${stub.binDir}:${process.env.PATH}` } });
    if (secrets.status !== 0) throw new Error(`the secrets script failed: ${secrets.stderr}`);
    writeFileSync(join(dir, name, "swanctl.conf"), "include conf.d/*.conf\n");
    return { files, file: join(dir, name, "swanctl.conf") };
  };
  const swanctlIn = (args: string[]) => spawnSync(ip, ["netns", "exec", netns, swanctl, ...args, "--uri", uri], { encoding: "utf8", timeout: 15_000 });

  test.each(["modern", "compatible"] as const)("%s profile: loads two connections and the two IKE secrets the secrets script wrote; charon has every algorithm it proposes", (name) => {
    const { files, file } = routerConfig(name);
    // The connections file holds no key; the secrets come only from the script.
    expect(files.swanctl).not.toMatch(/^\s*secrets\s*\{|\bsecret\s*=/m);
    for (const key of TEST_ENDPOINTS.tunnels.map((t) => t.presharedKey)) expect(files.swanctl).not.toContain(key);
    expect(files.swanctl).toContain(`proposals = ${IPSEC_PROFILES[name].strongswan.ike}\n`);
    expect(files.swanctl).toContain(`esp_proposals = ${IPSEC_PROFILES[name].strongswan.esp}\n`);

    const load = swanctlIn(["--load-all", "--file", file]);
    expect(load.status).toBe(0); // stderr carries swanctl's plugin and x509-folder notices
    expect(`${load.stdout}${load.stderr}`).not.toMatch(/loading .* failed|invalid value/);
    expect(load.stdout).toContain("loaded ike secret 'ike-tunnel1'");
    expect(load.stdout).toContain("loaded ike secret 'ike-tunnel2'");
    expect(load.stdout).toContain("successfully loaded 2 connections, 0 unloaded");
    const conns = swanctlIn(["--list-conns"]).stdout;
    // Both tunnels: IKEv2 from the router's private address, identified by its public one, to AWS's endpoints.
    for (const [n, endpoint] of [[1, "203.0.113.1"], [2, "203.0.113.2"]] as const) {
      expect(conns).toMatch(new RegExp(`tunnel${n}: IKEv2, no reauthentication, rekeying every 28800s[\\s\\S]*?local:  192\\.0\\.2\\.10\\s+remote: ${endpoint.replace(/\./g, "\\.")}`));
      expect(conns).toMatch(new RegExp(`tunnel${n}: TUNNEL, rekeying every 3600s`));
    }
    expect(conns.match(/id: 198\.51\.100\.20/g)).toHaveLength(2);

    // Charon loads proposals it cannot negotiate without complaint: check its algorithms too.
    // (Without libstrongswan-standard-plugins it has no AES_GCM_16 and no ECP_384.)
    const algorithms = swanctlIn(["--list-algs"]).stdout;
    const keywords = [IPSEC_PROFILES[name].strongswan.ike, IPSEC_PROFILES[name].strongswan.esp].flatMap((p) => p.split("-"));
    for (const keyword of new Set(keywords)) {
      expect([keyword, ALGORITHMS[keyword]]).not.toEqual([keyword, undefined]);
      for (const algorithm of ALGORITHMS[keyword]) expect([keyword, algorithms.includes(`  ${algorithm}[`)]).toEqual([keyword, true]);
    }
  });

  test("a broken file is refused (the check can fail)", () => {
    writeFileSync(join(dir, "broken.conf"), "connections {\n  tunnel1 {\n    version = 2\n    proposals = not-a-proposal\n    children { x { } }\n  }\n}\n");
    const load = spawnSync(ip, ["netns", "exec", netns, swanctl, "--load-conns", "--file", join(dir, "broken.conf"), "--uri", uri], { encoding: "utf8", timeout: 15_000 });
    expect(`${load.stdout}${load.stderr}`).toMatch(/invalid value for: proposals|loading connection 'tunnel1' failed/);
    expect(load.status).not.toBe(0);
  });
});
