import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hubSquidConf } from "../modules/proxy/squid-conf";
import { ACCESS_LOG_FORMAT } from "../modules/proxy/squid-conf";
import { defaultConfig } from "./helpers";
import { programDescribe, requireProgram, requireRoot } from "./helpers-programs";

/**
 * A real Squid on 127.0.0.1 with the default example's rendered config, plus a test-only
 * overlay (hosts_file, loopback clients, pid and logs in a temp dir), in front of an origin
 * server in a network namespace at a documentation address (198.51.100.10, not in the deny
 * list). Every wait is bounded; everything it creates is removed in afterAll.
 */
const ORIGIN_IP = "198.51.100.10";
const HOST_IP = "198.51.100.1";
const PORT = { "project-a": 3128, "project-b": 3129, "project-c": 3130, "project-d": 3131 } as const;
const TIMEOUT_MS = 5000;

interface Reply {
  readonly status: number;
  readonly body: string;
}

/** A plain-HTTP request through the proxy (absolute URL, as a proxy client sends it). */
function proxyGet(port: number, url: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method: "GET", path: url, headers: { host: new URL(url).host }, timeout: TIMEOUT_MS, agent: false }, (res) => {
      let body = "";
      res.on("data", (chunk) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url} via :${port} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

/** A CONNECT through the proxy; when the tunnel opens, sends a line and returns what came back. */
function proxyConnect(port: number, target: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method: "CONNECT", path: target, timeout: TIMEOUT_MS, agent: false });
    req.on("connect", (res, socket) => {
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        socket.destroy();
        return resolve({ status, body: "" });
      }
      socket.setTimeout(TIMEOUT_MS, () => socket.destroy(new Error("tunnel echo timed out")));
      socket.once("data", (data) => {
        socket.destroy();
        resolve({ status, body: data.toString() });
      });
      socket.on("error", reject);
      socket.write("ping through the tunnel\n");
    });
    req.on("timeout", () => req.destroy(new Error(`CONNECT ${target} via :${port} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

function run(cmd: string, args: string[]): void {
  const result = spawnSync(cmd, args, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${result.stderr}`);
}

function waitForLine(child: ChildProcess, line: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${line}" within ${ms} ms`)), ms);
    let seen = "";
    child.stdout?.on("data", (chunk) => {
      seen += chunk;
      if (seen.includes(line)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on("exit", (code) => reject(new Error(`exited with ${code} before "${line}"`)));
  });
}

async function waitFor(what: string, ms: number, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.setTimeout(500, () => socket.destroy());
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
    socket.once("close", () => resolve(false));
  });
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

programDescribe("a real Squid with the rendered config", () => {
  const squid = requireProgram("squid");
  const ip = requireProgram("ip");
  requireRoot();
  const tag = `${process.pid % 100000}`;
  const ns = `egl-origin-${tag}`;
  const vethHost = `egl${tag}h`;
  const vethNs = `egl${tag}n`;
  const dir = mkdtempSync(join(tmpdir(), "egresslink-squid-"));
  const accessLog = join(dir, "access.log");
  let origin: ChildProcess | undefined;
  let proxy: ChildProcess | undefined;
  let proxyOutput = "";

  beforeAll(async () => {
    run(ip, ["netns", "add", ns]);
    run(ip, ["link", "add", vethHost, "type", "veth", "peer", "name", vethNs]);
    run(ip, ["link", "set", vethNs, "netns", ns]);
    run(ip, ["addr", "add", `${HOST_IP}/24`, "dev", vethHost]);
    run(ip, ["link", "set", vethHost, "up"]);
    run(ip, ["netns", "exec", ns, "ip", "addr", "add", `${ORIGIN_IP}/24`, "dev", vethNs]);
    run(ip, ["netns", "exec", ns, "ip", "link", "set", vethNs, "up"]);
    run(ip, ["netns", "exec", ns, "ip", "link", "set", "lo", "up"]);
    origin = spawn(ip, ["netns", "exec", ns, process.execPath, join(__dirname, "fixtures", "origin-server.js"), ORIGIN_IP], { stdio: ["pipe", "pipe", "inherit"] });
    await waitForLine(origin, "ready", 10_000);

    const config = defaultConfig();
    writeFileSync(join(dir, "squid.conf"), hubSquidConf(config.hub, config.spokes));
    writeFileSync(
      join(dir, "hosts"),
      [
        `${ORIGIN_IP} api.github.com pypi.org cdn.amazonlinux.com`,
        // Allowed names that resolve into denied ranges: DNS rebinding must not reach the hub or IMDS.
        "169.254.169.254 metadata.github.com",
        "10.0.0.5 internal.github.com",
        "",
      ].join("\n"),
    );
    writeFileSync(
      join(dir, "overlay.conf"),
      [
        `pid_filename ${dir}/squid.pid`,
        `cache_log ${dir}/cache.log`,
        `coredump_dir ${dir}`,
        `hosts_file ${dir}/hosts`,
        "dns_nameservers 127.0.0.1",
        "shutdown_lifetime 1 seconds",
        `include ${dir}/squid.conf`,
        // The test's clients are on loopback, not in the resource gateway's subnets.
        "acl egress_clients src 127.0.0.1/32",
        `access_log stdio:${accessLog} egress`,
        "",
      ].join("\n"),
    );
    chmodSync(dir, 0o777); // Squid drops root for its own user and writes its logs here.
    proxy = spawn(squid, ["-N", "-f", join(dir, "overlay.conf")], { stdio: ["ignore", "pipe", "pipe"] });
    proxy.stdout?.on("data", (c) => (proxyOutput += c));
    proxy.stderr?.on("data", (c) => (proxyOutput += c));
    await waitFor("Squid to listen on every spoke port", 15_000, async () => (await Promise.all(Object.values(PORT).map(portOpen))).every(Boolean));
  }, 60_000);

  afterAll(async () => {
    await stop(proxy);
    origin?.stdin?.end();
    await stop(origin);
    spawnSync(ip, ["netns", "del", ns]);
    spawnSync(ip, ["link", "del", vethHost]);
    rmSync(dir, { recursive: true, force: true });
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
    await waitFor("the log lines", 5000, () => existsSync(accessLog) && readFileSync(accessLog, "utf8").includes("/for-the-log"));
    const lines = readFileSync(accessLog, "utf8").split("\n");
    expect(ACCESS_LOG_FORMAT).toContain("spoke=%{spoke}note");
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/ spoke=project-a client=127\.0\.0\.1 local_port=3128 method=GET host=api\.github\.com url=http:\/\/api\.github\.com\/repos status=200 bytes=\d+ /)]));
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/ spoke=project-d .*method=GET host=api\.github\.com .*status=403 /)]));
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/ spoke=project-a .*method=CONNECT host=api\.github\.com .*status=200 /)]));
  });

  test("Squid logged no errors while serving", () => {
    const cacheLog = existsSync(join(dir, "cache.log")) ? readFileSync(join(dir, "cache.log"), "utf8") : "";
    expect(`${proxyOutput}\n${cacheLog}`.split("\n").filter((l) => /ERROR|FATAL/.test(l))).toEqual([]);
  });
});
