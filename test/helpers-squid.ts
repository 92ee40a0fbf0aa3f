import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import dgram from "node:dgram";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_ACCESS_LOG, DEFAULT_LOG_DAEMON, PROXY_HEALTH_PORT } from "../modules/proxy/squid-conf";
import { renderLogDaemon } from "../modules/proxy/user-data";

/** Pieces shared by the suites that run a real Squid (and the programs around it). Every wait is bounded. */

export const TIMEOUT_MS = 5000;

export interface Reply {
  readonly status: number;
  readonly body: string;
}

/** A plain-HTTP request through the proxy on 127.0.0.1 (absolute URL, as a proxy client sends it). */
export function proxyGet(port: number, url: string): Promise<Reply> {
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

/** A CONNECT through the proxy on 127.0.0.1; when the tunnel opens, sends a line and returns what came back. */
export function proxyConnect(port: number, target: string): Promise<Reply> {
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

/** Runs a command to completion; throws with its stderr when it fails. */
export function run(cmd: string, args: string[]): void {
  const result = spawnSync(cmd, args, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${result.stderr}`);
}

/** Resolves once `child` prints `line` on stdout; rejects after `ms` or when it exits first. */
export function waitForLine(child: ChildProcess, line: string, ms: number): Promise<void> {
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
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before "${line}"`));
    });
  });
}

/** Polls `check` every 100 ms until it holds; throws after `ms`. */
export async function waitFor(what: string, ms: number, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.setTimeout(500, () => socket.destroy());
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
    socket.once("close", () => resolve(false));
  });
}

/** SIGTERM, then SIGKILL after 5 s; resolves when the child has exited. */
export async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

export interface SquidRun {
  readonly process: ChildProcess;
  /** The run's temp dir (config, pid, logs); removed by `stop`. */
  readonly dir: string;
  readonly accessLog: string;
  readonly cacheLog: string;
  /** What Squid printed on stdout and stderr so far. */
  output(): string;
  /** The access log's lines so far. */
  accessLines(): string[];
  /** The cache log and output lines with ERROR or FATAL. */
  errors(): string[];
  /** Stops Squid and removes the dir. */
  stop(): Promise<void>;
}

/**
 * `conf` with its log daemon in `dir` (the rendered one): Squid 5.7 refuses to parse or start a
 * config whose `logfile_daemon` does not exist, and on the instance the user data installs it first.
 */
export function withLogDaemonIn(dir: string, conf: string): string {
  const daemon = join(dir, "log-daemon");
  writeFileSync(daemon, renderLogDaemon(), { mode: 0o755 });
  return conf.replace(`logfile_daemon ${DEFAULT_LOG_DAEMON}\n`, `logfile_daemon ${daemon}\n`);
}

export interface SquidOptions {
  /** The rendered squid.conf, unchanged but for its access log, which goes to the run's own file. */
  readonly conf: string;
  /** Ports Squid itself must accept on (per its cache.log) before `startSquid` returns; a port another process holds never counts. */
  readonly ports: readonly number[];
  /** hosts_file lines; without them Squid reads no hosts file (`hosts_file none`). */
  readonly hosts?: readonly string[];
  /** Squid's DNS server. @default "127.0.0.1" */
  readonly nameserver?: string;
  /** More overlay lines, after the rendered config (so they override its ACLs). */
  readonly overlay?: readonly string[];
  /**
   * Log through the instance's log daemon (`renderLogDaemon`, reading the run's squid.conf) as
   * on the instance (`daemon:`), rather than straight to the file (`stdio:`). @default false
   */
  readonly logDaemon?: boolean;
}

/**
 * Starts `squid -N` on the rendered config plus a test-only overlay: pid and logs in a temp
 * dir, loopback clients (not the gateway subnets), the test's name resolution. Waits up to 15 s
 * for `ports`. Suites run in parallel: each needs spoke ports of its own.
 */
export async function startSquid(squid: string, options: SquidOptions): Promise<SquidRun> {
  if (!options.conf.includes(DEFAULT_ACCESS_LOG)) throw new Error(`startSquid: the config does not log to ${DEFAULT_ACCESS_LOG}`);
  const dir = mkdtempSync(join(tmpdir(), "egresslink-squid-"));
  const accessLog = join(dir, "access.log");
  const cacheLog = join(dir, "cache.log");
  const daemon = join(dir, "log-daemon");
  // Suites run in parallel: the health-check port moves just below the suite's own spoke ports.
  const conf = options.conf
    .replaceAll(DEFAULT_ACCESS_LOG, `${options.logDaemon ? "daemon" : "stdio"}:${accessLog}`)
    .replace(`http_port ${PROXY_HEALTH_PORT} `, `http_port ${Math.min(...options.ports) - 1} `);
  writeFileSync(join(dir, "squid.conf"), conf);
  // Always there: Squid 5.7 refuses to start when logfile_daemon's file is missing, used or not.
  writeFileSync(daemon, renderLogDaemon(join(dir, "squid.conf")), { mode: 0o755 });
  if (options.hosts) writeFileSync(join(dir, "hosts"), [...options.hosts, ""].join("\n"));
  writeFileSync(
    join(dir, "overlay.conf"),
    [
      `pid_filename ${dir}/squid.pid`,
      `cache_log ${cacheLog}`,
      `coredump_dir ${dir}`,
      `hosts_file ${options.hosts ? `${dir}/hosts` : "none"}`,
      `dns_nameservers ${options.nameserver ?? "127.0.0.1"}`,
      "shutdown_lifetime 1 seconds",
      `include ${dir}/squid.conf`,
      // The test's clients are on loopback, not in the resource gateway's subnets.
      "acl egress_clients src 127.0.0.1/32",
      `logfile_daemon ${daemon}`,
      ...(options.overlay ?? []),
      "",
    ].join("\n"),
  );
  chmodSync(dir, 0o777); // Squid drops root for its own user and writes its logs here.
  const proc = spawn(squid, ["-N", "-f", join(dir, "overlay.conf")], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  proc.stdout?.on("data", (c) => (output += c));
  proc.stderr?.on("data", (c) => (output += c));
  const read = (file: string) => (existsSync(file) ? readFileSync(file, "utf8") : "");
  const handle: SquidRun = {
    process: proc,
    dir,
    accessLog,
    cacheLog,
    output: () => output,
    accessLines: () => read(accessLog).split("\n").filter(Boolean),
    errors: () => `${output}\n${read(cacheLog)}`.split("\n").filter((l) => /ERROR|FATAL/.test(l)),
    stop: async () => {
      await stop(proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  // Squid's own word that it listens, not a probe: another process may hold a port, and a probe
  // would add a line to the access log.
  const accepting = (port: number) => new RegExp(`Accepting HTTP Socket connections at \\S+ local=\\S+:${port} `, "m");
  try {
    await waitFor(`Squid to accept on ports ${options.ports.join(", ")}`, 15_000, () => {
      if (proc.exitCode !== null) throw new Error(`squid exited with ${proc.exitCode}: ${output}${read(cacheLog)}`);
      const log = read(cacheLog);
      return options.ports.every((port) => accepting(port).test(log));
    });
  } catch (err) {
    await handle.stop();
    throw err;
  }
  return handle;
}

export interface Namespace {
  readonly name: string;
  /** Runs `argv` inside the namespace. */
  spawn(argv: readonly string[]): ChildProcess;
  /** Deletes the namespace and its veth pair. */
  remove(): void;
}

/**
 * A network namespace joined to this one by a veth pair: `hostIp`/24 on this side, `nsIp`/24
 * inside. Suites that run at the same time must use different /24s.
 */
export function vethNamespace(ip: string, label: string, hostIp: string, nsIp: string): Namespace {
  const tag = `${label}${process.pid % 100000}`;
  const name = `egl-${tag}`;
  const vethHost = `egl${tag}h`;
  const vethNs = `egl${tag}n`;
  const remove = () => {
    spawnSync(ip, ["netns", "del", name]);
    spawnSync(ip, ["link", "del", vethHost]);
  };
  try {
    run(ip, ["netns", "add", name]);
    run(ip, ["link", "add", vethHost, "type", "veth", "peer", "name", vethNs]);
    run(ip, ["link", "set", vethNs, "netns", name]);
    run(ip, ["addr", "add", `${hostIp}/24`, "dev", vethHost]);
    run(ip, ["link", "set", vethHost, "up"]);
    run(ip, ["netns", "exec", name, "ip", "addr", "add", `${nsIp}/24`, "dev", vethNs]);
    run(ip, ["netns", "exec", name, "ip", "link", "set", vethNs, "up"]);
    run(ip, ["netns", "exec", name, "ip", "link", "set", "lo", "up"]);
  } catch (err) {
    remove();
    throw err;
  }
  return { name, spawn: (argv) => spawn(ip, ["netns", "exec", name, ...argv], { stdio: ["pipe", "pipe", "inherit"] }), remove };
}

/** The test origin (fixtures/origin-server.js: HTTP on 80, TCP echo on 443 and 22) at `nsIp` in `ns`; stop it with `stopOrigin`. */
export async function startOrigin(ns: Namespace, nsIp: string): Promise<ChildProcess> {
  const origin = ns.spawn([process.execPath, join(__dirname, "fixtures", "origin-server.js"), nsIp]);
  await waitForLine(origin, "ready", 10_000);
  return origin;
}

/** Ends the origin (it exits when its stdin closes; SIGTERM after that). */
export async function stopOrigin(origin: ChildProcess | undefined): Promise<void> {
  origin?.stdin?.end();
  await stop(origin);
}

export interface DnsQuery {
  /** The queried name, lower case, without the trailing dot. */
  readonly name: string;
  /** "A", "AAAA", "PTR" or the type number. */
  readonly type: string;
}

export interface DnsServer {
  /** Every query received so far, in order. */
  readonly queries: DnsQuery[];
  close(): Promise<void>;
}

/** Answers per name (lower case): A and AAAA addresses. Other names get NXDOMAIN. */
export type DnsZone = Readonly<Record<string, { readonly A?: readonly string[]; readonly AAAA?: readonly string[] }>>;

const DNS_TYPES: Record<number, string> = { 1: "A", 12: "PTR", 28: "AAAA" };

/** A UDP DNS server on `address`:53 that records every query and answers from `zone` (TTL 60). */
export async function startDnsServer(address: string, zone: DnsZone): Promise<DnsServer> {
  const socket = dgram.createSocket(address.includes(":") ? "udp6" : "udp4");
  const queries: DnsQuery[] = [];
  socket.on("message", (msg, from) => {
    const question = parseQuestion(msg);
    if (!question) return;
    const type = DNS_TYPES[question.type] ?? String(question.type);
    queries.push({ name: question.name, type });
    const entry = zone[question.name];
    const addresses = type === "A" || type === "AAAA" ? (entry?.[type] ?? []) : [];
    const rcode = entry ? 0 : 3;
    const header = Buffer.alloc(12);
    header.writeUInt16BE(msg.readUInt16BE(0), 0);
    header.writeUInt16BE(0x8180 | (msg.readUInt16BE(2) & 0x0100) | rcode, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(addresses.length, 6);
    const answers = addresses.map((a) => {
      const rdata = type === "A" ? Buffer.from(a.split(".").map(Number)) : ipv6Bytes(a);
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
      rr.writeUInt16BE(question.type, 2);
      rr.writeUInt16BE(1, 4);
      rr.writeUInt32BE(60, 6);
      rr.writeUInt16BE(rdata.length, 10);
      return Buffer.concat([rr, rdata]);
    });
    socket.send(Buffer.concat([header, msg.subarray(12, question.end), ...answers]), from.port, from.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(53, address, () => resolve());
  });
  return { queries, close: () => new Promise((resolve) => socket.close(() => resolve())) };
}

function parseQuestion(msg: Buffer): { name: string; type: number; end: number } | undefined {
  if (msg.length < 12 || msg.readUInt16BE(4) < 1) return undefined;
  const labels: string[] = [];
  let at = 12;
  while (at < msg.length && msg[at] !== 0) {
    const len = msg[at];
    if (len > 63 || at + 1 + len > msg.length) return undefined;
    labels.push(msg.toString("latin1", at + 1, at + 1 + len));
    at += 1 + len;
  }
  if (at + 5 > msg.length) return undefined;
  return { name: labels.join(".").toLowerCase(), type: msg.readUInt16BE(at + 1), end: at + 5 };
}

/** The 16 bytes of an IPv6 address (with `::` and a dotted IPv4 tail). */
export function ipv6Bytes(address: string): Buffer {
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  const text = dotted ? address.slice(0, dotted.index) + (((+dotted[1] << 8) | +dotted[2]).toString(16) + ":" + ((+dotted[3] << 8) | +dotted[4]).toString(16)) : address;
  const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
  const groups = (s: string | undefined) => (s ? s.split(":") : []);
  const missing = 8 - groups(head).length - groups(tail).length;
  const all = tail === undefined ? groups(head) : [...groups(head), ...Array(missing).fill("0"), ...groups(tail)];
  if (all.length !== 8) throw new Error(`not an IPv6 address: ${address}`);
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/**
 * Sends `request` as raw bytes to the proxy on 127.0.0.1 and returns the reply's status (0: none)
 * and its whole text (head and body); for requests an HTTP client will not send. The reply ends
 * at its Content-Length or when Squid closes the connection.
 */
export function proxyRaw(port: number, request: string | Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let text = "";
    const done = () => {
      socket.destroy();
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0), body: text });
    };
    socket.setTimeout(TIMEOUT_MS, () => socket.destroy(new Error(`raw request via :${port} timed out`)));
    socket.on("data", (chunk) => {
      text += chunk.toString("latin1");
      const head = text.indexOf("\r\n\r\n");
      const length = /\r\ncontent-length: *(\d+)\r\n/i.exec(text.slice(0, head + 2))?.[1];
      if (head >= 0 && length !== undefined && text.length >= head + 4 + Number(length)) done();
    });
    socket.on("close", done);
    socket.on("error", reject);
    socket.write(request);
  });
}
