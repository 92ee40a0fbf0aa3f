/**
 * The prices the cost model uses: USD, on-demand, Linux, per Region, dated. Each figure names its
 * source; one that is not confirmed against AWS's price pages is marked so, shown so in every
 * output, and overridable in the config (`cost.prices`).
 */

/** When the table was last checked. */
export const PRICE_TABLE_DATE = "2026-11-21";

/** One price: what it costs, per what, where the figure comes from, and whether it is confirmed. */
export interface Price {
  /** USD per `unit`. */
  readonly usd: number;
  /** What one unit is, e.g. "hour", "GB", "GB-month". */
  readonly unit: string;
  /** Where the figure comes from. */
  readonly source: string;
  /** False for a figure not confirmed against AWS's price pages (shown as such). */
  readonly confirmed: boolean;
}

/** The price items the model knows. */
export type PriceItem =
  | "natGatewayHour"
  | "natGatewayGb"
  | "nlbHour"
  | "interfaceEndpointAzHour"
  | "interfaceEndpointGb"
  | "resourceEndpointAzHour"
  | "resourceEndpointGb"
  | "publicIpv4Hour"
  | "transitGatewayAttachmentHour"
  | "transitGatewayGb"
  | "vpnConnectionHour"
  | "ebsGp3GbMonth"
  | "alarmMetricMonth"
  | "customMetricMonth"
  | "dashboardMonth"
  | "kmsKeyMonth";

/** A Region's prices: the items, and instance types by name (per hour). */
export interface RegionPrices {
  /** By item. */
  readonly items: Readonly<Record<PriceItem, Price>>;
  /** By EC2 instance type, per hour. */
  readonly instanceHour: Readonly<Record<string, Price>>;
}

const FACTS = "../shared/FACTS.md (AWS's pricing pages, checked for this project)";
const UNCONFIRMED = "public price lists, not confirmed against AWS's pricing page";
const p = (usd: number, unit: string, confirmed = true, source = confirmed ? FACTS : UNCONFIRMED): Price => ({ usd, unit, source, confirmed });

/**
 * CloudWatch and KMS, the same in both Regions of the table as far as checked; AWS's own paid
 * tables were not where checked, so each is unconfirmed. Standard-resolution alarms count per
 * metric (a metric-math alarm on two metrics counts twice); custom metrics at the first tier
 * (10,000 a month), per metric (name and dimension values); the 3 free dashboards and 10 free
 * alarms and metrics of an account are not deducted.
 */
const MONITORING_PRICES = {
  alarmMetricMonth: p(0.1, "alarm metric-month", false, "CloudWatch pricing as quoted by third-party pages; the free tier's definition from aws.amazon.com/cloudwatch/pricing"),
  customMetricMonth: p(0.3, "metric-month", false, "CloudWatch pricing, first 10,000 metrics, as quoted by third-party pages"),
  dashboardMonth: p(3, "dashboard-month", false, "CloudWatch pricing as quoted by third-party pages"),
  kmsKeyMonth: p(1, "key-month", false, "AWS KMS pricing for a customer managed key, as quoted by third-party pages"),
} as const;

/** Prices by Region. Other Regions use us-east-1's, each marked unconfirmed for that Region. */
export const PRICES: Readonly<Record<string, RegionPrices>> = {
  "us-east-1": {
    items: {
      natGatewayHour: p(0.045, "hour"),
      natGatewayGb: p(0.045, "GB"),
      nlbHour: p(0.0225, "hour"),
      interfaceEndpointAzHour: p(0.01, "AZ-hour"),
      interfaceEndpointGb: p(0.01, "GB"),
      // FACTS: "hourly rate per endpoint not confirmed": the interface endpoint's AZ-hour rate until it is.
      resourceEndpointAzHour: p(0.01, "AZ-hour", false, "not published where checked: the interface endpoint's AZ-hour rate, as an estimate"),
      resourceEndpointGb: p(0.01, "GB"),
      publicIpv4Hour: p(0.005, "hour"),
      transitGatewayAttachmentHour: p(0.05, "attachment-hour"),
      transitGatewayGb: p(0.02, "GB"),
      vpnConnectionHour: p(0.05, "connection-hour"),
      ebsGp3GbMonth: p(0.08, "GB-month", false),
      ...MONITORING_PRICES,
    },
    instanceHour: {
      "t4g.micro": p(0.0084, "hour", false),
      "t4g.small": p(0.0168, "hour", false),
      "t4g.medium": p(0.0336, "hour", false),
      "t3.micro": p(0.0104, "hour", false),
      "t3.small": p(0.0208, "hour", false),
      "c7g.large": p(0.0725, "hour", false),
      "m7g.large": p(0.0816, "hour", false),
    },
  },
  "ap-northeast-1": {
    items: {
      natGatewayHour: p(0.062, "hour"),
      natGatewayGb: p(0.062, "GB"),
      nlbHour: p(0.0243, "hour"),
      interfaceEndpointAzHour: p(0.014, "AZ-hour", false, `${FACTS}: marked "unconfirmed" there`),
      interfaceEndpointGb: p(0.01, "GB"),
      resourceEndpointAzHour: p(0.014, "AZ-hour", false, "not published where checked: the interface endpoint's AZ-hour rate, as an estimate"),
      resourceEndpointGb: p(0.01, "GB"),
      publicIpv4Hour: p(0.005, "hour"),
      transitGatewayAttachmentHour: p(0.07, "attachment-hour"),
      transitGatewayGb: p(0.02, "GB", false, "us-east-1's figure in FACTS; Tokyo's not checked"),
      vpnConnectionHour: p(0.05, "connection-hour", false, "us-east-1's figure in FACTS; Tokyo's not checked"),
      ebsGp3GbMonth: p(0.096, "GB-month", false),
      ...MONITORING_PRICES,
    },
    instanceHour: {
      "t4g.micro": p(0.0108, "hour", false),
      "t4g.small": p(0.0216, "hour", false),
      "t4g.medium": p(0.0432, "hour", false),
      "t3.micro": p(0.0136, "hour", false),
      "t3.small": p(0.0272, "hour", false),
      "c7g.large": p(0.0912, "hour", false),
      "m7g.large": p(0.1043, "hour", false),
    },
  },
};

/** Hours in a month as AWS's calculator counts them. */
export const HOURS_PER_MONTH = 730;

/** Price overrides from the config: items and instance types, USD per the item's unit. */
export interface PriceOverrides {
  /** By item. @default {} */
  readonly items?: Readonly<Partial<Record<PriceItem, number>>>;
  /** By instance type, per hour. @default {} */
  readonly instanceHour?: Readonly<Record<string, number>>;
}

/** A Region's prices with the config's overrides applied (an override counts as confirmed: the user set it). */
export function pricesFor(region: string, overrides: PriceOverrides = {}): RegionPrices {
  const known = PRICES[region];
  const base: RegionPrices = known ?? {
    items: Object.fromEntries(Object.entries(PRICES["us-east-1"].items).map(([k, v]) => [k, { ...v, confirmed: false, source: `us-east-1's price; ${region} is not in the table` }])) as Record<PriceItem, Price>,
    instanceHour: Object.fromEntries(Object.entries(PRICES["us-east-1"].instanceHour).map(([k, v]) => [k, { ...v, confirmed: false, source: `us-east-1's price; ${region} is not in the table` }])),
  };
  const fromConfig = (usd: number, unit: string): Price => ({ usd, unit, source: "the config (cost.prices)", confirmed: true });
  return {
    items: { ...base.items, ...Object.fromEntries(Object.entries(overrides.items ?? {}).map(([k, usd]) => [k, fromConfig(usd as number, base.items[k as PriceItem].unit)])) },
    instanceHour: { ...base.instanceHour, ...Object.fromEntries(Object.entries(overrides.instanceHour ?? {}).map(([k, usd]) => [k, fromConfig(usd, "hour")])) },
  };
}
