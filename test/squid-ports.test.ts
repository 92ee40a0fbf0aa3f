import { spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { hubSquidConf } from "../modules/proxy/squid-conf";
import { renderPortCheckScript } from "../modules/proxy/user-data";
import { defaultConfig } from "./helpers";
import { programDescribe, requireProgram, requireRoot } from "./helpers-programs";
import { portOpen, proxyGet, run, startOrigin, startSquid, stopOrigin, vethNamespace, waitFor, type Namespace, type SquidRun } from "./helpers-squid";

// Squid's access log reaches the file through its log daemon (bash and awk): seconds on a loaded machine.
jest.setTimeout(60_000);

/**
 * A spoke port another process holds when Squid starts: Squid starts without it and serves the
 * other spokes, and the instance's port check (rendered, run for real against this Squid)
 * reports that spoke's port, and only it, without failing. The origin is in a namespace on
 * 198.19.254.0/24, a /24 of this suite's own (suites that run at the same time need distinct ones).
 */
const ORIGIN_IP = "198.19.254.10";
const HOST_IP = "198.19.254.1";
const SPOKES = ["alpha", "bravo", "charlie"] as const;
type Spoke = (typeof SPOKES)[number];

function listen(): Promise<net.Server> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => resolve(server));
  });
}
const portOf = (server: net.Server) => (server.address() as net.AddressInfo).port;
const close = (server: net.Server) => new Promise((resolve) => server.close(resolve));

programDescribe("a spoke port taken before Squid starts", () => {
  const squid = requireProgram("squid");
  const ip = requireProgram("ip");
  requireProgram("ss");
  requireRoot(); // the namespace; and ss shows another user's (Squid's) sockets' process to root only
  let holder: net.Server | undefined;
  let ns: Namespace | undefined;
  let origin: ChildProcess | undefined;
  let proxy: SquidRun;
  let port: Record<Spoke, number>;
  let check: () => { status: number | null; stderr: string };
  const ourLines = () => readFileSync(proxy.cacheLog, "utf8").split("\n").filter((l) => l.includes("egresslink:"));

  beforeAll(async () => {
    ns = vethNamespace(ip, "p", HOST_IP, ORIGIN_IP);
    origin = await startOrigin(ns, ORIGIN_IP);
    // alpha's port stays held by this process; the others are free for Squid.
    const servers = await Promise.all(SPOKES.map(listen));
    port = Object.fromEntries(SPOKES.map((s, i) => [s, portOf(servers[i])])) as Record<Spoke, number>;
    holder = servers[0];
    await Promise.all(servers.slice(1).map(close));
    const conf = hubSquidConf(
      defaultConfig().hub,
      SPOKES.map((name) => ({ name, port: port[name], allowedDomains: [`${name}.example.com`] })),
    );
    proxy = await startSquid(squid, { conf, ports: [port.bravo, port.charlie], hosts: [`${ORIGIN_IP} ${SPOKES.map((s) => `${s}.example.com`).join(" ")}`] });
    const script = join(proxy.dir, "egresslink-squid-ports");
    writeFileSync(script, renderPortCheckScript());
    chmodSync(script, 0o755);
    check = () => {
      const result = spawnSync(script, [], { env: { ...process.env, EGRESSLINK_SQUID_CONF: join(proxy.dir, "squid.conf"), EGRESSLINK_SQUID_LOG: proxy.cacheLog }, encoding: "utf8", timeout: 30_000 });
      return { status: result.status, stderr: result.stderr };
    };
  }, 60_000);

  afterAll(async () => {
    await proxy?.stop();
    if (holder?.listening) await close(holder);
    await stopOrigin(origin);
    ns?.remove();
  }, 30_000);

  test("Squid starts without the taken port, says why in cache.log, and keeps running", () => {
    expect(readFileSync(proxy.cacheLog, "utf8")).toMatch(new RegExp(`bind socket .*:${port.alpha}\\b.*Address already in use`));
    expect([proxy.process.exitCode, proxy.process.signalCode]).toEqual([null, null]);
  });

  test("the other spokes' ports serve their own requests", async () => {
    for (const spoke of ["bravo", "charlie"] as const) {
      const reply = await proxyGet(port[spoke], `http://${spoke}.example.com/`);
      expect([spoke, reply.status, JSON.parse(reply.body).origin]).toEqual([spoke, 200, "egresslink-test-origin"]);
    }
    expect((await proxyGet(port.charlie, "http://bravo.example.com/")).status).toBe(403);
    await waitFor("the access-log lines", 20_000, () => proxy.accessLines().filter((l) => /^\S+ (bravo|charlie) \S+ \d+ GET 200 /.test(l)).length === 2);
  });

  test("the port check reports the taken port for its spoke, and nothing else, in cache.log; exits 0", () => {
    const result = check();
    expect(result).toEqual({ status: 0, stderr: `egresslink: port ${port.alpha} of spoke alpha is not listening\n` });
    expect(ourLines()).toEqual([expect.stringMatching(new RegExp(String.raw`^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d egresslink: port ${port.alpha} of spoke alpha is not listening$`))]);
    expect(proxy.process.exitCode).toBeNull();
  }, 30_000);

  test("once the port is free and Squid reconfigured, the spoke is served and the check is quiet", async () => {
    await close(holder as net.Server);
    run(squid, ["-k", "reconfigure", "-f", join(proxy.dir, "overlay.conf")]);
    await waitFor("Squid to listen on alpha's port", 15_000, () => portOpen(port.alpha));
    const before = ourLines();
    expect(check()).toEqual({ status: 0, stderr: "" });
    expect(ourLines()).toEqual(before);
    expect((await proxyGet(port.alpha, "http://alpha.example.com/")).status).toBe(200);
  }, 30_000);
});
