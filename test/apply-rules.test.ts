/**
 * Issue 9: settings that synthesize but fail at `terraform apply`, refused or made to work at
 * validation. Each test names the AWS or Terraform rule it enforces.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import type { ConfigIssue } from "../modules/config/errors";
import { loadConfigFile } from "../modules/config/load";
import { regionPartition } from "../modules/config/regions";
import { IAM_NAME_MAX, routerRoleName } from "../modules/interconnect/names";
import { applyProxySettingsProblem } from "../modules/spoke/settings-rules";
import { captureConfigError, configFrom, DEFAULT_CONFIG_PATH, defaultConfigData, resources, ROOT, synthConfig, type TerraformJson } from "./helpers";

type Data = Record<string, any>;

/** Every problem the config has; fails the test when it loads. */
function problems(data: Data): readonly ConfigIssue[] {
  return captureConfigError(() => configFrom(data)).issues;
}

function example(file: string): Data {
  return parse(readFileSync(join(ROOT, "examples", file), "utf8"));
}

/** The default config with project-b in account 222222222222 of a hub in 111111111111. */
function crossAccountData(): Data {
  const data = defaultConfigData();
  data.hub.accountId = "111111111111";
  data.spokes["project-b"].accountId = "222222222222";
  return data;
}

/** The statements of the state bucket's policy document. */
function bucketPolicyStatements(tf: TerraformJson): Record<string, any>[] {
  const documents = Object.values(tf.data?.aws_iam_policy_document ?? {}) as Record<string, any>[];
  expect(documents).toHaveLength(1);
  return documents[0].statement;
}

const SPOKE_ROLE = "arn:aws:iam::222222222222:role/egresslink-spoke";
const STATE_ROLE = "arn:aws:iam::111111111111:role/egresslink-state-access";

describe("a spoke in another account reaches the state (Terraform's S3 backend and terraform_remote_state need a role the bucket admits)", () => {
  const { json } = synthConfig(loadConfigFile(join(ROOT, "examples", "existing-vpcs.yaml")));
  const bucketArn = `\${aws_s3_bucket.${Object.keys(resources(json["egress-state"], "aws_s3_bucket"))[0]}.arn}`;

  test("without state.roleArn or a spoke roleArn it is refused at spokes.<name>.accountId, saying what to add", () => {
    expect(problems(crossAccountData())).toEqual([
      {
        path: "spokes.project-b.accountId",
        message: expect.stringMatching(/^is 222222222222, not the hub's account 111111111111: .*state bucket "egresslink-tfstate-example".* Set state\.roleArn .*, or give the spoke a roleArn in account 222222222222/),
      },
    ]);
  });

  test("an external spoke in another account is not refused: its own app chooses its backend", () => {
    const data = crossAccountData();
    data.spokes["project-b"] = { port: 3129, external: true, accountId: "222222222222" };
    expect(() => configFrom(data)).not.toThrow();
  });

  test("with its own roleArn, the spoke's backend and its read of the hub's state assume that role", () => {
    const spoke = json["spoke-data-platform"];
    const backend = spoke.terraform?.backend?.s3;
    expect(backend).toMatchObject({ bucket: "acme-egresslink-tfstate", key: "network/egress/spoke-data-platform.tfstate", assume_role: { role_arn: SPOKE_ROLE }, use_lockfile: true });
    const remote = Object.values(spoke.data?.terraform_remote_state ?? {}) as Record<string, any>[];
    expect(remote).toHaveLength(1);
    expect(remote[0].config).toMatchObject({ bucket: "acme-egresslink-tfstate", key: "network/egress/hub-ports-3100.tfstate", assume_role: { role_arn: SPOKE_ROLE } });
    // Terraform lists `<workspace_key_prefix>/` on every run and remote-state read: both list the spoke's own prefix.
    expect(backend?.workspace_key_prefix).toBe("network/egress/spoke-data-platform");
    expect(remote[0].config.workspace_key_prefix).toBe("network/egress/spoke-data-platform");
  });

  test("same-account spokes keep the caller's credentials and Terraform's workspace prefix", () => {
    const backend = json["spoke-billing"].terraform?.backend?.s3;
    expect(backend?.assume_role).toBeUndefined();
    expect(backend?.workspace_key_prefix).toBeUndefined();
    expect(json.hub.terraform?.backend?.s3?.assume_role).toBeUndefined();
  });

  test("the bucket policy grants that role its own state key and .tflock, the hub's key read-only, and lists only its own keys - never the whole bucket", () => {
    const granted = bucketPolicyStatements(json["egress-state"]).filter((s) => s.effect === "Allow");
    const own = [`${bucketArn}/network/egress/spoke-data-platform.tfstate`, `${bucketArn}/network/egress/spoke-data-platform.tfstate.tflock`];
    const principals = [{ type: "AWS", identifiers: [SPOKE_ROLE] }];
    expect(granted).toEqual([
      { effect: "Allow", principals, actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], resources: own },
      { effect: "Allow", principals, actions: ["s3:GetObject"], resources: [`${bucketArn}/network/egress/hub-ports-3100.tfstate`] },
      {
        effect: "Allow",
        principals,
        actions: ["s3:ListBucket"],
        resources: [bucketArn],
        condition: [
          {
            test: "StringEquals",
            variable: "s3:prefix",
            values: ["network/egress/spoke-data-platform.tfstate", "network/egress/spoke-data-platform.tfstate.tflock", "network/egress/spoke-data-platform/"],
          },
        ],
      },
    ]);
    for (const statement of granted) expect(statement.resources.some((r: string) => r.endsWith("*"))).toBe(false);
  });

  test("with state.create: false and only a spoke roleArn it is refused at spokes.<name>.roleArn: set state.roleArn", () => {
    const data = example("existing-vpcs.yaml");
    data.state.create = false;
    expect(problems(data)).toEqual([
      { path: "spokes.data-platform.roleArn", message: expect.stringMatching(/state\.create: false.*cannot grant this role.*Set state\.roleArn to a role that can reach the bucket/) },
    ]);
  });

  test("with state.roleArn every stack's backend and the hub read assume it, and the bucket grants no spoke role", () => {
    const data = example("existing-vpcs.yaml");
    data.state.roleArn = STATE_ROLE;
    const { json: withRole } = synthConfig(configFrom(data));
    for (const stack of ["hub", "spoke-billing", "spoke-data-platform", "spoke-sandbox"]) {
      expect(withRole[stack].terraform?.backend?.s3).toMatchObject({ assume_role: { role_arn: STATE_ROLE } });
      expect(withRole[stack].terraform?.backend?.s3?.workspace_key_prefix).toBeUndefined();
    }
    const remote = Object.values(withRole["spoke-data-platform"].data?.terraform_remote_state ?? {}) as Record<string, any>[];
    expect(remote[0].config.assume_role).toEqual({ role_arn: STATE_ROLE });
    expect(bucketPolicyStatements(withRole["egress-state"]).filter((s) => s.effect === "Allow")).toEqual([]);
  });
});

describe("applyProxySettings: tagged needs the SSM agent to reach SSM (a new spoke VPC has no NAT gateway)", () => {
  test("a new VPC without the SSM endpoints is refused at spokes.<name>.applyProxySettings, naming the ssm preset", () => {
    const data = defaultConfigData();
    data.spokes["project-b"].applyProxySettings = "tagged";
    expect(problems(data)).toEqual([
      { path: "spokes.project-b.applyProxySettings", message: expect.stringMatching(/no NAT gateway or internet route \(no endpoint for ssm, ssmmessages, ec2messages\)\. Add the "ssm" preset to endpoints/) },
    ]);
  });

  test("a new VPC with only some of the agent's endpoints is refused, naming the missing ones", () => {
    const data = defaultConfigData();
    Object.assign(data.spokes["project-b"], { applyProxySettings: "tagged", endpoints: ["ssmmessages", "logs"] });
    expect(problems(data)).toEqual([{ path: "spokes.project-b.applyProxySettings", message: expect.stringContaining("(no endpoint for ssm, ec2messages)") }]);
  });

  test("a new VPC with the ssm preset, or its three services listed, may use tagged", () => {
    for (const endpoints of [["ssm"], ["ec2messages", "ssm", "ssmmessages"]]) {
      const data = defaultConfigData();
      Object.assign(data.spokes["project-b"], { applyProxySettings: "tagged", endpoints });
      expect(() => configFrom(data)).not.toThrow();
    }
  });

  test("an existing VPC may use tagged without endpoints (its routes are not known here)", () => {
    const data = example("existing-vpcs.yaml");
    data.spokes.billing.applyProxySettings = "tagged";
    expect(() => configFrom(data)).not.toThrow();
  });

  test("applyProxySettingsProblem is the same rule for the EgressSpoke construct", () => {
    expect(applyProxySettingsProblem({ vpcKind: "new", applyProxySettings: "tagged" })).toMatch(/Add the "ssm" preset/);
    expect(applyProxySettingsProblem({ vpcKind: "new", applyProxySettings: "tagged", endpoints: ["ssm"] })).toBeUndefined();
    expect(applyProxySettingsProblem({ vpcKind: "new" })).toBeUndefined();
    expect(applyProxySettingsProblem({ vpcKind: "existing", applyProxySettings: "tagged" })).toBeUndefined();
  });
});

describe("names AWS rejects at apply", () => {
  test.each(["aws-egress", "awsome", "amazon-egress", "amzn-egress"])("deployment name %s is refused: SSM document names may not start with aws, amazon or amzn", (name) => {
    const data = defaultConfigData();
    data.name = name;
    expect(problems(data)).toEqual([{ path: "name", message: expect.stringMatching(/starts with "a\w+": SSM document names may not start with aws, amazon or amzn/) }]);
  });

  test("deployment name internal-... is refused: Elastic Load Balancing names may not start with internal-", () => {
    const data = defaultConfigData();
    data.name = "internal-egress";
    expect(problems(data)).toEqual([{ path: "name", message: expect.stringMatching(/starts with "internal-": load balancer names may not/) }]);
  });

  test("names that only contain those words elsewhere are fine", () => {
    for (const name of ["egress-aws", "my-amazon-egress", "egress-internal"]) {
      const data = defaultConfigData();
      data.name = name;
      expect(() => configFrom(data)).not.toThrow();
    }
  });

  test("the longest deployment name and the highest port keep NLB names within 32 characters and IAM role names within 64", () => {
    const data = defaultConfigData();
    data.name = "egress-long-name-x20";
    data.spokes["project-d"].port = 65535;
    const { json } = synthConfig(configFrom(data));
    const { hub } = json;
    const lbNames = Object.values(json).flatMap((tf) => Object.values(resources(tf, "aws_lb")).map((lb) => lb.name as string));
    expect(lbNames).toContain("egress-long-name-x20-proxy-65500");
    for (const name of lbNames) expect(name.length).toBeLessThanOrEqual(32);
    const roleNames = Object.values(resources(hub, "aws_iam_role")).map((role) => role.name as string);
    expect(roleNames).toEqual(["egress-long-name-x20-proxy-ap-northeast-1"]);
    for (const name of roleNames) expect(name.length).toBeLessThanOrEqual(IAM_NAME_MAX);
  });

  test("an interconnect site whose router role name would exceed IAM's 64 characters is refused at interconnect.sites.<site>", () => {
    const data = example("interconnect.yaml");
    data.interconnect.sites["singapore-primary-data-centre-site-one"] = data.interconnect.sites.singapore;
    delete data.interconnect.sites.singapore;
    expect(problems(data)).toEqual([
      {
        path: "interconnect.sites.singapore-primary-data-centre-site-one",
        message: `the router's IAM role and instance profile name "egress-singapore-primary-data-centre-site-one-router-ap-southeast-1" would be 67 characters; IAM allows 64 (shorten the site name or the top-level name)`,
      },
    ]);
    // A VyOS router has no IAM role.
    data.interconnect.sites["singapore-primary-data-centre-site-one"] = { ...data.interconnect.sites["singapore-primary-data-centre-site-one"], router: "vyos", amiId: "ami-0123456789abcdef0" };
    expect(() => configFrom(data)).not.toThrow();
  });

  test("routerRoleName is the name the interconnect gives each Linux router's role and instance profile", () => {
    const config = loadConfigFile(join(ROOT, "examples", "interconnect.yaml"));
    const tf = synthConfig(config).json.interconnect;
    const expected = config.interconnect!.sites.filter((s) => s.router === "linux").map((s) => routerRoleName(config.name, s.name, s.region)).sort();
    expect(Object.values(resources(tf, "aws_iam_role")).map((r) => r.name).sort()).toEqual(expected);
    expect(Object.values(resources(tf, "aws_iam_instance_profile")).map((r) => r.name).sort()).toEqual(expected);
  });

  test("regionPartition: China, GovCloud and the European Sovereign Cloud have their own partitions", () => {
    expect(["ap-northeast-1", "us-east-1", "cn-north-1", "cn-northwest-1", "us-gov-west-1", "eusc-de-east-1"].map(regionPartition)).toEqual(["aws", "aws", "aws-cn", "aws-cn", "aws-us-gov", "aws-eusc"]);
  });

  test("state.roleArn in aws-cn with a Tokyo state bucket is refused at state.roleArn: ARNs must be in the Region's partition", () => {
    const data = example("cross-account.yaml");
    data.state.roleArn = "arn:aws-cn:iam::111111111111:role/egresslink-state-access";
    expect(problems(data)).toEqual([
      {
        path: "state.roleArn",
        message: `"arn:aws-cn:iam::111111111111:role/egresslink-state-access" is an ARN in partition aws-cn, but it is used in ap-northeast-1 (the state bucket's Region), whose partition is aws: AWS accepts only ARNs of the Region's own partition (write arn:aws:...)`,
      },
    ]);
  });

  test("state.roleArn is checked against the state bucket's Region, spoke ARNs against the hub's", () => {
    const data = example("cross-account.yaml");
    data.state.region = "cn-north-1";
    expect(problems(data)).toEqual([{ path: "state.roleArn", message: expect.stringContaining("used in cn-north-1 (the state bucket's Region), whose partition is aws-cn") }]);
    data.state.roleArn = "arn:aws-cn:iam::111111111111:role/egresslink-state-access";
    expect(() => configFrom(data)).not.toThrow();
  });

  test("spoke roleArn, sharePrincipal and endpoint-policy ARNs of another partition are refused with their paths", () => {
    const data = example("cross-account.yaml");
    data.hub.ramWithinOrganization = true;
    data.spokes.payments.roleArn = "arn:aws-us-gov:iam::222222222222:role/egresslink-spoke-deployer";
    data.spokes.payments.sharePrincipal = "arn:aws-cn:organizations::111111111111:organization/o-abcdefghij";
    data.spokes.analytics.endpointPolicies = { s3: { Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: ["arn:aws:s3:::ok/*", "arn:aws-cn:s3:::data/*"] }] } };
    expect(problems(data).map((p) => [p.path, p.message.replace(/^.* is an ARN in partition ([\w-]+), but .*$/, "$1")])).toEqual([
      ["spokes.payments.roleArn", "aws-us-gov"],
      ["spokes.payments.sharePrincipal", "aws-cn"],
      ["spokes.analytics.endpointPolicies.s3.Statement[0].Resource[1]", "aws-cn"],
    ]);
  });

  test("GovCloud and European Sovereign Cloud ARNs are accepted in their own Regions", () => {
    for (const [region, partition] of [["us-gov-west-1", "aws-us-gov"], ["eusc-de-east-1", "aws-eusc"]]) {
      const data = {
        state: { bucket: "my-state", roleArn: `arn:${partition}:iam::111111111111:role/state` },
        hub: { region, cidr: "10.8.0.0/16", accountId: "111111111111" },
        spokes: { "team-a": { port: 4000, cidr: "10.0.0.0/16", accountId: "222222222222", roleArn: `arn:${partition}:iam::222222222222:role/spoke` } },
      };
      expect(() => configFrom(data)).not.toThrow();
    }
  });
});

describe("valid configs still load", () => {
  test.each([DEFAULT_CONFIG_PATH, ...readdirSync(join(ROOT, "examples")).filter((f) => f.endsWith(".yaml")).map((f) => join(ROOT, "examples", f))])("%s loads without errors", (file) => {
    expect(() => loadConfigFile(file)).not.toThrow();
  });
});
