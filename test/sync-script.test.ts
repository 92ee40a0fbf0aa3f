import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hubSquidBase, hubSquidConf, hubSquidPortBlock, PORT_BLOCKS_MARKER } from "../modules/proxy/squid-conf";
import { portBlockConfigKey, portBlockParameterName, portBlockParameterPath, PROXY_CONFIG_KEY, proxyConfigParameterName, proxyConfigPointer } from "../modules/proxy/config-delivery";
import { portBlocks } from "../modules/proxy/port-blocks";
import { proxyMetricFilters } from "../modules/monitoring/metrics";
import { renderPortCheckScript, renderSyncScript } from "../modules/proxy/user-data";
import { metricEvent } from "./helpers-cloudwatch";
import { defaultConfig } from "./helpers";
import { programDescribe, requireProgram } from "./helpers-programs";
import { stop, waitForLine, withLogDaemonIn } from "./helpers-squid";

/**
 * Runs the instance's sync script for real, with the real `squid -k parse`, and stubs for what
 * only exists on EC2: `aws ssm get-parameter` and `get-parameters-by-path` (serve the pointers
 * the hub core and the port-block stacks publish), `aws s3api get-object` (serves the object
 * version a pointer names) and the service manager (`systemctl`, `squid -k reconfigure`), which
 * record their calls, as does the port check (run for real below).
 */
programDescribe("the config sync script", () => {
  const realSquid = requireProgram("squid");
  const dir = mkdtempSync(join(tmpdir(), "egresslink-sync-"));
  const bin = join(dir, "bin");
  const baseParameter = join(dir, "base-parameter");
  const blockParameters = join(dir, "block-parameters");
  const objects = join(dir, "objects");
  const applied = join(dir, "applied-pointer");
  const calls = join(dir, "calls");
  const conf = join(dir, "squid.conf");
  const cacheLog = join(dir, "cache.log");
  const script = join(dir, "egresslink-squid-sync");
  const config = defaultConfig();
  // Two port blocks: 3100 (two spokes) and 3150 (the others, moved there).
  const spokes = config.spokes.map((s, i) => (i < 2 ? s : { ...s, port: 3150 + i }));
  const blocks = portBlocks(spokes);
  const base = withLogDaemonIn(dir, hubSquidBase(config.hub));
  const fragment = (start: number) => hubSquidPortBlock(config.hub, blocks.find((b) => b.start === start)!.members);
  const whole = (members: readonly (typeof spokes)[number][] = spokes) => withLogDaemonIn(dir, hubSquidConf(config.hub, members));
  const path = portBlockParameterPath("egress");
  const bucket = "egress-proxy-config-x";

  beforeAll(() => {
    expect(blocks.map((b) => b.start)).toEqual([3100, 3150]);
    writeFileSync(cacheLog, "2026/11/21 10:00:00| Starting Squid Cache version 6.13\n");
    mkdirSync(bin);
    const stub = (name: string, body: string) => {
      writeFileSync(join(bin, name), `#!/bin/bash\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    };
    mkdirSync(objects);
    stub(
      "aws",
      [
        'case "$1 $2" in',
        `  "ssm get-parameter") cat '${baseParameter}' ;;`,
        // --region R --path P --query Q --output text: tab-separated name and value, in no particular order.
        `  "ssm get-parameters-by-path") [ "$6" = '${path}' ] || exit 3; [ -f '${blockParameters}' ] && sort -r '${blockParameters}' ;;`,
        // get-object --region R --bucket B --key K --version-id V OUTFILE
        `  "s3api get-object") echo "aws s3api get-object $5 $6 $7 $8 $9 \${10}" >> '${calls}'; cp "${objects}/\${10}" "\${11}" ;;`,
        "  *) exit 2 ;;",
        "esac",
      ].join("\n"),
    );
    stub("systemctl", `echo "systemctl $*" >> '${calls}'\n[ "$1" = is-active ] && [ -f '${dir}/active' ] && exit 0\n[ "$1" = is-active ] && exit 3\nexit 0`);
    stub("squid", `if [ "$1 $2" = "-k parse" ]; then exec '${realSquid}' "$@"; fi\necho "squid $*" >> '${calls}'`);
    stub("egresslink-squid-ports", `echo "port check $EGRESSLINK_SQUID_CONF" >> '${calls}'`);
    writeFileSync(script, renderSyncScript("ap-northeast-1", proxyConfigParameterName("egress"), path));
    chmodSync(script, 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  let versions = 0;
  const pointers = new Map<number, string>();
  /** A new version of the object at `key` holding `text`; returns its version. */
  const upload = (text: string) => {
    const version = `v${++versions}`;
    writeFileSync(join(objects, version), text);
    return version;
  };
  const publishBase = (text: string) => {
    const version = upload(text);
    writeFileSync(baseParameter, `${proxyConfigPointer(bucket, PROXY_CONFIG_KEY, version)}\n`);
    return version;
  };
  const writeBlocks = () => writeFileSync(blockParameters, [...pointers].map(([start, pointer]) => `${portBlockParameterName("egress", start)}\t${pointer}\n`).join(""));
  const publishBlock = (start: number, text: string) => {
    const version = upload(text);
    pointers.set(start, proxyConfigPointer(bucket, portBlockConfigKey(start), version));
    writeBlocks();
    return version;
  };
  const fetched = (key: string, version: string) => `aws s3api get-object --bucket ${bucket} --key ${key} --version-id ${version}`;
  const sync = (today = "2026-11-21") => {
    rmSync(calls, { force: true });
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, EGRESSLINK_SQUID_CONF: conf, EGRESSLINK_APPLIED_POINTER: applied, EGRESSLINK_SQUID_LOG: cacheLog, EGRESSLINK_TODAY: today };
    const result = spawnSync(script, [], { env, encoding: "utf8", timeout: 20_000 });
    return { status: result.status, stderr: result.stderr, calls: existsSync(calls) ? readFileSync(calls, "utf8").trim().split("\n") : [] };
  };

  /** cache.log's lines since `from` (Squid made the file before the first run). */
  const logged = (from = 0) => readFileSync(cacheLog, "utf8").split("\n").filter(Boolean).slice(from);
  const syncFailures = proxyMetricFilters([]).find((f) => f.metric === "syncFailures")!;

  test("first run: fetches the base and every block's object version, assembles them as the hub renders the whole file, installs it and starts Squid", () => {
    const v = [publishBase(base), publishBlock(3150, fragment(3150)), publishBlock(3100, fragment(3100))];
    const run = sync();
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(readFileSync(conf, "utf8")).toBe(whole());
    expect(run.calls).toEqual([fetched(PROXY_CONFIG_KEY, v[0]), fetched("ports/3100.conf", v[2]), fetched("ports/3150.conf", v[1]), "systemctl is-active --quiet squid", "systemctl enable --now squid", `port check ${conf}`]);
  });

  test("unchanged pointers: fetches nothing, touches nothing, checks the ports (every minute, so a missing port is reported while it lasts)", () => {
    writeFileSync(join(dir, "active"), "");
    const run = sync();
    expect(run.status).toBe(0);
    expect(run.calls).toEqual([`port check ${conf}`]);
  });

  test("a new version of one block with the same content: everything fetched once, nothing reloaded", () => {
    const version = publishBlock(3150, fragment(3150));
    const run = sync();
    expect(run.status).toBe(0);
    expect(run.calls).toEqual([fetched(PROXY_CONFIG_KEY, "v1"), fetched("ports/3100.conf", "v3"), fetched("ports/3150.conf", version), `port check ${conf}`]);
    expect(sync().calls).toEqual([`port check ${conf}`]);
  });

  test("a base parameter that names no object version: fails, keeps the running config", () => {
    const before = readFileSync(baseParameter, "utf8");
    writeFileSync(baseParameter, "H4sIAAAAAAAA/8soKSkottLXLy8v1ytOLsgs0UvOz1XKzc/LzU8pKU5VsgYA\n");
    const run = sync();
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/does not name an S3 object version/);
    expect(readFileSync(conf, "utf8")).toBe(whole());
    // The failure is logged for the ConfigSyncFailures metric (its filter matches it: see also the last test).
    expect(logged(-1)).toEqual([expect.stringMatching(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d egresslink: config sync failed with exit status 1$/)]);
    expect(metricEvent(syncFailures, logged(-1)[0])).toEqual({ value: 1, dimensions: {} });
    writeFileSync(baseParameter, before);
  });

  test("one block changed and valid: installs it and reconfigures the running Squid", () => {
    const changed = fragment(3150).replace("acl allowed_project-c dstdomain -n registry.npmjs.org", "acl allowed_project-c dstdomain -n registry.npmjs.org registry.yarnpkg.com");
    expect(changed).not.toBe(fragment(3150));
    publishBlock(3150, changed);
    const run = sync();
    expect(run.status).toBe(0);
    expect(readFileSync(conf, "utf8")).toBe(whole().replace(fragment(3150), changed));
    expect(run.calls.slice(-3)).toEqual(["systemctl is-active --quiet squid", `squid -k reconfigure -f ${conf}`, `port check ${conf}`]);
  });

  test("a block whose stack was destroyed: its spokes leave the file", () => {
    publishBlock(3150, fragment(3150));
    pointers.delete(3150);
    writeBlocks();
    const run = sync();
    expect(run.status).toBe(0);
    expect(readFileSync(conf, "utf8")).toBe(whole(blocks[0].members));
    expect(readFileSync(conf, "utf8")).not.toMatch(/project-c/);
    expect(run.calls.slice(-2)).toEqual([`squid -k reconfigure -f ${conf}`, `port check ${conf}`]);
    publishBlock(3150, fragment(3150));
    expect(sync().status).toBe(0);
    expect(readFileSync(conf, "utf8")).toBe(whole());
  });

  test("a learning spoke's rule holds up to its date; from the day after, the proxies drop it themselves, with no new config", () => {
    const learning = hubSquidPortBlock(config.hub, blocks[0].members.map((m) => (m.name === "project-a" ? { ...m, learnUntil: "2026-11-21" } : m)));
    const rule = "http_access allow spoke_project-a !egress_denied_dst";
    expect(learning.split("\n").filter((l) => !l.startsWith("# egresslink: learn until") && l !== rule).join("\n")).toBe(fragment(3100));
    const version = publishBlock(3100, learning);
    expect(sync("2026-11-21").status).toBe(0);
    expect(readFileSync(conf, "utf8")).toBe(whole().replace(fragment(3100), learning));
    // The same day: nothing to do.
    expect(sync("2026-11-21").calls).toEqual([`port check ${conf}`]);
    // The next day: assembled again from the same objects, without the rule, and Squid reconfigured.
    const run = sync("2026-11-22");
    expect(run.status).toBe(0);
    expect(run.calls).toContain(fetched("ports/3100.conf", version));
    expect(run.calls.slice(-2)).toEqual([`squid -k reconfigure -f ${conf}`, `port check ${conf}`]);
    expect(readFileSync(conf, "utf8")).toBe(whole());
    publishBlock(3100, fragment(3100));
    expect(sync("2026-11-22").status).toBe(0);
    expect(sync("2026-11-23").calls).toEqual([`port check ${conf}`]);
  });

  test.each([
    ["an error", "http_access allow no_such_acl\n"],
    ["only a warning", "via off\n"],
  ])("a block changed but %s in squid -k parse: keeps the running config, reloads nothing, checks its ports, fails", (_what, bad) => {
    const running = readFileSync(conf, "utf8");
    const version = publishBlock(3100, `${fragment(3100)}${bad}`);
    const run = sync();
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/rejected the new squid\.conf, keeping the running one/);
    expect(run.stderr).toMatch(/ERROR|WARNING|FATAL/);
    expect(readFileSync(conf, "utf8")).toBe(running);
    // Not recorded as applied: fetched (and refused) again next minute, so the error is logged while it lasts.
    expect(run.calls).toContain(fetched("ports/3100.conf", version));
    expect(run.calls[run.calls.length - 1]).toBe(`port check ${conf}`);
    expect(run.calls.some((c) => c.startsWith("squid -k reconfigure") || c.startsWith("systemctl enable"))).toBe(false);
  });

  test("a base without the blocks' marker line: fails, keeps the running config", () => {
    const running = readFileSync(conf, "utf8");
    publishBase(base.replace(PORT_BLOCKS_MARKER, "# no marker"));
    const run = sync();
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/must hold the line '# egresslink: port blocks' once/);
    expect(readFileSync(conf, "utf8")).toBe(running);
  });

  test("the parameter cannot be read: fails, still checks the running config's ports", () => {
    rmSync(baseParameter);
    const run = sync();
    expect(run.status).not.toBe(0);
    expect(run.calls).toEqual([`port check ${conf}`]);
  });

  test("every failed run, and no successful one, left a line the sync-failure filter counts; Squid's own lines match no filter", () => {
    const lines = logged();
    const counted = lines.filter((l) => metricEvent(syncFailures, l));
    // A base parameter with no version, two rejected blocks, a base without its marker, an unreadable parameter.
    expect(counted).toHaveLength(5);
    expect(lines.filter((l) => !counted.includes(l))).toEqual(["2026/11/21 10:00:00| Starting Squid Cache version 6.13"]);
    for (const filter of proxyMetricFilters(spokes.map((s) => s.port))) expect([filter.key, metricEvent(filter, lines[0])]).toEqual([filter.key, undefined]);
  });
});

/** Ports free on 127.0.0.1 right now (the kernel's choice). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<net.Server>((resolve) => {
      const server = net.createServer().listen(0, "127.0.0.1", () => resolve(server));
    })),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/** A process listening on 127.0.0.1:`port`, started from `executable` (a node binary), whose file name is the process name ss reports. */
async function listener(executable: string, port: number): Promise<ChildProcess> {
  const code = `require("net").createServer().listen(${port}, "127.0.0.1", () => console.log("ready")); process.stdin.on("end", () => process.exit(0)); process.stdin.resume();`;
  const child = spawn(executable, ["-e", code], { stdio: ["pipe", "pipe", "inherit"] });
  await waitForLine(child, "ready", 10_000);
  return child;
}

/**
 * Runs the rendered port check for real (real `ss`, real sockets on loopback) against a
 * squid.conf in a temp dir: one spoke port held by a process named squid, one held by another
 * process (what a port Squid could not bind looks like), one nobody holds.
 */
programDescribe("the port check", () => {
  requireProgram("ss");
  const dir = mkdtempSync(join(tmpdir(), "egresslink-ports-"));
  const script = join(dir, "egresslink-squid-ports");
  const log = join(dir, "cache.log");
  const children: ChildProcess[] = [];
  let held: { bySquid: number; byOther: number; unbound: number };

  beforeAll(async () => {
    writeFileSync(script, renderPortCheckScript());
    chmodSync(script, 0o755);
    // ss names a socket's process after the file it was started from.
    symlinkSync(process.execPath, join(dir, "squid"));
    const [bySquid, byOther, unbound] = await freePorts(3);
    held = { bySquid, byOther, unbound };
    children.push(await listener(join(dir, "squid"), bySquid), await listener(process.execPath, byOther));
  }, 30_000);
  afterAll(async () => {
    for (const child of children) {
      child.stdin?.end();
      await stop(child);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const check = (spokes: Record<string, number>, logPath = log) => {
    const conf = join(dir, "squid.conf");
    writeFileSync(conf, [...Object.entries(spokes).map(([name, port]) => `http_port ${port} name=${name}`), "http_access deny all", ""].join("\n"));
    const started = Date.now();
    const result = spawnSync(script, [], { env: { ...process.env, EGRESSLINK_SQUID_CONF: conf, EGRESSLINK_SQUID_LOG: logPath }, encoding: "utf8", timeout: 30_000 });
    return { status: result.status, stderr: result.stderr, seconds: (Date.now() - started) / 1000 };
  };
  const ourLines = () => readFileSync(log, "utf8").split("\n").filter((l) => l.includes("egresslink:"));

  test("a port another process holds and a port nobody holds are each logged for their spoke, Squid's own port is not; exit 0 after a bounded wait", () => {
    writeFileSync(log, "2026/11/21 16:09:19 kid1| commBind Cannot bind socket FD 11 to [::]:3229: (98) Address already in use\n");
    const run = check({ alpha: held.bySquid, bravo: held.byOther, charlie: held.unbound });
    expect(run.status).toBe(0);
    const stamp = String.raw`^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d `;
    expect(ourLines()).toEqual([
      expect.stringMatching(new RegExp(`${stamp}egresslink: port ${held.byOther} of spoke bravo is not listening$`)),
      expect.stringMatching(new RegExp(`${stamp}egresslink: port ${held.unbound} of spoke charlie is not listening$`)),
    ]);
    expect(run.stderr).toBe(`egresslink: port ${held.byOther} of spoke bravo is not listening\negresslink: port ${held.unbound} of spoke charlie is not listening\n`);
    expect(run.seconds).toBeGreaterThanOrEqual(9);
    expect(run.seconds).toBeLessThan(15);
  }, 30_000);

  test("the port metric filters take the spoke from each logged line (the per-spoke one of the port's range, and the total), and match none of Squid's lines", () => {
    const lines = readFileSync(log, "utf8").split("\n").filter(Boolean);
    const filters = proxyMetricFilters(Object.values(held)).filter((f) => f.metric === "portDown" || f.metric === "portsDown");
    const published = (l: string) => filters.map((f) => [f.key, metricEvent(f, l)] as const).filter(([, e]) => e);
    const shardOf = (port: number) => `port-not-listening-${port - (port % 500)}`;
    expect(lines.map(published)).toEqual([
      [],
      [[shardOf(held.byOther), { value: 1, dimensions: { Spoke: "bravo" } }], ["ports-not-listening", { value: 1, dimensions: {} }]],
      [[shardOf(held.unbound), { value: 1, dimensions: { Spoke: "charlie" } }], ["ports-not-listening", { value: 1, dimensions: {} }]],
    ]);
  });

  test("every port held by Squid: nothing logged, done at once", () => {
    const before = ourLines();
    const run = check({ alpha: held.bySquid });
    expect([run.status, run.stderr]).toEqual([0, ""]);
    expect(run.seconds).toBeLessThan(2);
    expect(ourLines()).toEqual(before);
  });

  test("no cache.log yet: the line goes to stderr only; the check does not create the file (Squid creates it as its own user)", () => {
    const missing = join(dir, "no-such.log");
    const run = check({ charlie: held.unbound }, missing);
    expect([run.status, run.stderr]).toEqual([0, `egresslink: port ${held.unbound} of spoke charlie is not listening\n`]);
    expect(existsSync(missing)).toBe(false);
  }, 30_000);
});
