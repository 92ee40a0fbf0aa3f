import { RamPrincipalAssociation } from "@cdktf/provider-aws/lib/ram-principal-association";
import { join } from "node:path";
import { loadConfigFile } from "../modules/config/load";
import { addressAt, configFrom, resourceAt, resources, ROOT, synthConfig } from "./helpers";
import { readFileSync } from "node:fs";
import { parse } from "yaml";

const ref = (address: string, attr: string) => `\${${address}.${attr}}`;

describe("examples/cross-account.yaml", () => {
  const { json, text } = synthConfig(loadConfigFile(join(ROOT, "examples", "cross-account.yaml")));
  const hub = json.hub;

  test("the hub shares each spoke's resource configuration with that spoke's account, and only that one", () => {
    const block = json["hub-ports-3100"];
    for (const [spoke, account] of [["payments", "222222222222"], ["analytics", "333333333333"]]) {
      const share = addressAt(block, "aws_ram_resource_share", `hub/share-${spoke}`);
      expect(resourceAt(block, "aws_ram_resource_share", `hub/share-${spoke}`)).toMatchObject({ name: `egress-${spoke}`, allow_external_principals: true });
      expect(text["hub-ports-3100"]).toHaveResourceWithProperties(RamPrincipalAssociation, { principal: account, resource_share_arn: ref(share, "arn") });
      expect(resourceAt(block, "aws_ram_resource_association", `hub/share-config-${spoke}`)).toMatchObject({
        resource_share_arn: ref(share, "arn"),
        resource_arn: ref(addressAt(block, "aws_vpclattice_resource_configuration", `hub/config-${spoke}`), "arn"),
      });
    }
    expect(Object.keys(resources(block, "aws_ram_resource_association"))).toHaveLength(2);
    expect(resources(hub, "aws_ram_resource_association")).toEqual({});
    expect(Object.keys(block.output?.resource_share_arns.value as object).sort()).toEqual(["analytics", "payments"]);
  });

  test("each spoke stack's provider assumes the configured role and is pinned to the spoke's account", () => {
    expect(json["spoke-payments"].provider?.aws[0]).toMatchObject({
      assume_role: [{ role_arn: "arn:aws:iam::222222222222:role/egresslink-spoke-deployer", session_name: "egresslink" }],
      allowed_account_ids: ["222222222222"],
    });
    expect(json["spoke-analytics"].provider?.aws[0].assume_role).toEqual([{ role_arn: "arn:aws:iam::333333333333:role/egresslink-spoke-deployer", session_name: "egresslink" }]);
    expect(hub.provider?.aws[0].assume_role).toBeUndefined();
  });

  test("outside an organization each spoke accepts its share, before creating its endpoint", () => {
    const tf = json["spoke-payments"];
    const remote = `data.terraform_remote_state.${Object.keys(tf.data?.terraform_remote_state ?? {})[0]}`;
    const accepter = addressAt(tf, "aws_ram_resource_share_accepter", "spoke/accept-share");
    // cdktf writes `.payments` for keys that are identifiers, `["project-a"]` otherwise: the same lookup.
    expect(resourceAt(tf, "aws_ram_resource_share_accepter", "spoke/accept-share").share_arn).toBe(`\${${remote}.outputs.resource_share_arns.payments}`);
    expect(resourceAt(tf, "aws_vpc_endpoint", "spoke/endpoint").depends_on).toEqual([accepter]);
  });

  test("state and the hub's outputs are read through the state role", () => {
    for (const stack of ["hub", "hub-ports-3100", "spoke-payments", "spoke-analytics"]) {
      expect(json[stack].terraform?.backend?.s3).toMatchObject({ assume_role: { role_arn: "arn:aws:iam::111111111111:role/egresslink-state-access" }, use_lockfile: true });
    }
    const remote = Object.values(json["spoke-payments"].data?.terraform_remote_state ?? {})[0] as any;
    expect(remote.config).toMatchObject({ bucket: "acme-egresslink-tfstate", key: "egresslink/hub-ports-3100.tfstate", assume_role: { role_arn: "arn:aws:iam::111111111111:role/egresslink-state-access" } });
    const core = Object.values(json["hub-ports-3100"].data?.terraform_remote_state ?? {})[0] as any;
    expect(core.config).toMatchObject({ bucket: "acme-egresslink-tfstate", key: "egresslink/hub.tfstate", assume_role: { role_arn: "arn:aws:iam::111111111111:role/egresslink-state-access" } });
  });

  test("inside an organization: shares go to the organization or OU, stay internal, and need no acceptance", () => {
    const data = parse(readFileSync(join(ROOT, "examples", "cross-account.yaml"), "utf8"));
    data.hub.ramWithinOrganization = true;
    data.spokes.payments.sharePrincipal = "arn:aws:organizations::111111111111:ou/o-abcdefghij/ou-ab12-cdefgh34";
    const org = synthConfig(configFrom(data)).json;
    const block = org["hub-ports-3100"];
    expect(resourceAt(block, "aws_ram_resource_share", "hub/share-payments").allow_external_principals).toBe(false);
    expect(resourceAt(block, "aws_ram_principal_association", "hub/share-account-payments").principal).toBe("arn:aws:organizations::111111111111:ou/o-abcdefghij/ou-ab12-cdefgh34");
    expect(resourceAt(block, "aws_ram_principal_association", "hub/share-account-analytics").principal).toBe("333333333333");
    expect(resources(org["spoke-payments"], "aws_ram_resource_share_accepter")).toEqual({});
  });

  test("same-account spokes neither share nor accept", () => {
    const { json: same } = synthConfig(loadConfigFile(join(ROOT, "egress.config.yaml")));
    for (const stack of ["hub", "hub-ports-3100"]) expect(resources(same[stack], "aws_ram_resource_share")).toEqual({});
    expect(resources(same["spoke-project-a"], "aws_ram_resource_share_accepter")).toEqual({});
  });
});
