import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { runCli } from "../modules/app/cli";
import { loadConfigFile, parseConfigText } from "../modules/config/load";
import { captureConfigError, DEFAULT_CONFIG_PATH, defaultConfigData, ROOT } from "./helpers";
import { programTest } from "./helpers-programs";

type Data = Record<string, any>;

/** One rule each: how to break the default config, the YAML path the error must name, and words of the reason. */
const INVALID: { rule: string; yaml: (d: Data) => string; path: string; reason: RegExp }[] = [
  { rule: "malformed YAML", yaml: () => "hub:\n  region: [ap-northeast-1\nspokes: {}\n", path: "line 3, column 1", reason: /malformed YAML/ },
  { rule: "empty file", yaml: () => "# nothing here\n", path: "(top level)", reason: /the config is empty/ },
  { rule: "CIDR syntax", yaml: (d) => set(d, ["spokes", "project-b", "cidr"], "10.0.0/16"), path: "spokes.project-b.cidr", reason: /not an IPv4 CIDR/ },
  { rule: "CIDR octet range", yaml: (d) => set(d, ["spokes", "project-a", "cidr"], "10.300.0.0/16"), path: "spokes.project-a.cidr", reason: /octet that is not 0-255/ },
  { rule: "CIDR host bits", yaml: (d) => set(d, ["hub", "cidr"], "10.0.1.0/16"), path: "hub.cidr", reason: /host bits set; the network address is 10\.0\.0\.0\/16/ },
  { rule: "VPC prefix larger than /16", yaml: (d) => set(d, ["hub", "cidr"], "10.0.0.0/8"), path: "hub.cidr", reason: /is a \/8; AWS allows \/16 to \/28/ },
  { rule: "VPC prefix smaller than /28", yaml: (d) => set(d, ["spokes", "project-c", "cidr"], "10.0.0.0/29"), path: "spokes.project-c.cidr", reason: /is a \/29; AWS allows \/16 to \/28/ },
  { rule: "subnet outside the VPC", yaml: (d) => set(d, ["hub", "subnets"], { private: ["10.0.0.0/20", "10.1.0.0/20"] }), path: "hub.subnets.private[1]", reason: /not inside the VPC CIDR 10\.0\.0\.0\/16/ },
  { rule: "overlapping subnets", yaml: (d) => set(d, ["spokes", "project-a", "subnets"], ["10.0.0.0/20", "10.0.8.0/21"]), path: "spokes.project-a.subnets[1]", reason: /"10\.0\.8\.0\/21" overlaps subnets\[0\] \(10\.0\.0\.0\/20\)/ },
  { rule: "subnet count per AZ", yaml: (d) => set(d, ["spokes", "project-d", "subnets"], ["10.0.0.0/20"]), path: "spokes.project-d.subnets", reason: /1 subnets for 2 Availability Zones/ },
  { rule: "VPC too small to carve", yaml: (d) => set(d, ["spokes", "project-d", "cidr"], "10.0.0.0/26"), path: "spokes.project-d.subnets", reason: /too small to carve/ },
  { rule: "maxAzCount below the hub's AZ count", yaml: (d) => set(d, ["hub"], { ...d.hub, availabilityZones: ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"], maxAzCount: 2 }), path: "hub.maxAzCount", reason: /fewer than the hub's 3 Availability Zones/ },
  { rule: "gateway subnet smaller than /27", yaml: (d) => set(d, ["hub", "subnets"], { gateway: ["10.0.224.0/27", "10.0.224.32/27", "10.0.224.64/28"] }), path: "hub.subnets.gateway[2]", reason: /too small: a gateway subnet must be \/27 or larger/ },
  { rule: "gateway subnets per AZ slot", yaml: (d) => set(d, ["hub", "subnets"], { gateway: ["10.0.224.0/24", "10.0.225.0/24"] }), path: "hub.subnets.gateway", reason: /2 subnets for 3/ },
  { rule: "carved gateway subnets overlap listed private ones", yaml: (d) => set(d, ["hub", "subnets"], { private: ["10.0.0.0/20", "10.0.224.0/20"] }), path: "hub.subnets.gateway", reason: /"10\.0\.224\.0\/23" overlaps subnets\.private\[1\]/ },
  { rule: "fewer than 2 AZs listed", yaml: (d) => set(d, ["hub", "availabilityZones"], ["ap-northeast-1a"]), path: "hub.availabilityZones", reason: /at least 2/ },
  { rule: "azCount below 2", yaml: (d) => set(d, ["spokes", "project-a", "azCount"], 1), path: "spokes.project-a.azCount", reason: /at least 2/ },
  { rule: "AZ outside the Region", yaml: (d) => set(d, ["hub", "availabilityZones"], ["ap-northeast-1a", "us-east-1a"]), path: "hub.availabilityZones[1]", reason: /not in Region ap-northeast-1/ },
  { rule: "unknown Region", yaml: (d) => set(d, ["hub", "region"], "ap-northeast-9"), path: "hub.region", reason: /not an AWS Region \(did you mean "ap-northeast-1"\?\)/ },
  { rule: "duplicate spoke name", yaml: (d) => stringify(d).replace("  project-b:\n", "  project-a:\n"), path: "spokes.project-a", reason: /defined twice.*unique/ },
  { rule: "duplicate port", yaml: (d) => set(d, ["spokes", "project-c", "port"], 3128), path: "spokes.project-c.port", reason: /3128 is already the port of spoke "project-a"/ },
  { rule: "privileged port", yaml: (d) => set(d, ["spokes", "project-a", "port"], 80), path: "spokes.project-a.port", reason: /1024-65535/ },
  { rule: "port in the ephemeral range", yaml: (d) => set(d, ["spokes", "project-b", "port"], 40000), path: "spokes.project-b.port", reason: /40000 is in Linux's ephemeral port range 32768-60999, where the proxy's own outbound connections/ },
  { rule: "port the proxy host uses", yaml: (d) => set(d, ["spokes", "project-c", "port"], 5355), path: "spokes.project-c.port", reason: /5355 is taken on the proxy instances: systemd-resolved .* LLMNR/ },
  { rule: "spoke name with a double hyphen", yaml: (d) => rename(d, "project-b", "project--b"), path: "spokes.project--b", reason: /no leading, trailing or double hyphen/ },
  { rule: "spoke name with capitals", yaml: (d) => rename(d, "project-b", "Project-B"), path: "spokes.Project-B", reason: /a-z, 0-9/ },
  { rule: "resource configuration name over 40", yaml: (d) => rename(d, "project-b", "project-b-with-a-very-long-name-xyz"), path: "spokes.project-b-with-a-very-long-name-xyz", reason: /"egress-project-b-with-a-very-long-name-xyz" would be 42 characters; VPC Lattice allows 40/ },
  { rule: "account ID length", yaml: (d) => set(set_(d, ["hub", "accountId"], "111111111111"), ["spokes", "project-a", "accountId"], "12345678901"), path: "spokes.project-a.accountId", reason: /exactly 12 digits/ },
  { rule: "account ID unquoted", yaml: (d) => set(d, ["hub", "accountId"], 123456789012), path: "hub.accountId", reason: /quoted string of 12 digits/ },
  { rule: "hub account needed for shared spokes", yaml: (d) => set(d, ["spokes", "project-a", "accountId"], "222222222222"), path: "hub.accountId", reason: /required when a spoke names an accountId/ },
  { rule: "misspelt setting", yaml: (d) => set(d, ["hub", "natGateway"], "single"), path: "hub.natGateway", reason: /not a known setting/ },
  { rule: "NAT mode", yaml: (d) => set(d, ["hub", "natGateways"], "two"), path: "hub.natGateways", reason: /single.*per-az/ },
  { rule: "S3 bucket name", yaml: (d) => set(d, ["state", "bucket"], "Egress_State"), path: "state.bucket", reason: /3-63 characters of a-z/ },
  { rule: "existing VPC without subnets", yaml: (d) => set(d, ["spokes", "legacy"], { port: 3200, vpcId: "vpc-0123456789abcdef0" }), path: "spokes.legacy.subnetIds", reason: /required with vpcId/ },
  { rule: "new and existing VPC at once", yaml: (d) => set(d, ["spokes", "project-a", "vpcId"], "vpc-0123456789abcdef0"), path: "spokes.project-a.cidr", reason: /only applies to a new VPC/ },
  { rule: "allow-list entry is a URL", yaml: (d) => set(d, ["spokes", "project-a", "allowedDomains"], ["https://github.com/org"]), path: "spokes.project-a.allowedDomains[0]", reason: /is a URL; list the host name only \(e\.g\. "github\.com"\)/ },
  { rule: "allow-list wildcard", yaml: (d) => set(d, ["hub", "proxy", "allowedDomains"], ["*.amazonaws.com"]), path: "hub.proxy.allowedDomains[0]", reason: /wildcard; write "\.amazonaws\.com"/ },
  { rule: "allow-list entry covered by another", yaml: (d) => set(d, ["spokes", "project-a", "allowedDomains"], [".github.com", "api.github.com"]), path: "spokes.project-a.allowedDomains[1]", reason: /already covered by "\.github\.com"/ },
  { rule: "spoke entry the global list allows", yaml: (d) => set(d, ["spokes", "project-c", "allowedDomains"], ["cdn.amazonlinux.com"]), path: "spokes.project-c.allowedDomains[0]", reason: /already allowed for every spoke by "cdn\.amazonlinux\.com" in hub\.proxy\.allowedDomains/ },
  { rule: "ha with one instance", yaml: (d) => set(d, ["hub", "proxy", "minInstances"], 1), path: "hub.proxy.minInstances", reason: /at least 2 in ha mode/ },
  { rule: "instance counts in single mode", yaml: (d) => set(set_(d, ["hub", "proxy", "mode"], "single"), ["hub", "proxy", "minInstances"], 2), path: "hub.proxy.minInstances", reason: /only applies to mode ha/ },
  { rule: "fixed IP outside the first subnet", yaml: (d) => set(set_(d, ["hub", "proxy", "mode"], "single"), ["hub", "proxy", "fixedIp"], "10.0.20.5"), path: "hub.proxy.fixedIp", reason: /not in the first private subnet 10\.0\.0\.0\/20/ },
  { rule: "fixed IP reserved by AWS", yaml: (d) => set(set_(d, ["hub", "proxy", "mode"], "single"), ["hub", "proxy", "fixedIp"], "10.0.0.2"), path: "hub.proxy.fixedIp", reason: /addresses AWS reserves/ },
  { rule: "log retention", yaml: (d) => set(d, ["hub", "proxy", "logRetentionDays"], 45), path: "hub.proxy.logRetentionDays", reason: /must be one of 1, 3, 5/ },
  { rule: "proxy DNS name shadowing AWS names", yaml: (d) => set(d, ["proxyDnsName"], "proxy.vpce.amazonaws.com"), path: "proxyDnsName", reason: /must not be under amazonaws\.com.*shadow AWS service and endpoint names/ },
  { rule: "proxy DNS name too short for a zone", yaml: (d) => set(d, ["spokes", "project-a", "proxyDnsName"], "proxy.internal"), path: "spokes.project-a.proxyDnsName", reason: /at least three labels/ },
  { rule: "gateway endpoint without route tables", yaml: (d) => set(d, ["spokes", "legacy"], { port: 3200, vpcId: "vpc-0123456789abcdef0", subnetIds: ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"], endpoints: ["ecr"] }), path: "spokes.legacy.routeTableIds", reason: /required for the gateway endpoints \(s3\)/ },
  { rule: "route tables for a new VPC", yaml: (d) => set(d, ["spokes", "project-a", "routeTableIds"], ["rtb-0aaaaaaaaaaaaaaa1"]), path: "spokes.project-a.routeTableIds", reason: /only applies with vpcId/ },
  { rule: "endpoint id format", yaml: (d) => set(d, ["spokes", "project-b", "endpoints"], ["ecr api"]), path: "spokes.project-b.endpoints[0]", reason: /not an endpoint service id; did you mean "ecr\.api"\?/ },
  { rule: "endpoint id near miss", yaml: (d) => set(d, ["spokes", "project-b", "endpoints"], ["ssm-messages"]), path: "spokes.project-b.endpoints[0]", reason: /did you mean "ssmmessages"\?/ },
  { rule: "endpoint policy without Statement", yaml: (d) => set(set_(d, ["spokes", "project-a", "endpoints"], ["logs"]), ["spokes", "project-a", "endpointPolicies"], { logs: { Version: "2012-10-17" } }), path: "spokes.project-a.endpointPolicies.logs.Statement", reason: /is required/ },
  { rule: "endpoint policy with a misspelt key", yaml: (d) => set(set_(d, ["spokes", "project-a", "endpoints"], ["logs"]), ["spokes", "project-a", "endpointPolicies"], { logs: { Statement: [{ Efect: "Allow", Principal: "*", Action: "*", Resource: "*" }] } }), path: "spokes.project-a.endpointPolicies.logs.Statement[0].Efect", reason: /did you mean "Effect"\?/ },
  { rule: "transit gateway ASN outside both private ranges", yaml: (d) => set(d, ["interconnect"], { ...interconnect({}), transitGateway: { region: "us-west-2", asn: 65535 } }), path: "interconnect.transitGateway.asn", reason: /64512-65534 \(16-bit\) or 4200000000-4294967294 \(32-bit\)/ },
  { rule: "allow-list with too many entries", yaml: (d) => set(d, ["spokes", "project-a", "allowedDomains"], Array.from({ length: 1001 }, (_, i) => `h${i}.example.com`)), path: "spokes.project-a.allowedDomains", reason: /has 1001 entries, more than the 1000 allowed/ },
  { rule: "policy for a missing endpoint", yaml: (d) => set(d, ["spokes", "project-b", "endpointPolicies"], { s3: { Statement: [] } }), path: "spokes.project-b.endpointPolicies.s3", reason: /names no endpoint of this spoke/ },
  { rule: "role ARN format", yaml: (d) => set(d, ["spokes", "project-a", "roleArn"], "arn:aws:iam::123:role/x"), path: "spokes.project-a.roleArn", reason: /not an IAM role ARN/ },
  { rule: "role in another account than the spoke", yaml: (d) => { set_(d, ["hub", "accountId"], "111111111111"); set_(d, ["spokes", "project-a", "accountId"], "222222222222"); return set(d, ["spokes", "project-a", "roleArn"], "arn:aws:iam::333333333333:role/deployer"); }, path: "spokes.project-a.roleArn", reason: /is in account 333333333333, but the spoke's accountId is 222222222222/ },
  { rule: "OU share outside an organization", yaml: (d) => { set_(d, ["hub", "accountId"], "111111111111"); set_(d, ["spokes", "project-a", "accountId"], "222222222222"); return set(d, ["spokes", "project-a", "sharePrincipal"], "arn:aws:organizations::111111111111:ou/o-abcdefghij/ou-ab12-cdefgh34"); }, path: "spokes.project-a.sharePrincipal", reason: /needs hub\.ramWithinOrganization: true/ },
  { rule: "external spoke with a VPC", yaml: (d) => set(d, ["spokes", "project-d", "external"], true), path: "spokes.project-d.cidr", reason: /does not apply to an external spoke/ },
  { rule: "interconnect: public translated prefix", yaml: (d) => set(d, ["interconnect"], interconnect({ translatedCidr: "172.88.88.0/24" })), path: "interconnect.sites.singapore.translatedCidr", reason: /172\.88\.88\.0\/24 is public address space/ },
  { rule: "interconnect: VyOS without its AMI", yaml: (d) => set(d, ["interconnect"], interconnect({ router: "vyos" })), path: "interconnect.sites.singapore.amiId", reason: /required for a vyos router/ },
  { rule: "interconnect: existing VPC without a router subnet", yaml: (d) => set(d, ["interconnect"], interconnect({ vpcId: "vpc-0123456789abcdef0", routeTableIds: ["rtb-0aaaaaaaaaaaaaaa1"] })), path: "interconnect.sites.singapore.routerSubnetId", reason: /is required with vpcId/ },
  { rule: "interconnect: one site", yaml: (d) => set(d, ["interconnect"], { transitGateway: { region: "us-west-2" }, sites: { solo: { region: "us-east-1", cidr: "10.0.1.0/24" } } }), path: "interconnect.sites", reason: /at least two sites/ },
  { rule: "neither new nor existing VPC", yaml: (d) => set(d, ["spokes", "project-a"], { port: 3128 }), path: "spokes.project-a", reason: /needs either cidr .* or vpcId/ },
];

/** An interconnect section with two colliding sites; `singapore` gets the extra settings. */
function interconnect(singapore: Data): Data {
  return {
    transitGateway: { region: "us-west-2" },
    sites: { singapore: { region: "ap-southeast-1", cidr: "10.0.1.0/24", ...singapore }, virginia: { region: "us-east-1", cidr: "10.0.1.0/24" } },
  };
}

function set_(d: Data, path: string[], value: unknown): Data {
  let node = d;
  for (const key of path.slice(0, -1)) node = node[key] ??= {};
  node[path[path.length - 1]] = value;
  return d;
}
function set(d: Data, path: string[], value: unknown): string {
  return stringify(set_(d, path, value));
}
function rename(d: Data, from: string, to: string): string {
  d.spokes = Object.fromEntries(Object.entries(d.spokes).map(([k, v]) => [k === from ? to : k, v]));
  return stringify(d);
}

/** Names and contents of every file under `dir`, to prove nothing changed. */
function snapshotDir(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[p.slice(dir.length)] = readFileSync(p, "utf8");
    }
  };
  walk(dir);
  return out;
}

describe("invalid configs", () => {
  let work: string;
  let out: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "egresslink-config-"));
    out = join(work, "cdktf.out");
    mkdirSync(join(out, "stacks", "hub"), { recursive: true });
    writeFileSync(join(out, "stacks", "hub", "cdk.tf.json"), '{"sentinel": "from the last good synth"}');
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test("there is a case for every rule", () => {
    expect(INVALID.length).toBeGreaterThanOrEqual(15);
    expect(new Set(INVALID.map((c) => c.rule)).size).toBe(INVALID.length);
  });

  test.each(INVALID.map((c) => [c.rule, c] as const))("%s: error names the path and the reason, exit 1, output untouched", async (_rule, c) => {
    const file = join(work, "egress.yaml");
    writeFileSync(file, c.yaml(defaultConfigData()));
    const before = snapshotDir(work);
    let stderr = "";
    const code = await runCli(["--config", file, "--out", out], {}, { stdout: () => undefined, stderr: (t) => (stderr += t) });
    expect(code).toBe(1);
    const line = stderr.split("\n").find((l) => l.trimStart().startsWith(`${c.path}: `));
    expect(line).toBeDefined();
    expect(line).toMatch(c.reason);
    expect(stderr).toContain(`${file}: `);
    expect(stderr).toContain("Nothing was written.");
    expect(snapshotDir(work)).toEqual(before);
  });

  test("a missing file names the file", async () => {
    let stderr = "";
    const code = await runCli(["--config", join(work, "nope.yaml")], {}, { stdout: () => undefined, stderr: (t) => (stderr += t) });
    expect(code).toBe(1);
    expect(stderr).toContain(`${join(work, "nope.yaml")}: 1 problem\n  (top level): cannot read the config: file not found`);
  });

  test("every problem is reported at once", () => {
    const d = defaultConfigData();
    d.hub.region = "mars-1";
    d.spokes["project-a"].cidr = "10.0.0.0/33";
    d.spokes["project-b"].port = 3128;
    d.spokes["project-c"].portt = 1;
    const err = captureConfigError(() => parseConfigText(stringify(d), "x.yaml"));
    expect(err.issues.map((i) => i.path)).toEqual(expect.arrayContaining(["hub.region", "spokes.project-a.cidr", "spokes.project-b.port", "spokes.project-c.portt"]));
    expect(err.issues).toHaveLength(4);
  });

  programTest.each([
    ["missing file", ["--config", "does-not-exist.yaml"], /does-not-exist\.yaml: 1 problem\n\s+\(top level\): cannot read the config: file not found/],
    ["bad CIDR", ["--config", "BAD"], /spokes\.project-b\.cidr: "10\.0\.0\.0\/33" has prefix \/33/],
  ])("as a real process, %s exits non-zero and writes nothing", (_name, args, message) => {
    const dir = mkdtempSync(join(tmpdir(), "egresslink-proc-"));
    try {
      const bad = join(dir, "bad.yaml");
      writeFileSync(bad, set(defaultConfigData(), ["spokes", "project-b", "cidr"], "10.0.0.0/33"));
      const argv = args.map((a) => (a === "BAD" ? bad : a));
      const result = spawnSync(join(ROOT, "node_modules", ".bin", "tsx"), [join(ROOT, "main.ts"), ...argv, "--out", join(dir, "out")], { cwd: dir, encoding: "utf8" });
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(message);
      expect(readdirSync(dir).filter((f) => f !== "bad.yaml")).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("valid configs", () => {
  test("the default config is the seeds' scenario: Tokyo hub and four spokes on 10.0.0.0/16, plus one a team deploys itself", () => {
    const config = loadConfigFile(DEFAULT_CONFIG_PATH);
    expect(config.hub).toMatchObject({ region: "ap-northeast-1", cidr: "10.0.0.0/16", zones: { count: 2, names: ["ap-northeast-1a", "ap-northeast-1c"] } });
    expect(config.spokes.map((s) => [s.name, s.port, s.vpc.kind === "new" && s.vpc.cidr])).toEqual([
      ["project-a", 3128, "10.0.0.0/16"],
      ["project-b", 3129, "10.0.0.0/16"],
      ["project-c", 3130, "10.0.0.0/16"],
      ["project-d", 3131, "10.0.0.0/16"],
      ["project-e", 3132, false],
    ]);
    expect(config.spokes[4].vpc.kind).toBe("external");
  });

  test("defaults: state region from the hub, key prefix, NAT, proxy and gateway settings", () => {
    const config = parseConfigText("state: {bucket: my-state}\nhub: {region: eu-west-1, cidr: 10.8.0.0/16}\n", "min.yaml");
    expect(config.state).toEqual({ backend: "s3", bucket: "my-state", region: "eu-west-1", keyPrefix: "egresslink", create: true });
    expect(config.hub).toMatchObject({
      zones: { count: 2 },
      natGateways: "single",
      privateSubnets: ["10.8.0.0/20", "10.8.16.0/20"],
      publicSubnets: ["10.8.240.0/24", "10.8.241.0/24"],
      proxy: { instanceType: "t4g.small", rootVolumeGiB: 16 },
      resourceGateway: { ipv4AddressesPerEni: 16 },
    });
    expect(config.name).toBe("egress");
    expect(config.spokes).toEqual([]);
  });

  test("spokes are ordered by name whatever the file order, and same-account IDs need no sharing", () => {
    const config = parseConfigText(
      'state: {bucket: my-state}\nhub: {region: eu-west-1, cidr: 10.8.0.0/16, accountId: "111111111111"}\nspokes:\n  zeta: {port: 4000, cidr: 10.0.0.0/16, accountId: "111111111111"}\n  alpha: {port: 4001, cidr: 10.0.0.0/16, accountId: "222222222222", roleArn: "arn:aws:iam::222222222222:role/deployer"}\n',
      "order.yaml",
    );
    expect(config.spokes.map((s) => [s.name, s.accountId])).toEqual([["alpha", "222222222222"], ["zeta", undefined]]);
  });

  test.each(["examples/existing-vpcs.yaml", "egress.config.yaml"])("%s is valid", (file) => {
    expect(() => loadConfigFile(join(ROOT, file))).not.toThrow();
  });

  test("the committed JSON Schema is the one the schema generates", () => {
    const { configJsonSchema } = require("../modules/config/json-schema") as typeof import("../modules/config/json-schema");
    expect(JSON.parse(readFileSync(join(ROOT, "egress.config.schema.json"), "utf8"))).toEqual(configJsonSchema());
  });
});
