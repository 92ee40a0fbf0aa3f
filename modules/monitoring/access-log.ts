/**
 * The proxies' access-log line: bare values separated by single spaces, in a fixed order, so that
 * a CloudWatch Logs space-delimited metric filter names each field and the spoke's name itself
 * (not `spoke=<name>`) becomes a metric dimension. Every field but the URL is one word by
 * construction (a spoke name, an address, a number, a Squid token, a host); the URL, which Squid
 * strips of whitespace (`uri_whitespace strip`, its default), comes last, where the filters match
 * it with `...`.
 */
export const ACCESS_LOG_FIELDS = [
  /** Seconds since the epoch, with milliseconds. */
  { name: "time", code: "%ts.%03tu" },
  /** The spoke (its port's name; `-` only if no port names it). */
  { name: "spoke", code: "%{spoke}note" },
  /** The client address Squid saw: the resource gateway's or the NLB's. */
  { name: "client", code: "%>a" },
  /** The spoke's port on the proxy. */
  { name: "local_port", code: "%>lp" },
  /** HTTP method (`CONNECT` for HTTPS). */
  { name: "method", code: "%rm" },
  /** HTTP status sent to the spoke (`0` for a connection closed before a request). */
  { name: "status", code: "%>Hs" },
  /** Squid's result: `TCP_TUNNEL`, `TCP_MISS`, `TCP_DENIED`, `NONE_NONE` (a request it could not parse), ... */
  { name: "result", code: "%Ss" },
  /** Bytes the spoke sent (request with headers, or tunnelled upload). */
  { name: "bytes_out", code: "%>st" },
  /** Bytes the spoke received (reply with headers, or tunnelled download). */
  { name: "bytes_in", code: "%<st" },
  /** Destination host (the CONNECT target's or the URL's), `-` when none was parsed. */
  { name: "host", code: "%>rd" },
  /** The URL (`host:port` for CONNECT). */
  { name: "url", code: "%ru" },
] as const;

/** A field of the access-log line. */
export type AccessLogField = (typeof ACCESS_LOG_FIELDS)[number]["name"];

/** Squid's `logformat` of the access log: `ACCESS_LOG_FIELDS` in order. */
export const ACCESS_LOG_FORMAT = ACCESS_LOG_FIELDS.map((f) => f.code).join(" ");

// One word per field; the host may be an IPv6 literal in brackets; the URL runs to the end of the line, a quote or a comma.
const LINE = new RegExp(`(?:^|[\\s",])(\\d+\\.\\d{3})${" (\\S+)".repeat(ACCESS_LOG_FIELDS.length - 3)} ([^\\s",]+) ([^\\s",]*)`);

/**
 * The fields of an access-log line, found anywhere in the text: a line of the log file, or a row
 * of a CloudWatch Logs Insights result (its `@message` column) as exported or copied.
 * @returns undefined when the text holds no such line
 */
export function parseAccessLine(text: string): Record<AccessLogField, string> | undefined {
  const match = LINE.exec(text);
  if (!match) return undefined;
  return Object.fromEntries(ACCESS_LOG_FIELDS.map((f, i) => [f.name, match[i + 1]])) as Record<AccessLogField, string>;
}
