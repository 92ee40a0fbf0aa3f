/**
 * Real Terraform on our stacks, offline: each synthesized stack is copied, re-pinned to the aws
 * provider in the machine's filesystem mirror, and run through `terraform validate` and
 * `terraform test` with mocked providers (`command = apply`). Mock values look like AWS's own
 * (ID prefixes, service ARNs, the Region's AZ names), because the provider's validators run on them.
 */
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import type { EgressConfig } from "../modules/config/model";
import { regionPartition } from "../modules/config/regions";
import type { HubCoreOutputs, HubOutputs } from "../modules/hub/contract";
import type { TerraformJson } from "./helpers";

export const TERRAFORM = "/usr/local/bin/terraform";
/** The machine image's filesystem mirror and the one aws provider version in it. */
export const PROVIDER_MIRROR = "/opt/tf-plugins";
export const MIRROR_AWS_VERSION = "5.100.0";

/**
 * Arguments our stacks set that exist only in provider 6.x (the stacks pin 6.25.0; the mirror has
 * 5.100.0). The test copy drops exactly these, nothing else.
 */
export const PROVIDER_6_ONLY_ARGUMENTS: readonly { readonly resourceType: string; readonly argument: string; readonly reason: string }[] = [
  {
    resourceType: "aws_vpclattice_resource_gateway",
    argument: "ipv4_addresses_per_eni",
    reason: "added in provider 6.16; we set AWS's own default (16) unless configured, so 5.x plans the same gateway",
  },
  {
    resourceType: "aws_instance",
    argument: "primary_network_interface",
    reason: "added in provider 6.10, replacing the deprecated `network_interface` block; without it 5.x validates the instance in its subnet-less form",
  },
];

/** One stack to check: its label in test output, its JSON, and the hub contract its remote state returns. */
export interface StackUnderTest {
  readonly label: string;
  readonly json: TerraformJson;
  /** What `terraform_remote_state` returns: a port block's outputs for a spoke, the hub core's for a port block. */
  readonly hubOutputs?: HubOutputs | HubCoreOutputs;
}

export interface TerraformResult {
  readonly validate: { readonly ok: boolean; readonly output: string };
  readonly apply: { readonly ok: boolean; readonly output: string };
}

const ACCOUNT = "111111111111";

/** The hub core's outputs as a deployed core of `config` would return them, with real-looking values. */
export function mockCoreOutputs(config: EgressConfig): HubCoreOutputs {
  const { resource_configuration_arns: _arns, proxy_ports: _ports, resource_share_arns: _shares, ...shared } = mockHubOutputs(config);
  const hex = (i: number) => i.toString(16).padStart(17, "0");
  const { alarmTopic } = config.hub.monitoring;
  return {
    ...shared,
    resource_gateway_id: `rgw-${hex(1)}`,
    gateway_security_group_id: `sg-${hex(1)}`,
    proxy_security_group_id: `sg-${hex(2)}`,
    proxy_nlb_security_group_id: config.hub.proxy.mode === "ha" ? `sg-${hex(3)}` : "",
    proxy_launch_template_id: `lt-${hex(1)}`,
    proxy_launch_template_version: "1",
    proxy_config_bucket: `${config.name}-proxy-config-20261121000000000000000001`,
    alarm_topic_arn: alarmTopic === undefined ? "" : alarmTopic.kind === "existing" ? alarmTopic.arn : `arn:${regionPartition(config.hub.region)}:sns:${config.hub.region}:${config.hub.accountId ?? ACCOUNT}:${config.name}-egress-alarms`,
  };
}

/** A port block's outputs (the hub contract) as a deployed hub of `config` would return them: every field, with real-looking values. */
export function mockHubOutputs(config: EgressConfig): HubOutputs {
  const { region } = config.hub;
  const partition = regionPartition(region);
  const account = config.hub.accountId ?? ACCOUNT;
  const hex = (i: number) => i.toString(16).padStart(17, "0");
  const bySpoke = <T>(value: (name: string, i: number) => T, keep: (s: EgressConfig["spokes"][number]) => boolean = () => true) =>
    Object.fromEntries(config.spokes.filter(keep).map((s, i) => [s.name, value(s.name, i)]));
  return {
    region,
    vpc_id: "vpc-0a0a0a0a0a0a0a0a0",
    vpc_cidr: config.hub.cidr,
    private_subnet_ids: config.hub.privateSubnets.map((_, i) => `subnet-${hex(i + 1)}`),
    gateway_subnet_ids: config.hub.gatewaySubnets.map((_, i) => `subnet-${hex(i + 11)}`),
    gateway_availability_zone_ids: zonesOf(region).zoneIds.slice(0, config.hub.maxAzCount),
    nat_public_ips: ["203.0.113.10"],
    resource_gateway_arn: `arn:${partition}:vpc-lattice:${region}:${account}:resourcegateway/rgw-${hex(1)}`,
    resource_configuration_arns: bySpoke((_, i) => `arn:${partition}:vpc-lattice:${region}:${account}:resourceconfiguration/rcfg-${hex(i + 1)}`),
    proxy_ports: Object.fromEntries(config.spokes.map((s) => [s.name, s.port])),
    resource_share_arns: bySpoke(
      (_, i) => `arn:${partition}:ram:${region}:${account}:resource-share/0a0a0a0a-0000-4000-8000-${i.toString(16).padStart(12, "0")}`,
      (s) => s.accountId !== undefined && s.accountId !== config.hub.accountId,
    ),
    proxy_config_parameter: `/egresslink/${config.name}/proxy/base`,
    proxy_log_group: `/egresslink/${config.name}/proxy`,
  };
}

/** Real-looking AZ names and IDs of a Region (letters a-d; AZ IDs are per account in reality). */
export function zonesOf(region: string): { names: string[]; zoneIds: string[] } {
  const short = region.split("-").map((part, i) => (i === 2 ? part : part.replace(/(north|south|east|west|central)/g, (w) => w[0]))).join("");
  const letters = ["a", "b", "c", "d"];
  // Tokyo has no "b" zone for new accounts; configs name 1a, 1c and 1d there.
  const used = region === "ap-northeast-1" ? ["a", "c", "d"] : letters;
  return { names: used.map((l) => `${region}${l}`), zoneIds: used.map((_, i) => `${short}-az${i + 1}`) };
}

/** The mock provider of one provider configuration (default or alias): computed values in AWS's formats. */
function mockProvider(region: string, account: string, alias?: string): Record<string, unknown> {
  const partition = regionPartition(region);
  const arn = (service: string, resource: string, regional = true) => `arn:${partition}:${service}:${regional ? region : ""}:${regional || service === "iam" ? account : ""}:${resource}`;
  const id = (prefix: string) => `${prefix}-0123456789abcdef0`;
  const zones = zonesOf(region);
  const resource = (type: string, defaults: Record<string, unknown>) => ({ [type]: { defaults } });
  const mockResources = {
    ...resource("aws_vpc", { id: id("vpc"), arn: arn("ec2", `vpc/${id("vpc")}`), default_route_table_id: id("rtb"), main_route_table_id: id("rtb"), default_security_group_id: id("sg"), default_network_acl_id: id("acl") }),
    ...resource("aws_subnet", { id: id("subnet"), arn: arn("ec2", `subnet/${id("subnet")}`), availability_zone_id: zones.zoneIds[0] }),
    ...resource("aws_security_group", { id: id("sg"), arn: arn("ec2", `security-group/${id("sg")}`) }),
    ...resource("aws_default_security_group", { id: id("sg"), arn: arn("ec2", `security-group/${id("sg")}`) }),
    ...resource("aws_vpc_security_group_ingress_rule", { id: id("sgr"), arn: arn("ec2", `security-group-rule/${id("sgr")}`) }),
    ...resource("aws_vpc_security_group_egress_rule", { id: id("sgr"), arn: arn("ec2", `security-group-rule/${id("sgr")}`) }),
    ...resource("aws_internet_gateway", { id: id("igw"), arn: arn("ec2", `internet-gateway/${id("igw")}`) }),
    ...resource("aws_eip", { id: id("eipalloc"), allocation_id: id("eipalloc"), public_ip: "203.0.113.10" }),
    ...resource("aws_nat_gateway", { id: id("nat"), public_ip: "203.0.113.10" }),
    ...resource("aws_route_table", { id: id("rtb"), arn: arn("ec2", `route-table/${id("rtb")}`) }),
    ...resource("aws_route_table_association", { id: id("rtbassoc") }),
    ...resource("aws_network_interface", { id: id("eni"), arn: arn("ec2", `network-interface/${id("eni")}`), private_ip: "10.0.0.10" }),
    ...resource("aws_launch_template", { id: id("lt"), arn: arn("ec2", `launch-template/${id("lt")}`), latest_version: 1, default_version: 1 }),
    ...resource("aws_instance", { id: id("i"), arn: arn("ec2", `instance/${id("i")}`), primary_network_interface_id: id("eni") }),
    ...resource("aws_autoscaling_group", { id: "mock-asg", arn: arn("autoscaling", "autoScalingGroup:0a0a0a0a-0000-4000-8000-000000000001:autoScalingGroupName/mock-asg") }),
    ...resource("aws_lb", { arn: arn("elasticloadbalancing", "loadbalancer/net/mock/0123456789abcdef"), dns_name: `mock-0123456789abcdef.elb.${region}.amazonaws.com`, zone_id: "Z31USIVHYNEOWT" }),
    ...resource("aws_lb_target_group", { arn: arn("elasticloadbalancing", "targetgroup/mock/0123456789abcdef"), arn_suffix: "targetgroup/mock/0123456789abcdef" }),
    ...resource("aws_lb_listener", { arn: arn("elasticloadbalancing", "listener/net/mock/0123456789abcdef/0123456789abcdef") }),
    ...resource("aws_iam_role", { arn: arn("iam", "role/mock", false), unique_id: "AROA0123456789EXAMPLE" }),
    ...resource("aws_iam_instance_profile", { arn: arn("iam", "instance-profile/mock", false), unique_id: "AIPA0123456789EXAMPLE" }),
    ...resource("aws_cloudwatch_log_group", { arn: arn("logs", "log-group:/mock") }),
    ...resource("aws_ssm_parameter", { arn: arn("ssm", "parameter/mock"), version: 1 }),
    ...resource("aws_sns_topic", { id: arn("sns", "mock-alarms"), arn: arn("sns", "mock-alarms") }),
    ...resource("aws_kms_key", { key_id: "0a0a0a0a-0000-4000-8000-000000000001", arn: arn("kms", "key/0a0a0a0a-0000-4000-8000-000000000001") }),
    ...resource("aws_cloudwatch_metric_alarm", { arn: arn("cloudwatch", "alarm:mock") }),
    ...resource("aws_cloudwatch_dashboard", { dashboard_arn: `arn:${partition}:cloudwatch::${account}:dashboard/mock` }),
    ...resource("aws_ssm_document", { arn: arn("ssm", "document/mock"), latest_version: "1", default_version: "1" }),
    ...resource("aws_ssm_association", { association_id: "0a0a0a0a-0000-4000-8000-000000000001" }),
    ...resource("aws_vpclattice_resource_gateway", { id: id("rgw"), arn: arn("vpc-lattice", `resourcegateway/${id("rgw")}`) }),
    ...resource("aws_vpclattice_resource_configuration", { id: id("rcfg"), arn: arn("vpc-lattice", `resourceconfiguration/${id("rcfg")}`) }),
    ...resource("aws_ram_resource_share", { id: arn("ram", "resource-share/0a0a0a0a-0000-4000-8000-000000000001"), arn: arn("ram", "resource-share/0a0a0a0a-0000-4000-8000-000000000001") }),
    ...resource("aws_vpc_endpoint", { id: id("vpce"), arn: arn("ec2", `vpc-endpoint/${id("vpce")}`), network_interface_ids: [id("eni")], prefix_list_id: "pl-61a54008" }),
    ...resource("aws_route53_zone", { zone_id: "Z0123456789ABCDEFGHIJ", arn: `arn:${partition}:route53:::hostedzone/Z0123456789ABCDEFGHIJ` }),
    ...resource("aws_s3_bucket", { arn: `arn:${partition}:s3:::mock-bucket`, bucket_regional_domain_name: `mock-bucket.s3.${region}.amazonaws.com` }),
    ...resource("aws_ec2_transit_gateway", {
      id: id("tgw"),
      arn: arn("ec2", `transit-gateway/${id("tgw")}`),
      association_default_route_table_id: id("tgw-rtb"),
      propagation_default_route_table_id: id("tgw-rtb"),
    }),
    ...resource("aws_ec2_transit_gateway_route_table", { id: id("tgw-rtb"), arn: arn("ec2", `transit-gateway-route-table/${id("tgw-rtb")}`) }),
    ...resource("aws_customer_gateway", { id: id("cgw"), arn: arn("ec2", `customer-gateway/${id("cgw")}`) }),
    ...resource("aws_vpn_connection", {
      id: id("vpn"),
      arn: arn("ec2", `vpn-connection/${id("vpn")}`),
      transit_gateway_attachment_id: id("tgw-attach"),
      tunnel1_address: "198.51.100.1",
      tunnel2_address: "198.51.100.2",
      tunnel1_cgw_inside_address: "169.254.10.2",
      tunnel2_cgw_inside_address: "169.254.11.2",
      tunnel1_vgw_inside_address: "169.254.10.1",
      tunnel2_vgw_inside_address: "169.254.11.1",
    }),
  };
  const mockData = {
    aws_availability_zones: { defaults: { names: zones.names, zone_ids: zones.zoneIds, id: region } },
    aws_caller_identity: { defaults: { account_id: account, arn: arn("iam", "user/mock", false), user_id: "AIDA0123456789EXAMPLE" } },
    aws_partition: { defaults: { partition, dns_suffix: partition === "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com", id: partition } },
    aws_region: { defaults: { name: region, id: region } },
    aws_iam_policy_document: { defaults: { json: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Principal: { Service: "ec2.amazonaws.com" } }] }) } },
    aws_vpc: { defaults: { cidr_block: "10.20.0.0/16", enable_dns_support: true, enable_dns_hostnames: true, arn: arn("ec2", `vpc/${id("vpc")}`) } },
    aws_subnet: { defaults: { availability_zone: zones.names[0], availability_zone_id: zones.zoneIds[0], cidr_block: "10.20.0.0/24" } },
    aws_vpc_endpoint_associations: {
      defaults: { associations: [{ dns_entry: [{ dns_name: `vpce-0123456789abcdef0-snra-0123456789abcdef0.rcfg-0123456789abcdef0.4232ccc.vpc-lattice-rsc.${region}.on.aws`, hosted_zone_id: "Z0123456789ABCDEFGHIJ" }] }] },
    },
  };
  return { ...(alias ? { alias } : {}), mock_resource: mockResources, mock_data: mockData };
}

/**
 * The test copy of a stack: pinned to the mirror's provider, no backend, no 6.x-only arguments,
 * and `prevent_destroy` lifted so the test can tear down. Returns a new document.
 */
export function terraformCopy(json: TerraformJson): TerraformJson {
  const copy = structuredClone(json) as TerraformJson & { terraform: Record<string, unknown> };
  delete copy.terraform.backend;
  copy.terraform.required_providers = { aws: { source: "hashicorp/aws", version: MIRROR_AWS_VERSION } };
  for (const { resourceType, argument } of PROVIDER_6_ONLY_ARGUMENTS) {
    for (const body of Object.values(copy.resource?.[resourceType] ?? {})) delete body[argument];
  }
  // `terraform test` destroys what it applied; prevent_destroy (the state bucket) would fail that teardown.
  for (const bodies of Object.values(copy.resource ?? {})) {
    for (const body of Object.values(bodies)) {
      const lifecycle = body.lifecycle as { prevent_destroy?: boolean } | undefined;
      if (lifecycle?.prevent_destroy) lifecycle.prevent_destroy = false;
    }
  }
  return copy;
}

/** The `override_data` of a stack's mocked apply: its remote states return the given outputs, and existing subnets named in the config are real-looking. */
function dataOverrides(stack: StackUnderTest): { target: string; values: Record<string, unknown> }[] {
  const providers = Object.values(stack.json.provider?.aws ?? [{}]) as { region?: string; alias?: string; allowed_account_ids?: string[] }[];
  const overrides: { target: string; values: Record<string, unknown> }[] = [];
  const data = stack.json.data ?? {};
  for (const name of Object.keys(data.terraform_remote_state ?? {})) {
    if (!stack.hubOutputs) throw new Error(`${stack.label}: reads remote state ${name} but no hub outputs were given`);
    overrides.push({ target: `data.terraform_remote_state.${name}`, values: { outputs: stack.hubOutputs } });
  }
  // Existing subnets named in the config: in distinct AZs of the configured VPC, as the stack's checks demand.
  const subnets = Object.entries(data.aws_subnet ?? {});
  const vpcIds = Object.values(data.aws_vpc ?? {}).map((v) => v.id as string);
  subnets.forEach(([name, body], i) => {
    const provider = providers.find((p) => p.alias === undefined) ?? providers[0];
    const zones = zonesOf(provider.region ?? "us-east-1");
    if (i >= zones.names.length) throw new Error(`${stack.label}: more existing subnets than mocked AZs`);
    overrides.push({
      target: `data.aws_subnet.${name}`,
      values: { id: body.id, vpc_id: vpcIds[0] ?? "vpc-0123456789abcdef0", availability_zone: zones.names[i], availability_zone_id: zones.zoneIds[i], cidr_block: `10.20.${i}.0/24` },
    });
  });
  return overrides;
}

/**
 * Terraform's CLI settings for the test copies: the filesystem mirror and nothing else. The mirror
 * is unpacked, so `init` links its provider directory instead of copying it: every stack of every
 * run shares that one read-only copy (675 MB). A `plugin_cache_dir` would copy it once and is not
 * safe when two test processes run `init` at the same time.
 */
export function terraformEnvironment(root: string): NodeJS.ProcessEnv {
  const cliConfig = join(root, "terraform.rc");
  writeFileSync(cliConfig, `provider_installation {\n  filesystem_mirror {\n    path = "${PROVIDER_MIRROR}"\n  }\n}\n`);
  return { ...process.env, TF_CLI_CONFIG_FILE: cliConfig, TF_IN_AUTOMATION: "1", TF_INPUT: "0", CHECKPOINT_DISABLE: "1" };
}

/** Fails (never skips) when Terraform or the provider mirror is missing. */
export function requireTerraform(): void {
  if (!existsSync(TERRAFORM)) throw new Error(`terraform is not installed at ${TERRAFORM}; the machine image provides it (see ../shared/FACTS.md)`);
  const mirrored = join(PROVIDER_MIRROR, "registry.terraform.io/hashicorp/aws");
  if (!existsSync(mirrored) || !readdirSync(mirrored).includes(MIRROR_AWS_VERSION)) {
    throw new Error(`the aws provider ${MIRROR_AWS_VERSION} is not in the filesystem mirror ${PROVIDER_MIRROR}`);
  }
}

/** Runs terraform in `cwd`; resolves with whether it exited 0, and its output. */
export function runTerraform(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile(TERRAFORM, args, { cwd, env, maxBuffer: 64 * 1024 * 1024, timeout: 300_000 }, (error, stdout, stderr) => {
      resolve({ ok: error === null, output: `${stdout}${stderr}` });
    });
  });
}

/**
 * Installs the provider once, into `dir`, from the mirror. Every stack needs the same single
 * provider, so each test copy reuses this `.terraform` (a link to the mirror) and lock file.
 */
async function installProvider(dir: string, env: NodeJS.ProcessEnv): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "main.tf.json"), JSON.stringify({ terraform: { required_providers: { aws: { source: "hashicorp/aws", version: MIRROR_AWS_VERSION } } } }));
  const init = await runTerraform(["init", "-backend=false", "-input=false", "-no-color"], dir, env);
  if (!init.ok) throw new Error(`terraform init (provider ${MIRROR_AWS_VERSION} from ${PROVIDER_MIRROR}) failed:\n${init.output}`);
}

/** Writes the test copy of `stack` into `dir`: a module of the validate and mocked-apply roots. */
function writeStack(stack: StackUnderTest, dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "main.tf.json"), JSON.stringify(terraformCopy(stack.json), null, 2));
}

/**
 * `terraform validate` on every stack in one run: a root whose modules are the stacks' folders
 * (loading the provider's schema takes seconds, once per run). Each diagnostic names the file it
 * is in, so it is counted against that stack; one naming no stack counts against all.
 */
async function validateAll(dirs: ReadonlyMap<string, string>, root: string, providerDir: string, env: NodeJS.ProcessEnv): Promise<Map<string, { ok: boolean; output: string }>> {
  const dir = join(root, "validate");
  mkdirSync(dir, { recursive: true });
  const modules = Object.fromEntries([...dirs.values()].map((stackDir, i) => [`stack_${i}`, { source: `./${relative(dir, stackDir)}` }]));
  writeFileSync(join(dir, "main.tf.json"), JSON.stringify({ module: modules }, null, 2));
  cpSync(join(providerDir, ".terraform.lock.hcl"), join(dir, ".terraform.lock.hcl"));
  const init = await runTerraform(["init", "-backend=false", "-input=false", "-no-color"], dir, env);
  const run = init.ok ? await runTerraform(["validate", "-no-color"], dir, env) : init;
  const diagnostics = run.output.split(/\n(?=(?:Error|Warning): )/).filter((d) => /^(Error|Warning): /.test(d));
  const results = new Map<string, { ok: boolean; output: string }>();
  for (const [label, stackDir] of dirs) {
    const name = `${relative(dir, stackDir)}/`;
    const own = diagnostics.filter((d) => d.includes(name) || ![...dirs.values()].some((other) => d.includes(`${relative(dir, other)}/`)));
    const errors = own.filter((d) => d.startsWith("Error: "));
    results.set(label, run.ok || errors.length === 0 ? { ok: true, output: `The configuration is valid (validated as a module of one root).\n${own.join("\n")}` } : { ok: false, output: own.join("\n") });
  }
  return results;
}

/** A temporary root with the provider installed and each stack's test copy written. */
async function workspace(stacks: readonly StackUnderTest[]): Promise<{ root: string; env: NodeJS.ProcessEnv; providerDir: string; dirs: Map<string, string> }> {
  requireTerraform();
  const root = mkdtempSync(join(tmpdir(), "egresslink-terraform-"));
  const env = terraformEnvironment(root);
  const providerDir = join(root, "provider");
  await installProvider(providerDir, env);
  const dirs = new Map(stacks.map((stack, i) => [stack.label, join(root, "stacks", `${i}-${stack.label.replace(/[^a-z0-9-]+/gi, "_")}`)]));
  for (const stack of stacks) writeStack(stack, dirs.get(stack.label)!);
  return { root, env, providerDir, dirs };
}

/** `terraform validate` on every stack, in one run; no mocked apply (for stacks too large to apply in a test). */
export async function validateStacks(stacks: readonly StackUnderTest[]): Promise<Map<string, { ok: boolean; output: string }>> {
  const { root, env, providerDir, dirs } = await workspace(stacks);
  try {
    return await validateAll(dirs, root, providerDir, env);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * The mocked apply of many stacks in one `terraform test` run (the provider's schema loads once per
 * run, seconds each): a root whose modules are the stacks. A provider block inside a module would
 * escape the test file's mocks, so each stack's provider configurations move to the root as
 * aliases (`s<i>_default`, `s<i>_<alias>`), passed to its module and mocked there; its
 * remote-state overrides target `module.s<i>`. A stack passes when the run passes; when it fails,
 * every stack of it fails, each with the diagnostics naming its module (or, if none does, the run's output).
 */
async function mockApplyTogether(stacks: readonly StackUnderTest[], dir: string, providerDir: string, env: NodeJS.ProcessEnv): Promise<Map<string, { ok: boolean; output: string }>> {
  mkdirSync(join(dir, "tests"), { recursive: true });
  const root: { terraform: unknown; provider: { aws: Record<string, unknown>[] }; module: Record<string, unknown> } = {
    terraform: { required_providers: { aws: { source: "hashicorp/aws", version: MIRROR_AWS_VERSION } } },
    provider: { aws: [] },
    module: {},
  };
  const mocks: Record<string, unknown>[] = [];
  const overrides: unknown[] = [];
  stacks.forEach((stack, i) => {
    const name = `s${i}`;
    const copy = terraformCopy(stack.json) as Omit<TerraformJson, "terraform" | "provider"> & { terraform: { required_providers: { aws: Record<string, unknown> } }; provider?: { aws?: { alias?: string; region?: string; allowed_account_ids?: string[] }[] } };
    const configs = copy.provider?.aws ?? [{}];
    delete copy.provider;
    const aliases = configs.flatMap((p) => (p.alias ? [p.alias] : []));
    if (aliases.length) copy.terraform.required_providers.aws.configuration_aliases = aliases.map((a) => `aws.${a}`);
    mkdirSync(join(dir, name), { recursive: true });
    writeFileSync(join(dir, name, "main.tf.json"), JSON.stringify(copy, null, 2));
    const providers: Record<string, string> = {};
    for (const p of configs) {
      const alias = `${name}_${p.alias ?? "default"}`;
      root.provider.aws.push({ alias, region: p.region ?? "us-east-1" });
      providers[p.alias ? `aws.${p.alias}` : "aws"] = `aws.${alias}`;
      mocks.push(mockProvider(p.region ?? "us-east-1", p.allowed_account_ids?.[0] ?? ACCOUNT, alias));
    }
    root.module[name] = { source: `./${name}`, providers };
    for (const o of dataOverrides(stack)) overrides.push({ ...o, target: `module.${name}.${o.target}` });
  });
  writeFileSync(join(dir, "main.tf.json"), JSON.stringify(root, null, 2));
  writeFileSync(join(dir, "tests", "mock.tftest.json"), JSON.stringify({ mock_provider: { aws: mocks }, override_data: overrides, run: { mock_apply: { command: "apply" } } }, null, 2));
  cpSync(join(providerDir, ".terraform.lock.hcl"), join(dir, ".terraform.lock.hcl"));
  const init = await runTerraform(["init", "-backend=false", "-input=false", "-no-color"], dir, env);
  const run = init.ok ? await runTerraform(["test", "-no-color"], dir, env) : init;
  const diagnostics = run.output.split(/\n(?=(?:Error|Warning): )/).filter((d) => /^(Error|Warning): /.test(d));
  const results = new Map<string, { ok: boolean; output: string }>();
  stacks.forEach((stack, i) => {
    // A diagnostic names its module's address, or its file (`on s<i>/main.tf.json line ...`).
    const own = diagnostics.filter((d) => new RegExp(`module\\.s${i}\\.|\\bs${i}/main\\.tf\\.json`).test(d) || !/module\.s\d+\.|\bs\d+\/main\.tf\.json/.test(d));
    const note = `(applied as module s${i} of one run of ${stacks.length} stacks)`;
    results.set(stack.label, run.ok ? { ok: true, output: `${own.join("\n")}\n${note}\n${run.output.match(/Success! .*/)?.[0] ?? ""}` } : { ok: false, output: `${own.length ? own.join("\n") : run.output}\n${note}` });
  });
  return results;
}

/**
 * Validates every stack (in one run), then mock-applies them in shared runs (see
 * `mockApplyTogether`), all at once: the stacks in `batches` runs, and the `controls` (stacks that
 * must fail, each with its own diagnostics) in one run of their own; a control that fails validate
 * is not applied (its invalid module would stop the others' plan).
 */
export async function checkStacks(stacks: readonly StackUnderTest[], options: { controls?: readonly StackUnderTest[]; batches?: number } = {}): Promise<Map<string, TerraformResult>> {
  const controls = options.controls ?? [];
  const { root, env, providerDir, dirs } = await workspace([...controls, ...stacks]);
  const validated = await validateAll(dirs, root, providerDir, env);
  const count = Math.min(options.batches ?? 2, stacks.length);
  const invalid = controls.filter((c) => !validated.get(c.label)!.ok);
  const batches = [...Array.from({ length: count }, (_, b) => stacks.filter((_, i) => i % count === b)), controls.filter((c) => !invalid.includes(c))].filter((batch) => batch.length > 0);
  const applied = await Promise.all(batches.map((batch, b) => mockApplyTogether(batch, join(root, `batch-${b}`), providerDir, env)));
  rmSync(root, { recursive: true, force: true });
  const results = new Map<string, TerraformResult>();
  for (const stack of invalid) results.set(stack.label, { validate: validated.get(stack.label)!, apply: { ok: false, output: "not applied: validate failed" } });
  for (const stack of [...controls.filter((c) => !invalid.includes(c)), ...stacks]) results.set(stack.label, { validate: validated.get(stack.label)!, apply: applied.find((a) => a.has(stack.label))!.get(stack.label)! });
  return results;
}
