import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { formatSummary } from "../modules/app/summary";
import { MAX_PRINTED_ISSUES } from "../modules/config/errors";
import { loadConfigFile, MAX_CONFIG_BYTES, MAX_CONFIG_DEPTH, parseConfigText } from "../modules/config/load";
import { captureConfigError, defaultConfigData, generatedSpokes, resourceAt, resources, ROOT, synthConfig } from "./helpers";
import { programTest } from "./helpers-programs";

// Bad input of every kind gets a plain answer that names the file and the place, never an
// internal message, a crash, a hang or the input echoed back raw.

const MINIMAL = "state: {bucket: my-state}\nhub: {region: eu-west-1, cidr: 10.8.0.0/16}\n";

/** Library wording that must never reach a user. */
const INTERNALS = /expected (record|object|number|string|array|boolean|int)|received|Invalid input|Too small|Too big|Invalid option|Maximum call stack|EISDIR|ELOOP|EACCES|ENOTDIR|resource exhaustion|Excessive alias/;

/** The single problem of a config that must fail, checked for plain words. */
function problem(text: string): { path: string; message: string } {
  const err = captureConfigError(() => parseConfigText(text, "bad.yaml"));
  expect(err.message).not.toMatch(INTERNALS);
  expect(err.message.startsWith("bad.yaml: ")).toBe(true);
  return err.issues[0];
}

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "egresslink-input-"));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function file(name: string, content: string | Buffer): string {
  const path = join(work, name);
  writeFileSync(path, content);
  return path;
}

describe("paths that are not a readable file", () => {
  test.each([
    ["a folder", () => mkdtempSync(join(work, "folder-")), /is a folder, not a config file: name the YAML file in it \(e\.g\. .*egress\.config\.yaml\)/],
    ["a symlink loop", () => { const a = join(work, "loop-a"); symlinkSync(join(work, "loop-b"), a); symlinkSync(a, join(work, "loop-b")); return a; }, /the path is a loop of symbolic links/],
    ["a path through a file", () => join(file("plain.txt", "x"), "egress.yaml"), /a part of the path is a file, not a folder/],
    ["a missing file", () => join(work, "nope.yaml"), /file not found/],
    ["a character device", () => "/dev/null", /not a regular file/],
    ["an endless device", () => "/dev/zero", /not a regular file/],
    ["a named pipe (would block)", () => { const p = join(work, "fifo"); expect(spawnSync("mkfifo", [p]).status).toBe(0); return p; }, /not a regular file/],
  ])("%s gets a plain answer naming the path", (_name, make, reason) => {
    const path = make();
    const err = captureConfigError(() => loadConfigFile(path));
    expect(err.message).not.toMatch(INTERNALS);
    expect(err.message.startsWith(`${path}: 1 problem`)).toBe(true);
    expect(err.issues[0].message).toMatch(reason);
  });

  programTest("a file the user may not read, as a real non-root process", () => {
    const dir = mkdtempSync(join(tmpdir(), "egresslink-perm-"));
    try {
      chmodSync(dir, 0o755);
      // tsx keeps a cache in TMPDIR: give the unprivileged user one of its own.
      const tmp = join(dir, "tmp");
      mkdirSync(tmp);
      chownSync(tmp, 65534, 65534);
      const secret = join(dir, "egress.yaml");
      writeFileSync(secret, MINIMAL);
      chmodSync(secret, 0o600);
      const result = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", join(ROOT, "node_modules", ".bin", "tsx"), join(ROOT, "main.ts"), "--config", secret, "--out", join(dir, "out")], {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, HOME: tmp, TMPDIR: tmp },
      });
      expect(result.error).toBeUndefined();
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`${secret}: 1 problem`);
      expect(result.stderr).toMatch(/cannot read the config: permission denied/);
      expect(result.stderr).not.toMatch(INTERNALS);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("files that are not UTF-8 YAML text", () => {
  const cases: [string, Buffer, RegExp][] = [
    ["a binary (NUL bytes)", Buffer.concat([Buffer.from("\x7fELF\x02\x01\x01"), Buffer.alloc(64), Buffer.from("hub:")]), /holds a NUL byte \(line 1\): it is a binary file/],
    ["gzip data", Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00]), /binary file/],
    ["Latin-1 text", Buffer.from("name: caf\xe9\n", "latin1"), /is not UTF-8 text \(line 1, byte 10\): save it as UTF-8/],
    ["an invalid byte on line 3", Buffer.concat([Buffer.from(MINIMAL), Buffer.from([0x23, 0x20, 0xc3, 0x28, 0x0a])]), /is not UTF-8 text \(line 3, byte \d+\)/],
    ["UTF-16 LE", Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("hub: {}\n", "utf16le")]), /is UTF-16 text: save it as UTF-8/],
    ["UTF-16 BE", Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from("hub: {}\n", "utf16le").swap16()]), /is UTF-16 text/],
  ];
  test.each(cases)("%s is named, not echoed back", (name, bytes, reason) => {
    const path = file(`${name.replace(/\W+/g, "-")}.yaml`, bytes);
    const err = captureConfigError(() => loadConfigFile(path));
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0].message).toMatch(reason);
    // Neither replacement characters nor raw control bytes reach the terminal.
    expect(err.message).not.toMatch(/[\u0000-\u0008\u000b-\u001f\ufffd]/);
  });

  test("a UTF-8 byte-order mark is fine", () => {
    const path = file("bom.yaml", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(MINIMAL)]));
    expect(loadConfigFile(path).hub.region).toBe("eu-west-1");
  });
});

describe("YAML the config cannot be", () => {
  test.each([
    ["two documents", `${MINIMAL}---\nname: other\n`, /holds 2 YAML documents \(a new one starts at line 3 after "---"\); a config is one document/],
    ["three documents", `${MINIMAL}---\na: 1\n---\nb: 2\n`, /holds 3 YAML documents \(a new one starts at line 3, 5/],
    ["a list at the top", "- hub\n- spokes\n", /must be a map of settings .*not a list/],
    ["a scalar at the top", "just some words\n", /must be a map of settings .*not the value "just some words"/],
    ["a key that is a list", `${MINIMAL}spokes:\n  [a, b]: {port: 3128}\n`, /a key is a list, map or alias; keys are plain names/],
    ["a key that is a map", `${MINIMAL}? {a: 1}\n: 2\n`, /keys are plain names/],
  ])("%s", (_name, text, reason) => {
    expect(problem(text).message).toMatch(reason);
  });

  test("one document with explicit markers is fine", () => {
    expect(parseConfigText(`---\n${MINIMAL}...\n`, "ok.yaml").hub.cidr).toBe("10.8.0.0/16");
  });

  test.each([
    ["5,000 flow lists", `a: ${"[".repeat(5000)}${"]".repeat(5000)}\n`],
    ["3,000 flow maps", `a: ${"{b: ".repeat(3000)}1${"}".repeat(3000)}\n`],
    ["1,200 indented maps", `${Array.from({ length: 1200 }, (_, i) => `${" ".repeat(i)}k:`).join("\n")} 1\n`],
    ["2,000 compact lists", `a:\n${"- ".repeat(2000)}x\n`],
    [`${MAX_CONFIG_DEPTH + 1} levels`, `hub:\n  region: ${"[".repeat(MAX_CONFIG_DEPTH)}${"]".repeat(MAX_CONFIG_DEPTH)}\n`],
  ])("nesting of %s is refused in plain words", (_name, text) => {
    expect(problem(text).message).toMatch(new RegExp(`nests lists and maps more than ${MAX_CONFIG_DEPTH} levels deep`));
  });

  test("an IAM policy nested as deep as policies go is accepted", () => {
    const d = defaultConfigData();
    d.spokes["project-a"].endpointPolicies = {
      s3: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: "*", Action: ["s3:GetObject"], Resource: ["*"], Condition: { StringEquals: { "aws:PrincipalOrgID": ["o-abcdefghij"] } } }] },
    };
    expect(() => parseConfigText(stringify(d), "deep-ok.yaml")).not.toThrow();
  });
});

describe("aliases and merge keys", () => {
  const laughs = (levels: number) =>
    ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]", ...Array.from({ length: levels }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(9).fill(`*a${i}`).join(", ")}]`)].join("\n") + "\n";

  test.each([
    ["nine levels of nine (a billion values)", laughs(9)],
    ["seven levels of nine (48 million)", laughs(7)],
  ])("an alias bomb with %s is refused before it expands", (_name, text) => {
    const issue = problem(text);
    expect(issue.message).toMatch(/its aliases expand the config to more than 1,000,000 values \(an alias bomb\?\)/);
    expect(issue.path).toMatch(/^line \d+$/);
  });

  test.each([
    ["a list", "a: &a [*a]\n"],
    ["a map", "a: &a {b: *a}\n"],
  ])("an alias inside the %s it names is refused", (_name, text) => {
    expect(problem(text).message).toMatch(/the alias \*a refers to the collection that holds it/);
  });

  /** `count` spokes sharing settings through `<<: *defaults` from an `x-` key. */
  function mergedSpokes(count: number, extra = ""): string {
    const spokes = Array.from({ length: count }, (_, i) => `  team-${String(i).padStart(3, "0")}:\n    <<: *defaults\n    port: ${4000 + i}\n${extra}`);
    return `${MINIMAL}x-spoke-defaults: &defaults\n  cidr: 10.0.0.0/16\n  endpoints: [ssm]\n  port: 1\nspokes:\n${spokes.join("")}`;
  }

  test("150 spokes sharing defaults through merge keys are accepted (more aliases than the YAML library's own limit of 100)", () => {
    const config = parseConfigText(mergedSpokes(150), "merged.yaml");
    expect(config.spokes).toHaveLength(150);
    expect(config.spokes.every((s) => s.vpc.kind === "new" && s.vpc.cidr === "10.0.0.0/16" && s.endpoints.includes("ssm"))).toBe(true);
  });

  test("a key after a merge overrides the merged one and is not a duplicate", () => {
    const config = parseConfigText(mergedSpokes(2), "merged.yaml");
    expect(config.spokes.map((s) => s.port)).toEqual([4000, 4001]);
  });

  test("several merges in one map, and a list of merges", () => {
    const text = `${MINIMAL}x-net: &net {cidr: 10.0.0.0/16}\nx-eps: &eps {endpoints: [logs]}\nspokes:\n  team-a:\n    <<: [*net, *eps]\n    port: 4000\n`;
    const [spoke] = parseConfigText(text, "merged.yaml").spokes;
    expect(spoke.endpoints).toEqual(["logs"]);
    expect(spoke.vpc).toMatchObject({ kind: "new", cidr: "10.0.0.0/16" });
  });

  test("a real duplicate next to a merge is still reported", () => {
    const issue = problem(`${MINIMAL}x-net: &net {cidr: 10.0.0.0/16}\nspokes:\n  team-a:\n    <<: *net\n    port: 4000\n    port: 4001\n`);
    expect(issue).toEqual({ path: "spokes.team-a.port", message: "is defined twice (lines 7 and 8); names must be unique" });
  });

  test("x- keys are ignored, other unknown top-level keys are not", () => {
    expect(() => parseConfigText(`${MINIMAL}x-notes: {owner: platform}\n`, "x.yaml")).not.toThrow();
    const issue = problem(`${MINIMAL}defaults: {cidr: 10.0.0.0/16}\n`);
    expect(issue.path).toBe("defaults");
    expect(issue.message).toMatch(/not a known setting .*top-level keys starting with "x-" are ignored/);
  });
});

describe("validation messages in plain words", () => {
  const withSpoke = (spoke: string) => `${MINIMAL}spokes:\n  team-a: ${spoke}\n`;
  test.each([
    ["spokes as a list", `${MINIMAL}spokes: [team-a, team-b]\n`, "spokes", /must be a map of names to settings .*not a list \(write name: value lines, not - items\)/],
    ["tags as a list", `${MINIMAL}tags: [a, b]\n`, "tags", /must be a map of names to settings .*not a list/],
    ["hub as text", "state: {bucket: my-state}\nhub: eu-west-1\n", "hub", /must be a map of settings .*not the text "eu-west-1"/],
    ["an empty spoke", withSpoke(""), "spokes.team-a", /is empty; write a map of settings/],
    ["a port of .inf", withSpoke("{port: .inf, cidr: 10.0.0.0/16}"), "spokes.team-a.port", /must be a finite number, not \.inf/],
    ["a port of .nan", withSpoke("{port: .nan, cidr: 10.0.0.0/16}"), "spokes.team-a.port", /must be a finite number, not \.nan/],
    ["a quoted port", withSpoke('{port: "3128", cidr: 10.0.0.0/16}'), "spokes.team-a.port", /must be a number, not the text "3128"/],
    ["azCount as a word", `${MINIMAL.replace("10.8.0.0/16}", "10.8.0.0/16, azCount: two}")}`, "hub.azCount", /must be a number, not the text "two"/],
    ["a boolean as text", `${MINIMAL}spokes:\n  team-a: {port: 3128, cidr: 10.0.0.0/16, external: "yes"}\n`, "spokes.team-a.external", /must be true or false, not the text "yes"/],
    ["an empty connectPorts", MINIMAL.replace("10.8.0.0/16}", "10.8.0.0/16, proxy: {connectPorts: []}}"), "hub.proxy.connectPorts", /must list at least 1 entry, not 0/],
    ["an unknown mode", MINIMAL.replace("10.8.0.0/16}", "10.8.0.0/16, proxy: {mode: cluster}}"), "hub.proxy.mode", /must be one of "ha", "single", not the text "cluster"/],
    ["a volume too large", MINIMAL.replace("10.8.0.0/16}", "10.8.0.0/16, proxy: {rootVolumeGiB: 5000}}"), "hub.proxy.rootVolumeGiB", /must be at most 1024, not 5000/],
  ])("%s", (_name, text, path, reason) => {
    const issue = problem(text);
    expect(issue.path).toBe(path);
    expect(issue.message).toMatch(reason);
  });

  test.each([
    ["terminal escapes", "ap-\u001b[31mnortheast-1", "ap-\\u001b[31m"],
    ["a carriage return", "ap-\rnortheast-1", "ap-\\u000d"],
    ["a right-to-left override", "ap-\u202enortheast-1", "ap-\\u202e"],
  ])("values with %s are shown escaped", (_name, value, shown) => {
    const err = captureConfigError(() => parseConfigText(MINIMAL.replace("eu-west-1", JSON.stringify(value)), "bad.yaml"));
    expect(err.message).toContain(`hub.region: "${shown}`);
    expect(err.message).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u202a-\u202e]/);
  });

  test("a huge value is cut, not echoed", () => {
    const err = captureConfigError(() => parseConfigText(MINIMAL.replace("eu-west-1", "x".repeat(100_000)), "bad.yaml"));
    expect(err.message.length).toBeLessThan(1_000);
    expect(err.issues[0].path).toBe("hub.region");
  });

  test(`thousands of problems print the first ${MAX_PRINTED_ISSUES} and a count`, () => {
    const spokes = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`team-${i}`, { port: 80, cidr: "10.0.0.0/16" }]));
    const err = captureConfigError(() => parseConfigText(`${MINIMAL}${stringify({ spokes })}`, "bad.yaml"));
    expect(err.issues.length).toBeGreaterThan(MAX_PRINTED_ISSUES);
    const lines = err.message.split("\n");
    expect(lines).toHaveLength(MAX_PRINTED_ISSUES + 2);
    expect(lines[lines.length - 1]).toBe(`  ... and ${err.issues.length - MAX_PRINTED_ISSUES} more (fix these first)`);
  });
});

describe("sizes", () => {
  /** A config with `spokes` spokes and `domains` allow-list entries each: what a large platform writes. */
  function largeConfig(spokes: number, domains: number): string {
    const data = defaultConfigData();
    data.spokes = Object.fromEntries(
      Object.entries(generatedSpokes(spokes)).map(([name, spoke], i) => [name, { ...spoke, allowedDomains: Array.from({ length: domains }, (_, j) => `api${j}.vendor${i}.example-saas.com`) }]),
    );
    return stringify(data);
  }

  test("a file over the size cap is refused before it is read", () => {
    const path = file("huge.yaml", `${MINIMAL}# ${"x".repeat(MAX_CONFIG_BYTES)}\n`);
    const err = captureConfigError(() => loadConfigFile(path));
    expect(err.issues).toEqual([{ path: "", message: expect.stringMatching(/^is 4\.0 MiB; a config may be at most 4\.0 MiB .*is this the right file\?$/) }]);
  });

  test("1,000 spokes with 40 domains each fit the size cap with room to spare, and validate: no delivery limit below that", () => {
    const text = largeConfig(1000, 40);
    expect(Buffer.byteLength(text)).toBeLessThan(MAX_CONFIG_BYTES / 2);
    expect(parseConfigText(text, "large.yaml").spokes).toHaveLength(1000);
  });
});

describe("Transit Gateway ASNs", () => {
  const withAsn = (asn: number) => {
    const d = defaultConfigData();
    d.interconnect = { transitGateway: { region: "us-west-2", asn }, sites: { tokyo: { region: "ap-northeast-1", cidr: "10.1.0.0/24" }, oregon: { region: "us-west-2", cidr: "10.2.0.0/24" } } };
    return stringify(d);
  };
  test.each([64512, 65534, 4_200_000_000, 4_250_000_000, 4_294_967_294])("%d is a private ASN AWS accepts", (asn) => {
    expect(parseConfigText(withAsn(asn), "asn.yaml").interconnect?.transitGateway.asn).toBe(asn);
  });
  test("32-bit site ASNs reach EC2 as bgp_asn_extended, 16-bit ones as bgp_asn", () => {
    const d = parse(withAsn(4_200_000_000));
    d.interconnect.sites.tokyo.asn = 4_200_000_001;
    const { json } = synthConfig(parseConfigText(stringify(d), "asn.yaml"));
    const tokyo = resourceAt(json.interconnect, "aws_customer_gateway", "site-tokyo/customer-gateway");
    const oregon = resourceAt(json.interconnect, "aws_customer_gateway", "site-oregon/customer-gateway");
    expect(tokyo).toMatchObject({ bgp_asn_extended: "4200000001" });
    expect(tokyo.bgp_asn).toBeUndefined();
    expect(Number(oregon.bgp_asn)).toBeLessThanOrEqual(65534);
    expect(oregon.bgp_asn_extended).toBeUndefined();
    expect(Object.values(resources(json.interconnect, "aws_ec2_transit_gateway")).map((tgw) => tgw.amazon_side_asn)).toEqual([4_200_000_000]);
  });

  test.each([64511, 65535, 4_199_999_999, 4_294_967_295, 1])("%d is refused with both private ranges named", (asn) => {
    const issue = problem(withAsn(asn));
    expect(issue.path).toBe("interconnect.transitGateway.asn");
    expect(issue.message).toBe("must be a private ASN: 64512-65534 (16-bit) or 4200000000-4294967294 (32-bit)");
  });
});

describe("warnings", () => {
  const config = (hub: string, spoke: string) => parseConfigText(MINIMAL.replace("10.8.0.0/16", hub) + `spokes:\n  team-a: {port: 3128, cidr: ${spoke}}\n`, "w.yaml");

  test.each([
    ["8.8.0.0/16", "hub.cidr", /8\.8\.0\.0\/16 is public address space: the proxy routes it inside the hub VPC, so it can never reach internet hosts in that range/],
    ["52.94.0.0/16", "hub.cidr", /public address space/],
  ])("a public hub CIDR (%s) gets a warning", (cidr, path, message) => {
    expect(config(cidr, "10.0.0.0/16").warnings).toEqual([{ path, message: expect.stringMatching(message) }]);
  });

  test.each(["1.2.0.0/16", "172.32.0.0/16", "11.0.0.0/16"])("a public spoke CIDR (%s) gets a warning naming NO_PROXY", (cidr) => {
    expect(config("10.8.0.0/16", cidr).warnings).toEqual([{ path: "spokes.team-a.cidr", message: expect.stringMatching(/public address space: it is local to the spoke VPC and in its NO_PROXY list/) }]);
  });

  test.each(["10.0.0.0/16", "172.31.0.0/16", "192.168.0.0/16", "100.64.0.0/16", "100.127.0.0/16", "198.18.0.0/16"])("%s gets none", (cidr) => {
    expect(config(cidr, cidr).warnings).toEqual([]);
  });

  test("the summary has a warnings section", () => {
    const summary = formatSummary(config("8.8.0.0/16", "1.2.0.0/16"), [], "cdktf.out", 1);
    expect(summary).toMatch(/\nWarnings \(2\): valid, but probably not what you meant\n  hub\.cidr: 8\.8\.0\.0\/16 is public.*\n  spokes\.team-a\.cidr: 1\.2\.0\.0\/16 is public/);
    expect(formatSummary(config("10.8.0.0/16", "10.0.0.0/16"), [], "cdktf.out", 1)).not.toContain("Warnings");
  });
});

test("the config's folder needs nothing else: a config under an awkward path with spaces and unicode loads", () => {
  const dir = join(work, "my configs", "ｅｇｒｅｓｓ");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "egress config.yaml");
  writeFileSync(path, MINIMAL);
  expect(loadConfigFile(path).state).toMatchObject({ backend: "s3", bucket: "my-state" });
});
