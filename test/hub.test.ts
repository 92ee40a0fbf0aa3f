import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { RamPrincipalAssociation } from "@cdktf/provider-aws/lib/ram-principal-association";
import { RamResourceShare } from "@cdktf/provider-aws/lib/ram-resource-share";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { VpclatticeResourceGateway } from "@cdktf/provider-aws/lib/vpclattice-resource-gateway";
import { HUB_OUTPUT_DESCRIPTIONS } from "../modules/hub/contract";
import { hubSquidConf } from "../modules/proxy/squid-conf";
import { addressAt, configFrom, coreOutput, defaultConfig, defaultConfigData, resourceAt, resources, synthConfig } from "./helpers";

const ref = (address: string, attr: string) => `\${${address}.${attr}}`;

describe("hub stack", () => {
  const { json, text } = synthConfig(defaultConfig());
  const hub = json.hub;
  const hubText = text.hub;

  test("VPC with DNS support, and its default security group emptied", () => {
    expect(resourceAt(hub, "aws_vpc", "hub/network")).toMatchObject({ cidr_block: "10.0.0.0/16", enable_dns_hostnames: true, enable_dns_support: true });
    const defaultSg = resourceAt(hub, "aws_default_security_group", "network/default-sg");
    expect(defaultSg.ingress).toBeUndefined();
    expect(defaultSg.egress).toBeUndefined();
  });

  test("private and public subnets carved per AZ, public ones not auto-assigning public IPs", () => {
    expect(hubText).toHaveResourceWithProperties(Subnet, { cidr_block: "10.0.0.0/20", availability_zone: "ap-northeast-1a" });
    expect(hubText).toHaveResourceWithProperties(Subnet, { cidr_block: "10.0.16.0/20", availability_zone: "ap-northeast-1c" });
    expect(hubText).toHaveResourceWithProperties(Subnet, { cidr_block: "10.0.240.0/24", availability_zone: "ap-northeast-1a", map_public_ip_on_launch: false });
    expect(hubText).toHaveResourceWithProperties(Subnet, { cidr_block: "10.0.241.0/24", availability_zone: "ap-northeast-1c" });
    expect(Object.keys(resources(hub, "aws_subnet")).filter((a) => !a.includes("gateway"))).toHaveLength(4);
  });

  test("gateway subnets of their own in every AZ slot (maxAzCount, default 3), routing only inside the VPC", () => {
    const slots = ["az1", "az2", "az3"];
    expect(slots.map((slot) => resourceAt(hub, "aws_subnet", `network/gateway-${slot}`).cidr_block)).toEqual(["10.0.224.0/23", "10.0.226.0/23", "10.0.228.0/23"]);
    expect(resourceAt(hub, "aws_subnet", "network/gateway-az1").availability_zone).toBe("ap-northeast-1a");
    expect(resourceAt(hub, "aws_subnet", "network/gateway-az2").availability_zone).toBe("ap-northeast-1c");
    // The third slot: the Region's first unlisted AZ, looked up at plan time; the plan fails if there is none.
    const zones = `data.aws_availability_zones.${Object.keys(hub.data?.aws_availability_zones ?? {})[0]}`;
    expect(resourceAt(hub, "aws_subnet", "network/gateway-az3").availability_zone).toBe(`\${element(sort(setsubtract(${zones}.names, ["ap-northeast-1a", "ap-northeast-1c"])), 0)}`);
    expect(JSON.stringify(hub.data?.aws_availability_zones)).toContain("length(self.names) >= 3");
    const table = addressAt(hub, "aws_route_table", "network/gateway-rt");
    for (const slot of slots) {
      expect(resourceAt(hub, "aws_route_table_association", `network/gateway-rta-${slot}`)).toMatchObject({
        subnet_id: ref(addressAt(hub, "aws_subnet", `network/gateway-${slot}`), "id"),
        route_table_id: ref(table, "id"),
      });
    }
    expect(Object.values(resources(hub, "aws_route")).filter((r) => r.route_table_id === ref(table, "id"))).toEqual([]);
  });

  test("a gateway subnet never moves with a config edit; the proxies' subnet of the same AZ slot must be in its AZ", () => {
    for (const slot of ["az1", "az2", "az3"]) expect(resourceAt(hub, "aws_subnet", `network/gateway-${slot}`).lifecycle).toEqual({ ignore_changes: ["availability_zone"] });
    const gateway = addressAt(hub, "aws_subnet", "network/gateway-az2");
    const [check] = resourceAt(hub, "aws_subnet", "network/private-az2").lifecycle.precondition;
    expect(check.condition).toBe(`\${("ap-northeast-1c" == ${gateway}.availability_zone)}`);
    expect(check.error_message).toContain(`must be \${${gateway}.availability_zone}, where its gateway subnet was created up front`);
  });

  test("the proxy's clients in squid.conf are exactly the gateway subnets", () => {
    const conf = hubSquidConf(defaultConfig().hub, []);
    expect(conf).toContain("acl egress_clients src 10.0.224.0/23 10.0.226.0/23 10.0.228.0/23\n");
  });

  test("a single NAT gateway in the first public subnet serves both private route tables", () => {
    const nat = addressAt(hub, "aws_nat_gateway", "network/nat-az1");
    expect(Object.keys(resources(hub, "aws_nat_gateway"))).toHaveLength(1);
    expect(resourceAt(hub, "aws_nat_gateway", "network/nat-az1").allocation_id).toBe(ref(addressAt(hub, "aws_eip", "network/nat-eip-az1"), "id"));
    expect(resourceAt(hub, "aws_eip", "network/nat-eip-az1").domain).toBe("vpc");
    expect(resourceAt(hub, "aws_nat_gateway", "network/nat-az1").subnet_id).toBe(ref(addressAt(hub, "aws_subnet", "network/public-az1"), "id"));
    for (const slot of ["az1", "az2"]) {
      expect(resourceAt(hub, "aws_route", `network/private-default-${slot}`)).toMatchObject({
        destination_cidr_block: "0.0.0.0/0",
        nat_gateway_id: ref(nat, "id"),
        route_table_id: ref(addressAt(hub, "aws_route_table", `network/private-rt-${slot}`), "id"),
      });
    }
    expect(resourceAt(hub, "aws_route", "network/public-default").gateway_id).toBe(ref(addressAt(hub, "aws_internet_gateway", "network/igw"), "id"));
  });

  test("per-az NAT puts a NAT gateway in each AZ, used by that AZ's route table", () => {
    const data = defaultConfigData();
    data.hub.natGateways = "per-az";
    const perAz = synthConfig(configFrom(data));
    expect(perAz.text.hub).toHaveResourceWithProperties(NatGateway, { subnet_id: ref(addressAt(perAz.json.hub, "aws_subnet", "network/public-az2"), "id") });
    expect(resourceAt(perAz.json.hub, "aws_route", "network/private-default-az2").nat_gateway_id).toBe(ref(addressAt(perAz.json.hub, "aws_nat_gateway", "network/nat-az2"), "id"));
  });

  test("S3 gateway endpoint on every private route table", () => {
    expect(hubText).toHaveResourceWithProperties(VpcEndpoint, {
      service_name: "com.amazonaws.ap-northeast-1.s3",
      vpc_endpoint_type: "Gateway",
      route_table_ids: ["az1", "az2"].map((slot) => ref(addressAt(hub, "aws_route_table", `network/private-rt-${slot}`), "id")),
    });
  });

  test("no security group rule anywhere admits 0.0.0.0/0 inbound", () => {
    for (const rule of Object.values(resources(hub, "aws_vpc_security_group_ingress_rule"))) expect(rule.cidr_ipv4).not.toBe("0.0.0.0/0");
    for (const sg of Object.values(resources(hub, "aws_security_group"))) expect(sg.ingress).toBeUndefined();
  });

  test("resource gateway in the gateway subnets of every AZ slot, with its own security group", () => {
    expect(hubText).toHaveResourceWithProperties(VpclatticeResourceGateway, {
      name: "egress-hub",
      vpc_id: ref(addressAt(hub, "aws_vpc", "hub/network"), "id"),
      subnet_ids: ["az1", "az2", "az3"].map((slot) => ref(addressAt(hub, "aws_subnet", `network/gateway-${slot}`), "id")),
      security_group_ids: [ref(addressAt(hub, "aws_security_group", "hub/gateway-sg"), "id")],
      ip_address_type: "IPV4",
      ipv4_addresses_per_eni: 16,
    });
  });

  test("same-account spokes need no RAM share", () => {
    expect(resources(hub, "aws_ram_resource_share")).toEqual({});
  });

  test("a spoke in another account gets its own RAM share holding only its resource configuration", () => {
    const data = defaultConfigData();
    data.hub.accountId = "111111111111";
    data.spokes["project-b"].accountId = "222222222222";
    data.spokes["project-b"].roleArn = "arn:aws:iam::222222222222:role/egresslink-spoke";
    data.spokes["project-c"].accountId = "111111111111";
    const { json: shared, text: sharedText } = synthConfig(configFrom(data));
    const block = shared["hub-ports-3100"];
    const blockText = sharedText["hub-ports-3100"];
    expect(resources(shared.hub, "aws_ram_resource_share")).toEqual({});
    expect(Object.keys(resources(block, "aws_ram_resource_share"))).toHaveLength(1);
    expect(blockText).toHaveResourceWithProperties(RamResourceShare, { name: "egress-project-b", allow_external_principals: true });
    const share = ref(addressAt(block, "aws_ram_resource_share", "hub/share-project-b"), "arn");
    expect(blockText).toHaveResourceWithProperties(RamPrincipalAssociation, { principal: "222222222222", resource_share_arn: share });
    expect(resourceAt(block, "aws_ram_resource_association", "hub/share-config-project-b")).toMatchObject({
      resource_share_arn: share,
      resource_arn: ref(addressAt(block, "aws_vpclattice_resource_configuration", "hub/config-project-b"), "arn"),
    });
    expect(block.output?.resource_share_arns.value).toEqual({ "project-b": share });
    for (const tf of [shared.hub, block]) expect(tf.provider?.aws[0].allowed_account_ids).toEqual(["111111111111"]);
  });

  test("a port block's outputs are exactly the hub contract (what its spokes read), the core's the rest, with descriptions", () => {
    // The contract is public API: these lists change only with a breaking-change note in the CHANGELOG.
    const contract = [
      "gateway_availability_zone_ids", "gateway_subnet_ids", "nat_public_ips", "private_subnet_ids", "proxy_config_parameter", "proxy_log_group", "proxy_ports", "region",
      "resource_configuration_arns", "resource_gateway_arn", "resource_share_arns", "vpc_cidr", "vpc_id",
    ];
    const spokeMaps = ["proxy_ports", "resource_configuration_arns", "resource_share_arns"];
    const core = [
      ...contract.filter((o) => !spokeMaps.includes(o)),
      "gateway_security_group_id", "proxy_config_bucket", "proxy_launch_template_id", "proxy_launch_template_version", "proxy_nlb_security_group_id", "proxy_security_group_id", "resource_gateway_id",
      // Added by issue 19 (the core's outputs grow additively).
      "alarm_topic_arn",
    ].sort();
    const block = json["hub-ports-3100"];
    expect(Object.keys(block.output ?? {}).sort()).toEqual(contract);
    expect(Object.keys(hub.output ?? {}).sort()).toEqual(core);
    expect(Object.keys(HUB_OUTPUT_DESCRIPTIONS).sort()).toEqual([...new Set([...contract, ...core])].sort());
    for (const tf of [hub, block]) for (const [name, output] of Object.entries(tf.output ?? {})) expect(output.description).toBe(HUB_OUTPUT_DESCRIPTIONS[name as keyof typeof HUB_OUTPUT_DESCRIPTIONS]);
    expect(block.output?.proxy_ports.value).toEqual({ "project-a": 3128, "project-b": 3129, "project-c": 3130, "project-d": 3131, "project-e": 3132 });
    expect(block.output?.resource_configuration_arns.value).toEqual(
      Object.fromEntries(["project-a", "project-b", "project-c", "project-d", "project-e"].map((s) => [s, ref(addressAt(block, "aws_vpclattice_resource_configuration", `hub/config-${s}`), "arn")])),
    );
    // The rest of the contract is the core's, passed through.
    for (const name of contract.filter((o) => !spokeMaps.includes(o))) expect([name, block.output?.[name].value]).toEqual([name, coreOutput(block, name)]);
  });

  test("Availability Zones not listed are looked up, and subnets placed on the looked-up names", () => {
    const data = defaultConfigData();
    delete data.hub.availabilityZones;
    data.hub.azCount = 3;
    const { json: lookedUp } = synthConfig(configFrom(data));
    const zones = Object.keys(lookedUp.hub.data?.aws_availability_zones ?? {});
    expect(zones).toHaveLength(1);
    expect(resourceAt(lookedUp.hub, "aws_subnet", "network/private-az3")).toMatchObject({
      cidr_block: "10.0.32.0/20",
      availability_zone: `\${element(data.aws_availability_zones.${zones[0]}.names, 2)}`,
    });
  });
});
