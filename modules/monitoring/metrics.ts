import { PORT_DOWN_LINE, SYNC_FAILED_LINE } from "../proxy/user-data";
import { ACCESS_LOG_FIELDS, type AccessLogField } from "./access-log";

/**
 * Spoke ports per metric shard. A metric filter that produces more than 1,000 distinct dimension
 * values within an hour is disabled by CloudWatch Logs; each per-spoke filter therefore matches
 * only the lines of one range of 500 ports (so at most 500 spokes, half the limit, whatever the
 * hour's traffic), and the hub has one set of filters per range its spokes use.
 */
export const METRIC_SHARD_PORTS = 500;

/** Metric filters a log group may have (CloudWatch Logs quota, not adjustable). */
export const MAX_METRIC_FILTERS_PER_LOG_GROUP = 100;

/** A range of spoke ports one set of per-spoke metric filters covers. */
export interface MetricShard {
  /** First port: a multiple of `METRIC_SHARD_PORTS`; the shard's stable key. */
  readonly start: number;
  /** Last port. */
  readonly end: number;
}

/** The shards `ports` fall in, in port order. */
export function metricShards(ports: Iterable<number>): MetricShard[] {
  const starts = new Set([...ports].map((p) => p - (p % METRIC_SHARD_PORTS)));
  return [...starts].sort((a, b) => a - b).map((start) => ({ start, end: start + METRIC_SHARD_PORTS - 1 }));
}

/** The CloudWatch namespace of a deployment's metrics. */
export function metricNamespace(name: string): string {
  return `egresslink/${name}`;
}

/** The dimension naming the spoke on per-spoke metrics. */
export const SPOKE_DIMENSION = "Spoke";

/**
 * What the proxies' logs are turned into (namespace `egresslink/<name>`). `onFailure`: the metric
 * has data only while something fails (the cost model does not count it as a standing metric).
 */
export const PROXY_METRICS = {
  /** Access-log lines per spoke: requests, tunnels, and connections closed before a request. */
  requests: { name: "Requests", unit: "Count", onFailure: false },
  /** Requests Squid refused (`TCP_DENIED`), per spoke: destinations outside the spoke's allow-list, denied ports and addresses. */
  denied: { name: "DeniedRequests", unit: "Count", onFailure: false },
  /** Bytes the spoke sent through the proxy. */
  bytesOut: { name: "BytesOut", unit: "Bytes", onFailure: false },
  /** Bytes the spoke received through the proxy. */
  bytesIn: { name: "BytesIn", unit: "Bytes", onFailure: false },
  /** Per spoke, instances on which Squid does not listen on its port (the port check's lines). */
  portDown: { name: "SpokePortNotListening", unit: "Count", onFailure: true },
  /** All spokes' port-check lines together: what the alarm watches. */
  portsDown: { name: "SpokePortsNotListening", unit: "Count", onFailure: true },
  /** Config sync runs that failed (a config Squid rejected, S3 or SSM unreachable). */
  syncFailures: { name: "ConfigSyncFailures", unit: "Count", onFailure: true },
} as const;

/** A metric of `PROXY_METRICS`. */
export type ProxyMetric = keyof typeof PROXY_METRICS;

/** One metric filter on the proxy log group. */
export interface ProxyMetricFilter {
  /** Stable key: the metric's, and the shard's first port for per-spoke metrics (`requests-3000`). */
  readonly key: string;
  /** The metric it feeds. */
  readonly metric: ProxyMetric;
  /** The shard it covers (per-spoke metrics). @default - every line */
  readonly shard?: MetricShard;
  /** CloudWatch Logs space-delimited filter pattern. */
  readonly pattern: string;
  /** The metric value: 1, or a field (`$bytes_out`). */
  readonly value: string;
  /** Dimensions by name to `$field`. @default - none */
  readonly dimensions?: Readonly<Record<string, string>>;
}

/** A field of a space-delimited pattern: its name, and the condition on it if any. */
interface PatternField {
  readonly name: string;
  readonly condition?: string;
}

/** `[a, b = "x", c >= 1 && c <= 2, ...]`: each field by name, with its condition; `rest` ends it with `...` (any further words). */
function spaceDelimited(fields: readonly PatternField[], rest: boolean): string {
  return `[${[...fields.map((f) => (f.condition ? `${f.name} ${f.condition}` : f.name)), ...(rest ? ["..."] : [])].join(", ")}]`;
}

/** The condition on `field` (after its name) that keeps the lines of `shard`'s ports. */
const inShard = (field: string, shard: MetricShard) => `>= ${shard.start} && ${field} <= ${shard.end}`;

/** The access log's fields up to the host (the URL is left to `...`), with conditions on some. */
function accessLogPattern(conditions: Partial<Record<AccessLogField, string>>): string {
  const fields = ACCESS_LOG_FIELDS.filter((f) => f.name !== "url").map((f) => ({ name: f.name, condition: conditions[f.name] }));
  return spaceDelimited(fields, true);
}

/** A cache.log line of ours: Squid's date and time, then `line`'s words, `{field}` words named, the others matched literally. */
function cacheLogPattern(line: string, conditions: Readonly<Record<string, string>> = {}): string {
  const words = line.split(" ").map((word, i): PatternField => {
    const field = /^\{(\w+)\}$/.exec(word)?.[1];
    return field ? { name: field, condition: conditions[field] } : { name: `w${i}`, condition: `= "${word}"` };
  });
  return spaceDelimited([{ name: "date" }, { name: "time" }, ...words], false);
}

/**
 * Every metric filter of the proxy log group for spokes on `ports`: per shard (see
 * `METRIC_SHARD_PORTS`) requests, denied requests, bytes out and in from the access log and the
 * port check's lines, each with the spoke as its dimension; plus two filters over every line, no
 * dimension: all spokes' port-check lines and the config sync's failures. That is
 * `5 x shards + 2` filters (7 for spokes within 500 ports, 17 for 1,000 spokes on ports
 * 3100-4099), whatever the number of spokes.
 */
export function proxyMetricFilters(ports: Iterable<number>): ProxyMetricFilter[] {
  const spoke = { [SPOKE_DIMENSION]: "$spoke" };
  const perShard = metricShards(ports).flatMap((shard): ProxyMetricFilter[] => {
    const port = { local_port: inShard("local_port", shard) };
    return [
      { key: `requests-${shard.start}`, metric: "requests", shard, pattern: accessLogPattern(port), value: "1", dimensions: spoke },
      { key: `denied-${shard.start}`, metric: "denied", shard, pattern: accessLogPattern({ ...port, result: "= TCP_DENIED*" }), value: "1", dimensions: spoke },
      { key: `bytes-out-${shard.start}`, metric: "bytesOut", shard, pattern: accessLogPattern({ ...port, bytes_out: ">= 0" }), value: "$bytes_out", dimensions: spoke },
      { key: `bytes-in-${shard.start}`, metric: "bytesIn", shard, pattern: accessLogPattern({ ...port, bytes_in: ">= 0" }), value: "$bytes_in", dimensions: spoke },
      { key: `port-not-listening-${shard.start}`, metric: "portDown", shard, pattern: cacheLogPattern(PORT_DOWN_LINE, { port: inShard("port", shard) }), value: "1", dimensions: spoke },
    ];
  });
  return [
    ...perShard,
    { key: "ports-not-listening", metric: "portsDown", pattern: cacheLogPattern(PORT_DOWN_LINE), value: "1" },
    { key: "config-sync-failures", metric: "syncFailures", pattern: cacheLogPattern(SYNC_FAILED_LINE), value: "1" },
  ];
}
