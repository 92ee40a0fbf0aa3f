/**
 * State in HCP Terraform / Terraform Enterprise (`state.backend: cloud`): each stack runs in its
 * own workspace (a `cloud` block), no state bucket, and spokes read the hub's workspace through
 * the `remote` backend. Terraform validates and mock-applies these stacks in terraform.test.ts.
 */
import { Testing, TerraformStack } from "cdktf";
import { EgressSpoke } from "../modules/spoke/egress-spoke";
import { captureConfigError, configFrom, defaultCloudConfig, defaultConfigData, synthConfig, type TerraformJson } from "./helpers";

const CLOUD = { backend: "cloud", organization: "example-org", project: "networking" };

function remoteStates(tf: TerraformJson): Record<string, unknown>[] {
  return Object.values(tf.data?.terraform_remote_state ?? {});
}

describe("state.backend: cloud (the default config)", () => {
  const config = defaultCloudConfig();
  const { json } = synthConfig(config);
  const stacks = Object.keys(json).sort();

  test("has no state bucket stack; every other stack is still there", () => {
    expect(stacks).toEqual(["hub", "hub-ports-3100", "spoke-project-a", "spoke-project-b", "spoke-project-c", "spoke-project-d"]);
  });

  test("each stack runs in its own workspace, named by the pattern, in the project", () => {
    for (const stack of stacks) {
      expect([stack, json[stack].terraform?.cloud]).toEqual([stack, { hostname: "app.terraform.io", organization: "example-org", workspaces: { name: `egress-${stack}`, project: "networking" } }]);
    }
  });

  test("no S3 backend and no S3 remote state remain", () => {
    for (const stack of stacks) {
      expect([stack, json[stack].terraform?.backend]).toEqual([stack, undefined]);
      expect(remoteStates(json[stack]).filter((r) => r.backend !== "remote")).toEqual([]);
    }
  });

  test("each spoke reads its port block's workspace, and only it; the block reads the hub core's", () => {
    const workspace = (name: string) => [{ backend: "remote", config: { hostname: "app.terraform.io", organization: "example-org", workspaces: { name } } }];
    for (const stack of stacks.filter((s) => s.startsWith("spoke-"))) {
      expect([stack, remoteStates(json[stack])]).toEqual([stack, workspace("egress-hub-ports-3100")]);
    }
    expect(remoteStates(json["hub-ports-3100"])).toEqual(workspace("egress-hub"));
    expect(remoteStates(json.hub)).toEqual([]);
  });

  test("keeps the Terraform addresses of the S3 variant: only the backend differs", () => {
    const s3 = synthConfig(configFrom(defaultConfigData())).json;
    for (const stack of stacks) {
      const addresses = (tf: TerraformJson) => Object.entries({ ...tf.resource, ...tf.data }).flatMap(([type, byName]) => Object.keys(byName).map((name) => `${type}.${name}`)).sort();
      expect([stack, addresses(json[stack])]).toEqual([stack, addresses(s3[stack])]);
    }
  });

  test("a Terraform Enterprise host and a workspace pattern of the user's", () => {
    const { json: tfe } = synthConfig(configFrom({ ...defaultConfigData(), name: "corp", state: { ...CLOUD, hostname: "tfe.example.com", workspaces: "net_{stack}_{name}" } }));
    expect(tfe.hub.terraform?.cloud).toEqual({ hostname: "tfe.example.com", organization: "example-org", workspaces: { name: "net_hub_corp", project: "networking" } });
    expect(remoteStates(tfe["spoke-project-a"])[0]).toMatchObject({ config: { hostname: "tfe.example.com", workspaces: { name: "net_hub-ports-3100_corp" } } });
    expect(remoteStates(tfe["hub-ports-3100"])[0]).toMatchObject({ config: { hostname: "tfe.example.com", workspaces: { name: "net_hub_corp" } } });
  });

  test("a spoke in another account needs no role to reach the state: the workspaces hold it", () => {
    const data: Record<string, any> = { ...defaultConfigData(), state: CLOUD };
    data.hub.accountId = "111111111111";
    data.spokes["project-a"].accountId = "222222222222";
    data.spokes["project-a"].roleArn = "arn:aws:iam::222222222222:role/egress-deployer";
    const { json: shared } = synthConfig(configFrom(data));
    expect(remoteStates(shared["spoke-project-a"])).toEqual([expect.objectContaining({ backend: "remote" })]);
    delete data.spokes["project-a"].roleArn;
    expect(() => configFrom(data)).not.toThrow();
  });
});

describe("state.backend: cloud, bad input", () => {
  const problems = (state: Record<string, unknown>, patch: (d: Record<string, any>) => void = () => {}) => {
    const data = { ...defaultConfigData(), state };
    patch(data);
    return captureConfigError(() => configFrom(data)).issues.map((i) => `${i.path}: ${i.message}`);
  };

  test("organization is required; S3 settings are refused", () => {
    expect(problems({ backend: "cloud", bucket: "my-state", keyPrefix: "x" })).toEqual([
      "state.organization: is required with backend: cloud",
      "state.bucket: does not apply to backend: cloud (it is a backend: s3 setting)",
      "state.keyPrefix: does not apply to backend: cloud (it is a backend: s3 setting)",
    ]);
  });

  test("cloud settings are refused with S3, which still needs its bucket", () => {
    expect(problems({ organization: "example-org", workspaces: "{stack}" })).toEqual([
      "state.bucket: is required with backend: s3",
      "state.organization: does not apply to backend: s3 (it is a backend: cloud setting)",
      "state.workspaces: does not apply to backend: s3 (it is a backend: cloud setting)",
    ]);
  });

  test("a workspace pattern without {stack}, or with characters workspaces may not have", () => {
    expect(problems({ ...CLOUD, workspaces: "egress" })).toEqual(["state.workspaces: must contain {stack}: each stack needs a workspace of its own"]);
    expect(problems({ ...CLOUD, workspaces: "egress/{stack}" })).toEqual(["state.workspaces: may hold only letters, digits, '-', '_' and the placeholders {name} and {stack}"]);
  });

  test("a workspace name over 90 characters names the spoke and the length", () => {
    // 70 + "-" + "spoke-project-a" = 86 characters: accepted.
    expect(() => configFrom({ ...defaultConfigData(), state: { ...CLOUD, workspaces: "a".repeat(70) + "-{stack}" } })).not.toThrow();
    // 75 + 1 + 15 = 91 for every spoke this app deploys; the external project-e has no workspace here.
    const found = problems({ ...CLOUD, workspaces: "a".repeat(75) + "-{stack}" });
    expect(found.map((p) => p.split(":")[0])).toEqual(["spokes.project-a", "spokes.project-b", "spokes.project-c", "spokes.project-d"]);
    expect(found[0]).toMatch(/^spokes\.project-a: the workspace name "a+-spok.*" would be 91 characters; HCP Terraform allows 90 \(shorten state\.workspaces, the name or the spoke name\)$/);
  });
});

describe("EgressSpoke in a team's own app, reading a hub kept in HCP Terraform", () => {
  test("reads the hub's workspace through the remote backend", () => {
    const app = Testing.app();
    const stack = new TerraformStack(app, "team");
    new EgressSpoke(stack, "egress", {
      spokeName: "project-x",
      region: "ap-northeast-1",
      hubState: { organization: "example-org", workspace: "egress-hub" },
      vpc: { kind: "existing", vpcId: "vpc-0a1b2c3d4e5f60718", subnetIds: ["subnet-01234567890abcdef", "subnet-0fedcba9876543210"] },
    });
    const tf = JSON.parse(Testing.synth(stack)) as TerraformJson;
    expect(remoteStates(tf)).toEqual([{ backend: "remote", config: { organization: "example-org", workspaces: { name: "egress-hub" } } }]);
  });

  test("an empty workspace name is refused", () => {
    const stack = new TerraformStack(Testing.app(), "team");
    expect(
      () =>
        new EgressSpoke(stack, "egress", {
          spokeName: "project-x",
          region: "ap-northeast-1",
          hubState: { organization: "example-org", workspace: "" },
          vpc: { kind: "existing", vpcId: "vpc-0a1b2c3d4e5f60718", subnetIds: ["subnet-01234567890abcdef", "subnet-0fedcba9876543210"] },
        }),
    ).toThrow("HubRemoteState: 'workspace' of the hub's state location must not be empty");
  });
});
