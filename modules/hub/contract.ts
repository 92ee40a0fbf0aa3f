/**
 * The hub contract: what a spoke reads through remote state. Each port-block stack
 * (`hub-ports-<first port>`) publishes it for the spokes on its ports; the hub core publishes the
 * part that names no spoke (see `HubCoreOutputs`). Names and shapes are a public API - renaming
 * one breaks every spoke that reads it.
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
  /** Name of the SSM parameter naming the base squid.conf's current S3 object version (see `ProxyFleet`). */
  readonly proxy_config_parameter: string;
  /** CloudWatch Logs group of the proxies' access and cache logs. */
  readonly proxy_log_group: string;
}

/** The outputs of the hub contract that name spokes: a port-block stack publishes them for its own. */
export type SpokeOutputName = "resource_configuration_arns" | "proxy_ports" | "resource_share_arns";

/**
 * The hub core's outputs: the hub contract's outputs that name no spoke, and what the port-block
 * stacks build on (the core's resource gateway, security groups, launch template and config
 * bucket). Published by the `hub` stack.
 */
export interface HubCoreOutputs extends Omit<HubOutputs, SpokeOutputName> {
  /** ID of the resource gateway; the port blocks' resource configurations go through it. */
  readonly resource_gateway_id: string;
  /** The resource gateway's security group: the clients the proxy ports admit. */
  readonly gateway_security_group_id: string;
  /** The proxy instances' security group. */
  readonly proxy_security_group_id: string;
  /** ha: the proxy NLBs' security group; single: "" (no NLB). */
  readonly proxy_nlb_security_group_id: string;
  /** ha: the proxies' launch template, which every port block's Auto Scaling group runs. */
  readonly proxy_launch_template_id: string;
  /** The launch template's latest version (a new one rolls every group). */
  readonly proxy_launch_template_version: string;
  /** The bucket of squid.conf's objects: the base, and one fragment per port block. */
  readonly proxy_config_bucket: string;
  /** The SNS topic the hub's alarms notify (the port blocks' too); "" when there is none. */
  readonly alarm_topic_arn: string;
}

/** Every output of the hub core and the hub contract with its description; typed so that the interfaces and the outputs cannot drift apart. */
export const HUB_OUTPUT_DESCRIPTIONS: { readonly [K in keyof HubOutputs | keyof HubCoreOutputs]-?: string } = {
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
  proxy_config_parameter: "SSM parameter naming the proxies' base squid.conf: s3://<bucket>/squid.conf?versionId=<version> (each port block's part: under /egresslink/<name>/proxy/ports/)",
  proxy_log_group: "CloudWatch Logs group of the proxies' access.log and cache.log",
  resource_gateway_id: "ID of the resource gateway the port blocks' resource configurations go through",
  gateway_security_group_id: "Security group of the resource gateway (the proxy's clients)",
  proxy_security_group_id: "Security group of the proxy instances",
  proxy_nlb_security_group_id: "Security group of the proxy NLBs (ha; empty in single mode)",
  proxy_launch_template_id: "Launch template of the proxies (every port block's Auto Scaling group)",
  proxy_launch_template_version: "Latest version of the proxies' launch template",
  proxy_config_bucket: "Bucket of squid.conf's objects: the base and one fragment per port block",
  alarm_topic_arn: "SNS topic the hub's alarms notify (empty when there is none)",
};

/** The name of one output of the hub core or the hub contract, as Terraform and remote state know it. */
export type HubOutputName = keyof HubOutputs | keyof HubCoreOutputs;
