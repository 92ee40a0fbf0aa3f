import { RamPrincipalAssociation } from "@cdktf/provider-aws/lib/ram-principal-association";
import { RamResourceAssociation } from "@cdktf/provider-aws/lib/ram-resource-association";
import { RamResourceShare } from "@cdktf/provider-aws/lib/ram-resource-share";
import { VpclatticeResourceConfiguration } from "@cdktf/provider-aws/lib/vpclattice-resource-configuration";
import { Construct } from "constructs";
import type { HubConfig } from "../config/model";
import { LATTICE_NAME } from "../config/schema";
import { PortBlockAlarms } from "../monitoring/hub-monitoring";
import { ProxyPortBlock } from "../proxy/fleet";
import { hubSquidPortBlock } from "../proxy/squid-conf";
import type { HubCoreOutputs, HubOutputs } from "./contract";
import { publishOutputs } from "./egress-hub";

/** A spoke as the hub sees it. */
export interface HubSpoke {
  /** Spoke name: key of the hub's output maps and part of AWS names. */
  readonly name: string;
  /** The spoke's own proxy port. */
  readonly port: number;
  /** Account to share the spoke's resource configuration with through RAM. @default - the hub's account, no sharing */
  readonly accountId?: string;
  /** Domains this spoke may reach besides the hub's global list. @default [] */
  readonly allowedDomains?: readonly string[];
  /** Share with this organization or OU ARN instead of `accountId`. @default - accountId */
  readonly sharePrincipal?: string;
  /** Learning until this day (see `ProxyListener.learnUntil`). @default - enforcing */
  readonly learnUntil?: string;
}

/** One port block of the hub: its spokes, and the hub core it builds on. */
export interface HubPortBlockProps {
  /** Prefix of AWS resource names, as the hub core's. */
  readonly name: string;
  /** The hub's settings (proxy mode and sizes, RAM sharing, the global allow-list). */
  readonly hub: HubConfig;
  /** The block's first port (see `portBlocks`): its stable key. */
  readonly start: number;
  /** The block's spokes, each on its own port in the block. */
  readonly spokes: readonly HubSpoke[];
  /**
   * The hub core's outputs: references to its resources in the same stack, or values read from
   * its state (see `HubRemoteState.coreOutputs`).
   */
  readonly core: HubCoreOutputs;
  /** Publish the hub contract (see `HubOutputs`) for the block's spokes as Terraform outputs. @default true */
  readonly publishOutputs?: boolean;
}

/**
 * What the hub builds per port block (see `portBlocks`), beside the hub core: the proxy's part
 * for the block's ports (see `ProxyPortBlock`), and per spoke a resource configuration on the
 * core's resource gateway exposing only that spoke's port, shared through RAM with a spoke in
 * another account. It publishes the hub contract for its spokes, which read it from its state.
 * Its construct paths are those the single hub stack of egresslink 0.1 used, so a state moved
 * from that stack keeps every address.
 */
export class HubPortBlock extends Construct {
  /** The block's proxy resources. */
  readonly proxy: ProxyPortBlock;
  /** Per spoke name. */
  readonly resourceConfigurations: Readonly<Record<string, VpclatticeResourceConfiguration>>;
  /** ha: the block's alarms (healthy targets, instances in service). @default - none in single mode (the hub core alarms on the one instance) */
  readonly alarms?: PortBlockAlarms;

  constructor(scope: Construct, id: string, props: HubPortBlockProps) {
    super(scope, id);
    validate(props);
    const { hub, name, core } = props;
    const { proxy } = hub;
    this.proxy = new ProxyPortBlock(this, "proxy", {
      name,
      start: props.start,
      listeners: props.spokes,
      config: hubSquidPortBlock(hub, props.spokes),
      fleet: {
        vpcId: core.vpc_id,
        subnetIds: core.private_subnet_ids,
        loadBalancerSubnetIds: core.gateway_subnet_ids,
        clientSecurityGroupId: core.gateway_security_group_id,
        securityGroupId: core.proxy_security_group_id,
        ...(proxy.mode === "ha" ? { loadBalancerSecurityGroupId: core.proxy_nlb_security_group_id, launchTemplateId: core.proxy_launch_template_id, launchTemplateVersion: core.proxy_launch_template_version } : {}),
        configBucket: core.proxy_config_bucket,
      },
      mode: proxy.mode,
      minInstances: proxy.minInstances,
      maxInstances: proxy.maxInstances,
      fixedIp: proxy.fixedIp,
    });

    const { autoScalingGroup, loadBalancer } = this.proxy;
    if (autoScalingGroup && loadBalancer) {
      // Any of the block's target groups: all check the same instances on Squid's health port. The
      // lowest port's: it changes only when that spoke leaves or moves.
      const first = [...props.spokes].sort((a, b) => a.port - b.port)[0].name;
      this.alarms = new PortBlockAlarms(this, "alarms", {
        name,
        start: props.start,
        loadBalancerArnSuffix: loadBalancer.arnSuffix,
        targetGroupArnSuffix: this.proxy.targetGroups[first].arnSuffix,
        groupName: autoScalingGroup.name,
        minHealthy: proxy.minInstances,
        alarmTopicArn: hub.monitoring.alarmTopic ? core.alarm_topic_arn : undefined,
      });
    }

    const configurations: Record<string, VpclatticeResourceConfiguration> = {};
    const shares: Record<string, string> = {};
    for (const spoke of props.spokes) {
      const target = this.proxy.targets[spoke.name];
      const configuration = new VpclatticeResourceConfiguration(this, `config-${spoke.name}`, {
        name: `${name}-${spoke.name}`,
        type: "SINGLE",
        protocol: "TCP",
        portRanges: [String(spoke.port)],
        resourceGatewayIdentifier: core.resource_gateway_id,
        resourceConfigurationDefinition: [
          target.kind === "dns" ? { dnsResource: [{ domainName: target.domainName, ipAddressType: "IPV4" }] } : { ipResource: [{ ipAddress: target.ipAddress }] },
        ],
        tags: { Name: `${name}-${spoke.name}`, "egresslink:spoke": spoke.name },
      });
      configurations[spoke.name] = configuration;
      if (spoke.accountId) shares[spoke.name] = this.share(name, spoke, configuration, hub.ramWithinOrganization).arn;
    }
    this.resourceConfigurations = configurations;

    if (props.publishOutputs ?? true) {
      publishOutputs(this, {
        region: core.region,
        vpc_id: core.vpc_id,
        vpc_cidr: core.vpc_cidr,
        private_subnet_ids: core.private_subnet_ids,
        gateway_subnet_ids: core.gateway_subnet_ids,
        gateway_availability_zone_ids: core.gateway_availability_zone_ids,
        nat_public_ips: core.nat_public_ips,
        resource_gateway_arn: core.resource_gateway_arn,
        resource_configuration_arns: Object.fromEntries(Object.entries(configurations).map(([spoke, c]) => [spoke, c.arn])),
        proxy_ports: Object.fromEntries(props.spokes.map((s) => [s.name, s.port])),
        resource_share_arns: shares,
        proxy_config_parameter: core.proxy_config_parameter,
        proxy_log_group: core.proxy_log_group,
      } satisfies { [K in keyof HubOutputs]: unknown });
    }
  }

  /**
   * Shares one spoke's resource configuration, and nothing else, with its account (or organization /
   * OU). Outside an organization the spoke accepts the invitation (see `EgressSpoke`).
   */
  private share(name: string, spoke: HubSpoke, configuration: VpclatticeResourceConfiguration, withinOrganization: boolean): RamResourceShare {
    const share = new RamResourceShare(this, `share-${spoke.name}`, {
      name: `${name}-${spoke.name}`,
      allowExternalPrincipals: !withinOrganization,
      tags: { "egresslink:spoke": spoke.name },
    });
    new RamResourceAssociation(this, `share-config-${spoke.name}`, { resourceShareArn: share.arn, resourceArn: configuration.arn });
    new RamPrincipalAssociation(this, `share-account-${spoke.name}`, { resourceShareArn: share.arn, principal: spoke.sharePrincipal ?? (spoke.accountId as string) });
    return share;
  }
}

function validate(props: HubPortBlockProps): void {
  const seenPorts = new Map<number, string>();
  for (const spoke of props.spokes) {
    if (!LATTICE_NAME.test(`${props.name}-${spoke.name}`)) {
      throw new Error(`HubPortBlock: spoke '${spoke.name}' gives the resource configuration name '${props.name}-${spoke.name}', which VPC Lattice rejects`);
    }
    if (!Number.isInteger(spoke.port) || spoke.port < 1 || spoke.port > 65535) throw new Error(`HubPortBlock: spoke '${spoke.name}' has port ${spoke.port}, not 1-65535`);
    const owner = seenPorts.get(spoke.port);
    if (owner) throw new Error(`HubPortBlock: spokes '${owner}' and '${spoke.name}' both use port ${spoke.port}`);
    seenPorts.set(spoke.port, spoke.name);
  }
  if (new Set(props.spokes.map((s) => s.name)).size !== props.spokes.length) throw new Error("HubPortBlock: spoke names must be unique");
}
