import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Token } from "cdktf";
import { Construct } from "constructs";
import { policyDocumentProblems } from "./policy";
import { endpointIdProblem, endpointServiceName, MAX_INTERFACE_ENDPOINTS_PER_VPC, resolveEndpoints, type EndpointSet } from "./services";

/** Which AWS service endpoints a VPC gets, and where they go. */
export interface ServiceEndpointsProps {
  /** Prefix of resource names, e.g. `egress-project-a`. */
  readonly name: string;
  /** Region of the VPC (endpoint service names are per Region). */
  readonly region: string;
  /** The VPC the endpoints are created in. */
  readonly vpcId: string;
  /** The VPC's CIDR: admitted on 443 to the interface endpoints, nothing else is. */
  readonly vpcCidr: string;
  /** Subnets for interface endpoint ENIs, one per AZ. */
  readonly subnetIds: readonly string[];
  /** Route tables gateway endpoints (S3, DynamoDB) are added to: all of the VPC's. @default [] (then no gateway endpoint may be asked for) */
  readonly routeTableIds?: readonly string[];
  /** Presets (`ecr`, `ssm`, `logs`, `sts`, `kms`, `secretsmanager`, `s3`, `dynamodb`) or service ids (`sqs`, `ecr.api`, ...). */
  readonly services: readonly string[];
  /** Endpoint policies (IAM policy JSON) by service id, e.g. `{ "s3": "{...}" }`. @default - the AWS default (full access) */
  readonly policies?: Readonly<Record<string, string>>;
}

/**
 * AWS service endpoints for a VPC, so that AWS traffic skips the proxy and the NAT gateway:
 * interface endpoints with private DNS in every given subnet behind a security group admitting
 * 443 from the VPC only, and gateway endpoints on every given route table. Usable on its own.
 */
export class ServiceEndpoints extends Construct {
  /** What the service list expanded to. */
  readonly endpoints: EndpointSet;
  /** By service id. */
  readonly interfaceEndpoints: Readonly<Record<string, VpcEndpoint>>;
  /** By service id. */
  readonly gatewayEndpoints: Readonly<Record<string, VpcEndpoint>>;
  /** Guards the interface endpoints (absent when there are none). */
  readonly securityGroup?: SecurityGroup;

  constructor(scope: Construct, id: string, props: ServiceEndpointsProps) {
    super(scope, id);
    validateServices(props);
    this.endpoints = resolveEndpoints(props.services);
    const routeTableIds = props.routeTableIds ?? [];
    validate(props, this.endpoints, routeTableIds);
    const policyOf = (service: string) => props.policies?.[service];

    const interfaces: Record<string, VpcEndpoint> = {};
    if (this.endpoints.interface.length > 0) {
      this.securityGroup = new SecurityGroup(this, "sg", {
        name: `${props.name}-aws-endpoints`,
        description: "egresslink: AWS service endpoints, HTTPS from this VPC only",
        vpcId: props.vpcId,
        tags: { Name: `${props.name}-aws-endpoints` },
      });
      new VpcSecurityGroupIngressRule(this, "https-from-vpc", {
        securityGroupId: this.securityGroup.id,
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrIpv4: props.vpcCidr,
        description: "HTTPS from this VPC to AWS service endpoints",
      });
      for (const service of this.endpoints.interface) {
        interfaces[service] = new VpcEndpoint(this, service, {
          vpcId: props.vpcId,
          serviceName: endpointServiceName(props.region, service),
          vpcEndpointType: "Interface",
          privateDnsEnabled: true,
          subnetIds: [...props.subnetIds],
          securityGroupIds: [this.securityGroup.id],
          policy: policyOf(service),
          tags: { Name: `${props.name}-${service}` },
        });
      }
    }
    const gateways: Record<string, VpcEndpoint> = {};
    for (const service of this.endpoints.gateway) {
      gateways[service] = new VpcEndpoint(this, service, {
        vpcId: props.vpcId,
        serviceName: endpointServiceName(props.region, service),
        vpcEndpointType: "Gateway",
        routeTableIds: [...routeTableIds],
        policy: policyOf(service),
        tags: { Name: `${props.name}-${service}` },
      });
    }
    this.interfaceEndpoints = interfaces;
    this.gatewayEndpoints = gateways;
  }
}

/** Service ids before they are expanded: near misses (`ecr-api`) would otherwise fail at apply. */
function validateServices(props: ServiceEndpointsProps): void {
  props.services.forEach((service, i) => {
    const problem = endpointIdProblem(service);
    if (problem) throw new Error(`ServiceEndpoints '${props.name}': 'services[${i}]' ${problem.message}`);
  });
}

function validate(props: ServiceEndpointsProps, endpoints: EndpointSet, routeTableIds: readonly string[]): void {
  const where = `ServiceEndpoints '${props.name}'`;
  if (endpoints.interface.length > 0 && props.subnetIds.length < 1) throw new Error(`${where}: 'subnetIds' must list a subnet per AZ for interface endpoints`);
  if (endpoints.gateway.length > 0 && routeTableIds.length < 1) {
    throw new Error(`${where}: gateway endpoints (${endpoints.gateway.join(", ")}) need 'routeTableIds'`);
  }
  for (const service of Object.keys(props.policies ?? {})) {
    if (!endpoints.interface.includes(service) && !(endpoints.gateway as readonly string[]).includes(service)) {
      throw new Error(`${where}: 'policies' names "${service}", which is not among the endpoints (${[...endpoints.interface, ...endpoints.gateway].join(", ")})`);
    }
  }
  // Policies given as literal JSON are checked like the config's; Terraform references are checked by AWS.
  for (const [service, policy] of Object.entries(props.policies ?? {})) {
    if (Token.isUnresolved(policy)) continue;
    let document: unknown;
    try {
      document = JSON.parse(policy);
    } catch {
      throw new Error(`${where}: 'policies.${service}' is not JSON`);
    }
    const type = (endpoints.gateway as readonly string[]).includes(service) ? "Gateway" : "Interface";
    const [problem] = policyDocumentProblems(document, type);
    if (problem) throw new Error(`${where}: 'policies.${service}${problem.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("")}' ${problem.message}`);
  }
  if (endpoints.interface.length > MAX_INTERFACE_ENDPOINTS_PER_VPC) {
    throw new Error(`${where}: ${endpoints.interface.length} interface endpoints exceed the ${MAX_INTERFACE_ENDPOINTS_PER_VPC}-per-VPC quota`);
  }
}
