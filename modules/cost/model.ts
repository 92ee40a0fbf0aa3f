import type { EgressConfig } from "../config/model";
import { HUB_PORTS_STACK_PREFIX, HUB_STACK } from "../core/stack-names";
import { PROXY_METRICS, SPOKE_DIMENSION } from "../monitoring/metrics";
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
  /** How the central design's cost divides among spokes (see `renderCostMarkdown`). */
  readonly chargeback: Chargeback;
}

/**
 * The central design's cost per spoke: what its own stack runs, an equal share of what the hub
 * runs for all (core and port blocks), and its traffic at the per-GB rate, the traffic read from
 * its `BytesOut` and `BytesIn` metrics (the proxy's access log, by `Spoke` dimension).
 */
export interface Chargeback {
  /** Spokes the hub serves (the port blocks' `proxy_ports`; external spokes included). */
  readonly spokes: number;
  /** What the hub runs for all spokes a month: the hub core's and the port blocks' fixed lines, the per-spoke metrics included. */
  readonly sharedMonthlyUsd: number;
  /** `sharedMonthlyUsd` divided equally among the spokes. */
  readonly sharedPerSpokeUsd: number;
  /** Per spoke stack (`spoke-<name>`): its own fixed lines (Resource endpoint, service endpoints). */
  readonly ownMonthlyUsd: Readonly<Record<string, number>>;
  /** USD per GB of a spoke's traffic, in and out (the central design's per-GB rate). */
  readonly perGbUsd: number;
}

const round = (usd: number) => Math.round(usd * 100) / 100;

/** Counts what costs money in the synthesized stacks and prices it; compares with a NAT gateway per spoke VPC. */
export function costReport(stacks: Readonly<Record<string, object>>, options: { readonly region: string; readonly prices: RegionPrices; readonly monthlyGbPerSpoke: number }): CostReport {
  const { prices } = options;
  const lines = new Map<string, { stacks: Set<string>; quantity: number; price: Price }>();
  // USD a month per stack, for the chargeback.
  const byStack = new Map<string, number>();
  const add = (item: string, stack: string, quantity: number, price: Price) => {
    if (quantity <= 0) return;
    const line = lines.get(item) ?? { stacks: new Set<string>(), quantity: 0, price };
    line.stacks.add(stack);
    line.quantity += quantity;
    lines.set(item, line);
    byStack.set(stack, (byStack.get(stack) ?? 0) + quantity * price.usd);
  };
  const monthly = (item: PriceItem, label: string, stack: string, count: number) => add(label, stack, count, prices.items[item]);
  let servedSpokes = 0;
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
    // Monitoring: alarms by their metrics, dashboards, KMS keys; custom metrics below, once the spokes are counted.
    monitoringLines(of("aws_cloudwatch_metric_alarm"), of("aws_cloudwatch_dashboard").length, of("aws_kms_key").length, stack, monthly);
    servedSpokes += Object.keys((tf.output?.proxy_ports?.value as object | undefined) ?? {}).length;
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

  // Per-spoke metrics: one per spoke and name, as a spoke active every hour publishes them. Those
  // with data only while something fails are not counted.
  const eventOnly: readonly string[] = Object.values(PROXY_METRICS).filter((m) => m.onFailure).map((m) => m.name);
  for (const [stack, tf] of Object.entries(stacks as Record<string, StackJson>)) {
    const filters = Object.values(tf.resource?.aws_cloudwatch_log_metric_filter ?? {}).map((f) => f.metric_transformation ?? {});
    const perSpoke = new Set(filters.filter((m) => m.dimensions && !eventOnly.includes(String(m.name))).map((m) => String(m.name)));
    monthly("customMetricMonth", "custom metric (per spoke and name)", stack, perSpoke.size * servedSpokes);
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
    chargeback: chargeback(byStack, spokeStacks, servedSpokes, central.perGbUsd),
  };
}

/** Alarm metrics (a metric-math alarm counts each metric it reads), dashboards and KMS keys of one stack. */
function monitoringLines(alarms: readonly Record<string, any>[], dashboards: number, keys: number, stack: string, monthly: (item: PriceItem, label: string, stack: string, count: number) => void): void {
  const metrics = alarms.reduce((n, a) => n + (Array.isArray(a.metric_query) ? a.metric_query.filter((q: any) => q.metric).length : 1), 0);
  monthly("alarmMetricMonth", "CloudWatch alarm metric", stack, metrics);
  monthly("dashboardMonth", "CloudWatch dashboard", stack, dashboards);
  monthly("kmsKeyMonth", "KMS key", stack, keys);
}

/** The chargeback: spoke stacks' own cost, the hub core's and port blocks' shared equally among the spokes the hub serves. */
function chargeback(byStack: ReadonlyMap<string, number>, spokeStacks: ReadonlySet<string>, spokes: number, perGbUsd: number): Chargeback {
  let shared = 0;
  const own: Record<string, number> = {};
  for (const [stack, usd] of byStack) {
    if (spokeStacks.has(stack)) own[stack] = round(usd);
    else if (stack === HUB_STACK || stack.startsWith(HUB_PORTS_STACK_PREFIX)) shared += usd;
  }
  return { spokes, sharedMonthlyUsd: round(shared), sharedPerSpokeUsd: spokes > 0 ? round(shared / spokes) : 0, ownMonthlyUsd: own, perGbUsd };
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
    ...chargebackSection(report),
  ].join("\n");
}

/** cost.md's chargeback section: how a spoke's bytes become its cost. */
function chargebackSection(report: CostReport): string[] {
  const c = report.chargeback;
  if (c.spokes === 0) return [];
  const own = Object.values(c.ownMonthlyUsd);
  const typicalOwn = own.length > 0 ? own.reduce((a, b) => a + b, 0) / own.length : 0;
  const example = c.sharedPerSpokeUsd + typicalOwn + report.monthlyGbPerSpoke * c.perGbUsd;
  return [
    "## Chargeback: cost per spoke",
    "",
    `A spoke's month = its own stack's fixed cost + an equal share of the hub's + its GB x $${c.perGbUsd.toFixed(3)}.`,
    "",
    `- The hub's fixed cost (core and port blocks, its metrics and alarms included): ${formatUsd(c.sharedMonthlyUsd)} a month, ${formatUsd(c.sharedPerSpokeUsd)} for each of the ${c.spokes} spokes it serves.`,
    `- A spoke's own stack (its Resource endpoint, its service endpoints): ${own.length > 0 ? `${formatUsd(Math.min(...own))} to ${formatUsd(Math.max(...own))}` : "none here (external spokes deploy their own)"} a month.`,
    `- Its GB: the month's sum of its \`BytesOut\` and \`BytesIn\` metrics (namespace \`egresslink/<name>\`, dimension \`${SPOKE_DIMENSION}\`: every byte through the proxy, both ways), divided by 10^9. Each GB crosses the Resource endpoint and the hub's NAT gateway, both billed per GB processed.`,
    `- Example: a spoke with ${report.monthlyGbPerSpoke} GB a month costs about ${formatUsd(example)} (${formatUsd(c.sharedPerSpokeUsd)} + ${formatUsd(typicalOwn)} + ${report.monthlyGbPerSpoke} x $${c.perGbUsd.toFixed(3)}).`,
    "- Teams that want the shared part by use instead: split it by each spoke's share of all bytes (its BytesOut + BytesIn over the sum for every spoke).",
    "",
  ];
}
