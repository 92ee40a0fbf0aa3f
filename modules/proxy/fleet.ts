import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import type { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import type { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbListener } from "@cdktf/provider-aws/lib/lb-listener";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { NetworkInterface } from "@cdktf/provider-aws/lib/network-interface";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3Object } from "@cdktf/provider-aws/lib/s3-object";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Fn, Token } from "cdktf";
import { Construct } from "constructs";
import { amazonLinux2023Image, hardenedLaunchSettings, managedInstanceRole, selfHealingGroup } from "../core/instance";
import { securePrivateBucket } from "../core/private-bucket";
import { portBlockConfigKey, portBlockParameterName, portBlockParameterPath, PROXY_CONFIG_KEY, proxyConfigParameterName, proxyConfigPointer, terraformLiteral } from "./config-delivery";
import { PORT_BLOCK_SIZE, portBlocks, type PortBlock } from "./port-blocks";
import { PROXY_HEALTH_PORT, type ProxyListener } from "./squid-conf";
import { PROXY_ENI_TAG, renderProxyUserData } from "./user-data";

/** The fleet's network placement, size, policy and listeners. */
export interface ProxyFleetProps {
  /** Prefix of resource names, e.g. `egress`. */
  readonly name: string;
  /** Region of the fleet (names the IAM role, which is account-wide, and the AMI lookups). */
  readonly region: string;
  /** The hub VPC the instances, security groups and load balancers live in. */
  readonly vpcId: string;
  /** Private subnets, one per AZ in AZ order, for the instances. The single-mode ENI lives in the first. */
  readonly subnetIds: readonly string[];
  /**
   * ha: the NLBs' subnets. Give them subnets of their own spanning every AZ the instances may ever
   * use: an NLB cannot leave a subnet without being replaced (a new DNS name under every resource
   * configuration), and instances in an AZ the NLB is not in get no traffic.
   * @default - subnetIds
   */
  readonly loadBalancerSubnetIds?: readonly string[];
  /**
   * The base squid.conf (see `renderSquidBase`): stored in S3, never in user data. Each port block
   * (see `ProxyPortBlock`) adds its spokes' part.
   */
  readonly baseConfig: string;
  /** Security group of the clients (the resource gateway); admitted to the health port only here, to each block's ports by the block. */
  readonly clientSecurityGroupId: string;
  /** `ha`: Auto Scaling group(s) across the AZs behind internal NLB(s); `single`: one instance re-attaching a fixed-IP ENI. @default "ha" */
  readonly mode?: "ha" | "single";
  /** EC2 instance type; Graviton types get the arm64 AMI. @default "t4g.small" */
  readonly instanceType?: string;
  /** ha: instances per Auto Scaling group (one per port block, see `ProxyPortBlock`), at least 2; checked here. @default 2 */
  readonly minInstances?: number;
  /** ha: most instances per group; checked here. @default - minInstances */
  readonly maxInstances?: number;
  /** Encrypted gp3 root volume. @default 16 */
  readonly rootVolumeGiB?: number;
  /** Ports the proxy may reach on the internet: 80 and these. @default [443] */
  readonly connectPorts?: readonly number[];
  /** CloudWatch Logs retention of access.log and cache.log. @default 30 */
  readonly logRetentionDays?: number;
  /**
   * single: the ENI's fixed private IP, inside the first subnet. Required in single mode.
   * @default - none (ha mode has no fixed address)
   */
  readonly fixedIp?: string;
}

/** Where a spoke's resource configuration points: the NLB's DNS name (ha) or the fixed IP (single). */
export type ProxyTarget = { readonly kind: "dns"; readonly domainName: string } | { readonly kind: "ip"; readonly ipAddress: string };

/**
 * The Squid fleet's shared part (the hub core): what no spoke changes. Instances are SSM-managed
 * (no SSH key), IMDSv2-only, with encrypted volumes. squid.conf is objects in a private bucket of
 * its own: the base config here, one fragment per port block (see `ProxyPortBlock`); an SSM
 * parameter per object names its current version, which the instances check every minute (IAM:
 * those parameters and objects only), so an allow-list change writes one new object version and
 * its pointer, and nothing else. Logs go to a CloudWatch log group (see `HubMonitoring` for the
 * metrics made of them).
 *
 * ha: the launch template every port block's Auto Scaling group runs, and the NLBs' security
 * group. single: an Auto Scaling group of one in the first subnet that attaches a persistent ENI
 * with a fixed IP at boot (IAM: that ENI only) and serves every block.
 */
export class ProxyFleet extends Construct {
  /** The SSM parameter naming the base config object's current version (see `proxyConfigPointer`); the instances poll it. */
  readonly configParameter: SsmParameter;
  /** The config bucket (versioned, private, TLS-only). */
  readonly configBucket: S3Bucket;
  /** The base squid.conf in the config bucket. */
  readonly configObject: S3Object;
  /** CloudWatch Logs group of access.log and cache.log. */
  readonly logGroup: CloudwatchLogGroup;
  /** The instances' role: SSM access, the config pointers and objects, the logs, and nothing else. */
  readonly role: IamRole;
  /** The instances' launch template (IMDSv2, encrypted root volume, the rendered user data). */
  readonly launchTemplate: LaunchTemplate;
  /** The instances' security group. */
  readonly securityGroup: SecurityGroup;
  /**
   * The NLBs' security group (ha only).
   * @default - none in single mode
   */
  readonly loadBalancerSecurityGroup?: SecurityGroup;
  /**
   * The one instance's group (single only; in ha each port block has its own).
   * @default - none in ha mode
   */
  readonly singleGroup?: AutoscalingGroup;
  /** The fixed-IP ENI (single only). */
  readonly networkInterface?: NetworkInterface;

  constructor(scope: Construct, id: string, props: ProxyFleetProps) {
    super(scope, id);
    const mode = props.mode ?? "ha";
    const instanceType = props.instanceType ?? "t4g.small";
    const minInstances = mode === "single" ? 1 : (props.minInstances ?? 2);
    const maxInstances = mode === "single" ? 1 : (props.maxInstances ?? minInstances);
    validate(props, mode, minInstances, maxInstances);
    const { name } = props;
    // Literal names: the user data is base64-encoded here, where a Terraform reference could not resolve.
    const parameterName = proxyConfigParameterName(name);
    const blockPath = portBlockParameterPath(name);
    const logGroupName = `/egresslink/${name}/proxy`;

    // Its own bucket: the name is generated (bucket names are global); it holds only generated config, so it may go with the hub.
    const store = new Construct(this, "config-bucket");
    this.configBucket = new S3Bucket(store, "Resource", { bucketPrefix: `${name}-proxy-config-`, forceDestroy: true, tags: { Name: `${name}-proxy-config` } });
    securePrivateBucket(store, this.configBucket, { noncurrentDays: 30, lifecycleRuleId: "expire-old-config-versions" });
    this.configObject = new S3Object(store, "squid-conf", {
      bucket: this.configBucket.id,
      key: PROXY_CONFIG_KEY,
      content: terraformLiteral(props.baseConfig),
      contentType: "text/plain; charset=utf-8",
    });
    this.configParameter = new SsmParameter(this, "config", {
      name: parameterName,
      description: "egresslink: where the base squid.conf is (its S3 object version); the proxies apply a change within a minute",
      type: "String",
      value: proxyConfigPointer(this.configBucket.bucket, PROXY_CONFIG_KEY, this.configObject.versionId),
    });
    this.logGroup = new CloudwatchLogGroup(this, "logs", { name: logGroupName, retentionInDays: props.logRetentionDays ?? 30 });

    this.securityGroup = new SecurityGroup(this, "sg", {
      name: `${name}-proxy`,
      description: "egresslink proxy instances: spoke ports from the front only; web egress",
      vpcId: props.vpcId,
      tags: { Name: `${name}-proxy` },
    });
    for (const port of [...new Set([80, ...(props.connectPorts ?? [443])])].sort((a, b) => a - b)) {
      new VpcSecurityGroupEgressRule(this, `egress-${port}`, {
        securityGroupId: this.securityGroup.id,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        cidrIpv4: "0.0.0.0/0",
        description: `proxied and system traffic to port ${port}`,
      });
    }

    const eniTag = `${name}-proxy`;
    if (mode === "single") {
      this.networkInterface = new NetworkInterface(this, "eni", {
        subnetId: props.subnetIds[0],
        privateIps: [props.fixedIp as string],
        securityGroups: [this.securityGroup.id],
        description: "egresslink proxy: fixed address, re-attached by each replacement instance",
        tags: { Name: `${name}-proxy`, [PROXY_ENI_TAG]: eniTag },
      });
    }

    const singleGroupName = `${name}-proxy`;
    const { role, profile } = managedInstanceRole(this, {
      name: `${name}-proxy-${props.region}`,
      region: props.region,
      policyName: "egresslink-proxy",
      statements: [
        { sid: "ReadProxyConfig", actions: ["ssm:GetParameter"], resources: [this.configParameter.arn] },
        // The port blocks' parameters: the path itself (GetParametersByPath) and what lies under it.
        { sid: "ReadPortBlockConfig", actions: ["ssm:GetParametersByPath", "ssm:GetParameter"], resources: [parameterArn(this.configParameter.arn, parameterName, blockPath), parameterArn(this.configParameter.arn, parameterName, `${blockPath}/*`)] },
        { sid: "FetchProxyConfig", actions: ["s3:GetObject", "s3:GetObjectVersion"], resources: [`${this.configBucket.arn}/${PROXY_CONFIG_KEY}`, `${this.configBucket.arn}/${portBlockConfigKey("*")}`] },
        { sid: "ShipProxyLogs", actions: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"], resources: [this.logGroup.arn, `${this.logGroup.arn}:*`] },
      ],
      attachEni: this.networkInterface ? { eniArn: this.networkInterface.arn, groupName: singleGroupName, sidNoun: "Proxy" } : undefined,
    });
    this.role = role;
    const userData = renderProxyUserData({
      region: props.region,
      configParameterName: parameterName,
      portBlockParameterPath: blockPath,
      logGroupName,
      eniTag: mode === "single" ? eniTag : undefined,
    });
    this.launchTemplate = new LaunchTemplate(this, "launch-template", {
      name: `${name}-proxy`,
      description: "egresslink proxy (Squid on Amazon Linux 2023)",
      // Resolved at each launch: replacements get the current AMI without a template change.
      imageId: amazonLinux2023Image(instanceType),
      instanceType,
      iamInstanceProfile: { arn: profile.arn },
      vpcSecurityGroupIds: [this.securityGroup.id],
      ...hardenedLaunchSettings(props.rootVolumeGiB ?? 16),
      userData: base64Literal(userData),
      updateDefaultVersion: true,
      tagSpecifications: ["instance", "volume"].map((resourceType) => ({ resourceType, tags: { Name: `${name}-proxy` } })),
    });

    if (mode === "single") {
      // The ENI lives in one AZ, so the group does too; every port block is served by the one instance.
      this.singleGroup = selfHealingGroup(this, "asg", { name: singleGroupName, launchTemplate: this.launchTemplate, subnetIds: [props.subnetIds[0]], minSize: 1, maxSize: 1, healthCheckType: "EC2", nameTag: eniTag });
    } else {
      const frontSg = new SecurityGroup(this, "nlb-sg", {
        name: `${name}-proxy-nlb`,
        description: "egresslink proxy NLBs: spoke ports from the clients, to the instances",
        vpcId: props.vpcId,
        tags: { Name: `${name}-proxy-nlb` },
      });
      this.loadBalancerSecurityGroup = frontSg;
      const health = { fromPort: PROXY_HEALTH_PORT, toPort: PROXY_HEALTH_PORT, description: "NLB health checks of Squid" };
      allowEgress(this, "nlb-to-proxy-health", frontSg.id, this.securityGroup.id, health);
      admit(this, "proxy-from-nlb-health", this.securityGroup.id, frontSg.id, health);
    }
  }
}

/** What a port block builds on: the fleet's shared part, by ID (literal, or read from the hub core's state). */
export interface ProxyFleetAttributes {
  /** The hub VPC. */
  readonly vpcId: string;
  /** Private subnets of the instances, one per AZ in AZ order. */
  readonly subnetIds: readonly string[];
  /** ha: the NLBs' subnets (see `ProxyFleetProps.loadBalancerSubnetIds`). @default - subnetIds */
  readonly loadBalancerSubnetIds?: readonly string[];
  /** Security group of the clients (the resource gateway). */
  readonly clientSecurityGroupId: string;
  /** The instances' security group. */
  readonly securityGroupId: string;
  /** ha: the NLBs' security group. @default - none (single mode) */
  readonly loadBalancerSecurityGroupId?: string;
  /** ha: the instances' launch template. @default - none (single mode) */
  readonly launchTemplateId?: string;
  /** ha: the version of it the group runs. @default - none (single mode) */
  readonly launchTemplateVersion?: string;
  /** The config bucket (see `ProxyFleet.configBucket`). */
  readonly configBucket: string;
}

/** One port block of the fleet: its spokes' ports and config. */
export interface ProxyPortBlockProps {
  /** Prefix of resource names, as the fleet's. */
  readonly name: string;
  /** The block's first port (see `portBlocks`): its stable key. */
  readonly start: number;
  /** The block's spokes, each on a port from `start` to `start + PORT_BLOCK_SIZE - 1`. */
  readonly listeners: readonly ProxyListener[];
  /** The block's part of squid.conf (see `renderSquidPortBlock`). */
  readonly config: string;
  /** The fleet's shared part. */
  readonly fleet: ProxyFleetAttributes;
  /** As the fleet's. @default "ha" */
  readonly mode?: "ha" | "single";
  /** ha: instances in the block's group. @default 2 */
  readonly minInstances?: number;
  /** ha: most instances in the block's group. @default - minInstances */
  readonly maxInstances?: number;
  /** single: the fleet's fixed IP, every spoke's target. Required in single mode. @default - none (ha) */
  readonly fixedIp?: string;
}

/**
 * The part of the fleet that grows with spokes, one per port block (see `portBlocks`): the block's
 * squid.conf fragment (an object in the fleet's bucket and the SSM parameter naming its version,
 * under `portBlockParameterPath`), the security group rules opening its ports, and in ha an
 * internal NLB with one TCP listener and target group per spoke port (cross-zone, health checks on
 * Squid's health port) in front of an Auto Scaling group across all subnets running the fleet's
 * launch template. Its own stack, so that adding a spoke plans only that spoke's block.
 */
export class ProxyPortBlock extends Construct {
  /** The block's squid.conf fragment. */
  readonly configObject: S3Object;
  /** The SSM parameter naming the fragment's current version. */
  readonly configParameter: SsmParameter;
  /** ha: the block's NLB. @default - none (single) */
  readonly loadBalancer?: Lb;
  /** ha: the block's instances. @default - none (single: the fleet's one instance) */
  readonly autoScalingGroup?: AutoscalingGroup;
  /** Per spoke name: where its resource configuration points. */
  readonly targets: Readonly<Record<string, ProxyTarget>>;
  /** ha: per spoke name, its port's target group. @default - none (single) */
  readonly targetGroups: Readonly<Record<string, LbTargetGroup>>;

  constructor(scope: Construct, id: string, props: ProxyPortBlockProps) {
    super(scope, id);
    const mode = props.mode ?? "ha";
    const minInstances = props.minInstances ?? 2;
    const maxInstances = props.maxInstances ?? minInstances;
    const [block, ...others] = portBlocks(props.listeners);
    if (!block || others.length > 0 || block.start !== props.start) throw new Error(`ProxyPortBlock ${props.start}: every listener's port must be in ${props.start}-${props.start + PORT_BLOCK_SIZE - 1}`);
    if (mode === "single" && !props.fixedIp) throw new Error(`ProxyPortBlock ${props.start}: mode single needs 'fixedIp'`);
    if (mode === "ha" && !(props.fleet.launchTemplateId && props.fleet.launchTemplateVersion && props.fleet.loadBalancerSecurityGroupId)) {
      throw new Error(`ProxyPortBlock ${props.start}: mode ha needs the fleet's launch template and NLB security group`);
    }
    const { name, fleet, start } = props;
    const shard = new Construct(this, `ports-${start}`);
    const key = portBlockConfigKey(start);
    this.configObject = new S3Object(shard, "config", { bucket: fleet.configBucket, key, content: terraformLiteral(props.config), contentType: "text/plain; charset=utf-8" });
    this.configParameter = new SsmParameter(shard, "config-pointer", {
      name: portBlockParameterName(name, start),
      description: `egresslink: where squid.conf's part for ports ${block.fromPort}-${block.toPort} is (its S3 object version)`,
      type: "String",
      value: proxyConfigPointer(fleet.configBucket, key, this.configObject.versionId),
    });

    const targets: Record<string, ProxyTarget> = {};
    const groups: Record<string, LbTargetGroup> = {};
    if (mode === "single") {
      admit(this, `proxy-from-clients-${start}`, fleet.securityGroupId, fleet.clientSecurityGroupId, block);
      allowEgress(this, `clients-to-proxy-${start}`, fleet.clientSecurityGroupId, fleet.securityGroupId, block);
      for (const l of block.members) targets[l.name] = { kind: "ip", ipAddress: props.fixedIp as string };
    } else {
      const frontSg = fleet.loadBalancerSecurityGroupId as string;
      const nlb = new Lb(shard, "nlb", {
        name: `${name}-proxy-${start}`,
        internal: true,
        loadBalancerType: "network",
        subnets: [...(fleet.loadBalancerSubnetIds ?? fleet.subnetIds)],
        securityGroups: [frontSg],
        enableCrossZoneLoadBalancing: true,
        tags: { Name: `${name}-proxy-${start}` },
      });
      const targetGroups = block.members.map((l) => {
        const tg = new LbTargetGroup(shard, `tg-${l.name}`, {
          port: l.port,
          protocol: "TCP",
          vpcId: fleet.vpcId,
          targetType: "instance",
          // Instances then see the NLB's address, which the security groups can reference.
          preserveClientIp: "false",
          deregistrationDelay: "30",
          // Timeout explicit (CreateTargetGroup: 2-120 s, at most the interval) instead of the protocol's default
          // (TCP: 10 s, the whole interval): a target that hangs fails its check within half the interval.
          // On Squid's health port, not the spoke's: the Auto Scaling group replaces an instance any of its
          // target groups calls unhealthy, so one spoke port Squid could not bind would take out every spoke
          // of the block (and, being on every instance, loop). That spoke's failure is reported instead.
          healthCheck: { protocol: "TCP", port: String(PROXY_HEALTH_PORT), interval: 10, timeout: 5, healthyThreshold: 2, unhealthyThreshold: 2 },
          tags: { Name: `${name}-${l.name}`, "egresslink:spoke": l.name },
          // A new port replaces the group; the listener (updated in place) must move to the new one
          // before the old is deleted ("target group is currently in use by a listener"). Without a
          // `name`, the provider generates a unique one, so old and new can coexist.
          lifecycle: { createBeforeDestroy: true },
        });
        new LbListener(shard, `listener-${l.name}`, { loadBalancerArn: nlb.arn, port: l.port, protocol: "TCP", defaultAction: [{ type: "forward", targetGroupArn: tg.arn }] });
        targets[l.name] = { kind: "dns", domainName: nlb.dnsName };
        groups[l.name] = tg;
        return tg;
      });
      this.autoScalingGroup = selfHealingGroup(shard, `asg-${start}`, {
        name: `${name}-proxy-${start}`,
        launchTemplate: { id: fleet.launchTemplateId as string, version: fleet.launchTemplateVersion as string },
        subnetIds: fleet.subnetIds,
        minSize: minInstances,
        maxSize: maxInstances,
        healthCheckType: "ELB",
        targetGroupArns: targetGroups.map((tg) => tg.arn),
        nameTag: `${name}-proxy`,
      });
      this.loadBalancer = nlb;
      allowEgress(this, `clients-to-nlb-${start}`, fleet.clientSecurityGroupId, frontSg, block);
      admit(this, `nlb-from-clients-${start}`, frontSg, fleet.clientSecurityGroupId, block);
      allowEgress(this, `nlb-to-proxy-${start}`, frontSg, fleet.securityGroupId, block);
      admit(this, `proxy-from-nlb-${start}`, fleet.securityGroupId, frontSg, block);
    }
    this.targets = targets;
    this.targetGroups = groups;
  }
}

function admit(scope: Construct, id: string, securityGroupId: string, from: string, ports: PortBlock<ProxyListener> | PortRange): void {
  new VpcSecurityGroupIngressRule(scope, id, { securityGroupId, referencedSecurityGroupId: from, ipProtocol: "tcp", ...portRule(ports) });
}

function allowEgress(scope: Construct, id: string, securityGroupId: string, to: string, ports: PortBlock<ProxyListener> | PortRange): void {
  new VpcSecurityGroupEgressRule(scope, id, { securityGroupId, referencedSecurityGroupId: to, ipProtocol: "tcp", ...portRule(ports) });
}

/** The ARN of the parameter `name` given the ARN of `known` (names start with "/", ARNs hold them after "parameter"). */
function parameterArn(knownArn: string, known: string, name: string): string {
  return Fn.replace(knownArn, known, name);
}

/** Ports a security group rule opens that belong to no spoke (the health check). */
interface PortRange {
  readonly fromPort: number;
  readonly toPort: number;
  readonly description: string;
}

function portRule(ports: PortBlock<ProxyListener> | PortRange): { fromPort: number; toPort: number; description: string } {
  return { fromPort: ports.fromPort, toPort: ports.toPort, description: "members" in ports ? describe(ports) : ports.description };
}

/** Base64 of a string that must hold no Terraform reference (its placeholder would be encoded instead). */
function base64Literal(text: string): string {
  if (Token.isUnresolved(text)) throw new Error("ProxyFleet: the user data must not contain Terraform references");
  return Buffer.from(text, "utf8").toString("base64");
}

function describe(block: PortBlock<ProxyListener>): string {
  const names = block.members.map((m) => m.name).join(", ");
  return `spoke ports ${block.fromPort}-${block.toPort}: ${names.length > 200 ? `${block.members.length} spokes` : names}`;
}

function validate(props: ProxyFleetProps, mode: "ha" | "single", min: number, max: number): void {
  const where = `ProxyFleet '${props.name}'`;
  if (props.subnetIds.length < 1) throw new Error(`${where}: 'subnetIds' must list at least one subnet`);
  if (mode === "ha" && props.subnetIds.length < 2) throw new Error(`${where}: mode ha needs 'subnetIds' in at least 2 AZs`);
  if (mode === "ha" && min < 2) throw new Error(`${where}: 'minInstances' must be at least 2 in mode ha, got ${min}`);
  if (max < min) throw new Error(`${where}: 'maxInstances' (${max}) is below 'minInstances' (${min})`);
  if (mode === "single" && !props.fixedIp) throw new Error(`${where}: mode single needs 'fixedIp'`);
  if (mode === "ha" && props.fixedIp) throw new Error(`${where}: 'fixedIp' only applies to mode single`);
}
