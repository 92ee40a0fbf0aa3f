import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hubSquidConf } from "../modules/proxy/squid-conf";
import { programDescribe, requireProgram } from "./helpers-programs";
import { defaultConfig, manySpokesConfig } from "./helpers";

programDescribe("squid -k parse on the rendered configs (Squid 5.7 from Debian)", () => {
  const squid = requireProgram("squid");
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "egresslink-parse-"))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const parse = (name: string, conf: string) => {
    const file = join(dir, `${name}.conf`);
    writeFileSync(file, conf);
    return spawnSync(squid, ["-k", "parse", "-f", file], { encoding: "utf8" });
  };

  test.each([
    ["the default example", () => defaultConfig()],
    ["60 spokes with allow-lists and an extra CONNECT port", () => manySpokesConfig(60)],
  ])("%s: exit 0 and no ERROR or WARNING line", (_name, makeConfig) => {
    const config = makeConfig();
    const result = parse(`c${config.spokes.length}`, hubSquidConf(config.hub, config.spokes));
    const output = `${result.stdout}\n${result.stderr}`;
    expect(result.status).toBe(0);
    expect(output.split("\n").filter((l) => /ERROR|WARNING|FATAL/.test(l))).toEqual([]);
    // Squid echoes every line it processed: the whole file was read.
    expect(output).toContain(`Processing: http_port ${config.spokes[config.spokes.length - 1].port} name=${config.spokes[config.spokes.length - 1].name}`);
  });

  test("the check itself catches a broken config", () => {
    const result = parse("broken", `${hubSquidConf(defaultConfig().hub, defaultConfig().spokes)}http_access allow no_such_acl\nvia off\n`);
    expect(`${result.stdout}${result.stderr}`).toMatch(/ERROR|WARNING|FATAL/);
  });
});
