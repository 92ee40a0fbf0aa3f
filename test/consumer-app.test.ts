import { Testing } from "cdktf";
import { buildConsumerApp, DEPLOYMENT_NAME, HUB_STATE, SPOKE_NAME } from "../examples/consumer-app/main";
import { stateKey } from "../modules/state/backend";
import { spokeHubStack } from "../modules/core/stack-names";
import { addressAt, defaultConfig, resourceAt, resources, type TerraformJson } from "./helpers";

describe("examples/consumer-app: another team's app importing the modules", () => {
  const { stack } = buildConsumerApp(Testing.app().outdir);
  const tf = JSON.parse(Testing.synth(stack)) as TerraformJson;

  test("joins the default config as its external spoke, under the default deployment's name", () => {
    const config = defaultConfig();
    expect(config.name).toBe(DEPLOYMENT_NAME);
    expect(config.spokes.find((s) => s.name === SPOKE_NAME)?.vpc.kind).toBe("external");
  });

  test("points at the state of its port block in the default hub (what the summary prints for project-e)", () => {
    const { state } = defaultConfig();
    if (state.backend !== "s3") throw new Error("the default config keeps its state in S3");
    const spoke = defaultConfig().spokes.find((s) => s.name === SPOKE_NAME)!;
    expect(HUB_STATE).toEqual({ bucket: state.bucket, key: stateKey(state.keyPrefix, spokeHubStack(spoke)), region: state.region });
    expect(Object.values(tf.data?.terraform_remote_state ?? {})).toEqual([{ backend: "s3", config: { bucket: HUB_STATE.bucket, key: HUB_STATE.key, region: HUB_STATE.region } }]);
  });

  test("its endpoint's resource configuration ARN and port come from the hub's outputs", () => {
    const remote = `data.terraform_remote_state.${Object.keys(tf.data?.terraform_remote_state ?? {})[0]}`;
    expect(resourceAt(tf, "aws_vpc_endpoint", "egress/endpoint")).toMatchObject({
      vpc_endpoint_type: "Resource",
      resource_configuration_arn: `\${${remote}.outputs.resource_configuration_arns["project-e"]}`,
      subnet_ids: ["subnet-0e0e0e0e0e0e0e0e1", "subnet-0e0e0e0e0e0e0e0e2"],
    });
    expect(tf.output?.proxy_url.value).toBe(`http://proxy.egress.internal:\${${remote}.outputs.proxy_ports["project-e"]}`);
  });

  test("ServiceEndpoints used on its own adds the team's endpoints to its VPC", () => {
    const endpoints = Object.values(resources(tf, "aws_vpc_endpoint")).map((e) => e.service_name).filter(Boolean).sort();
    expect(endpoints).toEqual(["ecr.api", "ecr.dkr", "logs", "s3", "secretsmanager"].map((s) => `com.amazonaws.ap-northeast-1.${s}`));
    expect(resourceAt(tf, "aws_vpc_endpoint", "aws-endpoints/s3").route_table_ids).toEqual(["rtb-0e0e0e0e0e0e0e0e1"]);
    expect(addressAt(tf, "aws_security_group", "aws-endpoints/sg")).toMatch(/^aws_security_group\./);
  });

  test("keeps its own state in S3 with locking", () => {
    expect(tf.terraform?.backend?.s3).toMatchObject({ key: "teams/project-e/network.tfstate", encrypt: true, use_lockfile: true });
  });
});
