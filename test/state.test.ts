import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { configFrom, defaultConfig, defaultConfigData, resources, synthConfig } from "./helpers";

describe("egress-state stack", () => {
  const { json, text } = synthConfig(defaultConfig());
  const tf = json["egress-state"];
  const state = text["egress-state"];

  test("creates the named bucket, protected from destroy", () => {
    const buckets = Object.values(resources(tf, "aws_s3_bucket"));
    expect(buckets).toHaveLength(1);
    expect(buckets[0]).toMatchObject({ bucket: "egresslink-tfstate-example", lifecycle: { prevent_destroy: true } });
    expect(buckets[0].force_destroy).not.toBe(true);
  });

  test("versioned, encrypted, public access blocked", () => {
    expect(state).toHaveResourceWithProperties(S3BucketVersioningA, { versioning_configuration: { status: "Enabled" } });
    expect(state).toHaveResourceWithProperties(S3BucketServerSideEncryptionConfigurationA, {
      rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: "AES256" }, bucket_key_enabled: true }],
    });
    expect(state).toHaveResourceWithProperties(S3BucketPublicAccessBlock, {
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
  });

  test("bucket policy denies every request not made over TLS", () => {
    const policies = Object.values(tf.data?.aws_iam_policy_document ?? {}) as any[];
    expect(policies).toHaveLength(1);
    expect(policies[0].statement).toEqual([
      expect.objectContaining({
        effect: "Deny",
        actions: ["s3:*"],
        principals: [{ type: "*", identifiers: ["*"] }],
        condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
      }),
    ]);
    const bucketArn = `\${aws_s3_bucket.${Object.keys(resources(tf, "aws_s3_bucket"))[0]}.arn}`;
    expect(policies[0].statement[0].resources).toEqual([bucketArn, `${bucketArn}/*`]);
    const policy = Object.values(resources(tf, "aws_s3_bucket_policy"))[0];
    expect(policy.policy).toMatch(/^\$\{data\.aws_iam_policy_document\.[\w-]+\.json\}$/);
  });

  test("is skipped when the config names an existing bucket; the others still use it", () => {
    const data = defaultConfigData();
    data.state.create = false;
    const { json: existing } = synthConfig(configFrom(data));
    expect(existing["egress-state"]).toBeUndefined();
    expect(existing.hub.terraform?.backend?.s3).toMatchObject({ bucket: "egresslink-tfstate-example", key: "egresslink/hub.tfstate" });
  });
});
