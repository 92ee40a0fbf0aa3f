import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { Fn, Testing, TerraformStack } from "cdktf";
import { ServiceEndpoints, type ServiceEndpointsProps } from "../modules/endpoints/service-endpoints";
import { endpointServiceName, resolveEndpoints, serviceDomains } from "../modules/endpoints/services";
import { addressAt, defaultConfig, resources, synthConfig, type TerraformJson } from "./helpers";

const ref = (address: string, attr: string) => `\${${address}.${attr}}`;

function synthEndpoints(props: Partial<ServiceEndpointsProps>): { tf: TerraformJson; text: string } {
  const stack = new TerraformStack(Testing.app(), "endpoints");
  new ServiceEndpoints(stack, "endpoints", {
    name: "team-x",
    region: "eu-central-1",
    vpcId: "vpc-0123456789abcdef0",
    vpcCidr: "172.20.0.0/16",
    subnetIds: ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
    routeTableIds: ["rtb-0aaaaaaaaaaaaaaa1", "rtb-0bbbbbbbbbbbbbbb2", "rtb-0ccccccccccccccc3"],
    services: ["ecr", "ssm", "logs", "sts", "kms", "secretsmanager", "sqs", "dynamodb"],
    ...props,
  });
  const text = Testing.synth(stack);
  return { tf: JSON.parse(text), text };
}

describe("endpoint presets", () => {
  test("expand to interface and gateway endpoints, deduplicated and sorted", () => {
    expect(resolveEndpoints(["ecr"])).toEqual({ interface: ["ecr.api", "ecr.dkr"], gateway: ["s3"] });
    expect(resolveEndpoints(["ssm", "s3", "ecr", "sqs", "ssm"])).toEqual({ interface: ["ecr.api", "ecr.dkr", "sqs", "ec2messages", "ssm", "ssmmessages"].sort(), gateway: ["s3"] });
    expect(resolveEndpoints(["logs", "sts", "kms", "secretsmanager", "dynamodb"])).toEqual({ interface: ["kms", "logs", "secretsmanager", "sts"], gateway: ["dynamodb"] });
    expect(() => resolveEndpoints(["ECR!"])).toThrow(/not an endpoint preset/);
  });

  test("service names and the host names they serve, per Region and partition", () => {
    expect(endpointServiceName("ap-northeast-1", "ecr.dkr")).toBe("com.amazonaws.ap-northeast-1.ecr.dkr");
    expect(serviceDomains("ap-northeast-1", "ecr.api")).toEqual(["api.ecr.ap-northeast-1.amazonaws.com"]);
    expect(serviceDomains("ap-northeast-1", "ecr.dkr")).toEqual([".dkr.ecr.ap-northeast-1.amazonaws.com"]);
    expect(serviceDomains("ap-northeast-1", "s3")).toEqual(["s3.ap-northeast-1.amazonaws.com", ".s3.ap-northeast-1.amazonaws.com"]);
    expect(serviceDomains("cn-north-1", "logs")).toEqual(["logs.cn-north-1.amazonaws.com.cn"]);
  });
});

describe("ServiceEndpoints on its own", () => {
  const { tf, text } = synthEndpoints({});
  const interfaces = Object.values(resources(tf, "aws_vpc_endpoint")).filter((e) => e.vpc_endpoint_type === "Interface");
  const sg = ref(addressAt(tf, "aws_security_group", "endpoints/sg"), "id");

  test("one interface endpoint per service, named for the Region, private DNS on, in every subnet, behind the SG", () => {
    expect(interfaces.map((e) => e.service_name).sort()).toEqual(
      ["ec2messages", "ecr.api", "ecr.dkr", "kms", "logs", "secretsmanager", "sqs", "ssm", "ssmmessages", "sts"].map((s) => `com.amazonaws.eu-central-1.${s}`).sort(),
    );
    for (const endpoint of interfaces) {
      expect(endpoint).toMatchObject({
        private_dns_enabled: true,
        subnet_ids: ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
        security_group_ids: [sg],
        vpc_id: "vpc-0123456789abcdef0",
      });
    }
  });

  test("the security group admits 443 from the VPC CIDR and nothing else", () => {
    expect(Object.values(resources(tf, "aws_vpc_security_group_ingress_rule"))).toEqual([
      expect.objectContaining({ security_group_id: sg, ip_protocol: "tcp", from_port: 443, to_port: 443, cidr_ipv4: "172.20.0.0/16" }),
    ]);
    expect(resources(tf, "aws_vpc_security_group_egress_rule")).toEqual({});
    expect(Object.values(resources(tf, "aws_security_group"))[0].ingress).toBeUndefined();
  });

  test("gateway endpoints (S3 via ecr, DynamoDB) on every route table", () => {
    for (const service of ["s3", "dynamodb"]) {
      expect(text).toHaveResourceWithProperties(VpcEndpoint, {
        service_name: `com.amazonaws.eu-central-1.${service}`,
        vpc_endpoint_type: "Gateway",
        route_table_ids: ["rtb-0aaaaaaaaaaaaaaa1", "rtb-0bbbbbbbbbbbbbbb2", "rtb-0ccccccccccccccc3"],
      });
    }
  });

  test("endpoint policies are attached to the endpoints they name", () => {
    const policy = JSON.stringify({ Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "arn:aws:s3:::prod-eu-central-1-starport-layer-bucket/*" }] });
    const { tf: withPolicy } = synthEndpoints({ services: ["ecr"], policies: { s3: policy } });
    const s3 = Object.values(resources(withPolicy, "aws_vpc_endpoint")).find((e) => e.service_name.endsWith(".s3"));
    expect(s3?.policy).toBe(policy);
    expect(Object.values(resources(withPolicy, "aws_vpc_endpoint")).filter((e) => e.policy)).toHaveLength(1);
  });

  test("rejects gateway endpoints without route tables, and policies for endpoints it does not make", () => {
    expect(() => synthEndpoints({ services: ["s3"], routeTableIds: [] })).toThrow(/gateway endpoints \(s3\) need 'routeTableIds'/);
    expect(() => synthEndpoints({ services: ["logs"], policies: { s3: "{}" } })).toThrow(/'policies' names "s3"/);
  });
});

describe("endpoints in a spoke stack", () => {
  const { json } = synthConfig(defaultConfig());
  const tf = json["spoke-project-a"];

  test("the ecr, logs and ssm presets of project-a, with the S3 gateway on every private route table of its VPC", () => {
    const endpoints = Object.values(resources(tf, "aws_vpc_endpoint"));
    expect(endpoints.filter((e) => e.vpc_endpoint_type === "Interface").map((e) => e.service_name).sort()).toEqual(
      ["ec2messages", "ecr.api", "ecr.dkr", "logs", "ssm", "ssmmessages"].map((s) => `com.amazonaws.ap-northeast-1.${s}`),
    );
    expect(endpoints.find((e) => e.vpc_endpoint_type === "Gateway")).toMatchObject({
      service_name: "com.amazonaws.ap-northeast-1.s3",
      route_table_ids: ["az1", "az2"].map((slot) => ref(addressAt(tf, "aws_route_table", `network/private-rt-${slot}`), "id")),
    });
  });

  test("spokes without endpoints get none", () => {
    expect(Object.values(resources(json["spoke-project-b"], "aws_vpc_endpoint")).map((e) => e.vpc_endpoint_type)).toEqual(["Resource"]);
  });
});

describe("ServiceEndpoints used on its own checks what the config would", () => {
  test.each([
    [{ services: ["ecr-api"] }, /'services\[0\]' "ecr-api" is not an endpoint service id; did you mean "ecr\.api"\?/],
    [{ services: ["logs", "cloudwatch-logs"] }, /'services\[1\]' .*did you mean "logs"\?/],
    [{ services: ["s3"], policies: { s3: JSON.stringify({ Version: "2012-10-17" }) } }, /'policies\.s3\.Statement' is required/],
    [{ services: ["logs"], policies: { logs: JSON.stringify({ Statement: [{ Efect: "Allow", Principal: "*", Action: "logs:*", Resource: "*" }] }) } }, /'policies\.logs\.Statement\[0\]\.Efect' is not a statement element; did you mean "Effect"\?/],
    [{ services: ["logs"], policies: { logs: "{not json" } }, /'policies\.logs' is not JSON/],
  ])("%j is refused", (props, message) => {
    expect(() => synthEndpoints(props)).toThrow(message);
  });

  test("a policy given as a Terraform reference is left to AWS", () => {
    const { tf } = synthEndpoints({ services: ["logs"], policies: { logs: Fn.jsonencode({ Statement: "from elsewhere" }) } });
    expect(Object.values(tf.resource?.aws_vpc_endpoint ?? {}).map((e) => e.policy)).toContain('${jsonencode({"Statement" = "from elsewhere"})}');
  });
});
