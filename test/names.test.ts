/**
 * Account-wide AWS names (unique per account and Region): two deployments, or a deployment and a
 * team's own app, in one account must never ask AWS for the same name - the second apply fails with
 * "already exists".
 */
import { Testing } from "cdktf";
import { buildConsumerApp, DEPLOYMENT_NAME } from "../examples/consumer-app/main";
import { spokeParameterNames } from "../modules/spoke/egress-spoke";
import { configFrom, defaultConfig, defaultConfigData, synthConfig, type TerraformJson } from "./helpers";

/** Resource types whose name is unique per account (and Region), with the argument holding it. */
const ACCOUNT_WIDE: Readonly<Record<string, string>> = {
  aws_ssm_parameter: "name",
  aws_ssm_document: "name",
  aws_ssm_association: "association_name",
  aws_iam_role: "name",
  aws_iam_instance_profile: "name",
  aws_cloudwatch_log_group: "name",
  aws_lb: "name",
  aws_lb_target_group: "name",
  aws_launch_template: "name",
  aws_autoscaling_group: "name",
  aws_vpclattice_resource_gateway: "name",
  aws_vpclattice_resource_configuration: "name",
  aws_ram_resource_share: "name",
};

function accountWideNames(stacks: Record<string, TerraformJson>): string[] {
  return Object.values(stacks).flatMap((json) =>
    Object.entries(ACCOUNT_WIDE).flatMap(([type, argument]) =>
      Object.values(json.resource?.[type] ?? {})
        // Without a name Terraform generates a unique one (target groups: `tf-...`).
        .filter((body) => body[argument] !== undefined)
        .map((body) => `${type} ${String(body[argument])}`),
    ),
  );
}

function duplicates(names: readonly string[]): string[] {
  return names.filter((name, i) => names.indexOf(name) !== i);
}

describe("account-wide names carry the deployment name", () => {
  const base = synthConfig(defaultConfig()).json;

  test("every account-wide name of the default config starts with, or has a path segment of, the deployment name", () => {
    const names = accountWideNames(base);
    expect(names.length).toBeGreaterThan(20);
    for (const entry of names) expect(entry.split(" ")[1]).toMatch(/^(egress-|\/egresslink\/egress\/)/);
  });

  test("two deployments in one account ask for no name in common", () => {
    const data = defaultConfigData();
    data.name = "egress-staging";
    const other = synthConfig(configFrom(data)).json;
    const theirs = new Set(accountWideNames(other));
    expect(accountWideNames(base).filter((name) => theirs.has(name))).toEqual([]);
  });

  test("the consumer app and the default config's stacks share an account without a collision", () => {
    const { stack } = buildConsumerApp(Testing.app().outdir);
    const consumer = JSON.parse(Testing.synth(stack)) as TerraformJson;
    const all = accountWideNames({ ...base, consumer });
    expect(duplicates(all)).toEqual([]);
    expect(accountWideNames({ consumer })).toEqual(
      expect.arrayContaining([`aws_ssm_parameter ${spokeParameterNames(DEPLOYMENT_NAME, "project-e").proxyUrl}`, `aws_ssm_document ${DEPLOYMENT_NAME}-project-e-proxy-settings`]),
    );
  });

  test("a spoke's SSM parameters sit under the deployment's path, beside the hub's", () => {
    expect(spokeParameterNames("egress", "project-a")).toEqual({ proxyUrl: "/egresslink/egress/spokes/project-a/proxy-url", noProxy: "/egresslink/egress/spokes/project-a/no-proxy" });
    expect(Object.values(base["spoke-project-a"].resource?.aws_ssm_parameter ?? {}).map((p) => p.name).sort()).toEqual([
      "/egresslink/egress/spokes/project-a/no-proxy",
      "/egresslink/egress/spokes/project-a/proxy-url",
    ]);
  });
});
