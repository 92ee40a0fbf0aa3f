import { editDistance } from "../core/text";

/**
 * AWS Regions a config may name (commercial, GovCloud, China, European Sovereign Cloud),
 * as listed by AWS in November 2026. Kept in one place so a new Region is a one-line change.
 */
export const AWS_REGIONS: readonly string[] = [
  "af-south-1",
  "ap-east-1", "ap-east-2",
  "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
  "ap-south-1", "ap-south-2",
  "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
  "ap-southeast-6", "ap-southeast-7",
  "ca-central-1", "ca-west-1",
  "cn-north-1", "cn-northwest-1",
  "eu-central-1", "eu-central-2",
  "eu-north-1",
  "eu-south-1", "eu-south-2",
  "eu-west-1", "eu-west-2", "eu-west-3",
  "eusc-de-east-1",
  "il-central-1",
  "me-central-1", "me-south-1",
  "mx-central-1",
  "sa-east-1",
  "us-east-1", "us-east-2",
  "us-gov-east-1", "us-gov-west-1",
  "us-west-1", "us-west-2",
];

/** The closest known Region names to a typo, for error messages. */
export function suggestRegion(name: string): string | undefined {
  let best: { region: string; distance: number } | undefined;
  for (const region of AWS_REGIONS) {
    // The distance is at least the length difference: skip the quadratic work for far-off (or huge) values.
    if (Math.abs(name.length - region.length) > 3) continue;
    const distance = editDistance(name, region);
    if (!best || distance < best.distance) best = { region, distance };
  }
  return best && best.distance <= 3 ? best.region : undefined;
}

/** AWS partitions of the Regions in {@link AWS_REGIONS}: the second field of every ARN. */
export const AWS_PARTITIONS = ["aws", "aws-cn", "aws-us-gov", "aws-eusc"] as const;
export type AwsPartition = (typeof AWS_PARTITIONS)[number];

/**
 * The partition of a Region: ARNs used there must name it (IAM rejects a role or principal of
 * another partition). China Regions are `cn-*`, GovCloud `us-gov-*`, the European Sovereign
 * Cloud `eusc-*`; every other Region in {@link AWS_REGIONS} is in `aws`.
 */
export function regionPartition(region: string): AwsPartition {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  if (region.startsWith("eusc-")) return "aws-eusc";
  return "aws";
}
