import { DataAwsSubnet } from "@cdktf/provider-aws/lib/data-aws-subnet";
import { DataAwsVpc } from "@cdktf/provider-aws/lib/data-aws-vpc";
import { DataAwsVpcEndpointAssociations } from "@cdktf/provider-aws/lib/data-aws-vpc-endpoint-associations";
import { RamResourceShareAccepter } from "@cdktf/provider-aws/lib/ram-resource-share-accepter";
import { Route53Record } from "@cdktf/provider-aws/lib/route53-record";
import { Route53Zone } from "@cdktf/provider-aws/lib/route53-zone";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { SsmAssociation } from "@cdktf/provider-aws/lib/ssm-association";
import { SsmDocument } from "@cdktf/provider-aws/lib/ssm-document";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Fn, Op, type ITerraformDependable, type Precondition } from "cdktf";
import { Construct } from "constructs";
import type { SpokeVpcConfig } from "../config/model";
import { LATTICE_NAME } from "../config/schema";
import { ServiceEndpoints } from "../endpoints/service-endpoints";
import { resolveEndpoints } from "../endpoints/services";
import { HubRemoteState, type HubStateLocation } from "../hub/remote-state";
import { EgressVpc } from "../network/egress-vpc";
import { noProxyEntries, renderApplyScript, type ProxySettings } from "./proxy-settings";
import { applyProxySettingsProblem } from "./settings-rules";
import type { CloudWorkspace } from "../state/backend";

/** Tag key that selects instances for the State Manager association (value: the spoke name). */
export const PROXY_SETTINGS_TAG = "egresslink:proxy";

/** Which spoke of the hub this is, where the hub's state is, and the spoke's VPC. */
export interface EgressSpokeProps {
  /** The spoke's name in the hub's config: selects its resource configuration and port from the hub's outputs. */
  readonly spokeName: string;
  /**
   * Where the hub's Terraform state is - its S3 location, or its HCP Terraform / Terraform
   * Enterprise workspace - the only thing a spoke needs to know about the hub.
   */
  readonly hubState: HubStateLocation | CloudWorkspace;
  /** Region of the spoke VPC (the hub's Region). */
  readonly region: string;
  /** A new VPC (`kind: "new"`) or an existing one looked up by ID (`kind: "existing"`). */
  readonly vpc: SpokeVpcConfig;
  /**
   * The deployment's name (the hub config's `name`): every account-wide name this spoke creates
   * starts with it or, for SSM parameters, sits under `/egresslink/<namePrefix>/`, so that two
   * deployments in one account never collide.
   * @default "egress"
   */
  readonly namePrefix?: string;
  /** The proxy's name in this VPC; its parent domain becomes a private hosted zone here. @default "proxy.egress.internal" */
  readonly proxyDnsName?: string;
  /** AWS service endpoints (see `ServiceEndpoints`): presets or service ids. @default [] */
  readonly endpoints?: readonly string[];
  /** Endpoint policies (IAM policy JSON) by service id. @default {} */
  readonly endpointPolicies?: Readonly<Record<string, string>>;
  /** More NO_PROXY entries. @default [] */
  readonly noProxy?: readonly string[];
  /** `tagged`: a State Manager association applies the settings to instances tagged `egresslink:proxy=<spokeName>`. @default "none" */
  readonly applyProxySettings?: "none" | "tagged";
  /** Accept the hub's RAM share of this spoke's resource configuration (another account, outside the hub's organization). @default false */
  readonly acceptResourceShare?: boolean;
}

/**
 * A project VPC's way out: a Resource endpoint to its own resource configuration on the hub
 * (found through the hub's remote state), a private DNS name for it, the proxy settings published
 * for workloads (SSM parameters, an SSM document, snippets), and AWS service endpoints so AWS
 * traffic skips the proxy. Usable in any CDKTF app that can read the hub's state.
 */
export class EgressSpoke extends Construct {
  /** The hub's outputs, read from its state. */
  readonly hub: HubRemoteState;
  /** The Resource endpoint to the spoke's resource configuration on the hub. */
  readonly endpoint: VpcEndpoint;
  /** The endpoint's security group: the VPC's CIDR in, on the spoke's port only. */
  readonly securityGroup: SecurityGroup;
  /** The spoke VPC's ID (created or looked up). */
  readonly vpcId: string;
  /** The VPC's primary CIDR: admitted to the proxy port, and reached directly (NO_PROXY). */
  readonly vpcCidr: string;
  /** The subnets the endpoint's ENIs are in. */
  readonly subnetIds: string[];
  /** The proxy port, read from the hub. */
  readonly proxyPort: number;
  /** The proxy's name in this VPC. */
  readonly proxyDnsName: string;
  /** Proxy URL and NO_PROXY, as published. */
  readonly settings: ProxySettings;
  /** The private hosted zone that names the proxy in the spoke VPC. */
  readonly dnsZone: Route53Zone;
  /** SSM parameter with the proxy URL (see `spokeParameterNames`). */
  readonly proxyUrlParameter: SsmParameter;
  /** SSM parameter with the NO_PROXY list. */
  readonly noProxyParameter: SsmParameter;
  /** Run it (Run Command or State Manager) to apply the settings on an instance. */
  readonly applyDocument: SsmDocument;
  /** Set when the spoke created its VPC. */
  readonly network?: EgressVpc;
  /** Set when endpoints were asked for. */
  readonly serviceEndpoints?: ServiceEndpoints;

  constructor(scope: Construct, id: string, props: EgressSpokeProps) {
    super(scope, id);
    const prefix = props.namePrefix ?? "egress";
    this.proxyDnsName = props.proxyDnsName ?? "proxy.egress.internal";
    validate(props, this.proxyDnsName);
    const { spokeName } = props;
    const name = `${prefix}-${spokeName}`;

    this.hub = new HubRemoteState(this, "hub", props.hubState);
    const checks: Precondition[] = [];
    let routeTableIds: readonly string[];
    let existingVpc: DataAwsVpc | undefined;
    let subnetZoneIds: string[];
    if (props.vpc.kind === "new") {
      this.network = new EgressVpc(this, "network", { name, cidr: props.vpc.cidr, zones: props.vpc.zones, privateSubnets: props.vpc.subnets });
      this.vpcId = this.network.vpc.id;
      this.vpcCidr = props.vpc.cidr;
      this.subnetIds = this.network.privateSubnetIds;
      routeTableIds = this.network.privateRouteTableIds;
      subnetZoneIds = this.network.privateAvailabilityZoneIds;
    } else {
      existingVpc = new DataAwsVpc(this, "vpc", { id: props.vpc.vpcId });
      this.vpcId = existingVpc.id;
      this.vpcCidr = existingVpc.cidrBlock;
      this.subnetIds = [...props.vpc.subnetIds];
      routeTableIds = props.vpc.routeTableIds ?? [];
      // What the config cannot know: checked at plan time, before anything is created.
      const subnets = props.vpc.subnetIds.map((subnetId) => new DataAwsSubnet(this, `subnet-${subnetId}`, { id: subnetId }));
      subnetZoneIds = subnets.map((s) => s.availabilityZoneId);
      checks.push(
        {
          condition: Op.eq(Fn.lengthOf(Fn.distinct(subnets.map((s) => s.availabilityZone))), subnets.length),
          errorMessage: `egresslink spoke ${spokeName}: subnetIds must be in distinct Availability Zones (one endpoint ENI per AZ)`,
        },
        {
          condition: Fn.alltrue(subnets.map((s) => Op.eq(s.vpcId, existingVpc!.id))),
          errorMessage: `egresslink spoke ${spokeName}: every subnet in subnetIds must belong to ${props.vpc.vpcId}`,
        },
      );
    }
    this.proxyPort = this.hub.proxyPort(spokeName);
    // By AZ ID: AZ names map to different zones in different accounts.
    checks.push({
      // At least 1 (cdktf's Op renders a literal 0 as "undefined").
      condition: Op.gte(Fn.lengthOf(Fn.setintersection(this.hub.gatewayAvailabilityZoneIds(), [subnetZoneIds])), 1),
      errorMessage: `egresslink spoke ${spokeName}: the endpoint's subnets share no Availability Zone (by AZ ID) with the hub's resource gateway; put a subnet in one of the AZ IDs of the hub output gateway_availability_zone_ids`,
    });

    const acceptance = props.acceptResourceShare ? new RamResourceShareAccepter(this, "accept-share", { shareArn: this.hub.resourceShareArn(spokeName) }) : undefined;
    this.securityGroup = new SecurityGroup(this, "endpoint-sg", {
      name: `${name}-proxy-endpoint`,
      description: `egresslink: the ${spokeName} VPC to its proxy endpoint`,
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
      resourceConfigurationArn: this.hub.resourceConfigurationArn(spokeName),
      subnetIds: this.subnetIds,
      securityGroupIds: [this.securityGroup.id],
      tags: { Name: `${name}-proxy` },
      dependsOn: acceptance ? [acceptance as ITerraformDependable] : undefined,
      lifecycle: checks.length > 0 ? { precondition: checks } : undefined,
    });

    // The name: a private hosted zone on its parent domain, and a CNAME to the endpoint's DNS name.
    const zoneName = this.proxyDnsName.slice(this.proxyDnsName.indexOf(".") + 1);
    this.dnsZone = new Route53Zone(this, "dns-zone", {
      name: zoneName,
      comment: `egresslink: the egress proxy's name in the ${spokeName} VPC`,
      vpc: [{ vpcId: this.vpcId }],
      lifecycle: existingVpc
        ? {
            precondition: [
              {
                condition: Op.and(existingVpc.enableDnsSupport, existingVpc.enableDnsHostnames),
                errorMessage: `egresslink spoke ${spokeName}: ${props.vpc.kind === "existing" ? props.vpc.vpcId : ""} needs DNS support and DNS hostnames enabled for a private hosted zone`,
              },
            ],
          }
        : undefined,
    });
    const endpointDns = new DataAwsVpcEndpointAssociations(this, "endpoint-dns", { vpcEndpointId: this.endpoint.id });
    new Route53Record(this, "dns-record", {
      zoneId: this.dnsZone.zoneId,
      name: this.proxyDnsName,
      type: "CNAME",
      ttl: 60,
      records: [endpointDns.associations.get(0).dnsEntry.get(0).dnsName],
    });

    const endpoints = resolveEndpoints(props.endpoints ?? []);
    if (endpoints.interface.length + endpoints.gateway.length > 0) {
      this.serviceEndpoints = new ServiceEndpoints(this, "aws-endpoints", {
        name,
        region: props.region,
        vpcId: this.vpcId,
        vpcCidr: this.vpcCidr,
        subnetIds: this.subnetIds,
        routeTableIds,
        services: props.endpoints ?? [],
        policies: props.endpointPolicies,
      });
    }

    this.settings = {
      proxyUrl: `http://${this.proxyDnsName}:${this.proxyPort}`,
      noProxy: noProxyEntries({ region: props.region, vpcCidr: this.vpcCidr, endpoints, extra: props.noProxy }).join(","),
    };
    const parameterNames = spokeParameterNames(prefix, spokeName);
    this.proxyUrlParameter = new SsmParameter(this, "proxy-url", {
      name: parameterNames.proxyUrl,
      description: "egresslink: HTTP(S)_PROXY for this VPC",
      type: "String",
      value: this.settings.proxyUrl,
    });
    this.noProxyParameter = new SsmParameter(this, "no-proxy", {
      name: parameterNames.noProxy,
      description: "egresslink: NO_PROXY for this VPC (computed)",
      type: "String",
      value: this.settings.noProxy,
    });
    this.applyDocument = new SsmDocument(this, "apply-settings", {
      name: `${name}-proxy-settings`,
      documentType: "Command",
      documentFormat: "JSON",
      content: JSON.stringify(applyDocumentContent(spokeName, parameterNames.proxyUrl, parameterNames.noProxy), null, 2),
      tags: { Name: `${name}-proxy-settings` },
    });
    if ((props.applyProxySettings ?? "none") === "tagged") {
      new SsmAssociation(this, "apply-to-tagged", {
        name: this.applyDocument.name,
        associationName: `${name}-proxy-settings`,
        targets: [{ key: `tag:${PROXY_SETTINGS_TAG}`, values: [spokeName] }],
        // Also runs on every new instance that carries the tag.
        scheduleExpression: "rate(1 day)",
      });
    }
  }
}

/** SSM parameters publishing a spoke's settings: under the deployment's own path, beside the hub's. */
export function spokeParameterNames(deploymentName: string, spokeName: string): { readonly proxyUrl: string; readonly noProxy: string } {
  const path = `/egresslink/${deploymentName}/spokes/${spokeName}`;
  return { proxyUrl: `${path}/proxy-url`, noProxy: `${path}/no-proxy` };
}

/** SSM Command document: the settings come from the spoke's parameters when it runs, so a port change needs no new document. */
function applyDocumentContent(spokeName: string, proxyUrlParameter: string, noProxyParameter: string): object {
  return {
    schemaVersion: "2.2",
    description: `egresslink: apply the ${spokeName} proxy settings (/etc/environment, dnf, Docker)`,
    parameters: {
      proxyUrl: { type: "String", description: "HTTP(S)_PROXY", default: `{{ssm:${proxyUrlParameter}}}` },
      noProxy: { type: "String", description: "NO_PROXY", default: `{{ssm:${noProxyParameter}}}` },
    },
    mainSteps: [
      {
        action: "aws:runShellScript",
        name: "applyProxySettings",
        precondition: { StringEquals: ["platformType", "Linux"] },
        inputs: { timeoutSeconds: "120", runCommand: renderApplyScript().trimEnd().split("\n") },
      },
    ],
  };
}

function validate(props: EgressSpokeProps, proxyDnsName: string): void {
  const where = `EgressSpoke '${props.spokeName}'`;
  if (!LATTICE_NAME.test(props.spokeName)) throw new Error(`${where}: 'spokeName' is not a valid spoke name (3-40 of a-z, 0-9, '-')`);
  if (props.vpc.kind === "existing" && new Set(props.vpc.subnetIds).size < 2) throw new Error(`${where}: an existing VPC needs at least 2 distinct 'subnetIds'`);
  const delivery = applyProxySettingsProblem({ vpcKind: props.vpc.kind, applyProxySettings: props.applyProxySettings, endpoints: props.endpoints });
  if (delivery) throw new Error(`${where}: 'applyProxySettings' ${delivery}`);
  if (proxyDnsName.split(".").length < 3) throw new Error(`${where}: 'proxyDnsName' "${proxyDnsName}" needs at least three labels (its parent becomes the zone)`);
}
