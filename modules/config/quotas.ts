import { portBlocks } from "../proxy/port-blocks";
import type { ConfigIssue } from "./errors";
import type { EgressConfig } from "./model";

/**
 * AWS quotas the hub's resources grow into with its spokes, at their default values. Each can be
 * raised in Service Quotas, so exceeding one is a warning naming the quota to raise, not an error.
 */
export const HUB_QUOTAS = {
  /** Elastic Load Balancing: "Network Load Balancers per Region". */
  networkLoadBalancersPerRegion: 50,
  /** Elastic Load Balancing: "Targets per Network Load Balancer" (cross-zone on: every registered instance counts once per target group). */
  targetsPerNetworkLoadBalancer: 500,
  /** VPC Lattice: "Resource configurations per Region". */
  resourceConfigurationsPerRegion: 2000,
  /** Amazon VPC: "Inbound or outbound rules per security group". */
  rulesPerSecurityGroup: 60,
} as const;

/** Where the config runs into a default AWS quota, with the path to change and the quota to raise. */
export function quotaWarnings(config: EgressConfig): ConfigIssue[] {
  const warnings: ConfigIssue[] = [];
  const { proxy } = config.hub;
  const blocks = portBlocks(config.spokes);
  const raise = (service: string, quota: string, limit: number) => `the default quota "${quota}" (${service}) is ${limit}: request an increase in Service Quotas before deploying`;
  if (config.spokes.length > HUB_QUOTAS.resourceConfigurationsPerRegion) {
    warnings.push({ path: "spokes", message: `${config.spokes.length} spokes need as many resource configurations in ${config.hub.region}; ${raise("Amazon VPC Lattice", "Resource configurations per Region", HUB_QUOTAS.resourceConfigurationsPerRegion)}` });
  }
  if (proxy.mode === "ha") {
    if (blocks.length > HUB_QUOTAS.networkLoadBalancersPerRegion) {
      warnings.push({ path: "spokes", message: `the spokes' ports fall into ${blocks.length} port blocks, one Network Load Balancer each in ${config.hub.region} (others of the account count too); ${raise("Elastic Load Balancing", "Network Load Balancers per Region", HUB_QUOTAS.networkLoadBalancersPerRegion)}` });
    }
    for (const block of blocks) {
      const targets = block.members.length * proxy.maxInstances;
      if (targets > HUB_QUOTAS.targetsPerNetworkLoadBalancer) {
        warnings.push({
          path: "hub.proxy.maxInstances",
          message: `port block ${block.start} has ${block.members.length} spokes x ${proxy.maxInstances} instances = ${targets} targets on its Network Load Balancer; ${raise("Elastic Load Balancing", "Targets per Network Load Balancer", HUB_QUOTAS.targetsPerNetworkLoadBalancer)}, or lower maxInstances to ${Math.floor(HUB_QUOTAS.targetsPerNetworkLoadBalancer / block.members.length)}`,
        });
      }
    }
  }
  // Per port block, one rule in each direction on the proxy's and the load balancers' groups, plus the health check's.
  const rules = blocks.length + 1;
  if (rules > HUB_QUOTAS.rulesPerSecurityGroup) {
    warnings.push({ path: "spokes", message: `the proxy's security groups need ${rules} rules in one direction (one per port block, and the health check); ${raise("Amazon VPC", "Inbound or outbound rules per security group", HUB_QUOTAS.rulesPerSecurityGroup)}` });
  }
  return warnings;
}
