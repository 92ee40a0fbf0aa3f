import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { runCli } from "../modules/app/cli";
import { loadConfigFile } from "../modules/config/load";
import type { EgressConfig } from "../modules/config/model";
import { parseAccessLine } from "../modules/monitoring/access-log";
import { proxyMetricFilters } from "../modules/monitoring/metrics";
import { hubSquidConf } from "../modules/proxy/squid-conf";
import { defaultConfigData } from "./helpers";
import { metricEvent } from "./helpers-cloudwatch";
import { programDescribe, requireProgram, requireRoot } from "./helpers-programs";
import { proxyConnect, proxyGet, startOrigin, startSquid, stopOrigin, vethNamespace, waitFor, type Namespace, type SquidRun } from "./helpers-squid";

// Squid's access log reaches the file through its log daemon (bash and awk): seconds on a loaded machine.
jest.setTimeout(60_000);

/**
 * The learn -> suggest -> enforce round trip, and the metric filters against the lines it logs,
 * on a real Squid with the rendered config and the instance's log daemon: spoke project-a learns
 * (every public destination allowed, each logged; private and metadata addresses still refused),
 * `egresslink allowlist suggest` reads the real access log, its list goes into the config, and the
 * enforcing config lets the same requests through and refuses others. The origin is a network
 * namespace at a benchmarking address (198.19.253.10); every wait is bounded.
 */
const ORIGIN_IP = "198.19.253.10";
const HOST_IP = "198.19.253.1";
const PORT = { "project-a": 3328, "project-b": 3329, "project-c": 3330, "project-d": 3331, "project-e": 3332 } as const;
/** What project-a reaches while it learns: names outside its list (and inside it), plain HTTP and CONNECT. */
const LEARNED = {
  get: ["http://api.github.com/repos", "http://pypi.org/simple/", "http://docs.example.org/a", "http://cdn.docs.example.org/b", "http://octo.github.io/page"],
  connect: ["downloads.example.net:443"],
} as const;
/** Public, allowed while learning, but an IP literal: never proposed, so refused once enforcing. */
const IP_LITERAL = `http://${ORIGIN_IP}/`;

programDescribe("learn, suggest, enforce on a real Squid", () => {
  const squid = requireProgram("squid");
  const ip = requireProgram("ip");
  requireRoot();
  const work = mkdtempSync(join(tmpdir(), "egresslink-learn-"));
  const configFile = join(work, "egress.config.yaml");
  let ns: Namespace | undefined;
  let origin: ChildProcess | undefined;
  let proxy: SquidRun | undefined;
  let learnedLines: string[] = [];

  const data = defaultConfigData();
  for (const [name, port] of Object.entries(PORT)) data.spokes[name].port = port;
  data.spokes["project-a"] = { ...data.spokes["project-a"], policy: "learn", learnUntil: "2099-12-31" };
  const hosts = [
    `${ORIGIN_IP} api.github.com pypi.org docs.example.org cdn.docs.example.org octo.github.io downloads.example.net never-seen.example.com`,
    "169.254.169.254 metadata.example.org",
    "10.0.0.5 internal.example.org",
  ];
  const start = (config: EgressConfig) => startSquid(squid, { conf: hubSquidConf(config.hub, config.spokes), ports: Object.values(PORT), hosts, logDaemon: true });
  const reaches = async (port: number, url: string) => (url.startsWith("http://") ? (await proxyGet(port, url)).status : (await proxyConnect(port, url)).status);

  beforeAll(async () => {
    ns = vethNamespace(ip, "l", HOST_IP, ORIGIN_IP);
    origin = await startOrigin(ns, ORIGIN_IP);
    writeFileSync(configFile, stringify(data));
    proxy = await start(loadConfigFile(configFile));
  }, 60_000);

  afterAll(async () => {
    await proxy?.stop();
    await stopOrigin(origin);
    ns?.remove();
    rmSync(work, { recursive: true, force: true });
  }, 30_000);

  test("learning: project-a reaches any public name or address; private, metadata, non-web ports stay refused; project-b still enforces", async () => {
    for (const url of [...LEARNED.get, ...LEARNED.connect, IP_LITERAL]) expect([url, await reaches(PORT["project-a"], url)]).toEqual([url, 200]);
    for (const url of ["http://metadata.example.org/latest/meta-data/", "http://169.254.169.254/latest/meta-data/", "http://internal.example.org/", "http://10.0.0.5/", "docs.example.org:22"]) {
      expect([url, await reaches(PORT["project-a"], url)]).toEqual([url, 403]);
    }
    expect(await reaches(PORT["project-b"], "http://docs.example.org/a")).toBe(403);
    await proxyGet(PORT["project-b"], "http://pypi.org/last-learning-line");
    await waitFor("the log lines", 20_000, () => proxy!.accessLines().some((l) => l.includes("/last-learning-line")));
    learnedLines = proxy!.accessLines();
    writeFileSync(join(work, "access.log"), `${learnedLines.join("\n")}\n`);
  });

  test("every metric filter lands on the right fields of the real lines: the spoke as dimension, denials, bytes", () => {
    const filters = proxyMetricFilters(Object.values(PORT));
    const byMetric = (metric: string) => filters.filter((f) => f.metric === metric);
    expect(learnedLines.length).toBeGreaterThanOrEqual(13);
    for (const line of learnedLines) {
      const fields = parseAccessLine(line)!;
      expect(fields).toBeDefined();
      const published = (metric: string) => byMetric(metric).map((f) => metricEvent(f, line)).filter((e) => e !== undefined);
      const spoke = { Spoke: fields.spoke };
      expect(Object.values(PORT)).toContain(Number(fields.local_port));
      expect(PORT[fields.spoke as keyof typeof PORT]).toBe(Number(fields.local_port));
      // One shard covers these ports: each line is counted once, for its own spoke.
      expect(published("requests")).toEqual([{ value: 1, dimensions: spoke }]);
      expect(published("denied")).toEqual(fields.result === "TCP_DENIED" ? [{ value: 1, dimensions: spoke }] : []);
      expect(published("bytesOut")).toEqual([{ value: Number(fields.bytes_out), dimensions: spoke }]);
      expect(published("bytesIn")).toEqual([{ value: Number(fields.bytes_in), dimensions: spoke }]);
      expect(published("portDown")).toEqual([]);
      expect(published("portsDown")).toEqual([]);
      expect(published("syncFailures")).toEqual([]);
    }
    const line = (pattern: RegExp) => parseAccessLine(learnedLines.find((l) => pattern.test(l))!)!;
    // A tunnel counts what went through it: the origin's reply ("ping through the tunnel\n", 23 bytes) and Squid's 200 line.
    const tunnel = line(/ CONNECT 200 TCP_TUNNEL .* downloads\.example\.net /);
    expect([tunnel.spoke, Number(tunnel.bytes_in)]).toEqual(["project-a", expect.any(Number)]);
    expect(Number(tunnel.bytes_in)).toBeGreaterThan(23);
    expect(Number(tunnel.bytes_out)).toBeGreaterThan(0);
    const denied = line(/ GET 403 TCP_DENIED .* docs\.example\.org /);
    expect([denied.spoke, denied.local_port, denied.status]).toEqual(["project-b", String(PORT["project-b"]), "403"]);
    const get = line(/ GET 200 \S+ .* pypi\.org http:\/\/pypi\.org\/simple\/$/);
    expect([get.spoke, get.method, get.host, get.url]).toEqual(["project-a", "GET", "pypi.org", "http://pypi.org/simple/"]);
    expect(Number(get.bytes_in)).toBeGreaterThan(Number(get.bytes_out));
  });

  test("suggest, then enforce: the same requests pass, other names and the IP literal are refused", async () => {
    let stdout = "";
    let stderr = "";
    const code = await runCli(["allowlist", "suggest", "--config", configFile, join(work, "access.log")], {}, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
    expect([code, stderr]).toEqual([0, "egresslink allowlist: spokes.project-a.learnUntil: spoke project-a is learning until 2099-12-31: it may reach every public destination, not only its allow-list\n"]);
    const suggested = parse(stdout) as { spokes: Record<string, { allowedDomains: string[] }> };
    // project-a's list, whole: its own entries, then what it reached (registrable domains; the github.io page as its own host, never .github.io).
    expect(suggested.spokes["project-a"].allowedDomains).toEqual([".github.com", ".githubusercontent.com", ".example.net", ".example.org", "octo.github.io", "pypi.org"]);
    // project-b enforces: what it was refused is proposed too (its own list first), for a person to judge; it is not pasted here.
    expect(Object.keys(suggested.spokes)).toEqual(["project-a", "project-b"]);
    expect(suggested.spokes["project-b"].allowedDomains).toEqual(["pypi.org", "files.pythonhosted.org", ".example.org"]);
    expect(stdout).toContain(ORIGIN_IP);

    // Pasted into the config: project-a enforces its new list.
    const { policy: _policy, learnUntil: _until, ...spokeA } = data.spokes["project-a"];
    data.spokes["project-a"] = { ...spokeA, allowedDomains: suggested.spokes["project-a"].allowedDomains };
    writeFileSync(configFile, stringify(data));
    const enforcing = loadConfigFile(configFile);
    expect(enforcing.spokes.find((s) => s.name === "project-a")?.learnUntil).toBeUndefined();
    await proxy!.stop();
    proxy = await start(enforcing);

    for (const url of [...LEARNED.get, ...LEARNED.connect]) expect([url, await reaches(PORT["project-a"], url)]).toEqual([url, 200]);
    for (const url of [IP_LITERAL, "http://never-seen.example.com/", "never-seen.example.com:443", "http://metadata.example.org/"]) {
      expect([url, await reaches(PORT["project-a"], url)]).toEqual([url, 403]);
    }
  });

  test("Squid logged no errors", () => {
    expect(proxy!.errors()).toEqual([]);
  });
});

