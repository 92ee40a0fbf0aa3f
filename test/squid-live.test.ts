import type { ChildProcess } from "node:child_process";
import { hubSquidConf } from "../modules/proxy/squid-conf";
import { parseAccessLine } from "../modules/monitoring/access-log";
import { defaultConfig } from "./helpers";
import { programDescribe, requireProgram, requireRoot } from "./helpers-programs";
import { proxyConnect, proxyGet, startOrigin, startSquid, stopOrigin, vethNamespace, waitFor, type Namespace, type SquidRun } from "./helpers-squid";

// Squid's access log reaches the file through its log daemon (bash and awk): seconds on a loaded machine.
jest.setTimeout(60_000);

/**
 * A real Squid on 127.0.0.1 with the default example's rendered config, plus a test-only
 * overlay (hosts_file, loopback clients, pid and logs in a temp dir), in front of an origin
 * server in a network namespace at a documentation address (198.51.100.10, not in the deny
 * list). Every wait is bounded; everything it creates is removed in afterAll.
 */
const ORIGIN_IP = "198.51.100.10";
const HOST_IP = "198.51.100.1";
const PORT = { "project-a": 3128, "project-b": 3129, "project-c": 3130, "project-d": 3131 } as const;

programDescribe("a real Squid with the rendered config", () => {
  const squid = requireProgram("squid");
  const ip = requireProgram("ip");
  requireRoot();
  let ns: Namespace | undefined;
  let origin: ChildProcess | undefined;
  let proxy: SquidRun | undefined;

  beforeAll(async () => {
    ns = vethNamespace(ip, "o", HOST_IP, ORIGIN_IP);
    origin = await startOrigin(ns, ORIGIN_IP);
    const config = defaultConfig();
    proxy = await startSquid(squid, {
      conf: hubSquidConf(config.hub, config.spokes),
      ports: Object.values(PORT),
      hosts: [
        `${ORIGIN_IP} api.github.com pypi.org cdn.amazonlinux.com`,
        // Allowed names that resolve into denied ranges: DNS rebinding must not reach the hub or IMDS.
        "169.254.169.254 metadata.github.com",
        "10.0.0.5 internal.github.com",
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await proxy?.stop();
    await stopOrigin(origin);
    ns?.remove();
  }, 30_000);

  test("an allowed domain through spoke A's port reaches the origin, with no Via or X-Forwarded-For", async () => {
    const reply = await proxyGet(PORT["project-a"], "http://api.github.com/repos");
    expect(reply.status).toBe(200);
    const seen = JSON.parse(reply.body);
    expect(seen.origin).toBe("egresslink-test-origin");
    expect(seen.headers.via).toBeUndefined();
    expect(seen.headers["x-forwarded-for"]).toBeUndefined();
  });

  test("the same domain through spoke B's port is denied", async () => {
    expect((await proxyGet(PORT["project-b"], "http://api.github.com/repos")).status).toBe(403);
    expect((await proxyGet(PORT["project-b"], "http://pypi.org/simple/")).status).toBe(200);
  });

  test("the global allow-list applies on every spoke's port", async () => {
    expect((await proxyGet(PORT["project-c"], "http://cdn.amazonlinux.com/al2023/")).status).toBe(200);
  });

  test("CONNECT to 443 of an allowed domain opens a tunnel; CONNECT to port 22 is denied", async () => {
    const tunnel = await proxyConnect(PORT["project-a"], "api.github.com:443");
    expect(tunnel).toEqual({ status: 200, body: "ping through the tunnel\n" });
    expect((await proxyConnect(PORT["project-a"], "api.github.com:22")).status).toBe(403);
  });

  test("an IP-literal URL is not allowed through the reverse name of the IP", async () => {
    // hosts_file maps 198.51.100.10 back to api.github.com, which spoke A may reach by name.
    expect((await proxyGet(PORT["project-a"], `http://${ORIGIN_IP}/`)).status).toBe(403);
    expect((await proxyConnect(PORT["project-a"], `${ORIGIN_IP}:443`)).status).toBe(403);
  });

  test.each([
    ["the metadata service", "http://169.254.169.254/latest/meta-data/"],
    ["loopback", `http://127.0.0.1:${PORT["project-b"]}/`],
    ["the hub's network", "http://10.0.0.5/"],
    ["an allowed name resolving to the metadata service", "http://metadata.github.com/"],
    ["an allowed name resolving into 10/8", "http://internal.github.com/"],
  ])("%s is denied", async (_what, url) => {
    expect((await proxyGet(PORT["project-a"], url)).status).toBe(403);
  });

  test("the access log names the spoke, method, host, status and bytes", async () => {
    await proxyGet(PORT["project-d"], "http://api.github.com/for-the-log");
    await waitFor("the log lines", 20_000, () => proxy!.accessLines().some((l) => l.includes("/for-the-log")));
    const lines = proxy!.accessLines().map((l) => parseAccessLine(l));
    const bytes = { bytes_out: expect.stringMatching(/^[1-9]\d*$/), bytes_in: expect.stringMatching(/^[1-9]\d*$/) };
    expect(lines).toContainEqual({ time: expect.stringMatching(/^\d+\.\d{3}$/), spoke: "project-a", client: "127.0.0.1", local_port: "3128", method: "GET", status: "200", result: "TCP_MISS", ...bytes, host: "api.github.com", url: "http://api.github.com/repos" });
    expect(lines).toContainEqual(expect.objectContaining({ spoke: "project-d", method: "GET", status: "403", result: "TCP_DENIED", host: "api.github.com", url: "http://api.github.com/for-the-log" }));
    expect(lines).toContainEqual(expect.objectContaining({ spoke: "project-a", method: "CONNECT", status: "200", result: "TCP_TUNNEL", ...bytes, host: "api.github.com", url: "api.github.com:443" }));
  });

  test("Squid logged no errors while serving", () => {
    expect(proxy!.errors()).toEqual([]);
  });
});
