import { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { hubSquidBase, hubSquidPortBlock } from "../modules/proxy/squid-conf";
import { terraformLiteral } from "../modules/proxy/config-delivery";
import { addressAt, configFrom, coreOutput, defaultConfig, defaultConfigData, resourceAt, resources, synthConfig, type TerraformJson } from "./helpers";

const ref = (address: string, attr: string) => `\${${address}.${attr}}`;
const SPOKES = [["project-a", 3128], ["project-b", 3129], ["project-c", 3130], ["project-d", 3131], ["project-e", 3132]] as const;

function singleModeData(): Record<string, any> {
  const data = defaultConfigData();
  data.hub.proxy = { mode: "single", instanceType: "t4g.small", allowedDomains: data.hub.proxy.allowedDomains };
  return data;
}

/** Every leaf value of a JSON document by its path. */
function leaves(value: unknown, path = ""): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) for (const [p, leaf] of leaves(v, `${path}/${k}`)) out.set(p, leaf);
  } else out.set(path, value);
  return out;
}

function iamStatements(tf: TerraformJson, pathSuffix: string): any[] {
  const name = addressAt({ resource: { x: tf.data?.aws_iam_policy_document as any } }, "x", pathSuffix).slice(2);
  return (tf.data?.aws_iam_policy_document as any)[name].statement;
}

describe("proxy fleet, ha mode (default)", () => {
  const config = defaultConfig();
  const { json, text } = synthConfig(config);
  const hub = json.hub;
  const block = json["hub-ports-3100"];

  test("launch template: AL2023 arm64 resolved at launch, IMDSv2 only, encrypted gp3, no SSH key, instance profile", () => {
    const lt = resourceAt(hub, "aws_launch_template", "proxy/launch-template");
    expect(lt).toMatchObject({
      image_id: "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
      instance_type: "t4g.small",
      metadata_options: { http_endpoint: "enabled", http_tokens: "required", http_put_response_hop_limit: 1 },
      block_device_mappings: [{ device_name: "/dev/xvda", ebs: { encrypted: "true", volume_type: "gp3", volume_size: 16 } }],
      iam_instance_profile: { arn: ref(addressAt(hub, "aws_iam_instance_profile", "proxy/profile"), "arn") },
      vpc_security_group_ids: [ref(addressAt(hub, "aws_security_group", "proxy/sg"), "id")],
    });
    expect(lt.key_name).toBeUndefined();
    expect(resources(hub, "aws_instance")).toEqual({});
  });

  test("Auto Scaling group of 2 per port block, across every hub AZ, ELB health checks, attached to each spoke's target group, running the core's launch template", () => {
    const tgs = SPOKES.map(([spoke]) => ref(addressAt(block, "aws_lb_target_group", `ports-3100/tg-${spoke}`), "arn"));
    expect(text["hub-ports-3100"]).toHaveResourceWithProperties(AutoscalingGroup, {
      min_size: 2,
      max_size: 2,
      desired_capacity: 2,
      health_check_type: "ELB",
      vpc_zone_identifier: coreOutput(block, "private_subnet_ids"),
      target_group_arns: tgs,
      launch_template: { id: coreOutput(block, "proxy_launch_template_id"), version: coreOutput(block, "proxy_launch_template_version") },
    });
    expect(resources(hub, "aws_autoscaling_group")).toEqual({});
    // What the core publishes for it.
    const lt = addressAt(hub, "aws_launch_template", "proxy/launch-template");
    expect(hub.output).toMatchObject({
      private_subnet_ids: { value: ["az1", "az2"].map((slot) => ref(addressAt(hub, "aws_subnet", `network/private-${slot}`), "id")) },
      proxy_launch_template_id: { value: ref(lt, "id") },
      proxy_launch_template_version: { value: ref(lt, "latest_version") },
    });
  });

  test("target groups are created before the old ones are destroyed (a port change replaces the group its listener still uses), with generated names", () => {
    expect(Object.keys(resources(block, "aws_lb_target_group"))).toHaveLength(SPOKES.length);
    for (const group of Object.values(resources(block, "aws_lb_target_group"))) {
      expect(group.lifecycle).toEqual({ create_before_destroy: true });
      expect(group.name).toBeUndefined();
    }
  });

  test("target groups set the health-check timeout (CreateTargetGroup: 2-120 s, at most the interval) instead of the protocol's default", () => {
    const checks = Object.values(resources(block, "aws_lb_target_group")).map((tg) => tg.health_check);
    expect(checks.length).toBeGreaterThan(0);
    for (const check of checks) {
      expect(check.timeout).toBeGreaterThanOrEqual(2);
      expect(check.timeout).toBeLessThan(check.interval);
    }
  });

  test("internal NLB in the gateway subnets of every AZ slot, cross-zone on, one TCP listener and target group per spoke port", () => {
    expect(text["hub-ports-3100"]).toHaveResourceWithProperties(Lb, {
      internal: true,
      load_balancer_type: "network",
      enable_cross_zone_load_balancing: true,
      subnets: coreOutput(block, "gateway_subnet_ids"),
    });
    expect(hub.output?.gateway_subnet_ids).toMatchObject({ value: ["az1", "az2", "az3"].map((slot) => ref(addressAt(hub, "aws_subnet", `network/gateway-${slot}`), "id")) });
    const nlb = addressAt(block, "aws_lb", "ports-3100/nlb");
    for (const [spoke, port] of SPOKES) {
      const tg = addressAt(block, "aws_lb_target_group", `ports-3100/tg-${spoke}`);
      expect(resourceAt(block, "aws_lb_target_group", `ports-3100/tg-${spoke}`)).toMatchObject({
        port,
        protocol: "TCP",
        target_type: "instance",
        health_check: { protocol: "TCP", port: "32767" },
      });
      expect(resourceAt(block, "aws_lb_listener", `ports-3100/listener-${spoke}`)).toMatchObject({
        load_balancer_arn: ref(nlb, "arn"),
        port,
        protocol: "TCP",
        default_action: [{ type: "forward", target_group_arn: ref(tg, "arn") }],
      });
    }
  });

  test("each spoke's resource configuration is a DNS resource on the NLB, exposing only its port, on the core's resource gateway", () => {
    const nlbDns = ref(addressAt(block, "aws_lb", "ports-3100/nlb"), "dns_name");
    for (const [spoke, port] of SPOKES) {
      expect(resourceAt(block, "aws_vpclattice_resource_configuration", `hub/config-${spoke}`)).toMatchObject({
        resource_gateway_identifier: coreOutput(block, "resource_gateway_id"),
        type: "SINGLE",
        protocol: "TCP",
        port_ranges: [String(port)],
        resource_configuration_definition: [{ dns_resource: [{ domain_name: nlbDns, ip_address_type: "IPV4" }] }],
      });
    }
  });

  test("security groups: gateway -> NLB -> instances on the spoke ports only, nothing else inbound", () => {
    const sg = (suffix: string) => ref(addressAt(hub, "aws_security_group", suffix), "id");
    const [gateway, nlb, proxy] = [sg("hub/gateway-sg"), sg("proxy/nlb-sg"), sg("proxy/sg")];
    expect(hub.output).toMatchObject({ gateway_security_group_id: { value: gateway }, proxy_nlb_security_group_id: { value: nlb }, proxy_security_group_id: { value: proxy } });
    const rules = (tf: TerraformJson, type: string) => Object.values(resources(tf, type)).map((r) => [r.security_group_id, r.referenced_security_group_id, r.from_port, r.to_port]);
    // The core: Squid's health-check port, from the NLBs only. The block: its ports.
    const [blockGateway, blockNlb, blockProxy] = ["gateway_security_group_id", "proxy_nlb_security_group_id", "proxy_security_group_id"].map((o) => coreOutput(block, o));
    expect(rules(hub, "aws_vpc_security_group_ingress_rule")).toEqual([[proxy, nlb, 32767, 32767]]);
    expect(rules(block, "aws_vpc_security_group_ingress_rule")).toEqual(expect.arrayContaining([[blockNlb, blockGateway, 3128, 3132], [blockProxy, blockNlb, 3128, 3132]]));
    expect(rules(block, "aws_vpc_security_group_ingress_rule")).toHaveLength(2);
    expect(rules(block, "aws_vpc_security_group_egress_rule").sort()).toEqual([[blockGateway, blockNlb, 3128, 3132], [blockNlb, blockProxy, 3128, 3132]].sort());
    const egress = Object.values(resources(hub, "aws_vpc_security_group_egress_rule"));
    expect(egress.filter((r) => r.referenced_security_group_id).map((r) => [r.security_group_id, r.referenced_security_group_id, r.from_port, r.to_port])).toEqual([[nlb, proxy, 32767, 32767]]);
    const web = egress.filter((r) => r.cidr_ipv4 === "0.0.0.0/0").map((r) => [r.security_group_id, r.from_port]);
    expect(web.sort((a, b) => a[1] - b[1])).toEqual([[proxy, 80], [proxy, 443]]);
  });

  test("the config is S3 objects in a private bucket of its own, the base from the core and a fragment per port block, each named (by version) in an SSM parameter", () => {
    const bucket = addressAt(hub, "aws_s3_bucket", "proxy/config-bucket");
    const object = resourceAt(hub, "aws_s3_object", "proxy/config-bucket/squid-conf");
    // Escaped for Terraform (squid.conf's logformat holds %{...}): Terraform's value is the rendered base config.
    expect(object).toMatchObject({ bucket: ref(bucket, "id"), key: "squid.conf", content: terraformLiteral(hubSquidBase(config.hub)) });
    expect(object.content).toContain("%%{spoke}note");
    expect(object.content).not.toContain("project-a");
    const parameter = resourceAt(hub, "aws_ssm_parameter", "proxy/config");
    expect(parameter).toMatchObject({ name: "/egresslink/egress/proxy/base", type: "String" });
    expect(parameter.value).toBe(`s3://${ref(bucket, "bucket")}/squid.conf?versionId=${ref(addressAt(hub, "aws_s3_object", "proxy/config-bucket/squid-conf"), "version_id")}`);
    expect(hub.output?.proxy_config_bucket).toMatchObject({ value: ref(bucket, "bucket") });
    const fragment = resourceAt(block, "aws_s3_object", "ports-3100/config");
    expect(fragment).toMatchObject({ bucket: coreOutput(block, "proxy_config_bucket"), key: "ports/3100.conf", content: terraformLiteral(hubSquidPortBlock(config.hub, config.spokes)) });
    const pointer = resourceAt(block, "aws_ssm_parameter", "ports-3100/config-pointer");
    expect(pointer).toMatchObject({ name: "/egresslink/egress/proxy/ports/3100", type: "String" });
    expect(pointer.value).toBe(`s3://${coreOutput(block, "proxy_config_bucket")}/ports/3100.conf?versionId=${ref(addressAt(block, "aws_s3_object", "ports-3100/config"), "version_id")}`);
    expect(resourceAt(hub, "aws_s3_bucket", "proxy/config-bucket")).toMatchObject({ bucket_prefix: "egress-proxy-config-", force_destroy: true });
    expect(resourceAt(hub, "aws_s3_bucket_versioning", "proxy/config-bucket/versioning").versioning_configuration).toEqual({ status: "Enabled" });
    expect(resourceAt(hub, "aws_s3_bucket_public_access_block", "proxy/config-bucket/public-access")).toMatchObject({ block_public_acls: true, restrict_public_buckets: true });
    expect(resourceAt(hub, "aws_cloudwatch_log_group", "proxy/logs")).toMatchObject({ name: "/egresslink/egress/proxy", retention_in_days: 30 });
  });

  test("instance role: SSM core, read its own parameters and objects, write its own log group, nothing else", () => {
    expect(resourceAt(hub, "aws_iam_role_policy_attachment", "proxy/ssm-core").policy_arn).toMatch(/:iam::aws:policy\/AmazonSSMManagedInstanceCore$/);
    expect(Object.keys(resources(hub, "aws_iam_role_policy_attachment"))).toHaveLength(1);
    const statements = iamStatements(hub, "proxy/policy");
    const parameter = addressAt(hub, "aws_ssm_parameter", "proxy/config");
    const logs = addressAt(hub, "aws_cloudwatch_log_group", "proxy/logs");
    const bucketArn = ref(addressAt(hub, "aws_s3_bucket", "proxy/config-bucket"), "arn");
    const under = (name: string) => `\${replace(${parameter}.arn, "/egresslink/egress/proxy/base", "${name}")}`;
    expect(statements).toEqual([
      { sid: "ReadProxyConfig", actions: ["ssm:GetParameter"], resources: [ref(parameter, "arn")] },
      { sid: "ReadPortBlockConfig", actions: ["ssm:GetParametersByPath", "ssm:GetParameter"], resources: [under("/egresslink/egress/proxy/ports"), under("/egresslink/egress/proxy/ports/*")] },
      { sid: "FetchProxyConfig", actions: ["s3:GetObject", "s3:GetObjectVersion"], resources: [`${bucketArn}/squid.conf`, `${bucketArn}/ports/*.conf`] },
      { sid: "ShipProxyLogs", actions: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"], resources: [ref(logs, "arn"), `${ref(logs, "arn")}:*`] },
    ]);
    expect(resourceAt(hub, "aws_iam_role", "proxy/role").name).toBe("egress-proxy-ap-northeast-1");
  });

  test("x86 instance types get the x86_64 AMI", () => {
    const data = defaultConfigData();
    data.hub.proxy.instanceType = "m7i.large";
    const lt = resourceAt(synthConfig(configFrom(data)).json.hub, "aws_launch_template", "proxy/launch-template");
    expect(lt).toMatchObject({ instance_type: "m7i.large", image_id: "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64" });
  });
});

describe("proxy fleet, more than 50 spokes", () => {
  const data = defaultConfigData();
  data.spokes = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`project-${String(i).padStart(2, "0")}`, { port: 3128 + i, cidr: "10.0.0.0/16" }]));
  const { json } = synthConfig(configFrom(data));
  const hub = json.hub;
  const blocks = [json["hub-ports-3100"], json["hub-ports-3150"]];

  test("is split into port blocks, a stack each, each NLB and group within the 50 listener / target-group quotas", () => {
    expect(Object.keys(json).filter((k) => k.startsWith("hub-ports-"))).toEqual(["hub-ports-3100", "hub-ports-3150"]);
    expect(blocks.map((b) => Object.keys(resources(b, "aws_lb")).length)).toEqual([1, 1]);
    expect(blocks.map((b) => Object.values(resources(b, "aws_autoscaling_group")).map((g) => g.target_group_arns.length))).toEqual([[22], [38]]);
    expect(blocks.map((b) => Object.keys(resources(b, "aws_lb_listener")).length)).toEqual([22, 38]);
    expect(resources(hub, "aws_lb")).toEqual({});
  });

  test("every spoke's configuration points at its own block's NLB", () => {
    const [first, second] = blocks;
    expect(resourceAt(second, "aws_vpclattice_resource_configuration", "hub/config-project-59").resource_configuration_definition[0].dns_resource[0].domain_name).toBe(
      ref(addressAt(second, "aws_lb", "ports-3150/nlb"), "dns_name"),
    );
    expect(resourceAt(first, "aws_vpclattice_resource_configuration", "hub/config-project-00").resource_configuration_definition[0].dns_resource[0].domain_name).toBe(
      ref(addressAt(first, "aws_lb", "ports-3100/nlb"), "dns_name"),
    );
  });

  test("security groups need one rule per block, not per spoke (and one for the health port)", () => {
    expect([hub, ...blocks].map((tf) => Object.keys(resources(tf, "aws_vpc_security_group_ingress_rule")).length)).toEqual([1, 2, 2]);
  });

  test("seven metric filters for all 60 spokes (the spoke is their metrics' dimension), on the proxy log group", () => {
    const filters = Object.values(resources(hub, "aws_cloudwatch_log_metric_filter"));
    expect(filters).toHaveLength(7);
    expect(new Set(filters.map((f) => f.log_group_name))).toEqual(new Set([ref(addressAt(hub, "aws_cloudwatch_log_group", "proxy/logs"), "name")]));
  });
});

describe("proxy fleet, single mode", () => {
  const config = configFrom(singleModeData());
  const { json, text } = synthConfig(config);
  const hub = json.hub;
  const block = json["hub-ports-3100"];

  test("a persistent ENI with a fixed IP in the first private subnet, tagged for the instance to find", () => {
    expect(resourceAt(hub, "aws_network_interface", "proxy/eni")).toMatchObject({
      subnet_id: ref(addressAt(hub, "aws_subnet", "network/private-az1"), "id"),
      private_ips: ["10.0.0.10"],
      security_groups: [ref(addressAt(hub, "aws_security_group", "proxy/sg"), "id")],
      tags: { "egresslink:proxy-eni": "egress-proxy" },
    });
  });

  test("an Auto Scaling group of exactly one, in the ENI's AZ, no load balancer", () => {
    expect(text.hub).toHaveResourceWithProperties(AutoscalingGroup, {
      min_size: 1,
      max_size: 1,
      health_check_type: "EC2",
      vpc_zone_identifier: [ref(addressAt(hub, "aws_subnet", "network/private-az1"), "id")],
    });
    for (const tf of [hub, block]) expect([resources(tf, "aws_lb"), resources(tf, "aws_lb_target_group")]).toEqual([{}, {}]);
    expect(resources(block, "aws_autoscaling_group")).toEqual({});
    expect(text.hub).not.toHaveResource(LbTargetGroup);
    expect(hub.output?.proxy_nlb_security_group_id).toMatchObject({ value: "" });
  });

  test("resource configurations are IP resources on the fixed address", () => {
    for (const [spoke] of SPOKES) {
      expect(resourceAt(block, "aws_vpclattice_resource_configuration", `hub/config-${spoke}`).resource_configuration_definition).toEqual([
        { ip_resource: [{ ip_address: "10.0.0.10" }] },
      ]);
    }
  });

  test("the instance may attach only that ENI, and only to instances of its own group", () => {
    const statements = iamStatements(hub, "proxy/policy");
    const eni = addressAt(hub, "aws_network_interface", "proxy/eni");
    expect(statements).toEqual(
      expect.arrayContaining([
        { sid: "FindProxyEni", actions: ["ec2:DescribeNetworkInterfaces"], resources: ["*"] },
        { sid: "AttachProxyEni", actions: ["ec2:AttachNetworkInterface"], resources: [ref(eni, "arn")] },
        expect.objectContaining({
          sid: "AttachToOwnGroup",
          resources: [expect.stringMatching(/^arn:.*:ec2:ap-northeast-1:.*:instance\/\*$/)],
          condition: [{ test: "StringEquals", variable: "aws:ResourceTag/aws:autoscaling:groupName", values: ["egress-proxy"] }],
        }),
      ]),
    );
    expect(resourceAt(hub, "aws_autoscaling_group", "proxy/asg").name).toBe("egress-proxy");
  });

  test("the proxy admits the spoke ports from the gateway directly", () => {
    expect(resources(hub, "aws_vpc_security_group_ingress_rule")).toEqual({});
    const ingress = Object.values(resources(block, "aws_vpc_security_group_ingress_rule"));
    expect(ingress.map((r) => [r.security_group_id, r.referenced_security_group_id, r.from_port, r.to_port])).toEqual([
      [coreOutput(block, "proxy_security_group_id"), coreOutput(block, "gateway_security_group_id"), 3128, 3132],
    ]);
  });

  test("a configured fixed IP is used", () => {
    const data = singleModeData();
    data.hub.proxy.fixedIp = "10.0.3.7";
    expect(resourceAt(synthConfig(configFrom(data)).json.hub, "aws_network_interface", "proxy/eni").private_ips).toEqual(["10.0.3.7"]);
  });
});

describe("live reload", () => {
  test.each([
    ["ha", defaultConfigData],
    ["single", singleModeData],
  ])("%s: changing only allow-lists changes only the config objects' content: the base's (the global list) and the spoke's block's", (_mode, makeData) => {
    const before = synthConfig(configFrom(makeData())).json;
    const data = makeData();
    data.spokes["project-b"].allowedDomains = [...data.spokes["project-b"].allowedDomains, ".pythonhosted.org"].filter((d: string) => d !== "files.pythonhosted.org");
    data.hub.proxy.allowedDomains = ["cdn.amazonlinux.com", "checkip.amazonaws.com"];
    const after = synthConfig(configFrom(data)).json;
    const changed: string[] = [];
    for (const stack of Object.keys(before)) {
      const [a, b] = [leaves(before[stack]), leaves(after[stack])];
      for (const path of new Set([...a.keys(), ...b.keys()])) if (a.get(path) !== b.get(path)) changed.push(`${stack}${path}`);
    }
    // The parameters' values name the objects' version_id, which changes at apply, not in the JSON.
    const object = addressAt(before.hub, "aws_s3_object", "proxy/config-bucket/squid-conf").split(".")[1];
    const fragment = addressAt(before["hub-ports-3100"], "aws_s3_object", "ports-3100/config").split(".")[1];
    expect(changed).toEqual([`hub/resource/aws_s3_object/${object}/content`, `hub-ports-3100/resource/aws_s3_object/${fragment}/content`]);
  });
});
