import { carvePrivateSubnets, carvePublicSubnets } from "../network/layout";
import type { ParsedConfig } from "./schema";

/**
 * The validated config with every default applied and every derived value (subnets) computed:
 * what the stacks are built from.
 */
export interface EgressConfig {
  /** Prefix of AWS resource names. */
  readonly name: string;
  /** Tags applied to every resource through the provider's default_tags. */
  readonly tags: Readonly<Record<string, string>>;
  readonly state: StateConfig;
  readonly hub: HubConfig;
  /** Spokes sorted by name. */
  readonly spokes: readonly SpokeConfig[];
}

export interface StateConfig {
  readonly bucket: string;
  readonly region: string;
  readonly keyPrefix: string;
  /** Whether the egress-state stack creates the bucket. */
  readonly create: boolean;
}

/** Availability Zones of a VPC: listed by name, or the first `count` of the Region looked up at plan time. */
export interface ZonePlacement {
  readonly count: number;
  readonly names?: readonly string[];
}

export interface HubConfig {
  readonly region: string;
  readonly accountId?: string;
  readonly cidr: string;
  readonly zones: ZonePlacement;
  readonly natGateways: "single" | "per-az";
  /** One per AZ, in AZ order. */
  readonly privateSubnets: readonly string[];
  /** One per AZ, in AZ order. */
  readonly publicSubnets: readonly string[];
  readonly proxy: { readonly instanceType: string; readonly rootVolumeGiB: number };
  readonly resourceGateway: { readonly ipv4AddressesPerEni: number };
}

export interface NewVpcConfig {
  readonly kind: "new";
  readonly cidr: string;
  readonly zones: ZonePlacement;
  /** Private subnets, one per AZ, in AZ order. */
  readonly subnets: readonly string[];
}

export interface ExistingVpcConfig {
  readonly kind: "existing";
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
}

export type SpokeVpcConfig = NewVpcConfig | ExistingVpcConfig;

export interface SpokeConfig {
  readonly name: string;
  readonly port: number;
  /** Set only when the spoke lives in another account than the hub. */
  readonly accountId?: string;
  readonly vpc: SpokeVpcConfig;
}

/** Applies derived defaults to a schema-valid config. */
export function resolveConfig(parsed: ParsedConfig): EgressConfig {
  const { hub } = parsed;
  const hubZones = zonePlacement(hub.availabilityZones, hub.azCount);
  return {
    name: parsed.name,
    tags: parsed.tags,
    state: { ...parsed.state, region: parsed.state.region ?? hub.region },
    hub: {
      region: hub.region,
      accountId: hub.accountId,
      cidr: hub.cidr,
      zones: hubZones,
      natGateways: hub.natGateways,
      privateSubnets: hub.subnets.private ?? carvePrivateSubnets(hub.cidr, hubZones.count),
      publicSubnets: hub.subnets.public ?? carvePublicSubnets(hub.cidr, hubZones.count),
      proxy: hub.proxy,
      resourceGateway: hub.resourceGateway,
    },
    spokes: Object.keys(parsed.spokes)
      .sort()
      .map((name): SpokeConfig => {
        const spoke = parsed.spokes[name];
        const accountId = spoke.accountId !== undefined && spoke.accountId !== hub.accountId ? spoke.accountId : undefined;
        if (spoke.vpcId !== undefined) {
          return { name, port: spoke.port, accountId, vpc: { kind: "existing", vpcId: spoke.vpcId, subnetIds: spoke.subnetIds ?? [] } };
        }
        const cidr = spoke.cidr as string;
        // A same-account spoke without its own AZ list reuses the hub's, so endpoint and gateway ENIs share AZs.
        const zones = spoke.availabilityZones || spoke.azCount !== undefined || accountId ? zonePlacement(spoke.availabilityZones, spoke.azCount) : hubZones;
        return { name, port: spoke.port, accountId, vpc: { kind: "new", cidr, zones, subnets: spoke.subnets ?? carvePrivateSubnets(cidr, zones.count) } };
      }),
  };
}

function zonePlacement(names: string[] | undefined, count: number | undefined): ZonePlacement {
  return names ? { count: names.length, names } : { count: count ?? 2 };
}
