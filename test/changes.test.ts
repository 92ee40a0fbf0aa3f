import { loadConfigFile } from "../modules/config/load";
import { join } from "node:path";
import { at, changeLines, classifyChanges, REPLACE_FORCING, stackResources, type ChangeLines, type ChangeSet } from "./helpers-changes";
import { configFrom, defaultConfig, defaultConfigData, resourceAt, ROOT, synthConfig, type TerraformJson } from "./helpers";
import { zonesOf } from "./helpers-terraform";

type Json = Record<string, TerraformJson>;
type Data = Record<string, any>;

const NONE: ChangeLines = { created: [], deleted: [], updated: [], replaced: [], orphaned: [] };

/** The default config, edited, synthesized. */
function synthEdited(edit: (data: Data) => void = () => {}): Json {
  const data = defaultConfigData();
  edit(data);
  return synthConfig(configFrom(data)).json;
}

/** Resource types of every stack the default config and the examples synthesize. */
function synthesizedTypes(): Map<string, string[]> {
  const apps: [string, Json][] = [["egress.config.yaml", synthConfig(defaultConfig()).json]];
  for (const file of ["cross-account.yaml", "existing-vpcs.yaml", "interconnect.yaml"]) apps.push([`examples/${file}`, synthConfig(loadConfigFile(join(ROOT, "examples", file))).json]);
  const types = new Map<string, string[]>();
  for (const [source, json] of apps) {
    for (const [stack, tf] of Object.entries(json)) for (const type of Object.keys(tf.resource ?? {})) types.set(type, [...(types.get(type) ?? []), `${source}:${stack}`]);
  }
  return types;
}

/** No spoke that exists before loses its endpoint or its resource configuration to a replacement. */
function expectNoSpokeCutOff(changes: ChangeSet, before: Json): void {
  const lines = changeLines(changes).replaced;
  const spokes = Object.keys(before).filter((s) => s.startsWith("spoke-"));
  expect(lines.filter((l) => spokes.some((s) => l.startsWith(`${s}: aws_vpc_endpoint.`)))).toEqual([]);
  expect(lines.filter((l) => /^hub(-ports-\d+)?: aws_vpclattice_resource_configuration\./.test(l))).toEqual([]);
}

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

describe("REPLACE_FORCING: the replace-forcing arguments of every resource type we use", () => {
  test("has an entry, with its source, for every resource type the default config and the examples synthesize", () => {
    const types = synthesizedTypes();
    expect([...types.keys()].filter((t) => !(t in REPLACE_FORCING)).map((t) => `${t} (${types.get(t)![0]})`)).toEqual([]);
    for (const [type, rules] of Object.entries(REPLACE_FORCING)) {
      expect({ type, source: rules.source.length > 20 }).toEqual({ type, source: true });
      expect({ type, paths: rules.forceNew.filter((p) => !/^[a-z0-9_]+(\.[a-z0-9_]+)*$/.test(p)) }).toEqual({ type, paths: [] });
    }
  });

  test("lists no type that nothing synthesizes (the table stays focused)", () => {
    const types = synthesizedTypes();
    expect(Object.keys(REPLACE_FORCING).filter((t) => !types.has(t))).toEqual([]);
  });

  test("records the facts the issue depends on", () => {
    expect(REPLACE_FORCING.aws_vpclattice_resource_gateway.forceNew).toEqual(expect.arrayContaining(["name", "vpc_id", "subnet_ids", "ip_address_type"]));
    expect(REPLACE_FORCING.aws_vpclattice_resource_configuration.forceNew).toEqual(expect.arrayContaining(["resource_gateway_identifier", "type", "name"]));
    expect(REPLACE_FORCING.aws_vpclattice_resource_configuration.forceNew).not.toContain("port_ranges");
    expect(REPLACE_FORCING.aws_vpc_endpoint.forceNew).toEqual(expect.arrayContaining(["resource_configuration_arn", "vpc_endpoint_type", "vpc_id", "service_name"]));
    expect(REPLACE_FORCING.aws_vpc_endpoint.forceNew).not.toContain("subnet_ids");
    expect(REPLACE_FORCING.aws_lb_target_group.forceNew).toEqual(expect.arrayContaining(["port", "protocol", "vpc_id", "target_type", "name", "name_prefix"]));
    expect(REPLACE_FORCING.aws_lb.forceNew).toEqual(expect.arrayContaining(["name", "internal", "load_balancer_type"]));
    expect(REPLACE_FORCING.aws_lb.forceNew).not.toContain("subnets");
    expect(REPLACE_FORCING.aws_subnet.forceNew).toEqual(expect.arrayContaining(["vpc_id", "cidr_block", "availability_zone", "availability_zone_id"]));
    expect(REPLACE_FORCING.aws_autoscaling_group.forceNew).not.toContain("launch_template");
  });
});

// ---------------------------------------------------------------------------------------------
// The classifier on hand-made JSON
// ---------------------------------------------------------------------------------------------

const hubBackend = { s3: { bucket: "state", key: "p/hub.tfstate", region: "ap-northeast-1" } };
const spokeBackend = (name: string) => ({ s3: { bucket: "state", key: `p/${name}.tfstate`, region: "ap-northeast-1" } });
const remoteHub = { hub: { backend: "s3", config: { bucket: "state", key: "p/hub.tfstate", region: "ap-northeast-1" } } };

/** A small hub: a gateway, two configurations on it, their ARNs as a map output, a share of one. */
function tinyHub(subnets: string[], ports: Record<string, number> = { a: 3128, b: 3129 }): TerraformJson {
  const configs = Object.fromEntries(
    Object.entries(ports).map(([spoke, port]) => [
      `cfg_${spoke}`,
      { name: `egress-${spoke}`, type: "SINGLE", protocol: "TCP", port_ranges: [String(port)], resource_gateway_identifier: "${aws_vpclattice_resource_gateway.gw.id}" },
    ]),
  );
  return {
    terraform: { backend: hubBackend },
    resource: {
      aws_subnet: Object.fromEntries(subnets.map((s) => [s, { vpc_id: "vpc-1", cidr_block: `10.0.${subnets.indexOf(s)}.0/24` }])),
      aws_vpclattice_resource_gateway: { gw: { name: "egress-hub", vpc_id: "vpc-1", subnet_ids: subnets.map((s) => `\${aws_subnet.${s}.id}`) } },
      aws_vpclattice_resource_configuration: configs,
      aws_ram_resource_association: { share_a: { resource_share_arn: "arn:aws:ram:ap-northeast-1:111111111111:resource-share/x", resource_arn: "${aws_vpclattice_resource_configuration.cfg_a.arn}" } },
      aws_ssm_parameter: { inventory: { name: "/inventory", type: "String", value: "${aws_vpclattice_resource_configuration.cfg_a.arn}" } },
    },
    output: {
      resource_configuration_arns: { value: Object.fromEntries(Object.keys(ports).map((s) => [s, `\${aws_vpclattice_resource_configuration.cfg_${s}.arn}`])) },
      proxy_ports: { value: ports },
    },
  };
}

/** A small spoke: its endpoint to its configuration, its port in a security group rule. */
function tinySpoke(name: string): TerraformJson {
  return {
    terraform: { backend: spokeBackend(name) },
    data: { terraform_remote_state: remoteHub },
    resource: {
      aws_vpc_endpoint: {
        ep: { vpc_id: "vpc-9", vpc_endpoint_type: "Resource", subnet_ids: ["subnet-9"], resource_configuration_arn: `\${data.terraform_remote_state.hub.outputs.resource_configuration_arns["${name}"]}` },
      },
      aws_vpc_security_group_ingress_rule: {
        rule: { security_group_id: "sg-9", ip_protocol: "tcp", cidr_ipv4: "10.0.0.0/16", from_port: `\${data.terraform_remote_state.hub.outputs.proxy_ports.${name}}`, to_port: `\${data.terraform_remote_state.hub.outputs.proxy_ports.${name}}` },
      },
    },
  };
}

const tinyApp = (subnets: string[], ports?: Record<string, number>): Json => ({ hub: tinyHub(subnets, ports), "spoke-a": tinySpoke("a"), "spoke-b": tinySpoke("b") });

describe("classifyChanges on hand-made JSON", () => {
  test("identical JSON: nothing changes", () => {
    expect(changeLines(classifyChanges(tinyApp(["s1", "s2"]), tinyApp(["s1", "s2"])))).toEqual(NONE);
  });

  test("a direct change: a replace-forcing argument replaces, any other argument updates", () => {
    const before: Json = { hub: { resource: { aws_lb_target_group: { a: { port: 3128, protocol: "TCP", vpc_id: "vpc-1" }, b: { port: 3129, protocol: "TCP", vpc_id: "vpc-1", tags: { x: "1" } } } } } };
    const after: Json = { hub: { resource: { aws_lb_target_group: { a: { port: 3140, protocol: "TCP", vpc_id: "vpc-1" }, b: { port: 3129, protocol: "TCP", vpc_id: "vpc-1", tags: { x: "2" } } } } } };
    expect(changeLines(classifyChanges(before, after))).toEqual({ ...NONE, replaced: ["hub: aws_lb_target_group.a"], updated: ["hub: aws_lb_target_group.b"] });
  });

  test("a cascade: a new gateway replaces the configurations on it and what takes their ARN in a replace-forcing argument", () => {
    const changes = classifyChanges({ hub: tinyHub(["s1", "s2"]) }, { hub: tinyHub(["s1", "s2", "s3"]) });
    expect(changeLines(changes)).toEqual({
      ...NONE,
      created: ["hub: aws_subnet.s3"],
      replaced: [
        "hub: aws_ram_resource_association.share_a",
        "hub: aws_vpclattice_resource_configuration.cfg_a",
        "hub: aws_vpclattice_resource_configuration.cfg_b",
        "hub: aws_vpclattice_resource_gateway.gw",
      ],
      // A non-forcing argument referencing a replaced resource is updated, not replaced.
      updated: ["hub: aws_ssm_parameter.inventory"],
    });
  });

  test("a cross-stack cascade: a spoke whose endpoint reads a replaced configuration's ARN from the hub's outputs is replaced; others are not", () => {
    const before = tinyApp(["s1", "s2"]);
    const after = tinyApp(["s1", "s2"]);
    (after.hub.resource!.aws_vpclattice_resource_configuration.cfg_a as Data).name = "egress-a-renamed";
    expect(changeLines(classifyChanges(before, after))).toEqual({
      ...NONE,
      replaced: ["hub: aws_ram_resource_association.share_a", "hub: aws_vpclattice_resource_configuration.cfg_a", "spoke-a: aws_vpc_endpoint.ep"],
      updated: ["hub: aws_ssm_parameter.inventory"],
    });
  });

  test("a cross-stack value change: a new port in the hub's output map updates only that spoke's rule", () => {
    const changes = classifyChanges(tinyApp(["s1", "s2"]), tinyApp(["s1", "s2"], { a: 3128, b: 3140 }));
    expect(changeLines(changes)).toEqual({ ...NONE, updated: ["hub: aws_vpclattice_resource_configuration.cfg_b", "spoke-b: aws_vpc_security_group_ingress_rule.rule"] });
  });

  test("a non-forcing reference: a listener pointing at a replaced target group is updated; a reference to a config value that did not change is no change", () => {
    const app = (port: number): Json => ({
      hub: {
        resource: {
          aws_lb_target_group: { tg: { port, protocol: "TCP", vpc_id: "vpc-1", lifecycle: { create_before_destroy: true } } },
          aws_lb_listener: { l: { load_balancer_arn: "arn:lb", port, protocol: "TCP", default_action: [{ type: "forward", target_group_arn: "${aws_lb_target_group.tg.arn}" }] } },
          aws_ssm_parameter: { p: { name: "/p", type: "String", value: "${aws_lb_target_group.tg.protocol}" } },
        },
      },
    });
    expect(changeLines(classifyChanges(app(3129), app(3140)))).toEqual({ ...NONE, replaced: ["hub: aws_lb_target_group.tg"], updated: ["hub: aws_lb_listener.l"] });
  });

  test("an NLB may gain subnets in place but is replaced when it leaves one (the provider's CustomizeDiff)", () => {
    const nlb = (subnets: string[], type = "network"): Json => ({ hub: { resource: { aws_lb: { nlb: { name: "n", internal: true, load_balancer_type: type, subnets } } } } });
    expect(changeLines(classifyChanges(nlb(["subnet-1", "subnet-2"]), nlb(["subnet-1", "subnet-2", "subnet-3"]))).updated).toEqual(["hub: aws_lb.nlb"]);
    expect(changeLines(classifyChanges(nlb(["subnet-1", "subnet-2"]), nlb(["subnet-1"]))).replaced).toEqual(["hub: aws_lb.nlb"]);
    expect(changeLines(classifyChanges(nlb(["subnet-1", "subnet-2"], "application"), nlb(["subnet-1"], "application"))).updated).toEqual(["hub: aws_lb.nlb"]);
    // A subnet that is itself replaced leaves the NLB: its old ID is gone.
    const withSubnet = (cidr: string): Json => ({
      hub: { resource: { aws_subnet: { s: { vpc_id: "vpc-1", cidr_block: cidr } }, aws_lb: { nlb: { name: "n", internal: true, load_balancer_type: "network", subnets: ["${aws_subnet.s.id}"] } } } },
    });
    expect(changeLines(classifyChanges(withSubnet("10.0.0.0/24"), withSubnet("10.0.1.0/24"))).replaced).toEqual(["hub: aws_lb.nlb", "hub: aws_subnet.s"]);
  });

  test("a data source reading a replaced resource is deferred, so what reads it changes", () => {
    const app = (rcfg: string): Json => ({
      spoke: {
        data: { aws_vpc_endpoint_associations: { dns: { vpc_endpoint_id: "${aws_vpc_endpoint.ep.id}" } } },
        resource: {
          aws_vpc_endpoint: { ep: { vpc_id: "vpc-9", vpc_endpoint_type: "Resource", resource_configuration_arn: rcfg } },
          aws_route53_record: { r: { zone_id: "Z1", name: "proxy.egress.internal", type: "CNAME", records: ["${data.aws_vpc_endpoint_associations.dns.associations[0].dns_entry[0].dns_name}"] } },
        },
      },
    });
    expect(changeLines(classifyChanges(app("arn:1"), app("arn:2")))).toEqual({ ...NONE, replaced: ["spoke: aws_vpc_endpoint.ep"], updated: ["spoke: aws_route53_record.r"] });
  });

  test("expressions over plan-time data are compared by value when the data is given", () => {
    const subnet = (az: string): Json => ({ hub: { data: { aws_availability_zones: { z: {} } }, resource: { aws_subnet: { s: { vpc_id: "vpc-1", cidr_block: "10.0.0.0/24", availability_zone: az } } } } });
    const looked = '${element(sort(setsubtract(data.aws_availability_zones.z.names, ["ap-northeast-1a", "ap-northeast-1c"])), 0)}';
    expect(changeLines(classifyChanges(subnet(looked), subnet("ap-northeast-1d"))).replaced).toEqual(["hub: aws_subnet.s"]);
    const planTimeData = { aws_availability_zones: { names: ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"] } };
    expect(changeLines(classifyChanges(subnet(looked), subnet("ap-northeast-1d"), { planTimeData }))).toEqual(NONE);
  });

  test("moved blocks, ignore_changes, removed stacks, and types missing from the table", () => {
    const rt = (name: string, extra: Data = {}): Json => ({ s: { resource: { aws_route_table: { [name]: { vpc_id: "vpc-1", ...extra } } } } });
    const moved = rt("new");
    (moved.s as Data).moved = [{ from: "aws_route_table.old", to: "aws_route_table.new" }];
    expect(changeLines(classifyChanges(rt("old"), moved))).toEqual(NONE);
    expect(changeLines(classifyChanges(rt("old"), rt("new")))).toEqual({ ...NONE, created: ["s: aws_route_table.new"], deleted: ["s: aws_route_table.old"] });
    expect(changeLines(classifyChanges(rt("t"), rt("t", { vpc_id: "vpc-2", lifecycle: { ignore_changes: ["vpc_id"] } })))).toEqual(NONE);
    expect(changeLines(classifyChanges({ ...rt("t"), other: {} }, { other: {} }))).toEqual({ ...NONE, orphaned: ["s: aws_route_table.t"] });
    const unknown = (v: string): Json => ({ s: { resource: { aws_made_up: { x: { a: v } } } } });
    expect(() => classifyChanges(unknown("1"), unknown("2"))).toThrow("REPLACE_FORCING has no entry for aws_made_up");
  });
});

// ---------------------------------------------------------------------------------------------
// Scenarios on the default config
// ---------------------------------------------------------------------------------------------

/** ap-northeast-1's AZs without opt-in, as `aws_availability_zones` reads them (1b is not offered to new accounts). */
const TOKYO = { aws_availability_zones: { names: zonesOf("ap-northeast-1").names } };
const NEW_VPC_SPOKES = ["project-a", "project-b", "project-c", "project-d"];

/** The hub resources every change of the spoke set or ports touches: the port block's group and rules, squid.conf and the parameter naming its version. */
/** The default config's one port block's stack. */
const BLOCK = "hub-ports-3100";

/** What a spoke joining or leaving the block updates in place: its group, its part of squid.conf and its pointer, its rules. */
function portBlockUpdates(after: Json): string[] {
  return [
    at(after, BLOCK, "aws_autoscaling_group", "proxy/ports-3100/asg-3100"),
    at(after, BLOCK, "aws_s3_object", "proxy/ports-3100/config"),
    at(after, BLOCK, "aws_ssm_parameter", "proxy/ports-3100/config-pointer"),
    at(after, BLOCK, "aws_vpc_security_group_egress_rule", "proxy/clients-to-nlb-3100"),
    at(after, BLOCK, "aws_vpc_security_group_egress_rule", "proxy/nlb-to-proxy-3100"),
    at(after, BLOCK, "aws_vpc_security_group_ingress_rule", "proxy/nlb-from-clients-3100"),
    at(after, BLOCK, "aws_vpc_security_group_ingress_rule", "proxy/proxy-from-nlb-3100"),
  ];
}

describe("what config changes do to the default config's stacks", () => {
  const base = synthEdited();

  test("adding a spoke (project-f, port 3133, its own allow-list) creates its stack and its port in its port block, and touches no other spoke or the hub core", () => {
    const after = synthEdited((d) => {
      d.spokes["project-f"] = { port: 3133, cidr: "10.0.0.0/16", allowedDomains: ["crates.io", ".rust-lang.org"] };
    });
    const changes = classifyChanges(base, after, { planTimeData: TOKYO });
    expect(changeLines(changes)).toEqual({
      ...NONE,
      created: [
        at(after, BLOCK, "aws_lb_listener", "proxy/ports-3100/listener-project-f"),
        at(after, BLOCK, "aws_lb_target_group", "proxy/ports-3100/tg-project-f"),
        at(after, BLOCK, "aws_vpclattice_resource_configuration", "hub/config-project-f"),
        ...stackResources(after, "spoke-project-f"),
      ].sort(),
      // The block's rules now reach 3133, the group registers the new target group, squid.conf gains the port and allow-list.
      updated: portBlockUpdates(after).sort(),
    });
    expectNoSpokeCutOff(changes, base);
  });

  test("changing a spoke's port (project-b 3129 -> 3140) replaces its target group, created before the old one is destroyed, and updates its listener in place", () => {
    const after = synthEdited((d) => {
      d.spokes["project-b"].port = 3140;
    });
    const changes = classifyChanges(base, after, { planTimeData: TOKYO });
    const targetGroup = at(after, BLOCK, "aws_lb_target_group", "proxy/ports-3100/tg-project-b");
    expect(changeLines(changes)).toEqual({
      ...NONE,
      replaced: [targetGroup],
      updated: [
        ...portBlockUpdates(after),
        at(after, BLOCK, "aws_lb_listener", "proxy/ports-3100/listener-project-b"),
        at(after, BLOCK, "aws_vpclattice_resource_configuration", "hub/config-project-b"),
        // The spoke reads its port from its block's outputs: its rule and published proxy URL follow.
        at(after, "spoke-project-b", "aws_vpc_security_group_ingress_rule", "spoke/from-vpc"),
        at(after, "spoke-project-b", "aws_ssm_parameter", "spoke/proxy-url"),
      ].sort(),
    });
    expectNoSpokeCutOff(changes, base);
    // The listener moves to the new group while the old one still exists: "target group is currently
    // in use by a listener" otherwise. A fixed name would collide, so the group must not set one.
    const group = resourceAt(after[BLOCK], "aws_lb_target_group", "proxy/ports-3100/tg-project-b");
    expect(group.lifecycle?.create_before_destroy).toBe(true);
    expect(group.name).toBeUndefined();
  });

  test("adding a hub AZ (1a, 1c -> 1a, 1c, 1d) adds that AZ's subnets and leaves the resource gateway, its configurations and every spoke endpoint in place", () => {
    const after = synthEdited((d) => {
      d.hub.availabilityZones = ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"];
    });
    const changes = classifyChanges(base, after, { planTimeData: TOKYO });
    const lines = changeLines(changes);
    // The point of the issue, stated on its own so that a failure names it.
    expect(lines.replaced).toEqual([]);
    expect(lines.updated.filter((l) => /^hub(-ports-\d+)?: aws_vpclattice_/.test(l))).toEqual([]);

    const newAz = (stack: string, network: string) => [
      at(after, stack, "aws_subnet", `${network}/private-az3`),
      at(after, stack, "aws_route_table", `${network}/private-rt-az3`),
      at(after, stack, "aws_route_table_association", `${network}/private-rta-az3`),
    ];
    // Spokes without their own AZ list follow the hub's: each gains a subnet, and its endpoints span it.
    const spokeEndpoints = NEW_VPC_SPOKES.flatMap((s) => stackResources(after, `spoke-${s}`).filter((l) => l.includes(": aws_vpc_endpoint.")));
    expect(lines).toEqual({
      ...NONE,
      created: [
        ...newAz("hub", "hub/network"),
        at(after, "hub", "aws_subnet", "hub/network/public-az3"),
        at(after, "hub", "aws_route_table_association", "hub/network/public-rta-az3"),
        at(after, "hub", "aws_route", "hub/network/private-default-az3"),
        ...NEW_VPC_SPOKES.flatMap((s) => newAz(`spoke-${s}`, "spoke/network")),
      ].sort(),
      updated: [
        // The proxies spread to the new AZ (the block reads the core's subnets); the NLBs are already in every gateway subnet.
        at(after, BLOCK, "aws_autoscaling_group", "proxy/ports-3100/asg-3100"),
        at(after, "hub", "aws_vpc_endpoint", "hub/s3-gateway"),
        ...spokeEndpoints,
      ].sort(),
    });
    expectNoSpokeCutOff(changes, base);
  });

  test("retiring a spoke (project-c retired: true) deletes everything in its stack and changes nothing else", () => {
    const retired = synthEdited((d) => {
      d.spokes["project-c"].retired = true;
    });
    const changes = classifyChanges(base, retired, { planTimeData: TOKYO });
    expect(Object.keys(retired)).toContain("spoke-project-c");
    expect(changeLines(changes)).toEqual({ ...NONE, deleted: stackResources(base, "spoke-project-c") });
    expectNoSpokeCutOff(changes, base);
  });

  test("removing a retired spoke's entry deletes exactly its configuration, listener and target group in its port block", () => {
    const retire = (d: Data) => {
      d.spokes["project-c"].retired = true;
    };
    const retired = synthEdited(retire);
    const removed = synthEdited((d) => {
      delete d.spokes["project-c"];
    });
    const changes = classifyChanges(retired, removed, { planTimeData: TOKYO });
    expect(changeLines(changes)).toEqual({
      ...NONE,
      deleted: [
        at(retired, BLOCK, "aws_lb_listener", "proxy/ports-3100/listener-project-c"),
        at(retired, BLOCK, "aws_lb_target_group", "proxy/ports-3100/tg-project-c"),
        at(retired, BLOCK, "aws_vpclattice_resource_configuration", "hub/config-project-c"),
      ].sort(),
      // The group drops the target group, squid.conf the port, the block's rules the spoke's name.
      updated: portBlockUpdates(removed).sort(),
    });
    expectNoSpokeCutOff(changes, retired);
  });
});
