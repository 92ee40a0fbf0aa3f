import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { resolveEndpoints } from "../modules/endpoints/services";
import {
  noProxyEntries,
  renderApplyScript,
  renderDnfProxy,
  renderDockerDropIn,
  renderEcsEnvironment,
  renderEnvironmentFile,
  renderKubernetesEnv,
  type ProxySettings,
} from "../modules/spoke/proxy-settings";
import { addressAt, configFrom, defaultConfig, defaultConfigData, resourceAt, resources, synthConfig } from "./helpers";
import { programDescribe, requireProgram } from "./helpers-programs";

const ref = (address: string, attr: string) => `\${${address}.${attr}}`;
const SETTINGS: ProxySettings = { proxyUrl: "http://proxy.egress.internal:3128", noProxy: "localhost,127.0.0.1,10.0.0.0/16,.s3.ap-northeast-1.amazonaws.com" };

describe("NO_PROXY is computed", () => {
  test("ecr + ssm + the S3 gateway: exactly the fixed entries, the VPC and those services' domains", () => {
    const entries = noProxyEntries({ region: "ap-northeast-1", vpcCidr: "10.0.0.0/16", endpoints: resolveEndpoints(["ecr", "ssm", "s3"]) });
    expect(entries).toEqual([
      "localhost",
      "127.0.0.1",
      "169.254.169.254",
      "169.254.170.2",
      "10.0.0.0/16",
      ".dkr.ecr.ap-northeast-1.amazonaws.com",
      ".s3.ap-northeast-1.amazonaws.com",
      "api.ecr.ap-northeast-1.amazonaws.com",
      "ec2messages.ap-northeast-1.amazonaws.com",
      "s3.ap-northeast-1.amazonaws.com",
      "ssm.ap-northeast-1.amazonaws.com",
      "ssmmessages.ap-northeast-1.amazonaws.com",
    ]);
  });

  test("without endpoints only the fixed entries and the VPC; extras are appended once", () => {
    expect(noProxyEntries({ region: "eu-west-1", vpcCidr: "172.16.0.0/16", endpoints: resolveEndpoints([]), extra: [".corp.example", "localhost"] })).toEqual([
      "localhost",
      "127.0.0.1",
      "169.254.169.254",
      "169.254.170.2",
      "172.16.0.0/16",
      ".corp.example",
    ]);
  });
});

describe("spoke stack: DNS name and published settings", () => {
  const { json } = synthConfig(defaultConfig());
  const tf = json["spoke-project-a"];
  const remote = () => `data.terraform_remote_state.${Object.keys(tf.data?.terraform_remote_state ?? {})[0]}`;

  test("proxy.egress.internal: a private zone on the spoke VPC, CNAME to the Resource endpoint's DNS name", () => {
    const zone = addressAt(tf, "aws_route53_zone", "spoke/dns-zone");
    expect(resourceAt(tf, "aws_route53_zone", "spoke/dns-zone")).toMatchObject({ name: "egress.internal", vpc: [{ vpc_id: ref(addressAt(tf, "aws_vpc", "spoke/network"), "id") }] });
    const associations = Object.keys(tf.data?.aws_vpc_endpoint_associations ?? {});
    expect(associations).toHaveLength(1);
    expect((tf.data?.aws_vpc_endpoint_associations as any)[associations[0]].vpc_endpoint_id).toBe(ref(addressAt(tf, "aws_vpc_endpoint", "spoke/endpoint"), "id"));
    expect(resourceAt(tf, "aws_route53_record", "spoke/dns-record")).toEqual(
      expect.objectContaining({
        zone_id: ref(zone, "zone_id"),
        name: "proxy.egress.internal",
        type: "CNAME",
        ttl: 60,
        records: [`\${data.aws_vpc_endpoint_associations.${associations[0]}.associations[0].dns_entry[0].dns_name}`],
      }),
    );
  });

  test("SSM parameters hold the proxy URL (port from the hub) and the computed NO_PROXY", () => {
    expect(resourceAt(tf, "aws_ssm_parameter", "spoke/proxy-url")).toMatchObject({
      name: "/egresslink/egress/spokes/project-a/proxy-url",
      type: "String",
      value: `http://proxy.egress.internal:\${${remote()}.outputs.proxy_ports["project-a"]}`,
    });
    const expected = noProxyEntries({ region: "ap-northeast-1", vpcCidr: "10.0.0.0/16", endpoints: resolveEndpoints(["ecr", "logs", "ssm"]) }).join(",");
    expect(resourceAt(tf, "aws_ssm_parameter", "spoke/no-proxy")).toMatchObject({ name: "/egresslink/egress/spokes/project-a/no-proxy", value: expected });
    expect(expected).toContain("logs.ap-northeast-1.amazonaws.com");
  });

  test("an SSM document applies them, reading the parameters when it runs", () => {
    const doc = resourceAt(tf, "aws_ssm_document", "spoke/apply-settings");
    expect(doc).toMatchObject({ name: "egress-project-a-proxy-settings", document_type: "Command", document_format: "JSON" });
    const content = JSON.parse(doc.content);
    expect(content.parameters.proxyUrl.default).toBe("{{ssm:/egresslink/egress/spokes/project-a/proxy-url}}");
    expect(content.parameters.noProxy.default).toBe("{{ssm:/egresslink/egress/spokes/project-a/no-proxy}}");
    expect(content.mainSteps[0].inputs.runCommand.join("\n")).toBe(renderApplyScript().trimEnd());
    expect(doc.content).not.toContain("${");
    expect(resources(tf, "aws_ssm_association")).toEqual({});
  });

  test("applyProxySettings: tagged adds a State Manager association on the egresslink:proxy tag", () => {
    const data = defaultConfigData();
    data.spokes["project-b"].applyProxySettings = "tagged";
    data.spokes["project-b"].endpoints = ["ssm"];
    const tagged = synthConfig(configFrom(data)).json["spoke-project-b"];
    expect(Object.values(resources(tagged, "aws_ssm_association"))).toEqual([
      expect.objectContaining({
        name: ref(addressAt(tagged, "aws_ssm_document", "spoke/apply-settings"), "name"),
        targets: [{ key: "tag:egresslink:proxy", values: ["project-b"] }],
      }),
    ]);
  });

  test("a spoke may use its own DNS name", () => {
    const data = defaultConfigData();
    data.spokes["project-c"].proxyDnsName = "egress.proxy.team-c.internal";
    const own = synthConfig(configFrom(data)).json["spoke-project-c"];
    expect(resourceAt(own, "aws_route53_zone", "spoke/dns-zone").name).toBe("proxy.team-c.internal");
    expect(resourceAt(own, "aws_route53_record", "spoke/dns-record").name).toBe("egress.proxy.team-c.internal");
  });

  test("outputs give the URL, NO_PROXY and every snippet", () => {
    for (const key of ["proxy_url", "no_proxy", "proxy_dns_name", "proxy_settings_document", "etc_environment", "docker_dropin", "ecs_environment", "kubernetes_env"]) {
      expect(tf.output?.[key]).toBeDefined();
    }
    expect(tf.output?.proxy_dns_name.value).toBe("proxy.egress.internal");
  });
});

describe("existing VPCs are checked at plan time", () => {
  const data = defaultConfigData();
  data.spokes["legacy-app"] = {
    port: 3140,
    vpcId: "vpc-0123456789abcdef0",
    subnetIds: ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
    routeTableIds: ["rtb-0aaaaaaaaaaaaaaa1"],
    endpoints: ["s3"],
  };
  const tf = synthConfig(configFrom(data)).json["spoke-legacy-app"];

  test("the endpoint has preconditions: subnets in distinct AZs, all in the VPC", () => {
    const subnets = Object.keys(tf.data?.aws_subnet ?? {});
    expect(subnets).toHaveLength(2);
    const checks = resourceAt(tf, "aws_vpc_endpoint", "spoke/endpoint").lifecycle.precondition;
    expect(checks).toHaveLength(3);
    expect(checks[0].condition).toBe(`\${(length(distinct([${subnets.map((s) => `data.aws_subnet.${s}.availability_zone`).join(", ")}])) == 2)}`);
    expect(checks[0].error_message).toMatch(/distinct Availability Zones/);
    expect(checks[1].condition).toMatch(/^\$\{alltrue\(\[\(data\.aws_subnet\.[\w-]+\.vpc_id == data\.aws_vpc\.[\w-]+\.id\), /);
  });

  test("the endpoint's subnets must share an AZ ID with the hub's resource gateway (AZ names differ per account)", () => {
    const remote = `data.terraform_remote_state.${Object.keys(tf.data?.terraform_remote_state ?? {})[0]}`;
    const zoneIds = Object.keys(tf.data?.aws_subnet ?? {}).map((s) => `data.aws_subnet.${s}.availability_zone_id`);
    const check = resourceAt(tf, "aws_vpc_endpoint", "spoke/endpoint").lifecycle.precondition[2];
    expect(check.condition).toBe(`\${(length(setintersection(${remote}.outputs.gateway_availability_zone_ids, [${zoneIds.join(", ")}])) >= 1)}`);
    expect(check.error_message).toMatch(/share no Availability Zone \(by AZ ID\) with the hub's resource gateway/);
  });

  test("a new VPC's endpoint checks its own subnets' AZ IDs the same way", () => {
    const spoke = synthConfig(defaultConfig()).json["spoke-project-a"];
    const [check] = resourceAt(spoke, "aws_vpc_endpoint", "spoke/endpoint").lifecycle.precondition;
    const ids = ["az1", "az2"].map((slot) => `${addressAt(spoke, "aws_subnet", `network/private-${slot}`)}.availability_zone_id`);
    expect(check.condition).toContain(`.outputs.gateway_availability_zone_ids, [${ids.join(", ")}])) >= 1)`);
  });

  test("the private zone requires DNS support and hostnames on the VPC", () => {
    const check = resourceAt(tf, "aws_route53_zone", "spoke/dns-zone").lifecycle.precondition[0];
    expect(check.condition).toMatch(/enable_dns_support && data\.aws_vpc\.[\w-]+\.enable_dns_hostnames/);
  });

  test("gateway endpoints go on the listed route tables", () => {
    expect(Object.values(resources(tf, "aws_vpc_endpoint")).find((e) => e.vpc_endpoint_type === "Gateway")?.route_table_ids).toEqual(["rtb-0aaaaaaaaaaaaaaa1"]);
  });
});

describe("rendered snippets", () => {
  test("/etc/environment: KEY=value lines, upper and lower case, no quotes or export", () => {
    const lines = renderEnvironmentFile(SETTINGS).trimEnd().split("\n");
    expect(lines).toHaveLength(6);
    for (const line of lines) expect(line).toMatch(/^[A-Za-z_]+=[^"'\s]+$/);
    const keys = lines.map((l) => l.split("=")[0]);
    expect(keys).toEqual(["HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"]);
    expect(lines).toContain(`no_proxy=${SETTINGS.noProxy}`);
    expect(renderDnfProxy(SETTINGS)).toBe("proxy=http://proxy.egress.internal:3128\n");
  });

  test("ECS environment is valid JSON name/value pairs", () => {
    const env = JSON.parse(renderEcsEnvironment(SETTINGS));
    expect(env).toContainEqual({ name: "HTTPS_PROXY", value: SETTINGS.proxyUrl });
    expect(env).toContainEqual({ name: "no_proxy", value: SETTINGS.noProxy });
    expect(env).toHaveLength(6);
  });

  test("Kubernetes env is valid YAML name/value pairs", () => {
    const doc = parse(renderKubernetesEnv(SETTINGS));
    expect(doc.env).toContainEqual({ name: "HTTP_PROXY", value: SETTINGS.proxyUrl });
    expect(doc.env).toContainEqual({ name: "NO_PROXY", value: SETTINGS.noProxy });
  });

  programDescribe("the Docker drop-in passes systemd-analyze verify", () => {
    const analyze = requireProgram("systemd-analyze");
    const verify = (dropIn: string) => {
      const dir = mkdtempSync(join(tmpdir(), "egresslink-unit-"));
      try {
        writeFileSync(join(dir, "egl-docker.service"), "[Unit]\nDescription=stand-in for docker.service\n[Service]\nExecStart=/bin/true\n");
        mkdirSync(join(dir, "egl-docker.service.d"));
        writeFileSync(join(dir, "egl-docker.service.d", "http-proxy.conf"), dropIn);
        const result = spawnSync(analyze, ["verify", join(dir, "egl-docker.service")], { encoding: "utf8" });
        return { status: result.status, report: `${result.stdout}${result.stderr}`.trim() };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };

    test("the rendered drop-in: no complaint", () => {
      const dropIn = renderDockerDropIn(SETTINGS);
      expect(dropIn).toContain(`Environment="HTTPS_PROXY=${SETTINGS.proxyUrl}"`);
      expect(verify(dropIn)).toEqual({ status: 0, report: "" });
    });

    test("a broken drop-in is reported", () => {
      expect(verify("[Service]\nEnvironmen=\"HTTP_PROXY=x\"\n").report).toMatch(/Unknown key 'Environmen'/);
    });
  });
});

describe("the apply script, run for real in a scratch root", () => {
  const root = mkdtempSync(join(tmpdir(), "egresslink-apply-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  // What SSM does before running the script: substitute the document parameters.
  const script = renderApplyScript().replaceAll("{{ proxyUrl }}", SETTINGS.proxyUrl).replaceAll("{{ noProxy }}", SETTINGS.noProxy);
  const run = () => spawnSync("bash", ["-c", script], { env: { ...process.env, EGRESSLINK_ROOT: root }, encoding: "utf8" });

  test("writes /etc/environment and dnf.conf, keeps other lines, and is idempotent", () => {
    mkdirSync(join(root, "etc", "dnf"), { recursive: true });
    writeFileSync(join(root, "etc", "environment"), "LANG=en_US.UTF-8\nHTTP_PROXY=http://old:1\n");
    writeFileSync(join(root, "etc", "dnf", "dnf.conf"), "[main]\ngpgcheck=True\nproxy=http://old:1\n");
    for (let i = 0; i < 2; i++) expect(run().status).toBe(0);
    expect(readFileSync(join(root, "etc", "environment"), "utf8")).toBe(`LANG=en_US.UTF-8\n${renderEnvironmentFile(SETTINGS)}`);
    expect(readFileSync(join(root, "etc", "dnf", "dnf.conf"), "utf8")).toBe(`[main]\n${renderDnfProxy(SETTINGS)}gpgcheck=True\n`);
  });
});
