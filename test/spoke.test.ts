import { DataAwsVpc } from "@cdktf/provider-aws/lib/data-aws-vpc";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { Testing, TerraformStack } from "cdktf";
import { EgressSpoke } from "../modules/spoke/egress-spoke";
import { addressAt, configFrom, defaultConfig, defaultConfigData, resourceAt, resources, synthConfig } from "./helpers";

const ref = (address: string, attr: string) => `\${${address}.${attr}}`;

describe("spoke stacks (new VPCs)", () => {
  const { json, text } = synthConfig(defaultConfig());

  test.each(["project-a", "project-b", "project-c", "project-d"])("spoke-%s reads the hub contract from its port block's S3 state", (spoke) => {
    const remote = Object.values(json[`spoke-${spoke}`].data?.terraform_remote_state ?? {});
    expect(remote).toEqual([{ backend: "s3", config: { bucket: "egresslink-tfstate-example", key: "egresslink/hub-ports-3100.tfstate", region: "ap-northeast-1" } }]);
  });

  test.each([
    ["project-a", 3128],
    ["project-d", 3131],
  ])("spoke-%s: Resource endpoint to its own resource configuration, ARN read from the hub's state", (spoke) => {
    const tf = json[`spoke-${spoke}`];
    const remote = `data.terraform_remote_state.${Object.keys(tf.data?.terraform_remote_state ?? {})[0]}`;
    expect(resourceAt(tf, "aws_vpc_endpoint", "spoke/endpoint")).toEqual(
      expect.objectContaining({
        vpc_endpoint_type: "Resource",
        resource_configuration_arn: `\${${remote}.outputs.resource_configuration_arns["${spoke}"]}`,
        vpc_id: ref(addressAt(tf, "aws_vpc", "spoke/network"), "id"),
        subnet_ids: ["az1", "az2"].map((slot) => ref(addressAt(tf, "aws_subnet", `network/private-${slot}`), "id")),
        security_group_ids: [ref(addressAt(tf, "aws_security_group", "spoke/endpoint-sg"), "id")],
      }),
    );
  });

  test("the endpoint's security group admits only the spoke's VPC CIDR, only on the port the hub publishes", () => {
    const tf = json["spoke-project-b"];
    const remote = `data.terraform_remote_state.${Object.keys(tf.data?.terraform_remote_state ?? {})[0]}`;
    const rules = Object.values(resources(tf, "aws_vpc_security_group_ingress_rule"));
    expect(rules).toEqual([
      expect.objectContaining({
        cidr_ipv4: "10.0.0.0/16",
        ip_protocol: "tcp",
        from_port: `\${${remote}.outputs.proxy_ports["project-b"]}`,
        to_port: `\${${remote}.outputs.proxy_ports["project-b"]}`,
        security_group_id: ref(addressAt(tf, "aws_security_group", "spoke/endpoint-sg"), "id"),
      }),
    ]);
    expect(resources(tf, "aws_vpc_security_group_egress_rule")).toEqual({});
  });

  test("a new spoke VPC has private subnets in two AZs and no internet path of its own", () => {
    const tf = json["spoke-project-c"];
    expect(resourceAt(tf, "aws_vpc", "spoke/network")).toMatchObject({ cidr_block: "10.0.0.0/16", enable_dns_support: true, enable_dns_hostnames: true });
    expect(text["spoke-project-c"]).toHaveResourceWithProperties(Subnet, { cidr_block: "10.0.0.0/20", availability_zone: "ap-northeast-1a" });
    expect(text["spoke-project-c"]).toHaveResourceWithProperties(Subnet, { cidr_block: "10.0.16.0/20", availability_zone: "ap-northeast-1c" });
    for (const type of ["aws_internet_gateway", "aws_nat_gateway", "aws_eip", "aws_route"]) expect(resources(tf, type)).toEqual({});
  });

  test("outputs: endpoint ID, its ENIs and the proxy port", () => {
    const tf = json["spoke-project-a"];
    const endpoint = addressAt(tf, "aws_vpc_endpoint", "spoke/endpoint");
    expect(tf.output?.endpoint_id.value).toBe(ref(endpoint, "id"));
    expect(tf.output?.endpoint_network_interface_ids.value).toBe(`\${tolist(${endpoint}.network_interface_ids)}`);
    expect(tf.output?.proxy_port.value).toMatch(/outputs\.proxy_ports\["project-a"\]/);
  });
});

describe("spoke stacks (existing VPCs)", () => {
  const data = defaultConfigData();
  data.spokes["legacy-app"] = { port: 3140, vpcId: "vpc-0123456789abcdef0", subnetIds: ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"] };
  const { json, text } = synthConfig(configFrom(data));
  const tf = json["spoke-legacy-app"];

  test("look the VPC up by ID and create none", () => {
    expect(text["spoke-legacy-app"]).toHaveDataSourceWithProperties(DataAwsVpc, { id: "vpc-0123456789abcdef0" });
    expect(resources(tf, "aws_vpc")).toEqual({});
    expect(resources(tf, "aws_subnet")).toEqual({});
  });

  test("put the endpoint in the given subnets and admit the looked-up VPC CIDR", () => {
    const vpc = `data.aws_vpc.${Object.keys(tf.data?.aws_vpc ?? {})[0]}`;
    expect(text["spoke-legacy-app"]).toHaveResourceWithProperties(VpcEndpoint, {
      subnet_ids: ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
      vpc_id: `\${${vpc}.id}`,
    });
    expect(Object.values(resources(tf, "aws_vpc_security_group_ingress_rule"))[0].cidr_ipv4).toBe(`\${${vpc}.cidr_block}`);
  });
});

describe("EgressSpoke used on its own", () => {
  const hubState = { bucket: "b-1", key: "egresslink/hub.tfstate", region: "eu-west-1" };

  test("rejects an existing VPC with fewer than two subnets, naming the prop", () => {
    const stack = new TerraformStack(Testing.app(), "s");
    expect(() => new EgressSpoke(stack, "x", { spokeName: "team-x", hubState, region: "eu-west-1", vpc: { kind: "existing", vpcId: "vpc-1", subnetIds: ["subnet-1", "subnet-1"] } })).toThrow(
      /'subnetIds'/,
    );
  });

  test("rejects a spoke name VPC Lattice would not accept", () => {
    const stack = new TerraformStack(Testing.app(), "s");
    expect(() => new EgressSpoke(stack, "x", { spokeName: "Team_X", hubState, region: "eu-west-1", vpc: { kind: "existing", vpcId: "vpc-1", subnetIds: ["a", "b"] } })).toThrow(/'spokeName'/);
  });

  test("rejects applyProxySettings: tagged on a new VPC without the SSM endpoints (no NAT: the agent cannot reach SSM)", () => {
    const vpc = { kind: "new" as const, cidr: "10.0.0.0/16", zones: { count: 2 }, subnets: ["10.0.0.0/24", "10.0.1.0/24"] };
    const build = (endpoints: string[]) => () =>
      new EgressSpoke(new TerraformStack(Testing.app(), "s"), "x", { spokeName: "team-x", hubState, region: "eu-west-1", vpc, applyProxySettings: "tagged", endpoints });
    expect(build([])).toThrow(/'applyProxySettings'.*ssm/);
    expect(build(["ssm"])).not.toThrow();
  });

  test("rejects an empty hub state location", () => {
    const stack = new TerraformStack(Testing.app(), "s");
    expect(() => new EgressSpoke(stack, "x", { spokeName: "team-x", hubState: { ...hubState, bucket: "" }, region: "eu-west-1", vpc: { kind: "existing", vpcId: "vpc-1", subnetIds: ["a", "b"] } })).toThrow(
      /'bucket'/,
    );
  });
});
