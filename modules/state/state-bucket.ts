import { type DataAwsIamPolicyDocumentStatement } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { Construct } from "constructs";
import { securePrivateBucket } from "../core/private-bucket";

/** The state bucket's name, version retention and cross-account grants. */
export interface StateBucketProps {
  /** Globally unique bucket name. */
  readonly bucketName: string;
  /** Days a replaced state version is kept, to recover from a bad apply. @default 90 */
  readonly noncurrentVersionDays?: number;
  /** Roles (of other accounts) that may use one stack's state each, and nothing else in the bucket. @default [] */
  readonly grants?: readonly StateKeyGrant[];
}

/**
 * What the bucket policy lets one role do: read, write and unlock one stack's state, read other
 * stacks' state files, and list only what Terraform lists. A role in another account also needs
 * these S3 actions in its own IAM policy.
 */
export interface StateKeyGrant {
  /** The role's ARN. It must exist when the policy is applied: S3 refuses a principal it cannot find. */
  readonly roleArn: string;
  /** The stack's state key: s3:GetObject, s3:PutObject and s3:DeleteObject on it and its S3-native lock file `<key>.tflock`. */
  readonly stateKey: string;
  /** The stack's `workspace_key_prefix`: Terraform lists `<prefix>/` on every run and fails if it may not. */
  readonly workspaceKeyPrefix: string;
  /** State keys the role may only read (s3:GetObject), e.g. the hub's. @default [] */
  readonly readKeys?: readonly string[];
}

/**
 * The S3 bucket for Terraform state: versioned, encrypted, private, TLS-only, and protected
 * from `terraform destroy` (`prevent_destroy`), since losing it orphans every stack.
 */
export class StateBucket extends Construct {
  /** The bucket. */
  readonly bucket: S3Bucket;

  constructor(scope: Construct, id: string, props: StateBucketProps) {
    super(scope, id);
    const noncurrentDays = props.noncurrentVersionDays ?? 90;
    if (!Number.isInteger(noncurrentDays) || noncurrentDays < 1) {
      throw new Error(`StateBucket: 'noncurrentVersionDays' must be a positive whole number, got ${noncurrentDays}`);
    }

    this.bucket = new S3Bucket(this, "Resource", { bucket: props.bucketName, lifecycle: { preventDestroy: true } });
    securePrivateBucket(this, this.bucket, {
      noncurrentDays,
      lifecycleRuleId: "expire-old-state-versions",
      statements: (props.grants ?? []).flatMap((grant) => grantStatements(this.bucket.arn, grant)),
    });
  }
}

/** Allow statements for one {@link StateKeyGrant}; `bucketArn` is the bucket's ARN. */
function grantStatements(bucketArn: string, grant: StateKeyGrant): DataAwsIamPolicyDocumentStatement[] {
  const principals = [{ type: "AWS", identifiers: [grant.roleArn] }];
  const ownKeys = [grant.stateKey, `${grant.stateKey}.tflock`];
  const readKeys = grant.readKeys ?? [];
  return [
    { effect: "Allow", principals, actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], resources: ownKeys.map((key) => `${bucketArn}/${key}`) },
    ...(readKeys.length > 0 ? [{ effect: "Allow", principals, actions: ["s3:GetObject"], resources: readKeys.map((key) => `${bucketArn}/${key}`) }] : []),
    {
      effect: "Allow",
      principals,
      actions: ["s3:ListBucket"],
      resources: [bucketArn],
      condition: [{ test: "StringEquals", variable: "s3:prefix", values: [...ownKeys, `${grant.workspaceKeyPrefix}/`] }],
    },
  ];
}
