import { DataTerraformRemoteState, DataTerraformRemoteStateS3, Fn, NamedRemoteWorkspace, Token, type TerraformRemoteState } from "cdktf";
import { Construct } from "constructs";
import type { CloudWorkspace } from "../state/backend";
import type { HubCoreOutputs, HubOutputName } from "./contract";

/** Where a hub stack keeps its state: a port block's (which a spoke reads), or the hub core's. */
export interface HubStateLocation {
  /** S3 bucket of the hub's state. */
  readonly bucket: string;
  /** Key of the state file, e.g. `egresslink/hub-ports-3100.tfstate` for a spoke on port 3128. */
  readonly key: string;
  /** Region of the bucket. */
  readonly region: string;
  /** Role to assume to read it (state in another account). @default - the caller's credentials */
  readonly roleArn?: string;
  /**
   * Workspace key prefix Terraform lists before it reads the state (it does on every read). A role
   * that may list only its own stack's prefix reads with that one. @default - Terraform's "env:"
   */
  readonly workspaceKeyPrefix?: string;
}

/**
 * Reads the hub contract (see `HubOutputs`) at plan time from the state of the spoke's port block
 * (or the hub core's outputs, see `HubCoreOutputs`, from the core's state): S3 state, or an HCP
 * Terraform / Terraform Enterprise workspace through the `remote` backend (the workspace must
 * share its state with the reader's).
 */
export class HubRemoteState extends Construct {
  /** The `terraform_remote_state` data source; read outputs through the typed accessors rather than by name. */
  readonly state: TerraformRemoteState;

  constructor(scope: Construct, id: string, location: HubStateLocation | CloudWorkspace) {
    super(scope, id);
    const required = "organization" in location ? { organization: location.organization, workspace: location.workspace } : { bucket: location.bucket, key: location.key, region: location.region };
    for (const [key, value] of Object.entries(required)) {
      if (!value) throw new Error(`HubRemoteState: '${key}' of the hub's state location must not be empty`);
    }
    this.state =
      "organization" in location
        ? new DataTerraformRemoteState(this, "Resource", { organization: location.organization, hostname: location.hostname, workspaces: new NamedRemoteWorkspace(location.workspace) })
        : new DataTerraformRemoteStateS3(this, "Resource", {
            bucket: location.bucket,
            key: location.key,
            region: location.region,
            assumeRole: location.roleArn ? { roleArn: location.roleArn } : undefined,
            workspaceKeyPrefix: location.workspaceKeyPrefix,
          });
  }

  /** A hub output by name. */
  output(name: HubOutputName): string {
    return this.state.getString(name);
  }

  /** ARN of the resource configuration the hub made for `spokeName`; plan fails if the hub has none. */
  resourceConfigurationArn(spokeName: string): string {
    return Token.asString(Fn.lookup(this.state.get("resource_configuration_arns" satisfies HubOutputName), spokeName));
  }

  /** ARN of the RAM share holding `spokeName`'s resource configuration (spokes in other accounts only). */
  resourceShareArn(spokeName: string): string {
    return Token.asString(Fn.lookup(this.state.get("resource_share_arns" satisfies HubOutputName), spokeName));
  }

  /** AZ IDs of the resource gateway's subnets. */
  gatewayAvailabilityZoneIds(): string[] {
    return this.state.getList("gateway_availability_zone_ids" satisfies HubOutputName);
  }

  /** Every output of the hub core (read from the core's state), typed. */
  coreOutputs(): HubCoreOutputs {
    // Spelled out, so that the compiler checks every field against the contract and its type.
    const text = (name: keyof HubCoreOutputs) => this.state.getString(name);
    const list = (name: keyof HubCoreOutputs) => this.state.getList(name);
    return {
      region: text("region"),
      vpc_id: text("vpc_id"),
      vpc_cidr: text("vpc_cidr"),
      private_subnet_ids: list("private_subnet_ids"),
      gateway_subnet_ids: list("gateway_subnet_ids"),
      gateway_availability_zone_ids: list("gateway_availability_zone_ids"),
      nat_public_ips: list("nat_public_ips"),
      resource_gateway_arn: text("resource_gateway_arn"),
      proxy_config_parameter: text("proxy_config_parameter"),
      proxy_log_group: text("proxy_log_group"),
      resource_gateway_id: text("resource_gateway_id"),
      gateway_security_group_id: text("gateway_security_group_id"),
      proxy_security_group_id: text("proxy_security_group_id"),
      proxy_nlb_security_group_id: text("proxy_nlb_security_group_id"),
      proxy_launch_template_id: text("proxy_launch_template_id"),
      proxy_launch_template_version: text("proxy_launch_template_version"),
      proxy_config_bucket: text("proxy_config_bucket"),
      alarm_topic_arn: text("alarm_topic_arn"),
    };
  }

  /** The proxy port of `spokeName`. */
  proxyPort(spokeName: string): number {
    return Token.asNumber(Fn.lookup(this.state.get("proxy_ports" satisfies HubOutputName), spokeName));
  }
}
