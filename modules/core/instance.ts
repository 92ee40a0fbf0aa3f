import { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsIamPolicyDocument, type DataAwsIamPolicyDocumentStatement } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import type { LaunchTemplate, LaunchTemplateConfig } from "@cdktf/provider-aws/lib/launch-template";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import type { Construct } from "constructs";

/**
 * What every egresslink EC2 instance shares (the proxies and the Linux routers): an SSM-managed
 * role with a least-privilege inline policy, an optional permission to attach one persistent ENI,
 * hardened launch-template settings, and a self-healing Auto Scaling group. Functions rather than
 * a construct, so the resources keep the construct IDs of the caller.
 */

/** EC2 user data is capped at 16 KB before base64. */
export const USER_DATA_LIMIT_BYTES = 16 * 1024;

/** Throws when user data would exceed the EC2 limit; returns it otherwise. */
export function checkUserDataSize(userData: string, what: string): string {
  const size = Buffer.byteLength(userData, "utf8");
  if (size > USER_DATA_LIMIT_BYTES) throw new Error(`${what} is ${size} bytes; EC2 allows ${USER_DATA_LIMIT_BYTES}`);
  return userData;
}

/** EC2 instance types whose family has a `g` after the generation digit run on Graviton (arm64). */
export function isGravitonType(instanceType: string): boolean {
  return /^[a-z]+\d+[a-z-]*g[a-z-]*\./.test(instanceType);
}

/** Amazon Linux 2023 for the instance type's architecture, resolved at each launch (no template change per AMI release). */
export function amazonLinux2023Image(instanceType: string): string {
  return `resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${isGravitonType(instanceType) ? "arm64" : "x86_64"}`;
}

/** Launch-template settings every instance gets: IMDSv2 only (hop limit 1) and an encrypted gp3 root volume. */
export function hardenedLaunchSettings(rootVolumeGiB: number): Pick<LaunchTemplateConfig, "metadataOptions" | "blockDeviceMappings"> {
  return {
    metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
    blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeSize: rootVolumeGiB, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" } }],
  };
}

export interface ManagedInstanceRoleProps {
  /** Provider of the instance's Region. @default - the stack's default provider */
  readonly provider?: AwsProvider;
  /** Prefix of the construct IDs made in the caller's scope, e.g. `router-`. @default "" */
  readonly idPrefix?: string;
  /** Name of the role and instance profile (IAM names are account-wide: include the Region). */
  readonly name: string;
  /** Region of the instances (for the ENI's instance ARNs). */
  readonly region: string;
  /** Name of the inline policy. */
  readonly policyName: string;
  /** The inline policy's statements, beyond `AmazonSSMManagedInstanceCore`. @default [] */
  readonly statements?: readonly DataAwsIamPolicyDocumentStatement[];
  /**
   * Let instances of one Auto Scaling group attach one persistent ENI at boot: describe any ENI
   * (no resource-level permission exists), attach only that ENI, only to that group's instances.
   * `sidNoun` names the statements (`Find<noun>Eni`, `Attach<noun>Eni`). @default - no ENI permission
   */
  readonly attachEni?: { readonly eniArn: string; readonly groupName: string; readonly sidNoun: string };
  /**
   * Let instances report themselves unhealthy to this Auto Scaling group (and no other), which
   * then replaces them. @default - no Auto Scaling permission
   */
  readonly reportHealthTo?: string;
}

/** An instance role managed through SSM (no SSH) with a least-privilege inline policy, and its instance profile. */
export function managedInstanceRole(scope: Construct, props: ManagedInstanceRoleProps): { readonly role: IamRole; readonly profile: IamInstanceProfile } {
  const { provider } = props;
  const id = (name: string) => `${props.idPrefix ?? ""}${name}`;
  const partition = new DataAwsPartition(scope, id("partition"), { provider });
  const assume = new DataAwsIamPolicyDocument(scope, id("assume"), {
    provider,
    statement: [{ actions: ["sts:AssumeRole"], principals: [{ type: "Service", identifiers: ["ec2.amazonaws.com"] }] }],
  });
  const role = new IamRole(scope, id("role"), { provider, name: props.name, assumeRolePolicy: assume.json });
  new IamRolePolicyAttachment(scope, id("ssm-core"), { provider, role: role.name, policyArn: `arn:${partition.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore` });
  const statement = [...(props.statements ?? [])];
  const account = props.attachEni || props.reportHealthTo ? new DataAwsCallerIdentity(scope, id("account"), { provider }) : undefined;
  if (props.attachEni && account) {
    const { eniArn, groupName, sidNoun } = props.attachEni;
    statement.push(
      { sid: `Find${sidNoun}Eni`, actions: ["ec2:DescribeNetworkInterfaces"], resources: ["*"] },
      { sid: `Attach${sidNoun}Eni`, actions: ["ec2:AttachNetworkInterface"], resources: [eniArn] },
      {
        sid: "AttachToOwnGroup",
        actions: ["ec2:AttachNetworkInterface"],
        resources: [`arn:${partition.partition}:ec2:${props.region}:${account.accountId}:instance/*`],
        condition: [{ test: "StringEquals", variable: "aws:ResourceTag/aws:autoscaling:groupName", values: [groupName] }],
      },
    );
  }
  if (props.reportHealthTo && account) {
    statement.push({
      sid: "ReportOwnHealth",
      actions: ["autoscaling:SetInstanceHealth"],
      resources: [`arn:${partition.partition}:autoscaling:${props.region}:${account.accountId}:autoScalingGroup:*:autoScalingGroupName/${props.reportHealthTo}`],
    });
  }
  if (statement.length > 0) {
    const policy = new DataAwsIamPolicyDocument(scope, id("policy"), { provider, statement });
    new IamRolePolicy(scope, id("inline"), { provider, name: props.policyName, role: role.id, policy: policy.json });
  }
  const profile = new IamInstanceProfile(scope, id("profile"), { provider, name: props.name, role: role.name });
  return { role, profile };
}

export interface SelfHealingGroupProps {
  readonly provider?: AwsProvider;
  /** Group name (account- and Region-wide). */
  readonly name: string;
  /** The template, or its ID and the version to run (a template in another stack, read from its state). */
  readonly launchTemplate: LaunchTemplate | { readonly id: string; readonly version: string };
  readonly subnetIds: readonly string[];
  readonly minSize: number;
  readonly maxSize: number;
  /** `ELB` when target groups judge health. */
  readonly healthCheckType: "ELB" | "EC2";
  /** @default - none */
  readonly targetGroupArns?: readonly string[];
  /** Value of the instances' Name tag. */
  readonly nameTag: string;
}

/** The Auto Scaling group metrics egresslink's alarms and dashboard read. */
const GROUP_METRICS = ["GroupDesiredCapacity", "GroupInServiceInstances", "GroupMinSize", "GroupMaxSize"] as const;

/**
 * An Auto Scaling group that replaces unhealthy instances and rolls a new launch-template version
 * (keeping half of the group in service, or none when it has one instance).
 */
export function selfHealingGroup(scope: Construct, id: string, props: SelfHealingGroupProps): AutoscalingGroup {
  return new AutoscalingGroup(scope, id, {
    provider: props.provider,
    name: props.name,
    minSize: props.minSize,
    maxSize: props.maxSize,
    desiredCapacity: props.minSize,
    vpcZoneIdentifier: [...props.subnetIds],
    healthCheckType: props.healthCheckType,
    // Package install and the first configuration take about two minutes.
    healthCheckGracePeriod: 300,
    targetGroupArns: props.targetGroupArns?.length ? [...props.targetGroupArns] : undefined,
    launchTemplate: { id: props.launchTemplate.id, version: "latestVersion" in props.launchTemplate ? `${props.launchTemplate.latestVersion}` : props.launchTemplate.version },
    instanceRefresh: { strategy: "Rolling", preferences: { minHealthyPercentage: props.minSize > 1 ? 50 : 0 } },
    // Group metrics (free at this granularity) for the alarms and dashboards on instances in service.
    enabledMetrics: [...GROUP_METRICS],
    metricsGranularity: "1Minute",
    tag: [{ key: "Name", value: props.nameTag, propagateAtLaunch: true }],
  });
}
