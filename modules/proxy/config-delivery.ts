/**
 * How squid.conf travels to the proxies. It is S3 objects (no size limit: 1,000 spokes make
 * ~280 KB; an SSM parameter holds 8 KB, about 170 spokes): the base config, written by the hub
 * core, and one fragment per port block, written by that block's stack, so that adding a spoke
 * touches only its block's object. A small SSM parameter per object points at its current
 * version: the base's at `proxyConfigParameterName`, each block's under
 * `portBlockParameterPath`, named by the block's first port. The instances read the pointers
 * every minute, fetch the objects only when one changed, and assemble the file (see
 * `assembleSquidConf`). Pure, so the sync script and the tests share the format.
 */

/** The base config's key in the config bucket. */
export const PROXY_CONFIG_KEY = "squid.conf";

/** A port block's fragment's key in the config bucket (`"*"`: all of them, for IAM). */
export function portBlockConfigKey(start: number | "*"): string {
  return `ports/${start}.conf`;
}

/**
 * The SSM parameter naming the base config's current version. Not the whole-file parameter of
 * egresslink 0.1 (`/egresslink/<name>/proxy/squid.conf`): proxies still running 0.1's sync script
 * would apply a base without any spoke; with that parameter gone, they keep their running config
 * until the instance refresh replaces them.
 */
export function proxyConfigParameterName(name: string): string {
  return `/egresslink/${name}/proxy/base`;
}

/** The SSM path under which each port block's parameter names its fragment's current version. */
export function portBlockParameterPath(name: string): string {
  return `/egresslink/${name}/proxy/ports`;
}

/** A port block's parameter, under `portBlockParameterPath`. */
export function portBlockParameterName(name: string, start: number): string {
  return `${portBlockParameterPath(name)}/${start}`;
}

/** The pointer's value: `s3://<bucket>/<key>?versionId=<version>`. */
export function proxyConfigPointer(bucket: string, key: string, versionId: string): string {
  return `s3://${bucket}/${key}?versionId=${versionId}`;
}

/**
 * `text` as a Terraform string whose value is `text` itself: Terraform reads `${` and `%{` in any
 * string as template sequences (squid.conf's logformat holds `%{spoke}note`), so both are escaped.
 */
export function terraformLiteral(text: string): string {
  // Function replacers: in a replacement string "$$" would itself mean "$".
  return text.replace(/\$\{/g, () => "$${").replace(/%\{/g, () => "%%{");
}
