/**
 * How squid.conf travels to the proxies. The config itself is an S3 object (no size limit: 1,000
 * spokes make ~200 KB; an SSM parameter holds 8 KB, about 170 spokes); a small SSM parameter
 * points at the object's current version, and the instances read that pointer every minute and
 * fetch the object only when it changed. Pure, so the sync script and the tests share the format.
 */

/** The object's key in the config bucket. */
export const PROXY_CONFIG_KEY = "squid.conf";

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
