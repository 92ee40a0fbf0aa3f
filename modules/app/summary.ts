import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { EgressConfig, SpokeConfig } from "../config/model";
import { portBlocks, portBlockStart } from "../proxy/port-blocks";
import { HUB_PORTS_STACK_PREFIX, HUB_STACK, SPOKE_STACK_PREFIX, spokeHubStack, spokeStackName } from "../core/stack-names";
import { stackStateReader } from "../state/backend";
import { COST_MD, formatUsd, type CostReport } from "../cost/model";

/** What one synthesized stack holds. */
export interface StackSummary {
  readonly name: string;
  readonly resources: number;
  readonly dataSources: number;
  /** Stacks that must be deployed first. */
  readonly dependencies: readonly string[];
  /** 1 = deploy first; stacks with the same step can be deployed in parallel. */
  readonly step: number;
}

interface Manifest {
  readonly stacks: Record<string, { readonly synthesizedStackPath: string; readonly dependencies: string[] }>;
}

interface TerraformJson {
  readonly resource?: Record<string, Record<string, unknown>>;
  readonly data?: Record<string, Record<string, unknown>>;
}

/** Reads the synthesized stacks in `outdir` (cdktf's manifest.json and each cdk.tf.json, or cdk.tf with `--hcl`). */
export function summarizeStacks(outdir: string): StackSummary[] {
  const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")) as Manifest;
  const steps = deploySteps(Object.fromEntries(Object.entries(manifest.stacks).map(([name, s]) => [name, s.dependencies])));
  return Object.entries(manifest.stacks)
    .map(([name, stack]) => ({ name, ...countBlocks(readFileSync(join(outdir, stack.synthesizedStackPath), "utf8"), stack.synthesizedStackPath), dependencies: stack.dependencies, step: steps[name] }))
    .sort((a, b) => a.step - b.step || a.name.localeCompare(b.name));
}

/** Resources and data sources in a stack file: Terraform JSON, or the HCL cdktf writes (every block starts a line). */
function countBlocks(text: string, path: string): { resources: number; dataSources: number } {
  if (path.endsWith(".tf")) return { resources: text.match(/^resource "/gm)?.length ?? 0, dataSources: text.match(/^data "/gm)?.length ?? 0 };
  const tf = JSON.parse(text) as TerraformJson;
  const count = (blocks: TerraformJson["resource"]) => Object.values(blocks ?? {}).reduce((n, byName) => n + Object.keys(byName).length, 0);
  return { resources: count(tf.resource), dataSources: count(tf.data) };
}

/**
 * The `cdktf deploy` command for `names`. cdktf refuses to deploy a stack without the stacks it
 * depends on unless told to ignore them; an earlier step has deployed those.
 */
export function deployCommand(names: readonly string[], stacks: readonly StackSummary[]): string {
  const selected = new Set(names);
  const missing = stacks.some((s) => selected.has(s.name) && s.dependencies.some((d) => !selected.has(d)));
  // Every spoke (or port-block) stack at once: cdktf's glob keeps the command short at hundreds of spokes.
  const globbed = [SPOKE_STACK_PREFIX, HUB_PORTS_STACK_PREFIX].filter((prefix) => {
    const all = stacks.filter((s) => s.name.startsWith(prefix));
    return all.length > 1 && all.every((s) => selected.has(s.name));
  });
  const named = names.filter((name) => !globbed.some((prefix) => name.startsWith(prefix)));
  return `cdktf deploy ${[...named, ...globbed.map((prefix) => `'${prefix}*'`)].join(" ")}${missing ? " --ignore-missing-stack-dependencies" : ""}`;
}

/** Deploy step of each stack: one more than the latest step among its dependencies. */
export function deploySteps(dependencies: Readonly<Record<string, readonly string[]>>): Record<string, number> {
  const steps: Record<string, number> = {};
  const visit = (name: string, path: string[]): number => {
    if (steps[name] !== undefined) return steps[name];
    if (path.includes(name)) throw new Error(`stack dependency cycle: ${[...path, name].join(" -> ")}`);
    const deps = dependencies[name] ?? [];
    steps[name] = 1 + Math.max(0, ...deps.map((d) => visit(d, [...path, name])));
    return steps[name];
  };
  Object.keys(dependencies).forEach((name) => visit(name, []));
  return steps;
}

/**
 * The two runs that retire `spoke`, in this order: its endpoint must be gone before its port
 * block deletes the resource configuration it is attached to. cdktf deploys a stack only with the
 * stacks it depends on, unless told to ignore them: the spoke's run ignores them (they are
 * unchanged); the block's run names the state stack with it (egress-state then also drops the
 * spoke role's state grant). The last spoke of a block goes with the block's stack: destroyed
 * before the entry leaves the config, which then no longer writes that stack.
 */
function retirementSteps(spoke: SpokeConfig, config: EgressConfig, stacks: readonly StackSummary[]): string[] {
  const hub = stacks.find((s) => s.name === HUB_STACK);
  const block = spokeHubStack(spoke);
  const lastOfBlock = config.spokes.every((s) => s.name === spoke.name || portBlockStart(s.port) !== portBlockStart(spoke.port));
  const before = hub?.dependencies ?? [];
  const blockRun = deployCommand([...before, block], stacks);
  const spokeRun = deployCommand([spokeStackName(spoke.name)], stacks);
  const dropped = listed(["resource configuration", "proxy port", "allow-list", ...(spoke.accountId ? ["RAM share"] : [])]);
  const removal = lastOfBlock
    ? [
        `    2. then cdktf destroy ${block}`,
        `       destroys its ${dropped} with its port block (it is the block's last spoke)`,
        `    3. then remove ${spoke.name} from the config${before.length ? ` and ${deployCommand(before, stacks)}` : ""}`,
      ]
    : [`    2. then remove ${spoke.name} from the config and ${blockRun}`, `       drops its ${dropped}`];
  if (spoke.vpc.kind === "external") return [`  ${spoke.name} (external):`, "    1. its team first destroys its spoke (the Resource endpoint) with its own app", ...removal];
  const made = ["Resource endpoint", "DNS zone", "proxy settings (SSM parameters and document)", ...(spoke.endpoints.length ? ["AWS service endpoints"] : []), ...(spoke.vpc.kind === "new" ? ["VPC"] : [])];
  return [`  ${spoke.name}:`, `    1. ${spokeRun}`, `       destroys its ${listed(made)}`, ...removal];
}

/** "a, b and c". */
function listed(items: readonly string[]): string {
  return items.length > 1 ? `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}` : items.join("");
}

function proxyFleet(config: EgressConfig): string {
  const { proxy } = config.hub;
  if (proxy.mode === "single") return `1 x ${proxy.instanceType}, fixed IP ${proxy.fixedIp}`;
  const groups = portBlocks(config.spokes).length;
  return `${proxy.minInstances} x ${proxy.instanceType} per NLB, ${groups} NLB${groups === 1 ? "" : "s"}`;
}

/** Where `stack`'s state is, as a reader names it: S3 bucket, key and Region, or the workspace. */
function stateLocationText(config: EgressConfig, stack: string): string {
  const location = stackStateReader(config, stack);
  return "organization" in location ? `workspace ${location.workspace} (organization ${location.organization})` : `bucket ${location.bucket}, key ${location.key}, region ${location.region}`;
}

/** The cost model's figures in a few lines, with the file that has them all. */
function costLines(cost: CostReport, outdir: string): string[] {
  return [
    "",
    `Cost a month (USD, ${cost.region} on-demand prices of ${cost.priceDate}; all lines in ${join(outdir, COST_MD)}):`,
    `  central ${formatUsd(cost.centralMonthlyUsd)} (${formatUsd(cost.central.fixedMonthlyUsd)} fixed) vs a NAT gateway per spoke VPC ${formatUsd(cost.baselineMonthlyUsd)} (${formatUsd(cost.baseline.fixedMonthlyUsd)} fixed), at ${cost.monthlyGbPerSpoke} GB per spoke VPC (cost.monthlyGbPerSpoke)`,
    `  break-even: ${cost.breakEvenMonthlyGb === null ? "none" : `central costs less below ${cost.breakEvenMonthlyGb.toLocaleString("en-US")} GB a month in all`}`,
    ...(cost.unconfirmed.length ? [`  unconfirmed prices (set them in cost.prices): ${cost.unconfirmed.join(", ")}`] : []),
  ];
}

/** The summary the main job prints after synthesis. */
export function formatSummary(config: EgressConfig, stacks: readonly StackSummary[], outdir: string, seconds: number, cost?: CostReport): string {
  const table = (rows: string[][]) => {
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    return rows.map((r) => "  " + r.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd()).join("\n");
  };
  const stackRows = [
    ["step", "stack", "resources", "data sources"],
    ...stacks.map((s) => [String(s.step), s.name, String(s.resources), String(s.dataSources)]),
  ];
  const stepOf = new Map(stacks.map((s) => [s.name, s.step]));
  const spokeRows = [
    ["spoke", "VPC", "proxy URL", "account", "deploy step"],
    ...config.spokes.map((s) => [
      s.name,
      s.retired
        ? s.vpc.kind === "external" ? "retired (external): its team destroys, then remove" : "retired: destroy, then remove"
        : s.vpc.kind === "new" ? `${s.vpc.cidr} (new)` : s.vpc.kind === "existing" ? `${s.vpc.vpcId} (existing)` : "(external: its own app)",
      `http://${s.proxyDnsName}:${s.port}`,
      s.accountId ?? "hub's",
      String(stepOf.get(spokeStackName(s.name)) ?? "-"),
    ]),
  ];
  const steps = [...new Set(stacks.map((s) => s.step))].sort((a, b) => a - b);
  const order = steps.map((step) => `  ${step}. ${deployCommand(stacks.filter((s) => s.step === step).map((s) => s.name), stacks)}`);
  const interconnect = config.interconnect
    ? [
        "",
        `Interconnect: Transit Gateway in ${config.interconnect.transitGateway.region} (ASN ${config.interconnect.transitGateway.asn})`,
        table([
          ["site", "region", "router", "real", "advertised", "ASN"],
          ...config.interconnect.sites.map((s) => [s.name, s.region, s.router, s.plan.realCidr, s.plan.translatedCidr ? `${s.plan.advertised} (1:1 NAT)` : s.plan.advertised, String(s.plan.asn)]),
        ]),
      ]
    : [];
  const retired = config.spokes.filter((s) => s.retired);
  const retirement = retired.length
    ? ["", "Retiring: the hub keeps serving each retired spoke until its entry is removed from the config", ...retired.flatMap((s) => retirementSteps(s, config, stacks))]
    : [];
  // Teams that deploy their spoke with their own app pass this to EgressSpoke as `hubState`.
  const external = config.spokes.filter((s) => s.vpc.kind === "external" && !s.retired);
  const externalState = external.length
    ? ["", "External spokes: their teams' apps read the hub contract (EgressSpoke's hubState) from their port block's state", ...external.map((s) => `  ${s.name}: ${stateLocationText(config, spokeHubStack(s))}`)]
    : [];
  const warnings = config.warnings?.length
    ? ["", `Warnings (${config.warnings.length}): valid, but probably not what you meant`, ...config.warnings.map((w) => `  ${w.path}: ${w.message}`)]
    : [];
  return [
    `egresslink: ${stacks.length} stacks written to ${outdir} in ${seconds.toFixed(1)} s`,
    ...warnings,
    "",
    table(stackRows),
    "",
    `Hub: ${config.hub.region}, VPC ${config.hub.cidr}, ${config.hub.zones.count} AZs, NAT ${config.hub.natGateways}, proxy ${config.hub.proxy.mode} (${proxyFleet(config)})`,
    table(spokeRows),
    ...externalState,
    ...(cost ? costLines(cost, outdir) : []),
    ...interconnect,
    "",
    "Deploy order (stacks of one step deploy in parallel):",
    ...order,
    `  or every stack, in this order: cdktf deploy '*'`,
    ...retirement,
    "",
  ].join("\n");
}
