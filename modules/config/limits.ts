import { PROXY_CONFIG_MAX_BYTES, proxyConfigValue } from "../proxy/config-delivery";
import { hubSquidConf } from "../proxy/squid-conf";
import type { ConfigIssue } from "./errors";
import type { EgressConfig } from "./model";

/**
 * Limits that depend on what the config renders to, checked at validation so they are reported
 * with the config path and what fits instead of failing during synthesis: today the proxy
 * config, which travels in one SSM parameter.
 */
export function deliveryIssues(config: EgressConfig): ConfigIssue[] {
  const bytes = (count: number) => proxyConfigValue(hubSquidConf(config.hub, config.spokes.slice(0, count))).length;
  const total = config.spokes.length;
  const size = bytes(total);
  if (size <= PROXY_CONFIG_MAX_BYTES) return [];
  // The size grows with every spoke, so the most that fit is found by bisection (~log2(n) renders).
  let fits = 0;
  for (let low = 0, high = total - 1; low <= high; ) {
    const mid = (low + high) >> 1;
    if (bytes(mid) <= PROXY_CONFIG_MAX_BYTES) {
      fits = mid;
      low = mid + 1;
    } else high = mid - 1;
  }
  return [
    {
      path: "spokes",
      message:
        `${total} spokes make a proxy config of ${size.toLocaleString("en-US")} bytes compressed, and the SSM parameter that delivers it holds ` +
        `${PROXY_CONFIG_MAX_BYTES.toLocaleString("en-US")}: ${fits} of these spokes fit (the first ${fits} by name). ` +
        "Split the spokes across hubs, or move domains every spoke needs to hub.proxy.allowedDomains",
    },
  ];
}
