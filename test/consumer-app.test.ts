import { Testing } from "cdktf";
import { buildConsumerApp, HUB_STATE } from "../examples/consumer-app/main";
import { stateKey } from "../modules/state/backend";
import { HUB_STACK } from "../modules/hub/stack";
import { addressAt, defaultConfig, resourceAt, resources, type TerraformJson } from "./helpers";

describe("examples/consumer-app: another team's app importing the modules", () => {
  const { stack } = buildConsumerApp(Testing.app().outdir);
  const tf = JSON.parse(Testing.synth(stack)) as TerraformJson;

  test("points at the default hub's state location", () => {
    const config = defaultConfig();
    expect(HUB_STATE).toEqual({ bucket: config.state.bucket, key: stateKey(config.state.keyPrefix, HUB_STACK), region: config.state.region });
    expect(Object.values(tf.data?.terraform_remote_state ?? {})).toEqual([{ backend: "s3", config: { bucket: HUB_STATE.bucket, key: HUB_STATE.key, region: HUB_STATE.region } }]);
  });

  test("its endpoint's resource configuration ARN and port come from the hub's outputs", () => {
    const remote = `data.terraform_remote_state.${Object.keys(tf.data?.terraform_remote_state ?? {})[0]}`;
    expect(resourceAt(tf, "aws_vpc_endpoint", "egress/endpoint")).toMatchObject({
      vpc_endpoint_type: "Resource",
      resource_configuration_arn: `\${${remote}.outputs.resource_configuration_arns["project-d"]}`,
      subnet_ids: ["subnet-0d0d0d0d0d0d0d0d1", "subnet-0d0d0d0d0d0d0d0d2"],
    });
    expect(tf.output?.proxy_url.value).toBe(`http://proxy.egress.internal:\${${remote}.outputs.proxy_ports["project-d"]}`);
  });

  test("ServiceEndpoints used on its own adds the team's endpoints to its VPC", () => {
    const endpoints = Object.values(resources(tf, "aws_vpc_endpoint")).map((e) => e.service_name).filter(Boolean).sort();
    expect(endpoints).toEqual(["ecr.api", "ecr.dkr", "logs", "s3", "secretsmanager"].map((s) => `com.amazonaws.ap-northeast-1.${s}`));
    expect(resourceAt(tf, "aws_vpc_endpoint", "aws-endpoints/s3").route_table_ids).toEqual(["rtb-0d0d0d0d0d0d0d0d1"]);
    expect(addressAt(tf, "aws_security_group", "aws-endpoints/sg")).toMatch(/^aws_security_group\./);
  });

  test("keeps its own state in S3 with locking", () => {
    expect(tf.terraform?.backend?.s3).toMatchObject({ key: "teams/project-d/network.tfstate", encrypt: true, use_lockfile: true });
  });
});
