/**
 * The hub contract: the hub stack's Terraform outputs, which spokes read through remote state.
 * Names and shapes are a public API - renaming one breaks every spoke that reads it.
 */
export interface HubOutputs {
  /** Region of the hub; spokes and their endpoints live in the same Region. */
  readonly region: string;
  /** ID of the hub VPC. */
  readonly vpc_id: string;
  /** CIDR of the hub VPC. */
  readonly vpc_cidr: string;
  /** Private subnets of the hub, one per AZ (the proxies'). */
  readonly private_subnet_ids: string[];
  /** The resource gateway's and the proxy load balancers' own subnets, one per AZ slot. */
  readonly gateway_subnet_ids: string[];
  /**
   * AZ IDs of the resource gateway's subnets. A Resource endpoint needs a subnet in one of them (AZ
   * IDs, not names: names differ per account); spokes check it at plan time.
   */
  readonly gateway_availability_zone_ids: string[];
  /** Public addresses the internet sees for proxied traffic (the NAT gateways' EIPs). */
  readonly nat_public_ips: string[];
  /** ARN of the VPC Lattice resource gateway exposing the proxy. */
  readonly resource_gateway_arn: string;
  /** Per spoke name, the ARN of the resource configuration its endpoint connects to. */
  readonly resource_configuration_arns: Record<string, string>;
  /** Per spoke name, its proxy port. */
  readonly proxy_ports: Record<string, number>;
  /** Per spoke name in another account, the ARN of the RAM share of its resource configuration. */
  readonly resource_share_arns: Record<string, string>;
  /** Name of the SSM parameter naming squid.conf's current S3 object version (see `ProxyFleet`). */
  readonly proxy_config_parameter: string;
  /** CloudWatch Logs group of the proxies' access and cache logs. */
  readonly proxy_log_group: string;
}

/** Every hub output with its description; typed so that the interface and the outputs cannot drift apart. */
export const HUB_OUTPUT_DESCRIPTIONS: { readonly [K in keyof HubOutputs]-?: string } = {
  region: "Region of the hub; spokes live in the same Region",
  vpc_id: "ID of the hub VPC",
  vpc_cidr: "CIDR of the hub VPC",
  private_subnet_ids: "Private subnets of the hub (the proxies'), one per AZ",
  gateway_subnet_ids: "The resource gateway's and proxy load balancers' own subnets, one per AZ slot",
  gateway_availability_zone_ids: "AZ IDs of the resource gateway's subnets: a spoke endpoint needs a subnet in one of them",
  nat_public_ips: "Public IPs of the NAT gateways: what the internet sees",
  resource_gateway_arn: "ARN of the resource gateway exposing the proxy",
  resource_configuration_arns: "Map of spoke name to the ARN of its resource configuration",
  proxy_ports: "Map of spoke name to its proxy port",
  resource_share_arns: "Map of spoke name (other accounts only) to the ARN of its RAM share",
  proxy_config_parameter: "SSM parameter naming the proxies' squid.conf: s3://<bucket>/squid.conf?versionId=<version>",
  proxy_log_group: "CloudWatch Logs group of the proxies' access.log and cache.log",
};

/** The name of one hub output, as Terraform and remote state know it. */
export type HubOutputName = keyof HubOutputs;
