import { DataAwsIamPolicyDocument, type DataAwsIamPolicyDocumentStatement } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import type { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import type { Construct } from "constructs";

/** How long replaced versions are kept, and what the bucket policy allows besides TLS-only access. */
export interface PrivateBucketSettings {
  /** Days a replaced object version is kept. */
  readonly noncurrentDays: number;
  /** The lifecycle rule's id (part of the resource's configuration). */
  readonly lifecycleRuleId: string;
  /** More bucket policy statements. @default [] */
  readonly statements?: readonly DataAwsIamPolicyDocumentStatement[];
}

/**
 * What every egresslink bucket gets: versioning, SSE-S3 with a bucket key, public access blocked,
 * ACLs off, old versions expired, and a policy refusing any request not made over TLS. A function,
 * so the resources keep the caller's construct IDs (`versioning`, `encryption`, `public-access`,
 * `ownership`, `lifecycle`, `policy-document`, `policy`).
 */
export function securePrivateBucket(scope: Construct, bucket: S3Bucket, settings: PrivateBucketSettings): void {
  const id = bucket.id;
  new S3BucketVersioningA(scope, "versioning", { bucket: id, versioningConfiguration: { status: "Enabled" } });
  new S3BucketServerSideEncryptionConfigurationA(scope, "encryption", {
    bucket: id,
    rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
  });
  const publicAccess = new S3BucketPublicAccessBlock(scope, "public-access", {
    bucket: id,
    blockPublicAcls: true,
    blockPublicPolicy: true,
    ignorePublicAcls: true,
    restrictPublicBuckets: true,
  });
  new S3BucketOwnershipControls(scope, "ownership", { bucket: id, rule: { objectOwnership: "BucketOwnerEnforced" } });
  new S3BucketLifecycleConfiguration(scope, "lifecycle", {
    bucket: id,
    rule: [
      {
        id: settings.lifecycleRuleId,
        status: "Enabled",
        filter: [{ prefix: "" }],
        noncurrentVersionExpiration: [{ noncurrentDays: settings.noncurrentDays }],
        abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
      },
    ],
  });
  const policy = new DataAwsIamPolicyDocument(scope, "policy-document", {
    statement: [
      {
        sid: "DenyInsecureTransport",
        effect: "Deny",
        actions: ["s3:*"],
        resources: [bucket.arn, `${bucket.arn}/*`],
        principals: [{ type: "*", identifiers: ["*"] }],
        condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
      },
      ...(settings.statements ?? []),
    ],
  });
  // After the public access block, or S3 may reject the policy while the block is being set.
  new S3BucketPolicy(scope, "policy", { bucket: id, policy: policy.json, dependsOn: [publicAccess] });
}
