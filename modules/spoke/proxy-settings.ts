import { stringify } from "yaml";
import { serviceDomains, type EndpointSet } from "../endpoints/services";

/**
 * A spoke's proxy settings and the snippets that apply them where people set proxies. Pure:
 * values may be Terraform tokens (the port comes from the hub's state), which pass through.
 */
export interface ProxySettings {
  /** e.g. `http://proxy.egress.internal:3128`. */
  readonly proxyUrl: string;
  /** Comma-separated hosts, domains and CIDRs reached directly. */
  readonly noProxy: string;
}

/** What a spoke's NO_PROXY list is computed from. */
export interface NoProxyInput {
  /** The spoke's Region: names its AWS service endpoint domains. */
  readonly region: string;
  /** The spoke VPC's CIDR: its own hosts are reached directly. */
  readonly vpcCidr: string;
  /** The spoke's AWS service endpoints: their names resolve to addresses in the VPC. */
  readonly endpoints: EndpointSet;
  /** More entries from the config. @default [] */
  readonly extra?: readonly string[];
}

/** Always direct: loopback, the instance metadata service and the ECS task metadata endpoint. */
export const ALWAYS_DIRECT: readonly string[] = ["localhost", "127.0.0.1", "169.254.169.254", "169.254.170.2"];

/** NO_PROXY entries, computed: never hand-written. Order: fixed entries, VPC, endpoint domains (sorted), extras. */
export function noProxyEntries(input: NoProxyInput): string[] {
  const domains = [...input.endpoints.interface, ...input.endpoints.gateway].flatMap((s) => serviceDomains(input.region, s)).sort();
  const entries = [...ALWAYS_DIRECT, input.vpcCidr, ...domains, ...(input.extra ?? [])];
  return entries.filter((e, i) => entries.indexOf(e) === i);
}

/** The variable names tools read, in both cases: curl and most Unix tools read lower case, others upper. */
function variables(settings: ProxySettings): [string, string][] {
  const base: [string, string][] = [
    ["HTTP_PROXY", settings.proxyUrl],
    ["HTTPS_PROXY", settings.proxyUrl],
    ["NO_PROXY", settings.noProxy],
  ];
  return [...base, ...base.map(([k, v]): [string, string] => [k.toLowerCase(), v])];
}

/** Lines for /etc/environment (`KEY=value`, read by pam_env: no quotes, no `export`). */
export function renderEnvironmentFile(settings: ProxySettings): string {
  return `${variables(settings).map(([k, v]) => `${k}=${v}`).join("\n")}\n`;
}

/** The `proxy=` line for /etc/dnf/dnf.conf (`[main]`); dnf honours no NO_PROXY, AWS repos use the S3 endpoint anyway. */
export function renderDnfProxy(settings: ProxySettings): string {
  return `proxy=${settings.proxyUrl}\n`;
}

/** A systemd drop-in for the Docker daemon: /etc/systemd/system/docker.service.d/http-proxy.conf. */
export function renderDockerDropIn(settings: ProxySettings): string {
  const env = variables(settings).slice(0, 3).map(([k, v]) => `Environment="${k}=${v}"`);
  return ["# egresslink: pulls and builds go through the egress proxy", "[Service]", ...env, ""].join("\n");
}

/** The `environment` list of an ECS container definition. */
export function renderEcsEnvironment(settings: ProxySettings): string {
  return JSON.stringify(variables(settings).map(([name, value]) => ({ name, value })), null, 2);
}

/** The `env` list of a Kubernetes container. */
export function renderKubernetesEnv(settings: ProxySettings): string {
  return stringify({ env: variables(settings).map(([name, value]) => ({ name, value })) });
}

/**
 * The script the SSM document runs on an instance: writes the variables to /etc/environment
 * (replacing earlier values), sets dnf's proxy, and installs the Docker drop-in when Docker is
 * present. SSM substitutes `{{ proxyUrl }}` and `{{ noProxy }}`. No `${`: Terraform would
 * read it as interpolation. `EGRESSLINK_ROOT` prefixes every path (tests).
 */
export function renderApplyScript(): string {
  const placeholders: ProxySettings = { proxyUrl: "{{ proxyUrl }}", noProxy: "{{ noProxy }}" };
  const keys = variables(placeholders).map(([k]) => k).join("|");
  return `#!/bin/bash
# egresslink: apply this spoke's proxy settings.
set -euo pipefail
root=$(printenv EGRESSLINK_ROOT || true)
env_file="$root/etc/environment"
touch "$env_file"
grep -vE '^(${keys})=' "$env_file" > "$env_file.egresslink" || true
cat >> "$env_file.egresslink" <<'ENVIRONMENT'
${renderEnvironmentFile(placeholders)}ENVIRONMENT
mv "$env_file.egresslink" "$env_file"
dnf_conf="$root/etc/dnf/dnf.conf"
if [ -f "$dnf_conf" ]; then
  sed -i '/^proxy=/d' "$dnf_conf"
  sed -i '/^\\[main\\]/a ${renderDnfProxy(placeholders).trim()}' "$dnf_conf"
fi
if [ -d "$root/etc/systemd/system" ] && command -v dockerd >/dev/null 2>&1; then
  mkdir -p "$root/etc/systemd/system/docker.service.d"
  cat > "$root/etc/systemd/system/docker.service.d/http-proxy.conf" <<'DROPIN'
${renderDockerDropIn(placeholders)}DROPIN
  if [ -z "$root" ]; then systemctl daemon-reload; fi
  echo "egresslink: Docker picks up the proxy at its next restart (systemctl restart docker)"
fi
echo "egresslink: proxy settings applied"
`;
}
