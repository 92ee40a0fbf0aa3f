import type { EgressConfig } from "../config/model";
import { HOURS_PER_MONTH, PRICE_TABLE_DATE, pricesFor, type Price, type PriceItem, type RegionPrices } from "./prices";

/** The files the main job writes beside the stacks on every synth, and how each starts (the output owns them only then). */
export const COST_JSON = "cost.json";
export const COST_JSON_MARK = '{\n  "region": ';
export const COST_MD = "cost.md";
export const COST_MD_MARK = "# egresslink cost: ";

/** The traffic the comparison assumes when the config sets none. */
export const DEFAULT_MONTHLY_GB_PER_SPOKE = 100;

/** As much of a synthesized stack's Terraform JSON as the cost model reads. */
interface StackJson {
  readonly terraform?: { readonly backend?: Record<string, { readonly key?: string }>; readonly cloud?: { readonly workspaces?: { readonly name?: string } } };
  readonly resource?: Record<string, Record<string, Record<string, any>>>;
  readonly data?: Record<string, Record<string, Record<string, any>>>;
  readonly output?: Record<string, { readonly value?: unknown }>;
}

/** One priced quantity: what, where, how many of what unit, at what price, per month. */
export interface CostLine {
  /** What is priced, e.g. "NAT gateway", "t4g.small instance". */
  readonly item: string;
  /** The stacks it is in. */
  readonly stacks: readonly string[];
  /** Units a month (hours, AZ-hours, GB-months). */
  readonly quantity: number;
  /** The price per unit. */
  readonly price: Price;
  /** quantity x price. */
  readonly monthlyUsd: number;
}

/** A design's monthly cost: fixed lines, and the rate per GB of proxied traffic. */
export interface DesignCost {
  /** Fixed monthly cost, line by line. */
  readonly lines: readonly CostLine[];
  /** Sum of the lines. */
  readonly fixedMonthlyUsd: number;
  /** What each GB of egress costs on its path, item by item. */
  readonly perGb: readonly { readonly item: string; readonly price: Price }[];
  /** Sum of the per-GB items. */
  readonly perGbUsd: number;
}

/** The central design's cost against the baseline it replaces, at the user's traffic. */
export interface CostReport {
  /** The hub's Region, whose prices were used. */
  readonly region: string;
  /** When the price table was checked. */
  readonly priceDate: string;
  /** Hours in a month (730, as AWS's calculator counts). */
  readonly hoursPerMonth: number;
  /** Spoke VPCs in the synthesized stacks (a Resource endpoint each). */
  readonly spokeVpcs: number;
  /** GB of egress a month per spoke VPC (the config's `cost.monthlyGbPerSpoke`). */
  readonly monthlyGbPerSpoke: number;
  /** What was synthesized: hub, port blocks, spokes' endpoints, interconnect. */
  readonly central: DesignCost;
  /** What the seeds replace: a NAT gateway (and its public IPv4 address) in every spoke VPC, and the same spoke endpoints. */
  readonly baseline: DesignCost;
  /** The central design a month: fixed + traffic. */
  readonly centralMonthlyUsd: number;
  /** The baseline a month: fixed + traffic. */
  readonly baselineMonthlyUsd: number;
  /**
   * Total monthly GB above which the baseline costs less (the central path costs more per GB).
   * @default - null: the central design costs less at any traffic, or more at any
   */
  readonly breakEvenMonthlyGb: number | null;
  /** The prices used that are not confirmed (each also marked in its line). */
  readonly unconfirmed: readonly string[];
}

const round = (usd: number) => Math.round(usd * 100) / 100;

/** Counts what costs money in the synthesized stacks and prices it; compares with a NAT gateway per spoke VPC. */
export function costReport(stacks: Readonly<Record<string, object>>, options: { readonly region: string; readonly prices: RegionPrices; readonly monthlyGbPerSpoke: number }): CostReport {
  const { prices } = options;
  const lines = new Map<string, { stacks: Set<string>; quantity: number; price: Price }>();
  const add = (item: string, stack: string, quantity: number, price: Price) => {
    if (quantity <= 0) return;
    const line = lines.get(item) ?? { stacks: new Set<string>(), quantity: 0, price };
    line.stacks.add(stack);
    line.quantity += quantity;
    lines.set(item, line);
  };
  const hourly = (item: PriceItem, label: string, stack: string, count: number) => add(label, stack, count * HOURS_PER_MONTH, prices.items[item]);
  let spokeVpcs = 0;
  const spokeStacks = new Set<string>();
  const baselineEndpoints: [string, number][] = [];

  for (const [stack, tf] of Object.entries(stacks as Record<string, StackJson>)) {
    const of = (type: string) => Object.values(tf.resource?.[type] ?? {});
    hourly("natGatewayHour", "NAT gateway", stack, of("aws_nat_gateway").length);
    hourly("publicIpv4Hour", "public IPv4 address", stack, of("aws_eip").length);
    hourly("nlbHour", "Network Load Balancer", stack, of("aws_lb").filter((lb) => lb.load_balancer_type === "network").length);
    hourly("vpnConnectionHour", "Site-to-Site VPN connection", stack, of("aws_vpn_connection").length);
    const attachments = of("aws_ec2_transit_gateway_vpc_attachment").length + of("aws_vpn_connection").filter((v) => v.transit_gateway_id).length;
    hourly("transitGatewayAttachmentHour", "Transit Gateway attachment", stack, attachments);
    for (const endpoint of of("aws_vpc_endpoint")) {
      const azs = Array.isArray(endpoint.subnet_ids) ? endpoint.subnet_ids.length : 1;
      if (endpoint.vpc_endpoint_type === "Interface") {
        hourly("interfaceEndpointAzHour", "interface endpoint (per AZ)", stack, azs);
        baselineEndpoints.push([stack, azs]);
      }
      if (endpoint.vpc_endpoint_type === "Resource") {
        hourly("resourceEndpointAzHour", "Resource endpoint (per AZ)", stack, azs);
        spokeVpcs++;
        spokeStacks.add(stack);
      }
    }
    // Instances: Auto Scaling groups at their desired size, and single instances, with their launch settings.
    const launches = [
      ...of("aws_autoscaling_group").map((g) => ({ count: Number(g.desired_capacity ?? g.min_size ?? 0), template: launchTemplate(stacks as Record<string, StackJson>, stack, g.launch_template?.id) })),
      ...of("aws_instance").map((i) => ({ count: 1, template: { instance_type: i.instance_type, block_device_mappings: [{ ebs: { volume_size: i.root_block_device?.volume_size ?? 8 } }], network_interfaces: [] } as Record<string, any> })),
    ];
    for (const { count, template } of launches) {
      if (!template || count <= 0) continue;
      const type = String(template.instance_type);
      const price = prices.instanceHour[type] ?? { usd: 0, unit: "hour", source: `no price for ${type}: set cost.prices.instanceHour`, confirmed: false };
      add(`${type} instance`, stack, count * HOURS_PER_MONTH, price);
      const gib = (template.block_device_mappings ?? []).reduce((n: number, m: any) => n + Number(m.ebs?.volume_size ?? 0), 0);
      add("EBS gp3 (GB-month)", stack, count * gib, prices.items.ebsGp3GbMonth);
      if ((template.network_interfaces ?? []).some((n: any) => n.associate_public_ip_address === true || n.associate_public_ip_address === "true")) hourly("publicIpv4Hour", "public IPv4 address", stack, count);
    }
  }

  const design = (entries: Map<string, { stacks: Set<string>; quantity: number; price: Price }>, perGb: { item: string; price: Price }[]): DesignCost => {
    const list = [...entries].map(([item, l]) => ({ item, stacks: [...l.stacks].sort(), quantity: l.quantity, price: l.price, monthlyUsd: round(l.quantity * l.price.usd) }));
    return { lines: list, fixedMonthlyUsd: round(list.reduce((n, l) => n + l.monthlyUsd, 0)), perGb, perGbUsd: perGb.reduce((n, g) => n + g.price.usd, 0) };
  };
  const central = design(lines, [
    { item: "Resource endpoint data", price: prices.items.resourceEndpointGb },
    { item: "NAT gateway data (hub)", price: prices.items.natGatewayGb },
  ]);
  const base = new Map<string, { stacks: Set<string>; quantity: number; price: Price }>();
  base.set("NAT gateway", { stacks: spokeStacks, quantity: spokeVpcs * HOURS_PER_MONTH, price: prices.items.natGatewayHour });
  base.set("public IPv4 address", { stacks: spokeStacks, quantity: spokeVpcs * HOURS_PER_MONTH, price: prices.items.publicIpv4Hour });
  const endpointAzs = baselineEndpoints.reduce((n, [, azs]) => n + azs, 0);
  if (endpointAzs > 0) base.set("interface endpoint (per AZ)", { stacks: new Set(baselineEndpoints.map(([s]) => s)), quantity: endpointAzs * HOURS_PER_MONTH, price: prices.items.interfaceEndpointAzHour });
  const baseline = design(base, [{ item: "NAT gateway data (each VPC's)", price: prices.items.natGatewayGb }]);

  const gb = options.monthlyGbPerSpoke * spokeVpcs;
  const extraPerGb = central.perGbUsd - baseline.perGbUsd;
  const saving = baseline.fixedMonthlyUsd - central.fixedMonthlyUsd;
  const unconfirmed = [...new Set([...central.lines, ...baseline.lines].filter((l) => !l.price.confirmed).map((l) => l.item).concat([...central.perGb, ...baseline.perGb].filter((g) => !g.price.confirmed).map((g) => g.item)))].sort();
  return {
    region: options.region,
    priceDate: PRICE_TABLE_DATE,
    hoursPerMonth: HOURS_PER_MONTH,
    spokeVpcs,
    monthlyGbPerSpoke: options.monthlyGbPerSpoke,
    central,
    baseline,
    centralMonthlyUsd: round(central.fixedMonthlyUsd + gb * central.perGbUsd),
    baselineMonthlyUsd: round(baseline.fixedMonthlyUsd + gb * baseline.perGbUsd),
    breakEvenMonthlyGb: saving > 0 && extraPerGb > 0 ? Math.round(saving / extraPerGb) : null,
    unconfirmed,
  };
}

/** `costReport` of `stacks` with the config's Region, price overrides and traffic figure. */
export function costReportFor(stacks: Readonly<Record<string, object>>, config: Pick<EgressConfig, "hub" | "cost">): CostReport {
  return costReport(stacks, { region: config.hub.region, prices: pricesFor(config.hub.region, config.cost?.prices), monthlyGbPerSpoke: config.cost?.monthlyGbPerSpoke ?? DEFAULT_MONTHLY_GB_PER_SPOKE });
}

/** The launch template an Auto Scaling group runs: in its own stack, or in the stack whose output it reads through remote state. */
function launchTemplate(stacks: Readonly<Record<string, StackJson>>, stack: string, ref: unknown): Record<string, any> | undefined {
  const own = typeof ref === "string" ? /^\$\{aws_launch_template\.([^.]+)\.id\}$/.exec(ref) : null;
  if (own) return stacks[stack].resource?.aws_launch_template?.[own[1]];
  const remote = typeof ref === "string" ? /^\$\{data\.terraform_remote_state\.([^.]+)\.outputs\.([A-Za-z0-9_]+)\}$/.exec(ref) : null;
  if (!remote) return undefined;
  const config = stacks[stack].data?.terraform_remote_state?.[remote[1]]?.config ?? {};
  const producer = Object.entries(stacks).find(([, tf]) => {
    const key = Object.values(tf.terraform?.backend ?? {})[0]?.key;
    return (key !== undefined && key === config.key) || (tf.terraform?.cloud?.workspaces?.name !== undefined && tf.terraform.cloud.workspaces.name === config.workspaces?.name);
  });
  return producer ? launchTemplate(stacks, producer[0], producer[1].output?.[remote[2]]?.value) : undefined;
}

/** `$1,234.56`. */
export function formatUsd(n: number): string {
  return `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** `cost.md`: both designs, line by line, with every unconfirmed price marked. */
export function renderCostMarkdown(report: CostReport): string {
  const mark = (p: Price) => (p.confirmed ? "" : " (unconfirmed)");
  const table = (d: DesignCost) => [
    "| item | stacks | quantity a month | price | USD a month |",
    "|---|---|---|---|---|",
    ...d.lines.map((l) => `| ${l.item} | ${l.stacks.length > 3 ? `${l.stacks.length} stacks` : l.stacks.join(", ")} | ${l.quantity.toLocaleString("en-US")} | $${l.price.usd}/${l.price.unit}${mark(l.price)} | ${formatUsd(l.monthlyUsd)} |`),
    `| **fixed** | | | | **${formatUsd(d.fixedMonthlyUsd)}** |`,
    ...d.perGb.map((g) => `| ${g.item} | | per GB | $${g.price.usd}/GB${mark(g.price)} | |`),
  ];
  const gb = report.monthlyGbPerSpoke * report.spokeVpcs;
  return [
    `${COST_MD_MARK}${report.region}`,
    "",
    `Monthly, USD, on-demand prices of ${report.priceDate} (${report.hoursPerMonth} hours a month), counted from the synthesized stacks. ${report.spokeVpcs} spoke VPCs at ${report.monthlyGbPerSpoke} GB each (${gb.toLocaleString("en-US")} GB) a month.`,
    "",
    `- central (this deployment): ${formatUsd(report.centralMonthlyUsd)}`,
    `- a NAT gateway in every spoke VPC (what it replaces): ${formatUsd(report.baselineMonthlyUsd)}`,
    `- break-even: ${report.breakEvenMonthlyGb === null ? "none (one design costs less at any traffic)" : `the central design costs less below ${report.breakEvenMonthlyGb.toLocaleString("en-US")} GB a month in all`}`,
    ...(report.unconfirmed.length ? [`- unconfirmed prices (set them in the config's cost.prices): ${report.unconfirmed.join(", ")}`] : []),
    "",
    "## Central",
    "",
    ...table(report.central),
    "",
    "## A NAT gateway per spoke VPC",
    "",
    ...table(report.baseline),
    "",
  ].join("\n");
}
