import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hubSquidConf } from "../modules/proxy/squid-conf";
import { encodeProxyConfig } from "../modules/proxy/config-delivery";
import { renderSyncScript } from "../modules/proxy/user-data";
import { defaultConfig } from "./helpers";
import { programDescribe, requireProgram } from "./helpers-programs";

/**
 * Runs the instance's sync script for real, with the real `squid -k parse`, and stubs for what
 * only exists on EC2: `aws ssm get-parameter` (serves a file we control) and the service
 * manager (`systemctl`, `squid -k reconfigure`), which record their calls.
 */
programDescribe("the config sync script", () => {
  const realSquid = requireProgram("squid");
  const dir = mkdtempSync(join(tmpdir(), "egresslink-sync-"));
  const bin = join(dir, "bin");
  const parameter = join(dir, "parameter-value");
  const calls = join(dir, "calls");
  const conf = join(dir, "squid.conf");
  const script = join(dir, "egresslink-squid-sync");
  const config = defaultConfig();
  const good = hubSquidConf(config.hub, config.spokes);

  beforeAll(() => {
    mkdirSync(bin);
    const stub = (name: string, body: string) => {
      writeFileSync(join(bin, name), `#!/bin/bash\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    };
    stub("aws", `[ "$1 $2" = "ssm get-parameter" ] || exit 2\ncat '${parameter}'`);
    stub("systemctl", `echo "systemctl $*" >> '${calls}'\n[ "$1" = is-active ] && [ -f '${dir}/active' ] && exit 0\n[ "$1" = is-active ] && exit 3\nexit 0`);
    stub("squid", `if [ "$1 $2" = "-k parse" ]; then exec '${realSquid}' "$@"; fi\necho "squid $*" >> '${calls}'`);
    writeFileSync(script, renderSyncScript("ap-northeast-1", "/egresslink/egress/proxy/squid.conf"));
    chmodSync(script, 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const publish = (text: string) => writeFileSync(parameter, encodeProxyConfig(text).value);
  const sync = () => {
    rmSync(calls, { force: true });
    const result = spawnSync(script, [], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, EGRESSLINK_SQUID_CONF: conf }, encoding: "utf8", timeout: 20_000 });
    return { status: result.status, stderr: result.stderr, calls: existsSync(calls) ? readFileSync(calls, "utf8").trim().split("\n") : [] };
  };

  test("first run: installs the config and starts Squid", () => {
    publish(good);
    const run = sync();
    expect(run.status).toBe(0);
    expect(readFileSync(conf, "utf8")).toBe(good);
    expect(run.calls).toEqual(["systemctl is-active --quiet squid", "systemctl enable --now squid"]);
  });

  test("unchanged parameter: touches nothing", () => {
    writeFileSync(join(dir, "active"), "");
    const run = sync();
    expect(run.status).toBe(0);
    expect(run.calls).toEqual([]);
  });

  test("changed and valid: installs it and reconfigures the running Squid", () => {
    const changed = good.replace("acl allowed_project-c dstdomain -n registry.npmjs.org", "acl allowed_project-c dstdomain -n registry.npmjs.org registry.yarnpkg.com");
    expect(changed).not.toBe(good);
    publish(changed);
    const run = sync();
    expect(run.status).toBe(0);
    expect(readFileSync(conf, "utf8")).toBe(changed);
    expect(run.calls).toEqual(["systemctl is-active --quiet squid", `squid -k reconfigure -f ${conf}`]);
  });

  test.each([
    ["an error", "http_access allow no_such_acl\n"],
    ["only a warning", "via off\n"],
  ])("changed but %s in squid -k parse: keeps the running config, reloads nothing, fails", (_what, bad) => {
    const running = readFileSync(conf, "utf8");
    publish(`${running}${bad}`);
    const run = sync();
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/rejected the new squid\.conf, keeping the running one/);
    expect(run.stderr).toMatch(/ERROR|WARNING|FATAL/);
    expect(readFileSync(conf, "utf8")).toBe(running);
    expect(run.calls).toEqual([]);
  });
});
