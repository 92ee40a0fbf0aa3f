/**
 * Metrics, alarms and the dashboard (modules/monitoring), and learn mode in the config and
 * squid.conf. The filters against real Squid lines are in squid-learn.test.ts and
 * sync-script.test.ts; the 1,000-spoke counts in scale.test.ts.
 */
import { ACCESS_LOG_FIELDS, ACCESS_LOG_FORMAT } from "../modules/monitoring/access-log";
import { renderHubDashboard } from "../modules/monitoring/dashboard";
import { MAX_METRIC_FILTERS_PER_LOG_GROUP, metricShards, proxyMetricFilters } from "../modules/monitoring/metrics";
import { renderSquidPortBlock } from "../modules/proxy/squid-conf";
import { addressAt, captureConfigError, configFrom, coreOutput, defaultConfigData, resourceAt, resources, synthConfig } from "./helpers";
import { matchSpaceDelimited, metricEvent } from "./helpers-cloudwatch";
import { parseConfigText } from "../modules/config/load";
import { stringify } from "yaml";

const ref = (address: string, attr: string) => `\${${address}.${attr}}`;

describe("metric filters (pure)", () => {
  test("one set of filters per range of 500 spoke ports, plus two over every line: 7 for the default spokes, 17 for 1,000 spokes on 3100-4099", () => {
    expect(metricShards([3128, 3499, 3500, 4127, 3131])).toEqual([
      { start: 3000, end: 3499 },
      { start: 3500, end: 3999 },
      { start: 4000, end: 4499 },
    ]);
    expect(proxyMetricFilters([3128, 3129, 3130, 3131]).map((f) => f.key)).toEqual([
      "requests-3000", "denied-3000", "bytes-out-3000", "bytes-in-3000", "port-not-listening-3000", "ports-not-listening", "config-sync-failures",
    ]);
    const thousand = proxyMetricFilters(Array.from({ length: 1000 }, (_, i) => 3100 + i));
    expect(thousand).toHaveLength(17);
    expect(thousand.length).toBeLessThanOrEqual(MAX_METRIC_FILTERS_PER_LOG_GROUP);
    // No filter can see more than 500 spokes: its lines are those of one 500-port range.
    for (const f of thousand.filter((f) => f.dimensions)) expect(f.shard!.end - f.shard!.start + 1).toBe(500);
    expect(proxyMetricFilters([])).toHaveLength(2);
  });

  test("the access-log pattern names every field but the URL, in the log format's order, and bounds the port to its range", () => {
    const [requests] = proxyMetricFilters([3128]);
    expect(requests.pattern).toBe("[time, spoke, client, local_port >= 3000 && local_port <= 3499, method, status, result, bytes_out, bytes_in, host, ...]");
    expect(ACCESS_LOG_FORMAT.split(" ")).toHaveLength(ACCESS_LOG_FIELDS.length);
  });

  test("a line lands in its own range's filter only, the spoke as the dimension; denials and bytes from their fields", () => {
    const filters = proxyMetricFilters([3128, 3600]);
    const line = (port: number, spoke: string, result: string) => `1795300000.123 ${spoke} 10.0.224.17 ${port} GET 403 ${result} 120 3400 pypi.org http://pypi.org/x`;
    const published = (l: string) => Object.fromEntries(filters.map((f) => [f.key, metricEvent(f, l)]).filter(([, e]) => e));
    expect(published(line(3128, "alpha", "TCP_DENIED"))).toEqual({
      "requests-3000": { value: 1, dimensions: { Spoke: "alpha" } },
      "denied-3000": { value: 1, dimensions: { Spoke: "alpha" } },
      "bytes-out-3000": { value: 120, dimensions: { Spoke: "alpha" } },
      "bytes-in-3000": { value: 3400, dimensions: { Spoke: "alpha" } },
    });
    expect(Object.keys(published(line(3600, "beta", "TCP_MISS")))).toEqual(["requests-3500", "bytes-out-3500", "bytes-in-3500"]);
    // A port outside every range (the health port, were it logged) feeds nothing.
    expect(published(line(32767, "egresslink-health", "NONE_NONE"))).toEqual({});
  });

  test("the CloudWatch stand-in follows the documented rules the patterns rely on", () => {
    expect(matchSpaceDelimited("[a, b = x*, ...]", 'one xyz "three four" [five six]')).toEqual({ a: "one", b: "xyz" });
    expect(matchSpaceDelimited("[a, b]", "one two three")).toBeUndefined();
    expect(matchSpaceDelimited("[a, b >= 2 && b <= 3]", "x 4")).toBeUndefined();
    expect(matchSpaceDelimited("[a, b >= 2 && b <= 3]", "x -")).toBeUndefined();
    expect(matchSpaceDelimited('[a = "q r", b]', '"q r" 1')).toEqual({ a: "q r", b: "1" });
    expect(() => matchSpaceDelimited("{ $.a = 1 }", "x")).toThrow(/not a space-delimited pattern/);
  });
});

describe("hub monitoring (synthesized)", () => {
  const { json } = synthConfig(configFrom(defaultConfigData()));
  const hub = json.hub;
  const block = json["hub-ports-3100"];

  test("the filters are on the proxy log group, in the deployment's namespace, without default values", () => {
    const filters = Object.values(resources(hub, "aws_cloudwatch_log_metric_filter"));
    expect(filters.map((f) => f.name).sort()).toEqual(proxyMetricFilters([3128]).map((f) => `egress-${f.key}`).sort());
    for (const f of filters) {
      expect(f.log_group_name).toBe(ref(addressAt(hub, "aws_cloudwatch_log_group", "proxy/logs"), "name"));
      expect(f.metric_transformation.namespace).toBe("egresslink/egress");
      expect(f.metric_transformation.default_value).toBeUndefined();
    }
  });

  test("the core alarms on sync failures, spoke ports and NAT port allocation; no topic, no actions", () => {
    const alarms = resources(hub, "aws_cloudwatch_metric_alarm");
    expect(Object.values(alarms).map((a) => a.alarm_name).sort()).toEqual(["egress-config-sync-failing", "egress-nat-port-allocation-az1", "egress-spoke-port-not-listening"]);
    const nat = resourceAt(hub, "aws_cloudwatch_metric_alarm", "monitoring/alarm-nat-port-allocation-az1");
    expect(nat).toMatchObject({ namespace: "AWS/NATGateway", metric_name: "ErrorPortAllocation", dimensions: { NatGatewayId: ref(addressAt(hub, "aws_nat_gateway", "network/nat-az1"), "id") }, threshold: 0 });
    const sync = resourceAt(hub, "aws_cloudwatch_metric_alarm", "monitoring/alarm-config-sync-failing");
    expect(sync).toMatchObject({ namespace: "egresslink/egress", metric_name: "ConfigSyncFailures", statistic: "Sum", evaluation_periods: 5, datapoints_to_alarm: 3, treat_missing_data: "notBreaching" });
    for (const a of Object.values(alarms)) expect([a.alarm_actions, a.ok_actions]).toEqual([undefined, undefined]);
    expect(resources(hub, "aws_sns_topic")).toEqual({});
  });

  test("each ha port block alarms on its healthy targets and instances in service", () => {
    const healthy = resourceAt(block, "aws_cloudwatch_metric_alarm", "alarms/healthy-targets");
    expect(healthy).toMatchObject({
      alarm_name: "egress-proxy-3100-healthy-targets",
      namespace: "AWS/NetworkELB",
      metric_name: "HealthyHostCount",
      dimensions: { LoadBalancer: ref(addressAt(block, "aws_lb", "ports-3100/nlb"), "arn_suffix"), TargetGroup: ref(addressAt(block, "aws_lb_target_group", "tg-project-a"), "arn_suffix") },
      comparison_operator: "LessThanThreshold",
      threshold: 2,
    });
    const inService = resourceAt(block, "aws_cloudwatch_metric_alarm", "alarms/in-service");
    const group = ref(addressAt(block, "aws_autoscaling_group", "asg-3100"), "name");
    expect(inService.metric_query.map((q: any) => [q.id, q.expression ?? q.metric.metric_name, q.metric?.dimensions?.AutoScalingGroupName])).toEqual([
      ["desired", "GroupDesiredCapacity", group],
      ["in_service", "GroupInServiceInstances", group],
      ["missing", "desired - in_service", undefined],
    ]);
    expect(resourceAt(block, "aws_autoscaling_group", "asg-3100")).toMatchObject({ metrics_granularity: "1Minute", enabled_metrics: expect.arrayContaining(["GroupDesiredCapacity", "GroupInServiceInstances"]) });
  });

  test("one dashboard: every per-spoke widget a SEARCH over the Spoke dimension, no spoke or port block named, well within 500 widgets", () => {
    const dashboard = resourceAt(hub, "aws_cloudwatch_dashboard", "monitoring/dashboard");
    expect(dashboard.dashboard_name).toBe("egress-egress");
    const body = JSON.parse(dashboard.dashboard_body);
    expect(body.widgets.length).toBeLessThanOrEqual(12);
    const text = dashboard.dashboard_body as string;
    for (const name of ["project-a", "hub-ports-3100", "3128"]) expect(text).not.toContain(name);
    expect(text).toContain(`SEARCH('{egresslink/egress,Spoke} MetricName=\\"Requests\\"'`);
    // The same body whatever the spokes: adding one changes nothing in the core (see changes.test.ts).
    expect(renderHubDashboard({ name: "egress", region: "ap-northeast-1" })).toBe(renderHubDashboard({ name: "egress", region: "ap-northeast-1" }));
  });
});

describe("monitoring at 4 spokes", () => {
  test("7 metric filters (of 100 a log group may have), 3 core alarms and 2 for the one ha port block, one dashboard", () => {
    const data = defaultConfigData();
    delete data.spokes["project-e"];
    const { json } = synthConfig(configFrom(data));
    expect(Object.keys(json).filter((s) => s.startsWith("spoke-"))).toHaveLength(4);
    const count = (type: string) => Object.values(json).reduce((n, tf) => n + Object.keys(resources(tf, type)).length, 0);
    expect([count("aws_cloudwatch_log_metric_filter"), count("aws_cloudwatch_metric_alarm"), count("aws_cloudwatch_dashboard")]).toEqual([7, 5, 1]);
  });
});

describe("alarm topics", () => {
  test("createAlarmTopic: a topic under its own rotating KMS key that CloudWatch (this account's alarms) may use; emails subscribed; core and blocks notify it", () => {
    const data = defaultConfigData();
    data.hub.accountId = "111111111111";
    data.hub.monitoring = { createAlarmTopic: true, alarmEmails: ["Net-Oncall@example.com"] };
    const { json } = synthConfig(configFrom(data));
    const hub = json.hub;
    const topic = resourceAt(hub, "aws_sns_topic", "monitoring/topic");
    const key = addressAt(hub, "aws_kms_key", "monitoring/topic-key");
    expect(topic).toMatchObject({ name: "egress-egress-alarms", kms_master_key_id: ref(key, "arn") });
    expect(resourceAt(hub, "aws_kms_key", "monitoring/topic-key").enable_key_rotation).toBe(true);
    const keyPolicy = Object.entries(hub.data?.aws_iam_policy_document ?? {}).find(([name]) => name.includes("topic-key-policy"))![1] as any;
    expect(keyPolicy.statement.find((st: any) => st.sid === "CloudWatchAlarmsPublish")).toMatchObject({
      actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
      principals: [{ type: "Service", identifiers: ["cloudwatch.amazonaws.com"] }],
      condition: [{ test: "StringEquals", variable: "aws:SourceAccount" }],
    });
    expect(resourceAt(hub, "aws_sns_topic_subscription", "monitoring/email-net-oncall_40example_2ecom")).toMatchObject({ protocol: "email", endpoint: "Net-Oncall@example.com" });
    const topicArn = ref(addressAt(hub, "aws_sns_topic", "monitoring/topic"), "arn");
    for (const a of Object.values(resources(hub, "aws_cloudwatch_metric_alarm"))) expect([a.alarm_actions, a.ok_actions]).toEqual([[topicArn], [topicArn]]);
    expect(hub.output?.alarm_topic_arn.value).toBe(topicArn);
    const block = json["hub-ports-3100"];
    for (const a of Object.values(resources(block, "aws_cloudwatch_metric_alarm"))) expect(a.alarm_actions).toEqual([coreOutput(block, "alarm_topic_arn")]);
  });

  test("alarmTopicArn: every alarm notifies the existing topic; nothing is created", () => {
    const data = defaultConfigData();
    data.hub.monitoring = { alarmTopicArn: "arn:aws:sns:ap-northeast-1:111111111111:ops-alarms" };
    const { json } = synthConfig(configFrom(data));
    expect(resources(json.hub, "aws_sns_topic")).toEqual({});
    for (const a of Object.values(resources(json.hub, "aws_cloudwatch_metric_alarm"))) expect(a.alarm_actions).toEqual(["arn:aws:sns:ap-northeast-1:111111111111:ops-alarms"]);
    expect(json.hub.output?.alarm_topic_arn.value).toBe("arn:aws:sns:ap-northeast-1:111111111111:ops-alarms");
  });

  test("single mode: the core alarms on the one instance in service; blocks have no alarms", () => {
    const data = defaultConfigData();
    data.hub.proxy = { ...data.hub.proxy, mode: "single" };
    delete data.hub.proxy.minInstances;
    delete data.hub.proxy.maxInstances;
    const { json } = synthConfig(configFrom(data));
    const alarm = resourceAt(json.hub, "aws_cloudwatch_metric_alarm", "monitoring/alarm-proxy-in-service");
    expect(alarm).toMatchObject({ metric_name: "GroupInServiceInstances", dimensions: { AutoScalingGroupName: ref(addressAt(json.hub, "aws_autoscaling_group", "proxy/asg"), "name") }, threshold: 1, comparison_operator: "LessThanThreshold" });
    expect(resources(json["hub-ports-3100"], "aws_cloudwatch_metric_alarm")).toEqual({});
  });

  test("config errors name the path and the reason", () => {
    const bad = (monitoring: unknown) => {
      const data = defaultConfigData();
      data.hub.monitoring = monitoring;
      return captureConfigError(() => configFrom(data)).issues.map((i) => `${i.path}: ${i.message}`);
    };
    expect(bad({ alarmEmails: ["a@example.com"] })).toEqual(["hub.monitoring.alarmEmails: needs createAlarmTopic: true (subscribe to an existing topic where it is managed)"]);
    expect(bad({ alarmTopicArn: "arn:aws:sns:us-east-1:111111111111:ops", createAlarmTopic: true })).toEqual([
      "hub.monitoring.createAlarmTopic: conflicts with alarmTopicArn: the alarms notify one topic",
      "hub.monitoring.alarmTopicArn: is in us-east-1: CloudWatch alarms notify topics in their own Region (ap-northeast-1)",
    ]);
    expect(bad({ alarmTopicArn: "arn:aws:sqs:ap-northeast-1:111111111111:q" })[0]).toMatch(/^hub\.monitoring\.alarmTopicArn: is not an SNS topic ARN/);
  });
});

describe("learn mode", () => {
  const learning = (learnUntil: unknown, extra: Record<string, unknown> = {}) => {
    const data = defaultConfigData();
    data.spokes["project-a"] = { ...data.spokes["project-a"], policy: "learn", learnUntil, ...extra };
    return stringify(data);
  };

  test("while learning: a warning naming the spoke; its squid.conf part allows public destinations after its lists, denied addresses still refused", () => {
    const config = parseConfigText(learning("2026-12-31"), "egress.yaml", { today: "2026-11-21" });
    expect(config.warnings).toContainEqual({ path: "spokes.project-a.learnUntil", message: "spoke project-a is learning until 2026-12-31: it may reach every public destination, not only its allow-list" });
    const spoke = config.spokes.find((s) => s.name === "project-a")!;
    expect(spoke.learnUntil).toBe("2026-12-31");
    const fragment = renderSquidPortBlock([spoke, config.spokes.find((s) => s.name === "project-b")!]).split("\n");
    const own = fragment.indexOf("http_access allow spoke_project-a allowed_project-a !egress_denied_dst");
    const learn = fragment.indexOf("http_access allow spoke_project-a !egress_denied_dst");
    expect([own >= 0, learn > own]).toEqual([true, true]);
    expect(fragment.filter((l) => l.startsWith("http_access allow spoke_project-b"))).toEqual(["http_access allow spoke_project-b allowed_project-b !egress_denied_dst"]);
    // The last day still learns.
    expect(parseConfigText(learning("2026-11-21"), "egress.yaml", { today: "2026-11-21" }).spokes[0].learnUntil).toBe("2026-11-21");
  });

  test("after the date: refused with the path and what to do; the allow-list command (refuseExpiredLearning: false) only warns", () => {
    const err = captureConfigError(() => parseConfigText(learning("2026-11-20"), "egress.yaml", { today: "2026-11-21" }));
    expect(err.issues).toEqual([{ path: "spokes.project-a.learnUntil", message: expect.stringMatching(/^2026-11-20 has passed \(today is 2026-11-21\): learning has ended\. Run `egresslink allowlist suggest/) }]);
    expect(err.message).toContain("egress.yaml");
    const lenient = parseConfigText(learning("2026-11-20"), "egress.yaml", { today: "2026-11-21", refuseExpiredLearning: false });
    expect(lenient.warnings?.map((w) => w.path)).toContain("spokes.project-a.learnUntil");
  });

  test("learn needs a real date; learnUntil needs learn", () => {
    const issues = (text: string) => captureConfigError(() => parseConfigText(text, "egress.yaml", { today: "2026-11-21" })).issues.map((i) => `${i.path}: ${i.message}`);
    const data = defaultConfigData();
    data.spokes["project-a"].policy = "learn";
    expect(issues(stringify(data))).toEqual(["spokes.project-a.learnUntil: is required with policy learn: learning ends on a date you choose"]);
    expect(issues(learning("2026-02-30"))).toEqual(["spokes.project-a.learnUntil: is not a calendar date"]);
    expect(issues(learning("31.12.2026"))).toEqual(["spokes.project-a.learnUntil: is not a date like 2026-12-31 (YYYY-MM-DD)"]);
    const enforcing = defaultConfigData();
    enforcing.spokes["project-a"].learnUntil = "2026-12-31";
    expect(issues(stringify(enforcing))).toEqual(["spokes.project-a.learnUntil: only applies to policy learn"]);
  });
});

describe("ports spread over too many ranges", () => {
  test("more metric filters than a log group may have is a config error naming spokes", () => {
    const data = defaultConfigData();
    data.spokes = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`p${i}`, { port: 2000 + i * 500, cidr: "10.0.0.0/16" }]));
    const issues = captureConfigError(() => configFrom(data)).issues;
    expect(issues).toContainEqual({ path: "spokes", message: expect.stringMatching(/^the spokes' ports fall into 20 ranges of 500 ports, which need 102 metric filters on the proxy log group; CloudWatch Logs allows 100/) });
  });
});
