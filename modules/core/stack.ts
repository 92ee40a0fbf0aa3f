import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { App, LocalBackend, TerraformStack } from "cdktf";
import { join, relative } from "node:path";
import type { Construct } from "constructs";
import { useCloudBackend, useS3Backend, type CloudWorkspace, type StateLocation } from "../state/backend";

/** Terraform versions our stacks accept: the S3 backend's `use_lockfile` is GA from 1.11. */
export const REQUIRED_TERRAFORM_VERSION = ">= 1.11.0";

/** Tag every egresslink resource carries, naming the stack that manages it. */
export const STACK_TAG = "egresslink:stack";

/** The provider and state settings every egresslink stack shares. */
export interface EgressStackProps {
  /** Region of the stack's AWS provider. */
  readonly region: string;
  /** Tags on every resource (provider `default_tags`). @default {} */
  readonly tags?: Readonly<Record<string, string>>;
  /** Refuse to run against any other account (provider `allowed_account_ids`). @default - any account */
  readonly accountId?: string;
  /** Role the AWS provider assumes (resources in another account). @default - the caller's credentials */
  readonly roleArn?: string;
  /**
   * Where the state lives: an S3 location, an HCP Terraform / Terraform Enterprise workspace, or
   * `"local"` (`terraform.<id>.tfstate` in the working directory) for the bootstrap stack.
   */
  readonly state: StateLocation | CloudWorkspace | "local";
}

/** A Terraform stack with egresslink's provider and backend conventions. */
export class EgressStack extends TerraformStack {
  /** The stack's AWS provider: its Region, default tags, allowed account and assumed role. */
  readonly provider: AwsProvider;
  private readonly props: EgressStackProps;
  private readonly regionalProviders = new Map<string, AwsProvider>();

  constructor(scope: Construct, id: string, props: EgressStackProps) {
    super(scope, id);
    this.props = props;
    this.addOverride("terraform.required_version", REQUIRED_TERRAFORM_VERSION);
    this.provider = new AwsProvider(this, "aws", this.providerConfig(props.region));
    if (props.state === "local") {
      // Terraform runs in <outdir>/stacks/<id>, which every synth replaces: keep the state file
      // in the project directory instead, by a relative path so the JSON is portable.
      const stackDir = join(App.of(this).outdir, "stacks", id);
      new LocalBackend(this, { path: relative(stackDir, join(process.cwd(), `terraform.${id}.tfstate`)) });
    }
    else if ("organization" in props.state) useCloudBackend(this, props.state);
    else useS3Backend(this, props.state, id);
  }

  /** The provider for `region`: the stack's own, or an alias (`aws.<region_with_underscores>`) with the same settings. */
  providerFor(region: string): AwsProvider {
    if (region === this.props.region) return this.provider;
    let provider = this.regionalProviders.get(region);
    if (!provider) {
      provider = new AwsProvider(this, `aws-${region}`, { ...this.providerConfig(region), alias: region.replace(/-/g, "_") });
      this.regionalProviders.set(region, provider);
    }
    return provider;
  }

  private providerConfig(region: string) {
    const { props } = this;
    return {
      region,
      allowedAccountIds: props.accountId ? [props.accountId] : undefined,
      assumeRole: props.roleArn ? [{ roleArn: props.roleArn, sessionName: "egresslink" }] : undefined,
      defaultTags: [{ tags: { ...props.tags, [STACK_TAG]: this.node.id, "egresslink:managed-by": "egresslink" } }],
    };
  }
}
