import { S3Backend, type TerraformStack } from "cdktf";

/** Where the egress stacks keep their Terraform state. */
export interface StateLocation {
  /** S3 bucket holding the state files. */
  readonly bucket: string;
  /** Region of the bucket. */
  readonly region: string;
  /** Keys are `<keyPrefix>/<stack>.tfstate`. */
  readonly keyPrefix: string;
  /** Role to assume for the state (state in another account). @default - the caller's credentials */
  readonly roleArn?: string;
  /**
   * Where Terraform keeps the stack's other workspaces, and lists them on every run (`init`,
   * `plan`, a remote-state read). A role granted only its own keys (see `StateKeyGrant`) must be
   * able to list it: see {@link stackWorkspacePrefix}. @default - Terraform's "env:", shared by every stack
   */
  readonly workspaceKeyPrefix?: string;
}

/** The S3 key of a stack's state file. */
export function stateKey(keyPrefix: string, stackName: string): string {
  return `${keyPrefix}/${stackName}.tfstate`;
}

/** A workspace key prefix of the stack's own, `<keyPrefix>/<stack>`: listing `<keyPrefix>/<stack>/` shows no other stack's keys. */
export function stackWorkspacePrefix(keyPrefix: string, stackName: string): string {
  return `${keyPrefix}/${stackName}`;
}

/**
 * Stores `stack`'s state in S3, encrypted, with S3-native locking. cdktf 0.21's `S3Backend`
 * has no typed `useLockfile`, hence the override (DynamoDB locking is deprecated by Terraform).
 */
export function useS3Backend(stack: TerraformStack, location: StateLocation, stackName: string): S3Backend {
  const backend = new S3Backend(stack, {
    bucket: location.bucket,
    key: stateKey(location.keyPrefix, stackName),
    region: location.region,
    encrypt: true,
    assumeRole: location.roleArn ? { roleArn: location.roleArn } : undefined,
    workspaceKeyPrefix: location.workspaceKeyPrefix,
  });
  backend.addOverride("use_lockfile", true);
  return backend;
}
