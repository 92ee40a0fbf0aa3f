import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { DataAwsSsmParameter } from "@cdktf/provider-aws/lib/data-aws-ssm-parameter";
import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { Construct } from "constructs";

export interface ProxyInstanceProps {
  /** Prefix of resource names, e.g. `egress-proxy`. */
  readonly name: string;
  readonly vpcId: string;
  /** Private subnet the instance runs in. */
  readonly subnetId: string;
  /** cloud-init user data (see `renderProxyUserData`). */
  readonly userData: string;
  /** EC2 instance type; Graviton types (t4g, m7g, ...) get the arm64 AMI. @default "t4g.small" */
  readonly instanceType?: string;
  /** Encrypted gp3 root volume size. @default 16 */
  readonly rootVolumeGiB?: number;
  /** Name of the IAM role and instance profile, which are global to the account (add the Region when a name is reused across Regions). @default - `name` */
  readonly iamName?: string;
}

/** EC2 instance types whose family has a `g` after the generation digit run on Graviton (arm64). */
export function isGravitonType(instanceType: string): boolean {
  return /^[a-z]+\d+[a-z-]*g[a-z-]*\./.test(instanceType);
}

/**
 * One Squid instance on Amazon Linux 2023: SSM-managed (no SSH key, no inbound admin port),
 * IMDSv2 only, encrypted root volume, egress to the web only. Ingress is the caller's to add
 * to {@link securityGroup}, naming who may reach which proxy port.
 */
export class ProxyInstance extends Construct {
  readonly instance: Instance;
  readonly securityGroup: SecurityGroup;
  readonly role: IamRole;

  constructor(scope: Construct, id: string, props: ProxyInstanceProps) {
    super(scope, id);
    const instanceType = props.instanceType ?? "t4g.small";
    const rootVolumeGiB = props.rootVolumeGiB ?? 16;
    if (!Number.isInteger(rootVolumeGiB) || rootVolumeGiB < 8) {
      throw new Error(`ProxyInstance '${props.name}': 'rootVolumeGiB' must be a whole number >= 8, got ${rootVolumeGiB}`);
    }

    this.securityGroup = new SecurityGroup(this, "sg", {
      name: props.name,
      description: "egresslink proxy: spoke ports from the resource gateway only; web egress",
      vpcId: props.vpcId,
      tags: { Name: props.name },
    });
    // The proxy fetches for its clients over HTTP(S); SSM and the package repos are HTTPS too.
    for (const port of [80, 443]) {
      new VpcSecurityGroupEgressRule(this, `egress-${port}`, {
        securityGroupId: this.securityGroup.id,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        cidrIpv4: "0.0.0.0/0",
        description: `proxied and system traffic to port ${port}`,
      });
    }

    const partition = new DataAwsPartition(this, "partition");
    const assume = new DataAwsIamPolicyDocument(this, "assume", {
      statement: [{ actions: ["sts:AssumeRole"], principals: [{ type: "Service", identifiers: ["ec2.amazonaws.com"] }] }],
    });
    const iamName = props.iamName ?? props.name;
    this.role = new IamRole(this, "role", { name: iamName, assumeRolePolicy: assume.json });
    new IamRolePolicyAttachment(this, "ssm-core", {
      role: this.role.name,
      policyArn: `arn:${partition.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore`,
    });
    const profile = new IamInstanceProfile(this, "profile", { name: iamName, role: this.role.name });

    const ami = new DataAwsSsmParameter(this, "ami", {
      name: `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${isGravitonType(instanceType) ? "arm64" : "x86_64"}`,
    });
    this.instance = new Instance(this, "Resource", {
      ami: ami.value,
      instanceType,
      subnetId: props.subnetId,
      vpcSecurityGroupIds: [this.securityGroup.id],
      iamInstanceProfile: profile.name,
      associatePublicIpAddress: false,
      userData: props.userData,
      userDataReplaceOnChange: true,
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
      rootBlockDevice: { encrypted: true, volumeType: "gp3", volumeSize: rootVolumeGiB, deleteOnTermination: true },
      tags: { Name: props.name },
      // New AMI releases are patched in place through SSM, not by replacing the proxy.
      lifecycle: { ignoreChanges: ["ami"] },
    });
  }
}
