import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { VpclatticeResourceGateway } from "@cdktf/provider-aws/lib/vpclattice-resource-gateway";
import { TerraformOutput } from "cdktf";
import { Construct } from "constructs";
import type { HubConfig } from "../config/model";
import { EgressVpc } from "../network/egress-vpc";
import { HubMonitoring } from "../monitoring/hub-monitoring";
import { ProxyFleet } from "../proxy/fleet";
import { hubSquidBase } from "../proxy/squid-conf";
import { HUB_OUTPUT_DESCRIPTIONS, type HubCoreOutputs, type HubOutputName } from "./contract";

/** What the hub core builds. */
export interface EgressHubProps {
  /** Prefix of AWS resource names. */
  readonly name: string;
  /** Network, proxy and gateway settings (see `HubConfig`). */
  readonly hub: HubConfig;
  /** Publish the hub core's outputs (see `HubCoreOutputs`) as Terraform outputs. @default true */
  readonly publishOutputs?: boolean;
  /** Every spoke's port, for the per-spoke metric filters (see `HubMonitoring`). @default [] - no per-spoke metrics */
  readonly spokePorts?: readonly number[];
}

/**
 * The central egress hub's core: a VPC with NAT, the Squid fleet's shared part and a VPC
 * Lattice resource gateway, and their monitoring (see `HubMonitoring`) - nothing that grows with
 * spokes. Spokes reach it through the port
 * blocks (see `HubPortBlock`), each with one resource configuration per spoke exposing only that
 * spoke's proxy port; spokes connect with Resource endpoints, so their CIDRs may overlap each
 * other and the hub's.
 */
export class EgressHub extends Construct {
  /** The hub VPC: subnets, internet gateway and NAT. */
  readonly network: EgressVpc;
  /** The Squid fleet's shared part: config bucket and base config, logs, role, launch template, security groups. */
  readonly proxy: ProxyFleet;
  /** The VPC Lattice resource gateway every spoke's resource configuration goes through. */
  readonly resourceGateway: VpclatticeResourceGateway;
  /** The resource gateway's security group: the clients the proxy admits. */
  readonly gatewaySecurityGroup: SecurityGroup;
  /** Metric filters, alarms, the alarm topic and the dashboard. */
  readonly monitoring: HubMonitoring;

  constructor(scope: Construct, id: string, props: EgressHubProps) {
    super(scope, id);
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
    this.gatewaySecurityGroup = gatewaySg;
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
      baseConfig: hubSquidBase(hub),
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

    this.monitoring = new HubMonitoring(this, "monitoring", {
      name,
      region: hub.region,
      logGroupName: this.proxy.logGroup.name,
      spokePorts: props.spokePorts ?? [],
      natGatewayIds: Object.fromEntries(Object.entries(this.network.natGateways).map(([slot, nat]) => [slot, nat.id])),
      singleGroupName: this.proxy.singleGroup?.name,
      alarmTopic: hub.monitoring.alarmTopic,
      dashboard: hub.monitoring.dashboard,
    });

    if (props.publishOutputs ?? true) {
      const { launchTemplate, loadBalancerSecurityGroup } = this.proxy;
      publishOutputs(this, {
        region: hub.region,
        vpc_id: vpcId,
        vpc_cidr: hub.cidr,
        private_subnet_ids: this.network.privateSubnetIds,
        gateway_subnet_ids: this.network.gatewaySubnetIds,
        gateway_availability_zone_ids: this.network.gatewayAvailabilityZoneIds,
        nat_public_ips: this.network.natPublicIps,
        resource_gateway_arn: this.resourceGateway.arn,
        proxy_config_parameter: this.proxy.configParameter.name,
        proxy_log_group: this.proxy.logGroup.name,
        resource_gateway_id: this.resourceGateway.id,
        gateway_security_group_id: gatewaySg.id,
        proxy_security_group_id: this.proxy.securityGroup.id,
        proxy_nlb_security_group_id: loadBalancerSecurityGroup?.id ?? "",
        proxy_launch_template_id: launchTemplate.id,
        proxy_launch_template_version: `${launchTemplate.latestVersion}`,
        proxy_config_bucket: this.proxy.configBucket.bucket,
        alarm_topic_arn: this.monitoring.alarmTopicArn ?? "",
      } satisfies { [K in keyof HubCoreOutputs]: unknown });
    }
  }
}

/** Publishes `outputs` as Terraform outputs under their own names (`overrideLogicalId`), each with its contract description. */
export function publishOutputs(scope: Construct, outputs: { readonly [K in HubOutputName]?: unknown }): void {
  for (const [key, value] of Object.entries(outputs)) {
    const output = new TerraformOutput(scope, key, { value, description: HUB_OUTPUT_DESCRIPTIONS[key as HubOutputName] });
    output.overrideLogicalId(key);
  }
}
