import { cidrSubnet, mustParseCidr } from "./cidr";

/**
 * Automatic subnet layout. The VPC is cut into 16 equal slots: AZ i gets private slot i,
 * the last slot is cut into 16 again for the small public subnets (they hold only NAT
 * gateways), and the one before it into 8 for the hub's gateway subnets (the resource gateway's
 * and load balancers' ENIs). An AZ's subnets therefore never move when AZs are added or removed.
 */
const SLOT_BITS = 4;
const PUBLIC_SLOT = 2 ** SLOT_BITS - 1;
const GATEWAY_SLOT = PUBLIC_SLOT - 1;
const GATEWAY_BITS = 3;

/** AWS subnet prefix limit: a subnet is at most a /28. */
export const SMALLEST_SUBNET_PREFIX = 28;
/** Largest VPC prefix whose private subnets can be carved automatically (a /24 gives /28s). */
export const MAX_PRIVATE_CARVE_PREFIX = SMALLEST_SUBNET_PREFIX - SLOT_BITS;
/** Largest VPC prefix whose public subnets can be carved automatically. */
export const MAX_PUBLIC_CARVE_PREFIX = SMALLEST_SUBNET_PREFIX - 2 * SLOT_BITS;
/** More AZs than any AWS region has; bounds the layout. */
export const MAX_AZS = 6;
/**
 * Largest gateway subnet prefix: each resource gateway ENI takes `ipv4AddressesPerEni` addresses
 * (16 by default) and each NLB node one, beside the 5 AWS reserves in every subnet.
 */
export const MAX_GATEWAY_SUBNET_PREFIX = 27;
/** Largest VPC prefix whose gateway subnets can be carved automatically (a /20 gives /27s). */
export const MAX_GATEWAY_CARVE_PREFIX = MAX_GATEWAY_SUBNET_PREFIX - SLOT_BITS - GATEWAY_BITS;
/** AZ slots the hub reserves gateway subnets for unless configured: most Regions have at least 3 AZs. */
export const DEFAULT_MAX_AZ_COUNT = 3;

/** Private subnet CIDRs for `azCount` AZs of `vpcCidr`. */
export function carvePrivateSubnets(vpcCidr: string, azCount: number): string[] {
  checkCarvable(vpcCidr, azCount, MAX_PRIVATE_CARVE_PREFIX);
  return range(azCount).map((i) => cidrSubnet(vpcCidr, SLOT_BITS, i));
}

/** Public subnet CIDRs for `azCount` AZs of `vpcCidr`. */
export function carvePublicSubnets(vpcCidr: string, azCount: number): string[] {
  checkCarvable(vpcCidr, azCount, MAX_PUBLIC_CARVE_PREFIX);
  const publicSlot = cidrSubnet(vpcCidr, SLOT_BITS, PUBLIC_SLOT);
  return range(azCount).map((i) => cidrSubnet(publicSlot, SLOT_BITS, i));
}

/** Gateway subnet CIDRs for `slotCount` AZ slots of `vpcCidr` (the hub's `maxAzCount`). */
export function carveGatewaySubnets(vpcCidr: string, slotCount: number): string[] {
  checkCarvable(vpcCidr, slotCount, MAX_GATEWAY_CARVE_PREFIX);
  const gatewaySlot = cidrSubnet(vpcCidr, SLOT_BITS, GATEWAY_SLOT);
  return range(slotCount).map((i) => cidrSubnet(gatewaySlot, GATEWAY_BITS, i));
}

function checkCarvable(vpcCidr: string, azCount: number, maxPrefix: number): void {
  const { prefix } = mustParseCidr(vpcCidr);
  if (prefix > maxPrefix) {
    throw new Error(`${vpcCidr} is too small to carve subnets automatically (largest prefix /${maxPrefix}); list the subnet CIDRs`);
  }
  if (azCount < 1 || azCount > MAX_AZS) throw new Error(`azCount must be 1-${MAX_AZS}, got ${azCount}`);
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
