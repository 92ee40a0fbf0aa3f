import { DataAwsAvailabilityZones } from "@cdktf/provider-aws/lib/data-aws-availability-zones";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { Route } from "@cdktf/provider-aws/lib/route";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Fn, Op } from "cdktf";
import { Construct } from "constructs";
import type { ZonePlacement } from "../config/model";
import { cidrContains, parseCidr } from "./cidr";

/** The VPC's address plan and whether it reaches the internet itself. */
export interface EgressVpcProps {
  /** Prefix of Name tags, e.g. `egress-hub`. */
  readonly name: string;
  /** The VPC's IPv4 CIDR. */
  readonly cidr: string;
  /** Availability Zones, by name or looked up. */
  readonly zones: ZonePlacement;
  /** Private subnet CIDRs, one per AZ in AZ order. */
  readonly privateSubnets: readonly string[];
  /**
   * Public subnet CIDRs, one per AZ. When given, the VPC gets an internet gateway and NAT.
   * @default - no public subnets, no internet gateway, no NAT (a spoke)
   */
  readonly publicSubnets?: readonly string[];
  /**
   * Subnets of their own for the resource gateway and load balancers (the hub), one per AZ slot,
   * possibly more than `zones.count`: slots past the listed zones take the Region's other AZs,
   * looked up at plan time in name order, so that adding AZs later leaves these subnets alone.
   * They route only inside the VPC.
   * @default - none
   */
  readonly gatewaySubnets?: readonly string[];
  /** NAT gateways when public subnets exist; `none` for a VPC whose public subnets need only the internet gateway. @default "single" */
  readonly natGateways?: "single" | "per-az" | "none";
  /** Provider of the VPC's Region. @default - the stack's default provider */
  readonly provider?: AwsProvider;
}

/**
 * A VPC with one private subnet (and route table) per AZ and, for the hub, public subnets,
 * an internet gateway and NAT. Subnets are keyed by AZ slot (`az1`, `az2`, ...): the n-th AZ
 * owns the n-th subnet of each tier, so adding an AZ leaves the others' addresses alone.
 */
export class EgressVpc extends Construct {
  /** The VPC. */
  readonly vpc: Vpc;
  /** Private subnets, in AZ order. */
  readonly privateSubnetIds: string[];
  /** Public subnets, in AZ order; empty without `publicSubnets`. */
  readonly publicSubnetIds: string[];
  /** One per AZ; gateway endpoints attach here. */
  readonly privateRouteTableIds: string[];
  /** AZ IDs (the same zone in every account, unlike names) of the private subnets, in slot order. */
  readonly privateAvailabilityZoneIds: string[];
  /** The gateway subnets, in slot order (see `gatewaySubnets`). */
  readonly gatewaySubnetIds: string[];
  /** AZ IDs of the gateway subnets, in slot order. */
  readonly gatewayAvailabilityZoneIds: string[];
  /** The public subnets' route table (default route to the internet gateway), when there are public subnets. */
  readonly publicRouteTableId?: string;
  /** The NAT gateways' public addresses: what destinations see; empty without NAT. */
  readonly natPublicIps: string[];
  /** The NAT gateways by AZ slot (`az1`, ...); empty without NAT. */
  readonly natGateways: Record<string, NatGateway> = {};
  /** The internet gateway, when there are public subnets: whatever takes a public address depends on it. */
  readonly internetGateway?: InternetGateway;

  constructor(scope: Construct, id: string, props: EgressVpcProps) {
    super(scope, id);
    const publicSubnets = props.publicSubnets ?? [];
    validate(props, publicSubnets);
    const { provider } = props;

    this.vpc = new Vpc(this, "Resource", {
      provider,
      cidrBlock: props.cidr,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: { Name: props.name },
    });
    // Strip every rule from the default security group so nothing lands in it by accident.
    new DefaultSecurityGroup(this, "default-sg", { provider, vpcId: this.vpc.id, tags: { Name: `${props.name}-default-unused` } });

    const zoneName = zoneResolver(this, props.zones, Math.max(props.zones.count, props.gatewaySubnets?.length ?? 0), provider);
    const slots = props.privateSubnets.map((_, i) => `az${i + 1}`);
    const gatewaySubnets = gatewaySubnetsOf(this, props, this.vpc.id, zoneName);
    this.gatewaySubnetIds = gatewaySubnets.map((s) => s.id);
    this.gatewayAvailabilityZoneIds = gatewaySubnets.map((s) => s.availabilityZoneId);

    const privateSubnets = props.privateSubnets.map(
      (cidr, i) =>
        new Subnet(this, `private-${slots[i]}`, {
          provider,
          vpcId: this.vpc.id,
          cidrBlock: cidr,
          availabilityZone: zoneName(i),
          tags: { Name: `${props.name}-private-${slots[i]}`, "egresslink:tier": "private" },
          // The NLBs serve only AZs they have a subnet in: an AZ slot's proxies and gateway subnet share the AZ.
          lifecycle: gatewaySubnets[i]
            ? {
                precondition: [
                  {
                    condition: Op.eq(zoneName(i), gatewaySubnets[i].availabilityZone),
                    errorMessage: `egresslink: AZ ${i + 1} of ${props.name} must be ${gatewaySubnets[i].availabilityZone}, where its gateway subnet was created up front (moving that subnet would replace the resource gateway and every spoke's endpoint): list ${gatewaySubnets[i].availabilityZone} as AZ ${i + 1}`,
                  },
                ],
              }
            : undefined,
        }),
    );
    this.privateSubnetIds = privateSubnets.map((s) => s.id);
    this.privateAvailabilityZoneIds = privateSubnets.map((s) => s.availabilityZoneId);
    const privateTables = slots.map(
      (slot) => new RouteTable(this, `private-rt-${slot}`, { provider, vpcId: this.vpc.id, tags: { Name: `${props.name}-private-${slot}` } }),
    );
    privateTables.forEach((table, i) => new RouteTableAssociation(this, `private-rta-${slots[i]}`, { provider, subnetId: privateSubnets[i].id, routeTableId: table.id }));
    this.privateRouteTableIds = privateTables.map((t) => t.id);

    this.publicSubnetIds = [];
    this.natPublicIps = [];
    if (publicSubnets.length === 0) return;

    const igw = new InternetGateway(this, "igw", { provider, vpcId: this.vpc.id, tags: { Name: props.name } });
    this.internetGateway = igw;
    const publicTable = new RouteTable(this, "public-rt", { provider, vpcId: this.vpc.id, tags: { Name: `${props.name}-public` } });
    new Route(this, "public-default", { provider, routeTableId: publicTable.id, destinationCidrBlock: "0.0.0.0/0", gatewayId: igw.id });
    const publicSubnetResources = publicSubnets.map((cidr, i) => {
      const subnet = new Subnet(this, `public-${slots[i]}`, {
        provider,
        vpcId: this.vpc.id,
        cidrBlock: cidr,
        availabilityZone: zoneName(i),
        mapPublicIpOnLaunch: false,
        tags: { Name: `${props.name}-public-${slots[i]}`, "egresslink:tier": "public" },
      });
      new RouteTableAssociation(this, `public-rta-${slots[i]}`, { provider, subnetId: subnet.id, routeTableId: publicTable.id });
      return subnet;
    });
    this.publicSubnetIds = publicSubnetResources.map((s) => s.id);
    this.publicRouteTableId = publicTable.id;
    if (props.natGateways === "none") return;

    // "single": one NAT in the first AZ serves all; "per-az": each AZ's private route table uses its own.
    const natSlots = props.natGateways === "per-az" ? slots : slots.slice(0, 1);
    const nats = natSlots.map((slot, i) => {
      const eip = new Eip(this, `nat-eip-${slot}`, { provider, domain: "vpc", tags: { Name: `${props.name}-nat-${slot}` }, dependsOn: [igw] });
      this.natPublicIps.push(eip.publicIp);
      const nat = new NatGateway(this, `nat-${slot}`, { provider, allocationId: eip.id, subnetId: publicSubnetResources[i].id, tags: { Name: `${props.name}-${slot}` } });
      this.natGateways[slot] = nat;
      return nat;
    });
    privateTables.forEach(
      (table, i) =>
        new Route(this, `private-default-${slots[i]}`, {
          provider,
          routeTableId: table.id,
          destinationCidrBlock: "0.0.0.0/0",
          natGatewayId: nats[Math.min(i, nats.length - 1)].id,
        }),
    );
  }
}

/** The gateway subnets' route table has only the VPC's local route: their ENIs talk to the proxies and nothing else. */
function gatewaySubnetsOf(scope: EgressVpc, props: EgressVpcProps, vpcId: string, zoneName: (slot: number) => string): Subnet[] {
  const cidrs = props.gatewaySubnets ?? [];
  if (cidrs.length === 0) return [];
  const { provider } = props;
  const table = new RouteTable(scope, "gateway-rt", { provider, vpcId, tags: { Name: `${props.name}-gateway` } });
  return cidrs.map((cidr, i) => {
    const slot = `az${i + 1}`;
    const subnet = new Subnet(scope, `gateway-${slot}`, {
      provider,
      vpcId,
      cidrBlock: cidr,
      availabilityZone: zoneName(i),
      tags: { Name: `${props.name}-gateway-${slot}`, "egresslink:tier": "gateway" },
      // Never moved by a config edit (that would replace the resource gateway and every spoke's
      // endpoint): the private subnet of the same slot must follow it instead (its precondition).
      lifecycle: { ignoreChanges: ["availability_zone"] },
    });
    new RouteTableAssociation(scope, `gateway-rta-${slot}`, { provider, subnetId: subnet.id, routeTableId: table.id });
    return subnet;
  });
}

function validate(props: EgressVpcProps, publicSubnets: readonly string[]): void {
  const net = parseCidr(props.cidr);
  if (typeof net === "string") throw new Error(`EgressVpc '${props.name}': 'cidr' ${net}`);
  if (props.privateSubnets.length < 1) throw new Error(`EgressVpc '${props.name}': 'privateSubnets' must list at least one subnet`);
  if (props.privateSubnets.length !== props.zones.count) {
    throw new Error(`EgressVpc '${props.name}': 'privateSubnets' lists ${props.privateSubnets.length} subnets for ${props.zones.count} AZs`);
  }
  if (publicSubnets.length > 0 && publicSubnets.length !== props.zones.count) {
    throw new Error(`EgressVpc '${props.name}': 'publicSubnets' lists ${publicSubnets.length} subnets for ${props.zones.count} AZs`);
  }
  const gatewaySubnets = props.gatewaySubnets ?? [];
  if (gatewaySubnets.length > 0 && gatewaySubnets.length < props.zones.count) {
    throw new Error(`EgressVpc '${props.name}': 'gatewaySubnets' lists ${gatewaySubnets.length} subnets for ${props.zones.count} AZs; give one per AZ slot, at least one per AZ`);
  }
  for (const subnet of [...props.privateSubnets, ...publicSubnets, ...gatewaySubnets]) {
    if (typeof parseCidr(subnet) === "string" || !cidrContains(props.cidr, subnet)) {
      throw new Error(`EgressVpc '${props.name}': subnet ${subnet} is not a CIDR inside ${props.cidr}`);
    }
  }
}

/**
 * Maps an AZ slot to its name: the listed names, or the Region's zones looked up at plan time
 * (in name order; with listed names, slots past them take the unlisted zones). A slot the Region
 * has no zone for fails the plan with a message, instead of wrapping around to a used zone.
 */
function zoneResolver(scope: Construct, zones: ZonePlacement, slotCount: number, provider: AwsProvider | undefined): (slot: number) => string {
  const listed = zones.names ?? [];
  if (slotCount <= listed.length) return (slot) => listed[slot];
  const available = new DataAwsAvailabilityZones(scope, "zones", {
    provider,
    state: "available",
    filter: [{ name: "opt-in-status", values: ["opt-in-not-required"] }],
    lifecycle: {
      postcondition: [
        {
          condition: `\${length(self.names) >= ${slotCount}}`,
          errorMessage: `egresslink: this VPC needs ${slotCount} Availability Zones (its AZ slots, hub.maxAzCount for the hub) but the Region offers fewer without opt-in; lower the count`,
        },
      ],
    },
  });
  const unlisted = listed.length > 0 ? Fn.sort(Fn.setsubtract(available.names, [...listed])) : available.names;
  return (slot) => (slot < listed.length ? listed[slot] : Fn.element(unlisted, slot - listed.length));
}
