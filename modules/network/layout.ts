import { cidrSubnet, mustParseCidr } from "./cidr";

/**
 * Automatic subnet layout. The VPC is cut into 16 equal slots: AZ i gets private slot i,
 * and the last slot is cut into 16 again for the small public subnets (they hold only NAT
 * gateways). An AZ's subnets therefore never move when AZs are added or removed.
 */
const SLOT_BITS = 4;
const PUBLIC_SLOT = 2 ** SLOT_BITS - 1;

/** AWS subnet prefix limit: a subnet is at most a /28. */
export const SMALLEST_SUBNET_PREFIX = 28;
/** Largest VPC prefix whose private subnets can be carved automatically (a /24 gives /28s). */
export const MAX_PRIVATE_CARVE_PREFIX = SMALLEST_SUBNET_PREFIX - SLOT_BITS;
/** Largest VPC prefix whose public subnets can be carved automatically. */
export const MAX_PUBLIC_CARVE_PREFIX = SMALLEST_SUBNET_PREFIX - 2 * SLOT_BITS;
/** More AZs than any AWS region has; bounds the layout. */
export const MAX_AZS = 6;

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
