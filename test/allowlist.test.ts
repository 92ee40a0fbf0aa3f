/**
 * `egresslink allowlist suggest` (modules/allowlist): access-log lines in, an allow-list per spoke
 * out, hosts collapsed to registrable domains by the Public Suffix List (tldts), never a public
 * suffix or an IP literal.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { runCli } from "../modules/app/cli";
import { accessDestination, renderSuggestionYaml, suggestAllowLists } from "../modules/allowlist/suggest";
import { ACCESS_LOG_FIELDS, parseAccessLine } from "../modules/monitoring/access-log";
import { DEFAULT_CONFIG_PATH } from "./helpers";

/** A line as the proxies' log daemon writes it (ACCESS_LOG_FIELDS). */
const line = (spoke: string, host: string, method = "CONNECT") =>
  `1795300000.123 ${spoke} 10.0.224.17 3128 ${method} 200 TCP_TUNNEL 812 4512 ${host} ${method === "CONNECT" ? `${host}:443` : `http://${host}/`}`;

describe("parseAccessLine", () => {
  test("names every field of a line, in ACCESS_LOG_FIELDS order", () => {
    const fields = parseAccessLine(line("project-a", "api.github.com"));
    expect(fields).toEqual({ time: "1795300000.123", spoke: "project-a", client: "10.0.224.17", local_port: "3128", method: "CONNECT", status: "200", result: "TCP_TUNNEL", bytes_out: "812", bytes_in: "4512", host: "api.github.com", url: "api.github.com:443" });
    expect(Object.keys(fields!)).toEqual(ACCESS_LOG_FIELDS.map((f) => f.name));
    expect(accessDestination("2026/11/21 10:00:00| Starting Squid")).toBeUndefined();
  });
});

describe("accessDestination", () => {
  test("takes spoke and host from a log line, and from a CloudWatch Logs Insights row; drops the port, lowercases", () => {
    expect(accessDestination(line("project-a", "API.GitHub.com:443"))).toEqual({ spoke: "project-a", host: "api.github.com" });
    const insights = `2026-11-21 10:00:00.123,"${line("project-b", "pypi.org")}"`;
    expect(accessDestination(insights)).toEqual({ spoke: "project-b", host: "pypi.org" });
    expect(accessDestination(line("project-a", "[2001:db8::1]:443"))).toEqual({ spoke: "project-a", host: "[2001:db8::1]" });
  });

  test("lines without a spoke or a host are not requests to a destination", () => {
    expect(accessDestination(line("-", "pypi.org"))).toBeUndefined();
    expect(accessDestination(line("project-a", "-"))).toBeUndefined();
    expect(accessDestination("2026/11/21 10:00:00| Starting Squid")).toBeUndefined();
  });
});

describe("suggestAllowLists", () => {
  test("collapses hosts to registrable domains: .domain for subdomains, the domain itself when only it was reached", () => {
    const [a] = suggestAllowLists([
      line("project-a", "api.github.com"),
      line("project-a", "codeload.github.com"),
      line("project-a", "api.github.com"),
      line("project-a", "pypi.org"),
      line("project-a", "www.bbc.co.uk"),
    ]);
    expect(a.allowedDomains).toEqual([".bbc.co.uk", ".github.com", "pypi.org"]);
    expect(a.requests).toEqual({ ".bbc.co.uk": 1, ".github.com": 3, "pypi.org": 1 });
  });

  test("never proposes a public suffix as a whole: .github.io, .amazonaws.com and .co.uk stay out; private suffixes make their own domains", () => {
    const [a] = suggestAllowLists([
      line("project-a", "alice.github.io"),
      line("project-a", "bob.github.io"),
      line("project-a", "mybucket.s3.amazonaws.com"),
      line("project-a", "logs.ap-northeast-1.amazonaws.com"),
      line("project-a", "s3.amazonaws.com"),
      line("project-a", "github.io"),
    ]);
    expect(a.allowedDomains).toEqual(["alice.github.io", "bob.github.io", "github.io", "logs.ap-northeast-1.amazonaws.com", "mybucket.s3.amazonaws.com", "s3.amazonaws.com"]);
    for (const suffix of [".github.io", ".amazonaws.com", ".s3.amazonaws.com", ".co.uk", ".io", ".com"]) expect(a.allowedDomains).not.toContain(suffix);
  });

  test("never proposes an IP literal (v4, v6, bracketed): they are listed as skipped", () => {
    const [a] = suggestAllowLists([line("project-a", "203.0.113.7"), line("project-a", "[2001:db8::1]:443"), line("project-a", "example.com")]);
    expect(a.allowedDomains).toEqual(["example.com"]);
    expect(a.skipped).toEqual(["203.0.113.7", "[2001:db8::1]"]);
  });

  test("per spoke, in name order; hosts the global or the spoke's own list already allows are left out", () => {
    const suggestions = suggestAllowLists(
      [line("zeta", "registry.npmjs.org"), line("alpha", "cdn.amazonlinux.com"), line("alpha", "files.pythonhosted.org"), line("alpha", "api.stripe.com")],
      { global: ["cdn.amazonlinux.com"], spokes: { alpha: [".pythonhosted.org"] } },
    );
    expect(suggestions.map((s) => [s.spoke, s.allowedDomains])).toEqual([
      ["alpha", [".stripe.com"]],
      ["zeta", [".npmjs.org"]],
    ]);
  });

  test("the YAML pastes under spokes: and says what was skipped", () => {
    const yaml = renderSuggestionYaml(suggestAllowLists([line("project-a", "api.github.com"), line("project-a", "10.1.2.3")]));
    expect(parse(yaml)).toEqual({ spokes: { "project-a": { allowedDomains: [".github.com"] } } });
    expect(yaml).toContain("      - .github.com  # 1 request");
    expect(yaml).toContain("# project-a: not proposed (IP literals and public suffixes are never allow-list entries): 10.1.2.3");
  });
});

describe("egresslink allowlist suggest", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "egresslink-allowlist-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const run = async (argv: string[]) => {
    let stdout = "";
    let stderr = "";
    const code = await runCli(argv, {}, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
    return { code, stdout, stderr };
  };

  test("reads log files and prints the YAML; with --config, leaves out what the config already allows", async () => {
    const log = join(dir, "access.log");
    // project-c's own list holds registry.npmjs.org; the global list cdn.amazonlinux.com.
    writeFileSync(log, [line("project-c", "registry.npmjs.org"), line("project-c", "cdn.amazonlinux.com"), line("project-c", "api.github.com")].join("\n"));
    const plain = await run(["allowlist", "suggest", log]);
    expect(plain.code).toBe(0);
    expect(parse(plain.stdout).spokes["project-c"].allowedDomains).toEqual([".amazonlinux.com", ".github.com", ".npmjs.org"]);
    // With the config, the list is whole (project-c's own entry, then the new one), ready to replace the spoke's.
    const withConfig = await run(["allowlist", "suggest", "--config", DEFAULT_CONFIG_PATH, log]);
    expect(parse(withConfig.stdout).spokes["project-c"].allowedDomains).toEqual(["registry.npmjs.org", ".github.com"]);
    expect(withConfig.stdout).toContain("      - registry.npmjs.org  # already allowed\n      - .github.com  # 1 request");
    // A spoke whose hosts are all allowed already is left out, never printed with an empty list.
    writeFileSync(log, line("project-c", "registry.npmjs.org"));
    const nothing = await run(["allowlist", "suggest", "--config", DEFAULT_CONFIG_PATH, log]);
    expect(nothing.stdout).toContain("# project-c: nothing new");
    expect(parse(nothing.stdout)).toBeNull();
  });

  test("bad arguments and unreadable input exit 2 with the usage; an invalid config exits 1", async () => {
    expect(await run(["allowlist", "explain"])).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command "explain"') });
    expect(await run(["allowlist", "suggest", join(dir, "missing.log")])).toMatchObject({ code: 2, stderr: expect.stringContaining("cannot read") });
    writeFileSync(join(dir, "bad.yaml"), "hub: {}\n");
    expect((await run(["allowlist", "suggest", "--config", join(dir, "bad.yaml"), join(dir, "bad.yaml")])).code).toBe(1);
  });
});
