import { gzipSync } from "node:zlib";

/**
 * How squid.conf travels to the proxies: compressed into one SSM parameter, which the instances
 * read every minute. Pure, so validation can check the limit without building constructs.
 */

/** SSM Parameter Store value limits: Standard 4 KB, Advanced 8 KB. */
const SSM_STANDARD_LIMIT = 4096;
/** The most the proxy config may take once compressed and encoded: one Advanced SSM parameter. */
export const PROXY_CONFIG_MAX_BYTES = 8192;

/** squid.conf as stored in SSM: gzip (level 9), then base64. */
export function proxyConfigValue(squidConf: string): string {
  return gzipSync(Buffer.from(squidConf, "utf8"), { level: 9 }).toString("base64");
}

/** squid.conf as stored in SSM and the parameter tier that holds it. Throws beyond {@link PROXY_CONFIG_MAX_BYTES}. */
export function encodeProxyConfig(squidConf: string): { readonly value: string; readonly tier: "Standard" | "Advanced" } {
  const value = proxyConfigValue(squidConf);
  if (value.length > PROXY_CONFIG_MAX_BYTES) {
    throw new Error(
      `the proxy config is ${value.length} bytes compressed; an SSM parameter holds ${PROXY_CONFIG_MAX_BYTES}. Fewer spokes per hub or shorter allow-lists are needed`,
    );
  }
  return { value, tier: value.length > SSM_STANDARD_LIMIT ? "Advanced" : "Standard" };
}
