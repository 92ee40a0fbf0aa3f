import { RamPrincipalAssociation } from "@cdktf/provider-aws/lib/ram-principal-association";
import { RamResourceAssociation } from "@cdktf/provider-aws/lib/ram-resource-association";
import { RamResourceShare } from "@cdktf/provider-aws/lib/ram-resource-share";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { VpclatticeResourceConfiguration } from "@cdktf/provider-aws/lib/vpclattice-resource-configuration";
import { VpclatticeResourceGateway } from "@cdktf/provider-aws/lib/vpclattice-resource-gateway";
import { TerraformOutput } from "cdktf";
import { Construct } from "constructs";
import type { HubConfig } from "../config/model";
import { LATTICE_NAME } from "../config/schema";
import { EgressVpc } from "../network/egress-vpc";
import { ProxyFleet } from "../proxy/fleet";
import { hubSquidConf } from "../proxy/squid-conf";
import { HUB_OUTPUT_DESCRIPTIONS, type HubOutputs } from "./contract";

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
}

/** What the hub builds and which spokes it serves. */
export interface EgressHubProps {
  /** Prefix of AWS resource names. */
  readonly name: string;
  /** Network, proxy and gateway settings (see `HubConfig`). */
  readonly hub: HubConfig;
  /** The spokes to expose the proxy to, each on its own port. */
  readonly spokes: readonly HubSpoke[];
  /** Publish the hub contract (see `HubOutputs`) as Terraform outputs. @default true */
  readonly publishOutputs?: boolean;
}

/**
 * The central egress hub: a VPC with NAT, a Squid proxy, and a VPC Lattice resource gateway
 * with one resource configuration per spoke, each exposing only that spoke's proxy port.
 * Spokes connect with Resource endpoints, so their CIDRs may overlap each other and the hub's.
 */
export class EgressHub extends Construct {
  /** The hub VPC: subnets, internet gateway and NAT. */
  readonly network: EgressVpc;
  /** The Squid instances, their policy, logs and load balancers. */
  readonly proxy: ProxyFleet;
  /** The VPC Lattice resource gateway every spoke's resource configuration goes through. */
  readonly resourceGateway: VpclatticeResourceGateway;
  /** Per spoke name. */
  readonly resourceConfigurations: Readonly<Record<string, VpclatticeResourceConfiguration>>;

  constructor(scope: Construct, id: string, props: EgressHubProps) {
    super(scope, id);
    validate(props);
    const { hub, name } = props;

    this.network = new EgressVpc(this, "network", {
      name: `${name}-hub`,
      cidr: hub.cidr,
      zones: hub.zones,
      privateSubnets: hub.privateSubnets,
      publicSubnets: hub.publicSubnets,
      gatewaySubnets: hub.gatewaySubnets,
      natGateways: hub.natGateways,
    });
    const vpcId = this.network.vpc.id;
    // S3 (package repos, SSM downloads) stays off the NAT gateway.
    new VpcEndpoint(this, "s3-gateway", {
      vpcId,
      serviceName: `com.amazonaws.${hub.region}.s3`,
      vpcEndpointType: "Gateway",
      routeTableIds: this.network.privateRouteTableIds,
      tags: { Name: `${name}-hub-s3` },
    });

    const gatewaySg = new SecurityGroup(this, "gateway-sg", {
      name: `${name}-resource-gateway`,
      description: "egresslink resource gateway: reaches only the proxy ports",
      vpcId,
      tags: { Name: `${name}-resource-gateway` },
    });
    // Its own subnets, created up front for every AZ slot: `subnet_ids` forces a new gateway, which
    // would replace every resource configuration on it and every spoke's endpoint.
    this.resourceGateway = new VpclatticeResourceGateway(this, "resource-gateway", {
      name: `${name}-hub`,
      vpcId,
      subnetIds: this.network.gatewaySubnetIds,
      securityGroupIds: [gatewaySg.id],
      ipAddressType: "IPV4",
      ipv4AddressesPerEni: hub.resourceGateway.ipv4AddressesPerEni,
      tags: { Name: `${name}-hub` },
    });

    const { proxy } = hub;
    this.proxy = new ProxyFleet(this, "proxy", {
      name,
      region: hub.region,
      vpcId,
      subnetIds: this.network.privateSubnetIds,
      loadBalancerSubnetIds: this.network.gatewaySubnetIds,
      squidConf: hubSquidConf(hub, props.spokes),
      listeners: props.spokes,
      clientSecurityGroupId: gatewaySg.id,
      mode: proxy.mode,
      instanceType: proxy.instanceType,
      minInstances: proxy.minInstances,
      maxInstances: proxy.maxInstances,
      rootVolumeGiB: proxy.rootVolumeGiB,
      connectPorts: proxy.connectPorts,
      logRetentionDays: proxy.logRetentionDays,
      fixedIp: proxy.fixedIp,
    });

    const configurations: Record<string, VpclatticeResourceConfiguration> = {};
    const shares: Record<string, string> = {};
    for (const spoke of props.spokes) {
      const target = this.proxy.targets[spoke.name];
      const configuration = new VpclatticeResourceConfiguration(this, `config-${spoke.name}`, {
        name: `${name}-${spoke.name}`,
        type: "SINGLE",
        protocol: "TCP",
        portRanges: [String(spoke.port)],
        resourceGatewayIdentifier: this.resourceGateway.id,
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
      const outputs: { [K in keyof HubOutputs]: unknown } = {
        region: hub.region,
        vpc_id: vpcId,
        vpc_cidr: hub.cidr,
        private_subnet_ids: this.network.privateSubnetIds,
        gateway_subnet_ids: this.network.gatewaySubnetIds,
        gateway_availability_zone_ids: this.network.gatewayAvailabilityZoneIds,
        nat_public_ips: this.network.natPublicIps,
        resource_gateway_arn: this.resourceGateway.arn,
        resource_configuration_arns: Object.fromEntries(Object.entries(configurations).map(([spoke, c]) => [spoke, c.arn])),
        proxy_ports: Object.fromEntries(props.spokes.map((s) => [s.name, s.port])),
        resource_share_arns: shares,
        proxy_config_parameter: this.proxy.configParameter.name,
        proxy_log_group: this.proxy.logGroup.name,
      };
      for (const [key, value] of Object.entries(outputs)) {
        const output = new TerraformOutput(this, key, { value, description: HUB_OUTPUT_DESCRIPTIONS[key as keyof HubOutputs] });
        output.overrideLogicalId(key);
      }
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

function validate(props: EgressHubProps): void {
  const seenPorts = new Map<number, string>();
  for (const spoke of props.spokes) {
    if (!LATTICE_NAME.test(`${props.name}-${spoke.name}`)) {
      throw new Error(`EgressHub: spoke '${spoke.name}' gives the resource configuration name '${props.name}-${spoke.name}', which VPC Lattice rejects`);
    }
    if (!Number.isInteger(spoke.port) || spoke.port < 1 || spoke.port > 65535) throw new Error(`EgressHub: spoke '${spoke.name}' has port ${spoke.port}, not 1-65535`);
    const owner = seenPorts.get(spoke.port);
    if (owner) throw new Error(`EgressHub: spokes '${owner}' and '${spoke.name}' both use port ${spoke.port}`);
    seenPorts.set(spoke.port, spoke.name);
  }
  if (new Set(props.spokes.map((s) => s.name)).size !== props.spokes.length) throw new Error("EgressHub: spoke names must be unique");
}
