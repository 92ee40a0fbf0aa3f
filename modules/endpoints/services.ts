/**
 * AWS service endpoints for spokes, as plain data: presets, endpoint service names, and the
 * host names each endpoint serves (for NO_PROXY). Pure: no constructs.
 */

/** Gateway endpoints: free, attached to route tables. */
export type GatewayService = "s3" | "dynamodb";

/** Presets a spoke may name, each expanding to interface and gateway endpoints. */
export const ENDPOINT_PRESETS: Readonly<Record<string, { readonly interface: readonly string[]; readonly gateway: readonly GatewayService[] }>> = {
  // ECR image layers are served from S3, so ECR without the S3 gateway endpoint still pulls through NAT.
  ecr: { interface: ["ecr.api", "ecr.dkr"], gateway: ["s3"] },
  ssm: { interface: ["ssm", "ssmmessages", "ec2messages"], gateway: [] },
  logs: { interface: ["logs"], gateway: [] },
  sts: { interface: ["sts"], gateway: [] },
  kms: { interface: ["kms"], gateway: [] },
  secretsmanager: { interface: ["secretsmanager"], gateway: [] },
  s3: { interface: [], gateway: ["s3"] },
  dynamodb: { interface: [], gateway: ["dynamodb"] },
};

/** Endpoint service ids: a preset, or any service id such as `sqs` or `ecr.api`. */
export const SERVICE_ID = /^[a-z0-9]+([.-][a-z0-9]+)*$/;

/** The endpoints a list of presets and service ids expands to, deduplicated and sorted. */
export interface EndpointSet {
  readonly interface: readonly string[];
  readonly gateway: readonly GatewayService[];
}

export function resolveEndpoints(entries: readonly string[]): EndpointSet {
  const iface = new Set<string>();
  const gateway = new Set<GatewayService>();
  for (const entry of entries) {
    if (!SERVICE_ID.test(entry)) throw new Error(`"${entry}" is not an endpoint preset or service id`);
    const preset = ENDPOINT_PRESETS[entry];
    if (preset) {
      preset.interface.forEach((s) => iface.add(s));
      preset.gateway.forEach((s) => gateway.add(s));
    } else iface.add(entry);
  }
  return { interface: [...iface].sort(), gateway: [...gateway].sort() };
}

/** DNS suffix of AWS service endpoints in a Region's partition. */
export function awsDnsSuffix(region: string): string {
  return region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
}

/** The VPC endpoint service name, e.g. `com.amazonaws.ap-northeast-1.ecr.dkr`. */
export function endpointServiceName(region: string, service: string): string {
  return `com.amazonaws.${region}.${service}`;
}

/**
 * Host names an endpoint serves through private DNS, as NO_PROXY entries. A leading dot means
 * "any subdomain": S3 is reached as `<bucket>.s3.<region>...` as well as `s3.<region>...`, ECR's
 * registry as `<account>.dkr.ecr.<region>...`.
 */
export function serviceDomains(region: string, service: string): string[] {
  const suffix = `${region}.${awsDnsSuffix(region)}`;
  switch (service) {
    case "s3":
      return [`s3.${suffix}`, `.s3.${suffix}`];
    case "ecr.api":
      return [`api.ecr.${suffix}`];
    case "ecr.dkr":
      return [`.dkr.ecr.${suffix}`];
    default:
      return [`${service}.${suffix}`];
  }
}
