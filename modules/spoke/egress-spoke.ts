import { DataAwsVpc } from "@cdktf/provider-aws/lib/data-aws-vpc";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Construct } from "constructs";
import type { SpokeVpcConfig } from "../config/model";
import { LATTICE_NAME } from "../config/schema";
import { HubRemoteState, type HubStateLocation } from "../hub/remote-state";
import { EgressVpc } from "../network/egress-vpc";

export interface EgressSpokeProps {
  /** The spoke's name in the hub's config: selects its resource configuration and port from the hub's outputs. */
  readonly spokeName: string;
  /** Where the hub's Terraform state is; the only thing a spoke needs to know about the hub. */
  readonly hubState: HubStateLocation;
  /** A new VPC (`kind: "new"`) or an existing one looked up by ID (`kind: "existing"`). */
  readonly vpc: SpokeVpcConfig;
  /** Prefix of AWS resource names. @default "egress" */
  readonly namePrefix?: string;
}

/**
 * A project VPC's way out: a Resource endpoint to its own resource configuration on the hub,
 * found through the hub's remote state, behind a security group admitting the VPC to the
 * proxy port. Usable in any CDKTF app that can read the hub's state.
 */
export class EgressSpoke extends Construct {
  readonly hub: HubRemoteState;
  readonly endpoint: VpcEndpoint;
  readonly securityGroup: SecurityGroup;
  readonly vpcId: string;
  /** The VPC's primary CIDR: admitted to the proxy port. */
  readonly vpcCidr: string;
  readonly subnetIds: string[];
  /** The proxy port, read from the hub. */
  readonly proxyPort: number;
  /** Set when the spoke created its VPC. */
  readonly network?: EgressVpc;

  constructor(scope: Construct, id: string, props: EgressSpokeProps) {
    super(scope, id);
    const prefix = props.namePrefix ?? "egress";
    if (!LATTICE_NAME.test(props.spokeName)) throw new Error(`EgressSpoke: 'spokeName' "${props.spokeName}" is not a valid spoke name (3-40 of a-z, 0-9, '-')`);
    const name = `${prefix}-${props.spokeName}`;

    this.hub = new HubRemoteState(this, "hub", props.hubState);
    if (props.vpc.kind === "new") {
      this.network = new EgressVpc(this, "network", { name, cidr: props.vpc.cidr, zones: props.vpc.zones, privateSubnets: props.vpc.subnets });
      this.vpcId = this.network.vpc.id;
      this.vpcCidr = props.vpc.cidr;
      this.subnetIds = this.network.privateSubnetIds;
    } else {
      if (new Set(props.vpc.subnetIds).size < 2) throw new Error(`EgressSpoke '${props.spokeName}': an existing VPC needs at least 2 distinct 'subnetIds'`);
      const vpc = new DataAwsVpc(this, "vpc", { id: props.vpc.vpcId });
      this.vpcId = vpc.id;
      this.vpcCidr = vpc.cidrBlock;
      this.subnetIds = [...props.vpc.subnetIds];
    }
    this.proxyPort = this.hub.proxyPort(props.spokeName);

    this.securityGroup = new SecurityGroup(this, "endpoint-sg", {
      name: `${name}-proxy-endpoint`,
      description: `egresslink: the ${props.spokeName} VPC to its proxy endpoint`,
      vpcId: this.vpcId,
      tags: { Name: `${name}-proxy-endpoint` },
    });
    new VpcSecurityGroupIngressRule(this, "from-vpc", {
      securityGroupId: this.securityGroup.id,
      ipProtocol: "tcp",
      fromPort: this.proxyPort,
      toPort: this.proxyPort,
      cidrIpv4: this.vpcCidr,
      description: "workloads in this VPC to the egress proxy",
    });
    this.endpoint = new VpcEndpoint(this, "endpoint", {
      vpcId: this.vpcId,
      vpcEndpointType: "Resource",
      resourceConfigurationArn: this.hub.resourceConfigurationArn(props.spokeName),
      subnetIds: this.subnetIds,
      securityGroupIds: [this.securityGroup.id],
      tags: { Name: `${name}-proxy` },
    });
  }
}
