import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_LOG_DAEMON, hubSquidConf } from "../modules/proxy/squid-conf";
import { programDescribe, requireProgram } from "./helpers-programs";
import { configFrom, defaultConfig, defaultConfigData, manySpokesConfig } from "./helpers";
import { withLogDaemonIn } from "./helpers-squid";

programDescribe("squid -k parse on the rendered configs (Squid 5.7 from Debian)", () => {
  const squid = requireProgram("squid");
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "egresslink-parse-"))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const parse = (name: string, conf: string) => {
    const file = join(dir, `${name}.conf`);
    writeFileSync(file, withLogDaemonIn(dir, conf));
    return spawnSync(squid, ["-k", "parse", "-f", file], { encoding: "utf8" });
  };

  test.each([
    ["the default example", () => defaultConfig()],
    ["60 spokes with allow-lists and an extra CONNECT port", () => manySpokesConfig(60)],
    ["a hub on 198.18.0.0/16 (its CIDR joins the denied destinations)", () => configFrom({ ...defaultConfigData(), hub: { ...defaultConfigData().hub, cidr: "198.18.0.0/16" } })],
  ])("%s: exit 0 and no ERROR or WARNING line", (_name, makeConfig) => {
    const config = makeConfig();
    const result = parse(`c${config.spokes.length}-${config.hub.cidr.replace("/", "_")}`, hubSquidConf(config.hub, config.spokes));
    const output = `${result.stdout}\n${result.stderr}`;
    expect(result.status).toBe(0);
    expect(output.split("\n").filter((l) => /ERROR|WARNING|FATAL/.test(l))).toEqual([]);
    // The access log goes through egresslink's daemon (not started by a parse).
    expect(output).toContain(`Processing: logfile_daemon ${join(dir, "log-daemon")}`);
    // Squid echoes every line it processed: the whole file was read.
    expect(output).toContain(`Processing: http_port ${config.spokes[config.spokes.length - 1].port} name=${config.spokes[config.spokes.length - 1].name}`);
  });

  test("the rendered config names the daemon the user data installs; Squid 5.7 refuses it where that file is missing", () => {
    const conf = hubSquidConf(defaultConfig().hub, defaultConfig().spokes);
    expect(conf).toContain(`\nlogfile_daemon ${DEFAULT_LOG_DAEMON}\n`);
    const file = join(dir, "no-daemon.conf");
    writeFileSync(file, conf.replace(`logfile_daemon ${DEFAULT_LOG_DAEMON}\n`, `logfile_daemon ${join(dir, "missing")}\n`));
    const result = spawnSync(squid, ["-k", "parse", "-f", file], { encoding: "utf8" });
    expect(`${result.stdout}${result.stderr}`).toMatch(/FATAL: logfile_daemon .*missing/);
  });

  test("the check itself catches a broken config", () => {
    const result = parse("broken", `${hubSquidConf(defaultConfig().hub, defaultConfig().spokes)}http_access allow no_such_acl\nvia off\n`);
    expect(`${result.stdout}${result.stderr}`).toMatch(/ERROR|WARNING|FATAL/);
  });
});
