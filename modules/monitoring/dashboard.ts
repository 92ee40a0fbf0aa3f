import { metricNamespace, PROXY_METRICS, SPOKE_DIMENSION, type ProxyMetric } from "./metrics";

/** What the hub's dashboard shows. */
export interface HubDashboardInput {
  /** The deployment's name: the metrics' namespace and the proxies' resource names start with it. */
  readonly name: string;
  /** Region of every widget. */
  readonly region: string;
  /** The hub's NAT gateways. @default [] */
  readonly natGatewayIds?: readonly string[];
  /** Alarms to show in the alarm widget (the hub core's). @default [] */
  readonly alarmArns?: readonly string[];
}

/** Spokes a "top" widget shows. */
const TOP_SPOKES = 10;

/**
 * The hub's CloudWatch dashboard body (JSON). Per-spoke widgets use SEARCH expressions over the
 * `Spoke` dimension, sorted to the busiest spokes, and the proxies' widgets search by the
 * deployment's name: the body names no spoke and no port block, so it stays the same as spokes
 * come and go. 11 widgets at most (the limit is 500).
 */
export function renderHubDashboard(input: HubDashboardInput): string {
  const namespace = metricNamespace(input.name);
  const widgets: object[] = [];
  // Left to right on the 24-column grid, a new row when a widget does not fit.
  let [x, y, rowHeight] = [0, 0, 0];
  const place = (width: number, height: number) => {
    if (x + width > 24) [x, y, rowHeight] = [0, y + rowHeight, 0];
    const at = { x, y, width, height };
    [x, rowHeight] = [x + width, Math.max(rowHeight, height)];
    return at;
  };
  const graph = (title: string, expressions: readonly (readonly [string, string])[], stat = "Sum") =>
    widgets.push({
      type: "metric",
      ...place(12, 6),
      properties: { title, region: input.region, view: "timeSeries", stat, period: 300, metrics: expressions.map(([id, expression]) => [{ expression, id }]) },
    });
  // SORT(SEARCH(...)) of one per-spoke metric: the top spokes by the period's sum.
  const topSpokes = (metric: ProxyMetric) =>
    `SORT(SEARCH('{${namespace},${SPOKE_DIMENSION}} MetricName="${PROXY_METRICS[metric].name}"', 'Sum', 300), SUM, DESC, ${TOP_SPOKES})`;

  graph(`Requests by spoke (top ${TOP_SPOKES})`, [["requests", topSpokes("requests")]]);
  graph(`Denied requests by spoke (top ${TOP_SPOKES})`, [["denied", topSpokes("denied")]]);
  graph(`Bytes out by spoke (top ${TOP_SPOKES})`, [["bytes_out", topSpokes("bytesOut")]]);
  graph(`Bytes in by spoke (top ${TOP_SPOKES})`, [["bytes_in", topSpokes("bytesIn")]]);
  // Proxies per Auto Scaling group (one per port block): the NLBs' healthy-host counts come per
  // target group, one per spoke, past SEARCH's 500 series; each block's alarm watches them instead.
  graph("Proxies in service per Auto Scaling group", [["in_service", `SEARCH('{AWS/AutoScaling,AutoScalingGroupName} MetricName="GroupInServiceInstances" "${input.name}-proxy"', 'Minimum', 60)`]], "Minimum");
  graph("Spoke ports not listening, by spoke", [["ports", `SEARCH('{${namespace},${SPOKE_DIMENSION}} MetricName="${PROXY_METRICS.portDown.name}"', 'Sum', 60)`]]);
  graph("Config sync failures", [["sync", `SEARCH('{${namespace}} MetricName="${PROXY_METRICS.syncFailures.name}"', 'Sum', 60)`]]);
  const nats = input.natGatewayIds ?? [];
  if (nats.length > 0) {
    const nat = (metric: string, stat: string) => nats.map((id) => ["AWS/NATGateway", metric, "NatGatewayId", id, { stat }]);
    widgets.push({ type: "metric", ...place(12, 6), properties: { title: "NAT gateway: bytes to the internet", region: input.region, view: "timeSeries", period: 300, metrics: nat("BytesOutToDestination", "Sum") } });
    widgets.push({ type: "metric", ...place(12, 6), properties: { title: "NAT gateway: port allocation errors", region: input.region, view: "timeSeries", period: 300, metrics: nat("ErrorPortAllocation", "Sum") } });
  }
  if ((input.alarmArns ?? []).length > 0) widgets.push({ type: "alarm", ...place(24, 3), properties: { title: "Hub alarms", alarms: [...(input.alarmArns ?? [])] } });
  return JSON.stringify({ widgets });
}
