/**
 * Real Terraform reads every stack we ship: the default config's, each example's and the consumer
 * app's stacks pass `terraform validate` and a mocked `terraform test` apply (see helpers-terraform).
 * Full tier only; a missing terraform or provider mirror fails these tests.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { Testing } from "cdktf";
import { buildConsumerApp } from "../examples/consumer-app/main";
import { loadConfigFile } from "../modules/config/load";
import type { EgressConfig } from "../modules/config/model";
import { defaultCloudConfig, defaultConfig, ROOT, synthConfig, type TerraformJson } from "./helpers";
import { programDescribe } from "./helpers-programs";
import { checkStacks, mockCoreOutputs, mockHubOutputs, type StackUnderTest, type TerraformResult } from "./helpers-terraform";
import { HUB_PORTS_STACK_PREFIX } from "../modules/core/stack-names";

function configStacks(source: string, config: EgressConfig): StackUnderTest[] {
  const [block, core] = [mockHubOutputs(config), mockCoreOutputs(config)];
  // Port blocks read the hub core's state; spokes read their block's.
  return Object.entries(synthConfig(config).json).map(([name, json]) => ({ label: `${source}: ${name}`, json, hubOutputs: name.startsWith(HUB_PORTS_STACK_PREFIX) ? core : block }));
}

function shippedStacks(): StackUnderTest[] {
  const examples = readdirSync(join(ROOT, "examples")).filter((f) => f.endsWith(".yaml")).sort();
  const { stack } = buildConsumerApp(Testing.app().outdir);
  return [
    ...configStacks("egress.config.yaml", defaultConfig()),
    ...configStacks("egress.config.yaml, state in HCP Terraform", defaultCloudConfig()),
    ...examples.flatMap((file) => configStacks(`examples/${file}`, loadConfigFile(join(ROOT, "examples", file)))),
    // The consumer app reads the default config's hub.
    { label: `examples/consumer-app: ${stack.node.id}`, json: JSON.parse(Testing.synth(stack)) as TerraformJson, hubOutputs: mockHubOutputs(defaultConfig()) },
  ];
}

/** Broken on purpose: each must fail, or the harness proves nothing. */
function controlStacks(): StackUnderTest[] {
  const block = structuredClone(synthConfig(defaultConfig()).json["hub-ports-3100"]);
  for (const group of Object.values(block.resource?.aws_lb_target_group ?? {})) group.port = 0;
  const { stack } = buildConsumerApp(Testing.app().outdir);
  const outputs = mockHubOutputs(defaultConfig());
  return [
    { label: "control: port block with target groups on port 0", json: block, hubOutputs: mockCoreOutputs(defaultConfig()) },
    {
      label: "control: a spoke the hub does not list",
      json: JSON.parse(Testing.synth(stack)) as TerraformJson,
      hubOutputs: { ...outputs, resource_configuration_arns: {}, proxy_ports: {} },
    },
    {
      label: "control: a spoke sharing no AZ ID with the resource gateway",
      json: JSON.parse(Testing.synth(stack)) as TerraformJson,
      hubOutputs: { ...outputs, gateway_availability_zone_ids: ["use1-az6"] },
    },
  ];
}

const TIMEOUT_MS = 15 * 60 * 1000;

programDescribe("terraform validate and a mocked apply on every shipped stack", () => {
  const stacks = shippedStacks();
  const controls = controlStacks();
  let results: Map<string, TerraformResult>;

  beforeAll(async () => {
    results = await checkStacks(stacks, { controls });
    const lines = [...stacks, ...controls].map(({ label }) => {
      const r = results.get(label)!;
      return `  ${label.padEnd(60)} validate ${r.validate.ok ? "ok  " : "FAIL"}  mock apply ${r.apply.ok ? "ok" : "FAIL"}`;
    });
    process.stderr.write(`terraform (provider mirror) on ${stacks.length} stacks and ${controls.length} controls:\n${lines.join("\n")}\n`);
  }, TIMEOUT_MS);

  test("covers the default config (S3 and cloud state), every example and the consumer app", () => {
    const sources = new Set(stacks.map((s) => s.label.split(": ")[0]));
    expect([...sources]).toEqual(["egress.config.yaml", "egress.config.yaml, state in HCP Terraform", "examples/cross-account.yaml", "examples/existing-vpcs.yaml", "examples/interconnect.yaml", "examples/consumer-app"]);
    expect(stacks.filter((s) => s.label.startsWith("egress.config.yaml")).map((s) => s.label.split(": ")[1])).toEqual(
      expect.arrayContaining(["egress-state", "hub", "hub-ports-3100", "spoke-project-a"]),
    );
  });

  test.each(stacks.map((s) => s.label))("%s: validate ok, mock apply ok", (label) => {
    const result = results.get(label)!;
    expect(result.validate.output).toContain("The configuration is valid");
    expect(result.validate.ok).toBe(true);
    // No deprecation or other provider warnings.
    expect(`${result.validate.output}\n${result.apply.output}`).not.toMatch(/Warning:/);
    expect(result.apply.output).toMatch(/Success! 1 passed, 0 failed/);
    expect(result.apply.ok).toBe(true);
  });

  test("a target group on port 0 fails validate", () => {
    const result = results.get(controls[0].label)!;
    expect(result.validate.ok).toBe(false);
    expect(result.validate.output).toMatch(/port/);
  });

  // The two apply controls share one run: each failure must be reported against its own stack.
  test("a spoke whose subnets share no AZ ID with the resource gateway fails the mocked apply with the precondition's message", () => {
    const result = results.get(controls[2].label)!;
    expect(result.validate.ok).toBe(true);
    expect(result.apply.ok).toBe(false);
    // Terraform wraps long messages.
    expect(result.apply.output.replace(/\s+/g, " ")).toMatch(/share no Availability Zone \(by AZ ID\) with the hub's resource gateway/);
    expect(result.apply.output).not.toMatch(/"project-e"/);
  });

  test("a spoke whose name the hub's outputs lack fails the mocked apply", () => {
    const result = results.get(controls[1].label)!;
    expect(result.validate.ok).toBe(true);
    expect(result.apply.ok).toBe(false);
    expect(result.apply.output).toMatch(/project-e/);
    expect(result.apply.output.replace(/\s+/g, " ")).not.toMatch(/share no Availability Zone/);
  });
});
