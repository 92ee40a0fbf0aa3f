import { CustomerGateway } from "@cdktf/provider-aws/lib/customer-gateway";
import { DataAwsAmi } from "@cdktf/provider-aws/lib/data-aws-ami";
import { DataAwsSubnet } from "@cdktf/provider-aws/lib/data-aws-subnet";
import { DataAwsVpc } from "@cdktf/provider-aws/lib/data-aws-vpc";
import { Ec2TransitGateway } from "@cdktf/provider-aws/lib/ec2-transit-gateway";
import { Ec2TransitGatewayRouteTable } from "@cdktf/provider-aws/lib/ec2-transit-gateway-route-table";
import { Ec2TransitGatewayRouteTableAssociation } from "@cdktf/provider-aws/lib/ec2-transit-gateway-route-table-association";
import { Ec2TransitGatewayRouteTablePropagation } from "@cdktf/provider-aws/lib/ec2-transit-gateway-route-table-propagation";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { NetworkInterface } from "@cdktf/provider-aws/lib/network-interface";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Route } from "@cdktf/provider-aws/lib/route";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { VpnConnection } from "@cdktf/provider-aws/lib/vpn-connection";
import { Fn, TerraformOutput } from "cdktf";
import { Construct } from "constructs";
import type { InterconnectConfig, InterconnectSiteConfig } from "../config/model";
import { cidrSubnet } from "../network/cidr";
import { EgressVpc } from "../network/egress-vpc";
import { hardenedLaunchSettings, isGravitonType, managedInstanceRole, selfHealingGroup } from "../core/instance";
import { IPSEC_PROFILES, routerParams, type IpsecProfile, type RouterParams } from "./router-config";
import { renderLinuxRouterUserData, ROUTER_ENI_TAG } from "./router-linux";
import { routerRoleName, tunnelKeyParameterName } from "./names";
import { renderVyosUserData } from "./router-vyos";


/** The Debian project's AWS account, owner of the official Debian AMIs. */
const DEBIAN_AMI_OWNER = "136693071363";

/** The largest ASN `aws_customer_gateway.bgp_asn` takes; larger ones go in `bgp_asn_extended` (EC2 CreateCustomerGateway). */
const MAX_CUSTOMER_GATEWAY_BGP_ASN = 2_147_483_647;

/** The planned interconnect and how to reach each of its Regions. */
export interface InterconnectProps {
  /** Prefix of resource names. */
  readonly name: string;
  /** Transit Gateway and planned sites (see `planInterconnect`). */
  readonly config: InterconnectConfig;
  /** The AWS provider for a Region (the Transit Gateway's and each site's). */
  readonly providerFor: (region: string) => AwsProvider;
}

/**
 * Sites with overlapping CIDRs joined through one Transit Gateway: per site a customer gateway on
 * the router's Elastic IP, a VPN connection with two BGP tunnels (pinned inside CIDRs, AWS-made
 * pre-shared keys that never leave Terraform state but for the router's user data), attachment to
 * the Transit Gateway's own route table, and in the site: the router (Linux or VyOS) on a
 * persistent ENI + EIP with source/dest check off, its security group, and routes to the other
 * sites' advertised prefixes. Only translated (or unique) prefixes are ever advertised.
 */
export class Interconnect extends Construct {
  /** The Transit Gateway every site's VPN attaches to. */
  readonly transitGateway: Ec2TransitGateway;
  /** Its own route table: propagated from every attachment, default association and propagation off. */
  readonly routeTable: Ec2TransitGatewayRouteTable;
  /** Per site name. */
  readonly vpnConnections: Readonly<Record<string, VpnConnection>>;
  /** Per site name: the router's persistent ENI, which carries the Elastic IP and outlives instances. */
  readonly routerInterfaces: Readonly<Record<string, NetworkInterface>>;

  constructor(scope: Construct, id: string, props: InterconnectProps) {
    super(scope, id);
    const { config, name } = props;
    const tgwProvider = props.providerFor(config.transitGateway.region);
    this.transitGateway = new Ec2TransitGateway(this, "transit-gateway", {
      provider: tgwProvider,
      description: `egresslink ${name}: sites with overlapping CIDRs, translated prefixes only`,
      amazonSideAsn: config.transitGateway.asn,
      // Its own route table instead of the defaults: nothing is associated or propagated by accident.
      defaultRouteTableAssociation: "disable",
      defaultRouteTablePropagation: "disable",
      vpnEcmpSupport: "enable",
      dnsSupport: "enable",
      tags: { Name: `${name}-interconnect` },
    });
    this.routeTable = new Ec2TransitGatewayRouteTable(this, "route-table", {
      provider: tgwProvider,
      transitGatewayId: this.transitGateway.id,
      tags: { Name: `${name}-interconnect` },
    });

    const vpns: Record<string, VpnConnection> = {};
    const enis: Record<string, NetworkInterface> = {};
    const publicIps: Record<string, string> = {};
    for (const site of config.sites) {
      const remotes = config.sites.filter((o) => o.name !== site.name).map((o) => ({ site: o.name, prefix: o.plan.advertised }));
      const built = new InterconnectSite(this, `site-${site.name}`, {
        name,
        site,
        remotes,
        transitGatewayAsn: config.transitGateway.asn,
        ipsec: IPSEC_PROFILES[config.ipsecProfile],
        provider: props.providerFor(site.region),
        tgwProvider,
        interconnect: this,
      });
      vpns[site.name] = built.vpn;
      enis[site.name] = built.routerInterface;
      publicIps[site.name] = built.publicIp;
    }
    this.vpnConnections = vpns;
    this.routerInterfaces = enis;

    new TerraformOutput(this, "transit_gateway_id", { value: this.transitGateway.id, description: "The Transit Gateway joining the sites" }).overrideLogicalId("transit_gateway_id");
    new TerraformOutput(this, "sites", {
      description: "Per site: real and advertised prefix, ASN, customer gateway address, VPN connection (no keys)",
      value: Object.fromEntries(
        config.sites.map((s) => [
          s.name,
          { real_cidr: s.plan.realCidr, advertised: s.plan.advertised, translated: s.plan.translatedCidr ?? "", asn: s.plan.asn, vpn_connection_id: vpns[s.name].id, router_public_ip: publicIps[s.name] },
        ]),
      ),
    }).overrideLogicalId("sites");
  }
}

interface SiteProps {
  readonly name: string;
  readonly site: InterconnectSiteConfig;
  /** The other sites and the prefix each advertises. */
  readonly remotes: readonly { readonly site: string; readonly prefix: string }[];
  readonly transitGatewayAsn: number;
  readonly ipsec: IpsecProfile;
  readonly provider: AwsProvider;
  readonly tgwProvider: AwsProvider;
  readonly interconnect: Interconnect;
}

/** One site: its VPN on the Transit Gateway side, and its router, network and routes in its own Region. */
class InterconnectSite extends Construct {
  readonly vpn: VpnConnection;
  readonly routerInterface: NetworkInterface;
  /** The router's Elastic IP: the customer gateway's address. */
  readonly publicIp: string;

  constructor(scope: Construct, id: string, props: SiteProps) {
    super(scope, id);
    const { site, provider } = props;
    const { plan } = site;
    const name = `${props.name}-${site.name}`;
    const network = this.network(name, site, provider);
    const sg = new SecurityGroup(this, "router-sg", {
      provider,
      name: `${name}-router`,
      description: `egresslink ${site.name} router: IPsec from the Transit Gateway's tunnel endpoints, forwarding for the site`,
      vpcId: network.vpcId,
      tags: { Name: `${name}-router` },
    });

    this.routerInterface = new NetworkInterface(this, "router-eni", {
      provider,
      subnetId: network.routerSubnetId,
      securityGroups: [sg.id],
      sourceDestCheck: false,
      description: `egresslink ${site.name} router: keeps its address and EIP across replacements`,
      tags: { Name: `${name}-router`, [ROUTER_ENI_TAG]: `${name}-router` },
    });
    // EC2 refuses to associate an EIP in a VPC without an internet gateway: a new site's must exist first.
    const eip = new Eip(this, "router-eip", {
      provider,
      domain: "vpc",
      networkInterface: this.routerInterface.id,
      tags: { Name: `${name}-router` },
      dependsOn: network.internetGateway ? [network.internetGateway] : undefined,
    });
    this.publicIp = eip.publicIp;

    // The Transit Gateway side. Changing the EIP would replace the customer gateway and the VPN.
    const customerGateway = new CustomerGateway(this, "customer-gateway", {
      provider: props.tgwProvider,
      // EC2 takes ASNs above 2,147,483,647 (32-bit private ones) only as BgpAsnExtended.
      ...(plan.asn > MAX_CUSTOMER_GATEWAY_BGP_ASN ? { bgpAsnExtended: String(plan.asn) } : { bgpAsn: String(plan.asn) }),
      ipAddress: eip.publicIp,
      type: "ipsec.1",
      tags: { Name: name },
    });
    const { ipsec } = props;
    const tunnel = (n: 1 | 2) => ({
      [`tunnel${n}InsideCidr`]: plan.tunnelInsideCidrs[n - 1],
      [`tunnel${n}IkeVersions`]: [ipsec.ikeVersion],
      [`tunnel${n}Phase1EncryptionAlgorithms`]: [ipsec.aws.encryption],
      [`tunnel${n}Phase1IntegrityAlgorithms`]: [ipsec.aws.integrity],
      [`tunnel${n}Phase1DhGroupNumbers`]: [ipsec.aws.dhGroup],
      [`tunnel${n}Phase2EncryptionAlgorithms`]: [ipsec.aws.encryption],
      [`tunnel${n}Phase2IntegrityAlgorithms`]: [ipsec.aws.integrity],
      [`tunnel${n}Phase2DhGroupNumbers`]: [ipsec.aws.dhGroup],
      [`tunnel${n}Phase1LifetimeSeconds`]: ipsec.ikeLifetimeSeconds,
      [`tunnel${n}Phase2LifetimeSeconds`]: ipsec.espLifetimeSeconds,
      [`tunnel${n}StartupAction`]: "add",
    });
    this.vpn = new VpnConnection(this, "vpn", {
      provider: props.tgwProvider,
      customerGatewayId: customerGateway.id,
      transitGatewayId: props.interconnect.transitGateway.id,
      type: "ipsec.1",
      staticRoutesOnly: false,
      ...tunnel(1),
      ...tunnel(2),
      tags: { Name: name },
    });
    new Ec2TransitGatewayRouteTableAssociation(this, "association", {
      provider: props.tgwProvider,
      transitGatewayAttachmentId: this.vpn.transitGatewayAttachmentId,
      transitGatewayRouteTableId: props.interconnect.routeTable.id,
    });
    new Ec2TransitGatewayRouteTablePropagation(this, "propagation", {
      provider: props.tgwProvider,
      transitGatewayAttachmentId: this.vpn.transitGatewayAttachmentId,
      transitGatewayRouteTableId: props.interconnect.routeTable.id,
    });

    this.securityGroupRules(provider, sg, network.vpcCidr);
    // The keys, where a Linux router reads them at boot (its role may read these two only).
    const keys = ([1, 2] as const).map(
      (n) =>
        new SsmParameter(this, `tunnel${n}-key`, {
          provider,
          name: tunnelKeyParameterName(props.name, site.name, n),
          description: `egresslink ${site.name}: pre-shared key of VPN tunnel ${n}`,
          type: "SecureString",
          value: n === 1 ? this.vpn.tunnel1PresharedKey : this.vpn.tunnel2PresharedKey,
        }),
    );
    const params = routerParams(plan, props.transitGatewayAsn, ipsec, {
      localAddress: this.routerInterface.privateIp,
      publicIp: eip.publicIp,
      tunnels: [
        { outsideAddress: this.vpn.tunnel1Address, presharedKey: this.vpn.tunnel1PresharedKey, presharedKeyParameter: keys[0].name },
        { outsideAddress: this.vpn.tunnel2Address, presharedKey: this.vpn.tunnel2PresharedKey, presharedKeyParameter: keys[1].name },
      ],
    });
    if (site.router === "vyos") this.vyosRouter(name, site, provider, params);
    else this.linuxRouter(name, routerRoleName(props.name, site.name, site.region), site, provider, params, network, sg, keys);

    // Every other site's advertised prefix goes to this site's router; keyed by site, not by prefix.
    for (const routeTable of network.routeTables) {
      for (const remote of props.remotes) {
        new Route(this, `route-${routeTable.key}-to-${remote.site}`, {
          provider,
          routeTableId: routeTable.id,
          destinationCidrBlock: remote.prefix,
          networkInterfaceId: this.routerInterface.id,
        });
      }
    }
  }

  /** A new VPC (public subnet for the router, private for workloads) or the existing one's IDs. */
  private network(name: string, site: InterconnectSiteConfig, provider: AwsProvider) {
    if (site.vpc.kind === "existing") {
      const vpc = new DataAwsVpc(this, "vpc", { provider, id: site.vpc.vpcId });
      return {
        vpcId: vpc.id,
        vpcCidr: vpc.cidrBlock,
        routerSubnetId: site.vpc.routerSubnetId,
        routerSubnetCidr: new DataAwsSubnet(this, "router-subnet", { provider, id: site.vpc.routerSubnetId }).cidrBlock,
        routeTables: site.vpc.routeTableIds.map((id) => ({ key: id, id })),
        // An existing site VPC routes to the internet already: nothing here to wait for.
        internetGateway: undefined,
      };
    }
    // One AZ (the router's ENI lives in one): workloads in the first half, the router in the second.
    const cidr = site.vpc.cidr;
    const az = site.vpc.availabilityZone;
    const vpc = new EgressVpc(this, "network", {
      provider,
      name,
      cidr,
      zones: { count: 1, names: az ? [az] : undefined },
      privateSubnets: [cidrSubnet(cidr, 1, 0)],
      publicSubnets: [cidrSubnet(cidr, 1, 1)],
      natGateways: "none",
    });
    return {
      vpcId: vpc.vpc.id,
      vpcCidr: cidr,
      routerSubnetId: vpc.publicSubnetIds[0],
      routerSubnetCidr: cidrSubnet(cidr, 1, 1),
      internetGateway: vpc.internetGateway,
      routeTables: [
        { key: "private", id: vpc.privateRouteTableIds[0] },
        { key: "public", id: vpc.publicRouteTableId as string },
      ],
    };
  }

  /** IKE (UDP 500), NAT-T (UDP 4500) and ESP only from the two tunnel endpoints; the site's own traffic to forward. */
  private securityGroupRules(provider: AwsProvider, sg: SecurityGroup, vpcCidr: string): void {
    const endpoints = [this.vpn.tunnel1Address, this.vpn.tunnel2Address];
    const services: [string, string, number | undefined][] = [
      ["ike", "udp", 500],
      ["nat-t", "udp", 4500],
      ["esp", "50", undefined],
    ];
    endpoints.forEach((endpoint, i) => {
      for (const [service, ipProtocol, port] of services) {
        const rule = { provider, securityGroupId: sg.id, ipProtocol, fromPort: port, toPort: port, cidrIpv4: `${endpoint}/32`, description: `${service}, tunnel ${i + 1}` };
        new VpcSecurityGroupIngressRule(this, `in-${service}-tunnel${i + 1}`, rule);
        new VpcSecurityGroupEgressRule(this, `out-${service}-tunnel${i + 1}`, rule);
      }
    });
    new VpcSecurityGroupIngressRule(this, "in-site", { provider, securityGroupId: sg.id, ipProtocol: "-1", cidrIpv4: vpcCidr, description: "site traffic to forward to the other sites" });
    new VpcSecurityGroupEgressRule(this, "out-site", { provider, securityGroupId: sg.id, ipProtocol: "-1", cidrIpv4: vpcCidr, description: "traffic from the other sites into the site" });
    new VpcSecurityGroupEgressRule(this, "out-https", { provider, securityGroupId: sg.id, ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0", description: "SSM, EC2 and Auto Scaling APIs, SSM Agent package" });
    // Debian's mirrors (cdn-aws.deb.debian.org) serve apt over HTTP; apt checks every package's signature.
    new VpcSecurityGroupEgressRule(this, "out-http", { provider, securityGroupId: sg.id, ipProtocol: "tcp", fromPort: 80, toPort: 80, cidrIpv4: "0.0.0.0/0", description: "Debian package repositories (signed)" });
  }

  /**
   * Linux (Debian 12): an Auto Scaling group of one. The instance's own interface has a public
   * address (packages, SSM, the EC2 API at boot); it attaches the persistent ENI, which carries the
   * Elastic IP and the tunnels. IAM: that ENI, its site's two keys, its own group's health.
   */
  private linuxRouter(
    name: string,
    roleName: string,
    site: InterconnectSiteConfig,
    provider: AwsProvider,
    params: RouterParams,
    network: { vpcCidr: string; routerSubnetId: string; routerSubnetCidr: string },
    sg: SecurityGroup,
    keys: readonly SsmParameter[],
  ): void {
    const groupName = `${name}-router`;
    const { profile } = managedInstanceRole(this, {
      provider,
      idPrefix: "router-",
      name: roleName,
      region: site.region,
      policyName: "egresslink-router",
      statements: [{ sid: "ReadTunnelKeys", actions: ["ssm:GetParameter"], resources: keys.map((k) => k.arn) }],
      attachEni: { eniArn: this.routerInterface.arn, groupName, sidNoun: "Router" },
      reportHealthTo: groupName,
    });
    const userData = renderLinuxRouterUserData(params, {
      region: site.region,
      eniTag: `${name}-router`,
      eniMac: this.routerInterface.macAddress,
      routerSubnetCidr: network.routerSubnetCidr,
      vpcCidr: network.vpcCidr,
      groupName,
    });
    const arch = isGravitonType(site.instanceType) ? "arm64" : "amd64";
    const debian = site.amiId
      ? undefined
      : new DataAwsAmi(this, "router-ami", {
          provider,
          owners: [DEBIAN_AMI_OWNER],
          mostRecent: true,
          filter: [
            { name: "name", values: [`debian-12-${arch}-*`] },
            { name: "architecture", values: [arch === "arm64" ? "arm64" : "x86_64"] },
          ],
        });
    const template = new LaunchTemplate(this, "router-template", {
      provider,
      name: `${name}-router`,
      imageId: site.amiId ?? debian!.id,
      instanceType: site.instanceType,
      iamInstanceProfile: { arn: profile.arn },
      networkInterfaces: [{ deviceIndex: 0, associatePublicIpAddress: "true", securityGroups: [sg.id], deleteOnTermination: "true" }],
      ...hardenedLaunchSettings(16),
      // The configuration names the keys' parameters, not the keys: Terraform references, resolved at apply.
      userData: Fn.base64encode(hclStringLiteral(userData)),
      updateDefaultVersion: true,
      tagSpecifications: [{ resourceType: "instance", tags: { Name: `${name}-router` } }],
      // A newer Debian AMI would replace the router on an unrelated apply; it is picked up when the template is replaced.
      lifecycle: debian ? { ignoreChanges: ["image_id"] } : undefined,
    });
    selfHealingGroup(this, "router-asg", { provider, name: groupName, launchTemplate: template, subnetIds: [network.routerSubnetId], minSize: 1, maxSize: 1, healthCheckType: "EC2", nameTag: `${name}-router` });
  }

  /** VyOS: the persistent ENI is the instance's primary interface; EC2 automatic recovery keeps instance, ENI and EIP. */
  private vyosRouter(name: string, site: InterconnectSiteConfig, provider: AwsProvider, params: RouterParams): void {
    new Instance(this, "router", {
      provider,
      ami: site.amiId as string,
      instanceType: site.instanceType,
      // `network_interface` is deprecated since provider 6.10 in favour of this block.
      primaryNetworkInterface: { networkInterfaceId: this.routerInterface.id },
      userData: renderVyosUserData(params),
      // cloud-init reads vyos_config_commands once per instance: a changed configuration needs a new instance (the ENI and EIP stay).
      userDataReplaceOnChange: true,
      metadataOptions: hardenedLaunchSettings(16).metadataOptions,
      rootBlockDevice: { encrypted: true, volumeType: "gp3" },
      maintenanceOptions: { autoRecovery: "default" },
      tags: { Name: `${name}-router` },
      lifecycle: { ignoreChanges: ["ami"] },
    });
  }
}

/**
 * Escapes a string holding Terraform references for use as a function argument: cdktf puts it
 * inside an HCL expression, where quotes and backslashes of the literal text must be escaped
 * (reference placeholders contain neither).
 */
function hclStringLiteral(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
}
