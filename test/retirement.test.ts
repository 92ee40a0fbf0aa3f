/**
 * Retiring a spoke (issue 10, point 4): `retired: true` keeps the spoke's stack, with its provider
 * and state but nothing else, so that deploying it destroys what the state holds, while the hub
 * keeps serving the spoke; removing the entry afterwards drops the spoke's resources from the hub.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { runCli } from "../modules/app/cli";
import { addressAt, captureConfigError, configFrom, defaultConfigData, deliveredSquidConf, resourceAt, synthConfig, type TerraformJson } from "./helpers";
import { programDescribe } from "./helpers-programs";
import { MIRROR_AWS_VERSION, requireTerraform, runTerraform, terraformCopy, terraformEnvironment } from "./helpers-terraform";

type Data = Record<string, any>;

/** The default config with project-b in another account (so the hub shares its configuration through RAM). */
function crossAccountData(): Data {
  const data = defaultConfigData();
  data.hub.accountId = "111111111111";
  Object.assign(data.spokes["project-b"], { accountId: "222222222222", roleArn: "arn:aws:iam::222222222222:role/egresslink-spoke" });
  return data;
}

function withRetired(data: Data, ...spokes: string[]): Data {
  const copy = structuredClone(data);
  for (const name of spokes) copy.spokes[name].retired = true;
  return copy;
}

/** Each resource block of a stack by `type.name`, as JSON text. */
function resourceBlocks(tf: TerraformJson): Map<string, string> {
  return new Map(Object.entries(tf.resource ?? {}).flatMap(([type, byName]) => Object.entries(byName).map(([name, body]) => [`${type}.${name}`, JSON.stringify(body)] as const)));
}

describe("the retired setting", () => {
  test("defaults to false, and retired: true parses, for a spoke of this app and for an external one", () => {
    expect(configFrom(defaultConfigData()).spokes.map((s) => s.retired)).toEqual([false, false, false, false, false]);
    const config = configFrom(withRetired(defaultConfigData(), "project-b", "project-e"));
    expect(config.spokes.filter((s) => s.retired).map((s) => [s.name, s.vpc.kind])).toEqual([
      ["project-b", "new"],
      ["project-e", "external"],
    ]);
  });

  test("must be a boolean", () => {
    const data = defaultConfigData();
    data.spokes["project-b"].retired = "yes";
    expect(captureConfigError(() => configFrom(data)).issues.map((i) => i.path)).toEqual(["spokes.project-b.retired"]);
  });
});

describe("retiring a spoke, end to end: retired: true, then the entry removed", () => {
  const before = synthConfig(configFrom(crossAccountData()));
  // Synth 1: project-b retired.
  const retired = synthConfig(configFrom(withRetired(crossAccountData(), "project-b")));
  // Synth 2: project-b's entry removed.
  const removedData = crossAccountData();
  delete removedData.spokes["project-b"];
  const removed = synthConfig(configFrom(removedData));

  test("1. the retired spoke's stack keeps its provider, backend (same state key and role) and Terraform settings, and nothing else", () => {
    const stack = retired.json["spoke-project-b"];
    const { terraform, provider } = before.json["spoke-project-b"];
    expect(stack).toEqual({ terraform, provider });
    expect(stack.terraform).toMatchObject({ required_version: ">= 1.11.0", required_providers: { aws: { version: "6.25.0" } } });
    expect(stack.terraform?.backend?.s3).toMatchObject({ key: "egresslink/spoke-project-b.tfstate", use_lockfile: true, assume_role: { role_arn: "arn:aws:iam::222222222222:role/egresslink-spoke" } });
    expect(stack.provider?.aws[0]).toMatchObject({ allowed_account_ids: ["222222222222"], assume_role: [{ role_arn: "arn:aws:iam::222222222222:role/egresslink-spoke" }] });
    // What it destroys: everything the spoke stack held before.
    expect(Object.keys(before.json["spoke-project-b"].resource ?? {})).toEqual(expect.arrayContaining(["aws_vpc_endpoint", "aws_route53_zone", "aws_ssm_parameter", "aws_ram_resource_share_accepter"]));
  });

  test("1. the hub's JSON is byte-identical to before retiring, and so is every other stack", () => {
    expect(Object.keys(retired.text).sort()).toEqual(Object.keys(before.text).sort());
    for (const stack of Object.keys(before.text).filter((s) => s !== "spoke-project-b")) expect([stack, retired.text[stack]]).toEqual([stack, before.text[stack]]);
  });

  test("2. removing the entry removes the spoke's stack and, from its port block, exactly its resource configuration, listener, target group and RAM share", () => {
    expect(Object.keys(removed.json).sort()).toEqual(Object.keys(before.json).filter((s) => s !== "spoke-project-b").sort());
    expect(removed.text.hub).toBe(before.text.hub);
    const hubBefore = resourceBlocks(before.json["hub-ports-3100"]);
    const hubAfter = resourceBlocks(removed.json["hub-ports-3100"]);
    expect([...hubAfter.keys()].filter((a) => !hubBefore.has(a))).toEqual([]);
    const gone = [...hubBefore.keys()].filter((a) => !hubAfter.has(a));
    const spokeOwn = [
      ["aws_vpclattice_resource_configuration", "config-project-b"],
      ["aws_lb_listener", "listener-project-b"],
      ["aws_lb_target_group", "tg-project-b"],
      ["aws_ram_resource_share", "share-project-b"],
      ["aws_ram_resource_association", "share-config-project-b"],
      ["aws_ram_principal_association", "share-account-project-b"],
    ];
    expect(gone.sort()).toEqual(spokeOwn.map(([type, path]) => addressAt(before.json["hub-ports-3100"], type, path)).sort());
  });

  test("2. nothing of another spoke changes: their stacks, block resources and output entries; the proxy config only loses project-b's lines", () => {
    for (const stack of Object.keys(removed.text).filter((s) => s.startsWith("spoke-"))) expect([stack, removed.text[stack]]).toEqual([stack, before.text[stack]]);
    const block = (json: typeof before.json) => json["hub-ports-3100"];
    const hubBefore = resourceBlocks(block(before.json));
    const changed = [...resourceBlocks(block(removed.json))].filter(([a, body]) => hubBefore.get(a) !== body).map(([a]) => a);
    const others = ["project-a", "project-c", "project-d", "project-e"];
    expect(changed.filter((a) => others.some((s) => a.includes(`-${s}_`)))).toEqual([]);
    // In place, shared by the block's spokes: its part of the proxy config, its Auto Scaling group
    // (its target groups) and security group rules (their descriptions name the block's spokes).
    expect([...new Set(changed.map((a) => a.split(".")[0]))].sort()).toEqual(["aws_autoscaling_group", "aws_s3_object", "aws_vpc_security_group_egress_rule", "aws_vpc_security_group_ingress_rule"]);
    const lines = (conf: string) => conf.split("\n");
    expect(lines(deliveredSquidConf(removed.json))).toEqual(lines(deliveredSquidConf(before.json)).filter((l) => !l.includes("project-b")));
    for (const output of ["proxy_ports", "resource_configuration_arns", "resource_share_arns"]) {
      const { "project-b": _gone, ...rest } = block(before.json).output?.[output].value as Record<string, unknown>;
      expect([output, block(removed.json).output?.[output].value]).toEqual([output, rest]);
    }
  });

  test("an external spoke marked retired gets no stack here (its team destroys its own), and the hub keeps serving it unchanged", () => {
    const { json, text } = synthConfig(configFrom(withRetired(defaultConfigData(), "project-e")));
    const plain = synthConfig(configFrom(defaultConfigData()));
    expect(json["spoke-project-e"]).toBeUndefined();
    expect(text.hub).toBe(plain.text.hub);
    expect(text["hub-ports-3100"]).toBe(plain.text["hub-ports-3100"]);
    expect(resourceAt(json["hub-ports-3100"], "aws_vpclattice_resource_configuration", "hub/config-project-e")).toMatchObject({ port_ranges: ["3132"] });
  });
});

describe("the main job on a config with retired spokes", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "egresslink-retire-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = async (data: Data) => {
    const file = join(dir, "egress.yaml");
    writeFileSync(file, stringify(data));
    let stdout = "";
    const code = await runCli(["--config", file, "--out", join(dir, "out")], {}, { stdout: (t) => (stdout += t), stderr: () => undefined });
    return { code, stdout };
  };

  test("writes the retired spoke's empty stack in its folder, deploys it with the other spokes, and prints what to run, in order", async () => {
    const { code, stdout } = await run(withRetired(crossAccountData(), "project-b", "project-e"));
    expect(code).toBe(0);
    const stack = JSON.parse(readFileSync(join(dir, "out", "stacks", "spoke-project-b", "cdk.tf.json"), "utf8"));
    expect(Object.keys(stack).filter((k) => k !== "//").sort()).toEqual(["provider", "terraform"]);
    expect(stdout).toMatch(/\n\s+4\s+spoke-project-b\s+0\s+0\n/);
    expect(stdout).toMatch(/\n\s+project-b\s+retired: destroy, then remove\s+http:\/\/proxy\.egress\.internal:3129\s+222222222222\s+4\n/);
    expect(stdout).toMatch(/\n\s+project-e\s+retired \(external\): its team destroys, then remove\s+http:\/\/proxy\.egress\.internal:3132\s+hub's\s+-\n/);
    expect(stdout).toContain("4. cdktf deploy 'spoke-*' --ignore-missing-stack-dependencies");
    expect(stdout).toContain(
      [
        "Retiring: the hub keeps serving each retired spoke until its entry is removed from the config",
        "  project-b:",
        "    1. cdktf deploy spoke-project-b --ignore-missing-stack-dependencies",
        "       destroys its Resource endpoint, DNS zone, proxy settings (SSM parameters and document) and VPC",
        "    2. then remove project-b from the config and cdktf deploy egress-state hub-ports-3100 --ignore-missing-stack-dependencies",
        "       drops its resource configuration, proxy port, allow-list and RAM share",
        "  project-e (external):",
        "    1. its team first destroys its spoke (the Resource endpoint) with its own app",
        "    2. then remove project-e from the config and cdktf deploy egress-state hub-ports-3100 --ignore-missing-stack-dependencies",
        "       drops its resource configuration, proxy port and allow-list",
        "",
      ].join("\n"),
    );
  });

  test("keeps the user's Terraform files in the retired stack's folder, where its deploy runs", async () => {
    expect((await run(crossAccountData())).code).toBe(0);
    const folder = join(dir, "out", "stacks", "spoke-project-b");
    mkdirSync(join(folder, ".terraform"));
    writeFileSync(join(folder, ".terraform", "terraform.tfstate"), '{"version": 3, "backend": {"type": "s3"}}');
    expect((await run(withRetired(crossAccountData(), "project-b"))).code).toBe(0);
    expect(readFileSync(join(folder, ".terraform", "terraform.tfstate"), "utf8")).toContain('"s3"');
  });

  test("prints no retirement section when no spoke is retired", async () => {
    const { code, stdout } = await run(crossAccountData());
    expect(code).toBe(0);
    expect(stdout).not.toContain("retired");
    expect(stdout).not.toContain("Retiring");
  });
});

programDescribe("Terraform on a retired spoke's stack, with the state of the spoke it was", () => {
  let work: string;
  beforeAll(() => {
    requireTerraform();
    work = mkdtempSync(join(tmpdir(), "egresslink-retire-tf-"));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test(
    "validates, and plans to destroy every resource the spoke stack made and nothing else",
    async () => {
      const full = synthConfig(configFrom(defaultConfigData())).json["spoke-project-a"];
      const empty = terraformCopy(synthConfig(configFrom(withRetired(defaultConfigData(), "project-a"))).json["spoke-project-a"]);
      // Offline: static mock credentials and no AWS calls; a plan without refresh needs none.
      Object.assign(empty.provider!.aws[0], { access_key: "mock", secret_key: "mock", skip_credentials_validation: true, skip_requesting_account_id: true, skip_metadata_api_check: true });
      writeFileSync(join(work, "main.tf.json"), JSON.stringify(empty, null, 2));
      const env = terraformEnvironment(work);
      const init = await runTerraform(["init", "-backend=false", "-input=false", "-no-color"], work, env);
      expect([init.ok, init.output]).toEqual([true, expect.stringContaining(MIRROR_AWS_VERSION)]);
      const validate = await runTerraform(["validate", "-no-color"], work, env);
      expect([validate.ok, validate.output]).toEqual([true, expect.stringContaining("The configuration is valid")]);

      // The state a deployed spoke-project-a leaves: one instance per resource, at the provider's schema versions.
      const schema = await runTerraform(["providers", "schema", "-json"], work, env);
      expect(schema.ok).toBe(true);
      const versions = JSON.parse(schema.output).provider_schemas["registry.terraform.io/hashicorp/aws"].resource_schemas as Record<string, { version?: number }>;
      const addresses = Object.entries(full.resource ?? {}).flatMap(([type, byName]) => Object.keys(byName).map((name) => ({ type, name })));
      const state = {
        version: 4,
        terraform_version: "1.11.4",
        serial: 1,
        lineage: "0a0a0a0a-0000-4000-8000-000000000001",
        outputs: {},
        resources: addresses.map(({ type, name }) => ({
          mode: "managed",
          type,
          name,
          provider: 'provider["registry.terraform.io/hashicorp/aws"]',
          instances: [{ schema_version: versions[type].version ?? 0, attributes: { id: `${type}-mock` } }],
        })),
      };
      writeFileSync(join(work, "terraform.tfstate"), JSON.stringify(state));

      const plan = await runTerraform(["plan", "-refresh=false", "-input=false", "-no-color", "-out=retire.plan"], work, env);
      expect([plan.ok, plan.output]).toEqual([true, expect.stringContaining(`Plan: 0 to add, 0 to change, ${addresses.length} to destroy.`)]);
      const show = await runTerraform(["show", "-json", "retire.plan"], work, env);
      const changes = JSON.parse(show.output).resource_changes as { address: string; change: { actions: string[] } }[];
      expect(changes.map((c) => [c.address, c.change.actions]).sort()).toEqual(addresses.map(({ type, name }) => [`${type}.${name}`, ["delete"]]).sort());
      expect(addresses.length).toBeGreaterThan(20);
    },
    120_000,
  );
});
