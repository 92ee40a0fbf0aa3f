import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { programDescribe, requireProgram } from "./helpers-programs";
import { configFrom, defaultConfigData, resourceAt, synthConfig } from "./helpers";

/** The user data of the proxy launch template, decoded, for each proxy mode. */
function renderedUserData(): [string, string][] {
  const single = defaultConfigData();
  single.hub.proxy = { mode: "single" };
  return [
    ["ha", configFrom(defaultConfigData())],
    ["single", configFrom(single)],
  ].map(([mode, config]) => {
    const lt = resourceAt(synthConfig(config as any).json.hub, "aws_launch_template", "proxy/launch-template");
    return [mode as string, Buffer.from(lt.user_data, "base64").toString("utf8")];
  });
}

programDescribe("cloud-init schema validates every rendered user-data document", () => {
  const cloudInit = requireProgram("cloud-init");
  const documents = renderedUserData();
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "egresslink-cloud-init-"))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const validate = (name: string, text: string) => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, text);
    return spawnSync(cloudInit, ["schema", "-c", file], { encoding: "utf8" });
  };

  test.each(documents)("%s mode: valid cloud-config", (mode, userData) => {
    expect(userData.startsWith("#cloud-config\n")).toBe(true);
    const result = validate(mode, userData);
    expect(`${result.stdout}${result.stderr}`).toContain("Valid cloud-config");
    expect(result.status).toBe(0);
  });

  test.each(documents)("%s mode: every shell script it writes is valid bash", (mode, userData) => {
    const scripts = (parse(userData).write_files as { path: string; content: string }[]).filter((f) => f.content.startsWith("#!/bin/bash"));
    expect(scripts.map((f) => f.path)).toEqual([
      "/usr/local/sbin/egresslink-squid-sync",
      "/usr/local/sbin/egresslink-squid-ports",
      "/usr/local/libexec/egresslink-log-daemon",
      ...(mode === "single" ? ["/usr/local/sbin/egresslink-attach-eni"] : []),
    ]);
    for (const script of scripts) {
      const check = spawnSync("bash", ["-n"], { input: script.content, encoding: "utf8" });
      expect([script.path, check.status, check.stderr]).toEqual([script.path, 0, ""]);
    }
  });

  test("the validator rejects a broken document", () => {
    const result = validate("broken", "#cloud-config\nruncmd: not-a-list\nwrite_files:\n  - path: /x\n    permissions: 644\n");
    expect(result.status).not.toBe(0);
    expect(`${result.stdout}${result.stderr}`).toMatch(/runcmd: 'not-a-list' is not of type 'array'/);
  });
});
