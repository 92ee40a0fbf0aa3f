import { DataTerraformRemoteState, getHostNameType, NamedRemoteWorkspace, S3Backend, TerraformBackend, type TerraformRemoteState, type TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { workspaceName } from "./workspaces";
import type { CloudStateConfig, EgressConfig } from "../config/model";
import type { HubStateLocation } from "../hub/remote-state";

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

/** A stack's HCP Terraform / Terraform Enterprise workspace. */
export interface CloudWorkspace {
  /** The organization owning the workspace. */
  readonly organization: string;
  /** The workspace's name. */
  readonly workspace: string;
  /** The project a new workspace is created in. @default - the organization's default project */
  readonly project?: string;
  /** HCP Terraform, or a Terraform Enterprise host. @default "app.terraform.io" */
  readonly hostname?: string;
}

/**
 * Runs `stack` in its HCP Terraform / Terraform Enterprise workspace (a `cloud` block): the
 * workspace holds the state, and remote runs keep it there.
 */
export function useCloudBackend(stack: TerraformStack, location: CloudWorkspace): TerraformBackend {
  return new CloudBlock(stack, location);
}

/**
 * The `cloud` block. cdktf's own CloudBackend runs `terraform version` at synth time (the block
 * needs Terraform >= 1.1), so synthesis would fail wherever Terraform is not installed; our stacks
 * already require 1.11 (`required_version`). Its HCL form also drops the workspace's project.
 */
class CloudBlock extends TerraformBackend {
  constructor(
    scope: Construct,
    private readonly location: CloudWorkspace,
  ) {
    super(scope, "backend", "cloud");
  }

  private get attributes() {
    const { organization, hostname, workspace, project } = this.location;
    return { hostname, organization, workspaces: { name: workspace, project } };
  }

  override toTerraform() {
    return { terraform: { cloud: this.attributes } };
  }

  override toHclTerraform() {
    const text = (value: string | undefined) => (value === undefined ? undefined : { value, type: "simple", storageClassType: "string" });
    const { hostname, organization, workspaces } = this.attributes;
    return {
      terraform: {
        cloud: {
          hostname: text(hostname),
          organization: text(organization),
          workspaces: { value: { name: text(workspaces.name), project: text(workspaces.project) }, isBlock: true, type: "map", storageClassType: "stringmap" },
        },
      },
    };
  }

  /** cdktf's CLI tells HCP Terraform from Terraform Enterprise by this. */
  override toMetadata() {
    return { ...super.toMetadata(), cloud: getHostNameType(this.location.hostname) };
  }

  /** Cross-stack references read the workspace's outputs through the `remote` backend. */
  getRemoteStateDataSource(scope: Construct, name: string): TerraformRemoteState {
    const { organization, hostname, workspace } = this.location;
    return new DataTerraformRemoteState(scope, name, { organization, hostname, workspaces: new NamedRemoteWorkspace(workspace) });
  }
}

/** Where the config puts `stackName`'s state: its S3 key, or its workspace. */
export function stackStateLocation(config: EgressConfig, stackName: string): StateLocation | CloudWorkspace {
  const { state } = config;
  if (state.backend === "cloud") return cloudWorkspace(state, config.name, stackName);
  return { bucket: state.bucket, region: state.region, keyPrefix: state.keyPrefix, roleArn: state.roleArn };
}

/**
 * Where another stack reads `stackName`'s state (`terraform_remote_state`): its S3 key, with the
 * reader's `access` (a role, a workspace key prefix it may list), or its workspace.
 */
export function stackStateReader(config: EgressConfig, stackName: string, access: { readonly roleArn?: string; readonly workspaceKeyPrefix?: string } = { roleArn: config.state.backend === "s3" ? config.state.roleArn : undefined }): HubStateLocation | CloudWorkspace {
  const { state } = config;
  if (state.backend === "cloud") return cloudWorkspace(state, config.name, stackName);
  return { bucket: state.bucket, region: state.region, key: stateKey(state.keyPrefix, stackName), ...access };
}

/** `stackName`'s workspace under `state.workspaces`. */
export function cloudWorkspace(state: CloudStateConfig, deploymentName: string, stackName: string): CloudWorkspace {
  return { organization: state.organization, workspace: workspaceName(state.workspaces, deploymentName, stackName), project: state.project, hostname: state.hostname };
}
