import { CloudwatchDashboard } from "@cdktf/provider-aws/lib/cloudwatch-dashboard";
import { CloudwatchLogMetricFilter } from "@cdktf/provider-aws/lib/cloudwatch-log-metric-filter";
import { CloudwatchMetricAlarm, type CloudwatchMetricAlarmConfig } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicPolicy } from "@cdktf/provider-aws/lib/sns-topic-policy";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { Construct } from "constructs";
import { metricNamespace, PROXY_METRICS, proxyMetricFilters, SPOKE_DIMENSION, type ProxyMetric } from "./metrics";
import { renderHubDashboard } from "./dashboard";

/** What the hub core watches. */
export interface HubMonitoringProps {
  /** Prefix of AWS names (the deployment's name); the metrics' namespace is `egresslink/<name>`. */
  readonly name: string;
  /** Region of the hub (the dashboard's widgets). */
  readonly region: string;
  /** The proxies' log group (access.log and cache.log). */
  readonly logGroupName: string;
  /** Every spoke's port: the per-spoke filters cover the ranges they fall in (see `proxyMetricFilters`). */
  readonly spokePorts: readonly number[];
  /** The hub's NAT gateways by AZ slot (`az1`, ...): one port-allocation alarm each. @default {} */
  readonly natGatewayIds?: Readonly<Record<string, string>>;
  /** single mode: the one proxy's Auto Scaling group, alarmed when it has no instance in service. @default - none (ha: each port block alarms on its own group) */
  readonly singleGroupName?: string;
  /**
   * The SNS topic alarms notify: an existing one by ARN, or one created here with a KMS key of its own
   * (CloudWatch cannot publish to a topic under the AWS managed key) and these email subscriptions.
   * @default - none: alarms change state without notifying anyone
   */
  readonly alarmTopic?: { readonly kind: "existing"; readonly arn: string } | { readonly kind: "create"; readonly emails: readonly string[] };
  /** One dashboard: per-spoke traffic and denials (top spokes), proxy health, NAT. @default true */
  readonly dashboard?: boolean;
}

/**
 * The hub core's monitoring: metric filters on the proxy log group that turn access-log and
 * port-check lines into per-spoke metrics (the spoke is a dimension: a few filters for any number
 * of spokes, see `proxyMetricFilters`), alarms on what no port block owns (config sync failures,
 * a spoke port Squid does not listen on, NAT port allocation errors, the single-mode instance),
 * an optional alarm topic, and one dashboard built on SEARCH expressions, so that it names no spoke
 * and does not change as spokes come and go. Each port block alarms on its own proxies (see
 * `PortBlockAlarms`).
 */
export class HubMonitoring extends Construct {
  /** By key (`requests-3000`, `config-sync-failures`, ...). */
  readonly metricFilters: Readonly<Record<string, CloudwatchLogMetricFilter>>;
  /** By key (`config-sync-failing`, `spoke-port-not-listening`, `nat-port-allocation-az1`, `proxy-in-service`). */
  readonly alarms: Readonly<Record<string, CloudwatchMetricAlarm>>;
  /** ARN of the topic the alarms notify. @default - none */
  readonly alarmTopicArn?: string;
  /** The dashboard. @default - none when disabled */
  readonly dashboard?: CloudwatchDashboard;

  constructor(scope: Construct, id: string, props: HubMonitoringProps) {
    super(scope, id);
    const { name } = props;
    const namespace = metricNamespace(name);
    const filters: Record<string, CloudwatchLogMetricFilter> = {};
    for (const f of proxyMetricFilters(props.spokePorts)) {
      const metric = PROXY_METRICS[f.metric];
      // No default value: CloudWatch allows none with dimensions; no line means nothing happened.
      filters[f.key] = new CloudwatchLogMetricFilter(this, `filter-${f.key}`, {
        name: `${name}-${f.key}`,
        logGroupName: props.logGroupName,
        pattern: f.pattern,
        metricTransformation: { name: metric.name, namespace, value: f.value, unit: metric.unit, ...(f.dimensions ? { dimensions: { ...f.dimensions } } : {}) },
      });
    }
    this.metricFilters = filters;

    this.alarmTopicArn = props.alarmTopic?.kind === "existing" ? props.alarmTopic.arn : props.alarmTopic ? this.createTopic(name, props.alarmTopic.emails) : undefined;
    const alarm = (key: string, config: Omit<CloudwatchMetricAlarmConfig, "alarmName" | "alarmActions" | "okActions">) =>
      new CloudwatchMetricAlarm(this, `alarm-${key}`, { alarmName: `${name}-${key}`, ...notify(this.alarmTopicArn), ...config });
    const logMetric = (metric: ProxyMetric) => ({ namespace, metricName: PROXY_METRICS[metric].name, statistic: "Sum", period: 60 });
    const alarms: Record<string, CloudwatchMetricAlarm> = {
      // The sync retries every minute: one failed run (an S3 or SSM hiccup) is not an alarm, three in five minutes are.
      "config-sync-failing": alarm("config-sync-failing", {
        alarmDescription: "egresslink: proxies failed to apply the config (rejected by squid -k parse, or S3/SSM unreachable); they keep the running one. See cache.log in the proxy log group",
        ...logMetric("syncFailures"),
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        threshold: 1,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        treatMissingData: "notBreaching",
      }),
      "spoke-port-not-listening": alarm("spoke-port-not-listening", {
        alarmDescription: `egresslink: Squid does not listen on a spoke's port on some proxy; the dashboard and the ${PROXY_METRICS.portDown.name} metric by ${SPOKE_DIMENSION} name the spoke`,
        ...logMetric("portsDown"),
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        threshold: 1,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        treatMissingData: "notBreaching",
      }),
    };
    for (const [slot, natGatewayId] of Object.entries(props.natGatewayIds ?? {})) {
      alarms[`nat-port-allocation-${slot}`] = alarm(`nat-port-allocation-${slot}`, {
        alarmDescription: `egresslink: the hub's NAT gateway in ${slot} could not allocate a source port (too many connections to one destination)`,
        namespace: "AWS/NATGateway",
        metricName: "ErrorPortAllocation",
        dimensions: { NatGatewayId: natGatewayId },
        statistic: "Sum",
        period: 300,
        comparisonOperator: "GreaterThanThreshold",
        threshold: 0,
        evaluationPeriods: 1,
        treatMissingData: "notBreaching",
      });
    }
    if (props.singleGroupName) {
      alarms["proxy-in-service"] = alarm("proxy-in-service", {
        alarmDescription: "egresslink: the single proxy has had no instance in service for 10 minutes (a replacement boots in about 2)",
        namespace: "AWS/AutoScaling",
        metricName: "GroupInServiceInstances",
        dimensions: { AutoScalingGroupName: props.singleGroupName },
        statistic: "Minimum",
        period: 60,
        comparisonOperator: "LessThanThreshold",
        threshold: 1,
        evaluationPeriods: 10,
        // The metric reads 0 when nothing is in service; no data means not collected yet (a new alarm, group metrics just enabled).
        treatMissingData: "missing",
      });
    }
    this.alarms = alarms;

    if (props.dashboard ?? true) {
      this.dashboard = new CloudwatchDashboard(this, "dashboard", {
        dashboardName: `${name}-egress`,
        dashboardBody: renderHubDashboard({ name, region: props.region, natGatewayIds: Object.values(props.natGatewayIds ?? {}), alarmArns: Object.values(alarms).map((a) => a.arn) }),
      });
    }
  }

  /** A topic under a KMS key of its own whose policy lets CloudWatch (this account's alarms) use it, with the email subscriptions. */
  private createTopic(name: string, emails: readonly string[]): string {
    const account = new DataAwsCallerIdentity(this, "account");
    const partition = new DataAwsPartition(this, "partition");
    const fromAlarms = { test: "StringEquals", variable: "aws:SourceAccount", values: [account.accountId] };
    const cloudwatch = [{ type: "Service", identifiers: ["cloudwatch.amazonaws.com"] }];
    const keyPolicy = new DataAwsIamPolicyDocument(this, "topic-key-policy", {
      statement: [
        { sid: "AccountAdministers", actions: ["kms:*"], resources: ["*"], principals: [{ type: "AWS", identifiers: [`arn:${partition.partition}:iam::${account.accountId}:root`] }] },
        { sid: "CloudWatchAlarmsPublish", actions: ["kms:Decrypt", "kms:GenerateDataKey*"], resources: ["*"], principals: cloudwatch, condition: [fromAlarms] },
      ],
    });
    const key = new KmsKey(this, "topic-key", { description: `egresslink ${name}: the alarm topic's messages`, enableKeyRotation: true, deletionWindowInDays: 7, policy: keyPolicy.json });
    const topic = new SnsTopic(this, "topic", { name: `${name}-egress-alarms`, kmsMasterKeyId: key.arn });
    const topicPolicy = new DataAwsIamPolicyDocument(this, "topic-policy", {
      statement: [
        { sid: "AccountManages", actions: ["sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:Subscribe", "sns:ListSubscriptionsByTopic", "sns:Publish"], resources: [topic.arn], principals: [{ type: "AWS", identifiers: [account.accountId] }] },
        { sid: "CloudWatchAlarmsPublish", actions: ["sns:Publish"], resources: [topic.arn], principals: cloudwatch, condition: [fromAlarms] },
        // Every message over TLS.
        { sid: "TlsOnly", effect: "Deny", actions: ["sns:Publish"], resources: [topic.arn], principals: [{ type: "*", identifiers: ["*"] }], condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }] },
      ],
    });
    new SnsTopicPolicy(this, "topic-access", { arn: topic.arn, policy: topicPolicy.json });
    // Keyed by the address (lowercased, made an identifier), never by position.
    for (const email of emails) new SnsTopicSubscription(this, `email-${subscriptionKey(email)}`, { topicArn: topic.arn, protocol: "email", endpoint: email });
    return topic.arn;
  }
}

/** One port block's proxies in ha mode: the block's NLB and Auto Scaling group. */
export interface PortBlockAlarmsProps {
  /** Prefix of AWS names (the deployment's name). */
  readonly name: string;
  /** The block's first port: part of the alarms' names. */
  readonly start: number;
  /** The block's NLB (`aws_lb.arn_suffix`). */
  readonly loadBalancerArnSuffix: string;
  /**
   * One of the block's target groups (`arn_suffix`). Every target group of a block checks the same
   * instances on Squid's health port, so one tells how many are healthy.
   */
  readonly targetGroupArnSuffix: string;
  /** The block's Auto Scaling group. */
  readonly groupName: string;
  /** Healthy targets below this alarm. */
  readonly minHealthy: number;
  /** The topic the alarms notify. @default - none */
  readonly alarmTopicArn?: string;
}

/** A port block's alarms: healthy targets below the minimum, and instances in service below the group's desired capacity. */
export class PortBlockAlarms extends Construct {
  /** Healthy targets (instances passing the NLB's check on Squid's health port) below `minHealthy` for 5 minutes. */
  readonly healthyTargets: CloudwatchMetricAlarm;
  /** Instances in service below the desired capacity for 10 minutes (replacements and rollouts take less). */
  readonly inService: CloudwatchMetricAlarm;

  constructor(scope: Construct, id: string, props: PortBlockAlarmsProps) {
    super(scope, id);
    const prefix = `${props.name}-proxy-${props.start}`;
    this.healthyTargets = new CloudwatchMetricAlarm(this, "healthy-targets", {
      alarmName: `${prefix}-healthy-targets`,
      alarmDescription: `egresslink: fewer than ${props.minHealthy} proxies of ports ${props.start}+ pass the load balancer's health check`,
      namespace: "AWS/NetworkELB",
      metricName: "HealthyHostCount",
      dimensions: { LoadBalancer: props.loadBalancerArnSuffix, TargetGroup: props.targetGroupArnSuffix },
      statistic: "Minimum",
      period: 60,
      comparisonOperator: "LessThanThreshold",
      threshold: props.minHealthy,
      evaluationPeriods: 5,
      // 0 healthy is data; no data is a target group without history yet (new, or replaced when its port changed).
      treatMissingData: "missing",
      ...notify(props.alarmTopicArn),
    });
    const group = (metricName: string, stat: string) => ({ namespace: "AWS/AutoScaling", metricName, dimensions: { AutoScalingGroupName: props.groupName }, period: 60, stat });
    this.inService = new CloudwatchMetricAlarm(this, "in-service", {
      alarmName: `${prefix}-in-service`,
      alarmDescription: `egresslink: the Auto Scaling group of ports ${props.start}+ has had fewer instances in service than desired for 10 minutes`,
      metricQuery: [
        { id: "desired", metric: group("GroupDesiredCapacity", "Maximum") },
        { id: "in_service", metric: group("GroupInServiceInstances", "Minimum") },
        { id: "missing", expression: "desired - in_service", label: "instances missing", returnData: true },
      ],
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      threshold: 1,
      evaluationPeriods: 10,
      treatMissingData: "missing",
      ...notify(props.alarmTopicArn),
    });
  }
}

/** An email address as a construct ID, one to one (case aside): letters, digits and '-' kept, every other character as `_` and its code. */
function subscriptionKey(email: string): string {
  return email.toLowerCase().replace(/[^a-z0-9-]/g, (c) => `_${c.charCodeAt(0).toString(16)}`);
}

/** Alarm and OK actions: the topic, if any. */
function notify(topicArn: string | undefined): Pick<CloudwatchMetricAlarmConfig, "alarmActions" | "okActions"> {
  return topicArn ? { alarmActions: [topicArn], okActions: [topicArn] } : {};
}
