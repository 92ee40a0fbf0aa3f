import { stringify } from "yaml";
import { parseConfigText } from "../modules/config/load";
import { defaultConfigData, synthConfig, type TerraformJson } from "./helpers";

type Data = Record<string, any>;

/** Every Terraform address (stack, block kind, type, name) in the synthesized app. */
function addresses(json: Record<string, TerraformJson>): Set<string> {
  const out = new Set<string>();
  for (const [stack, tf] of Object.entries(json)) {
    for (const kind of ["resource", "data"] as const) {
      for (const [type, byName] of Object.entries(tf[kind] ?? {})) for (const name of Object.keys(byName)) out.add(`${stack}:${kind}.${type}.${name}`);
    }
    for (const name of Object.keys(tf.output ?? {})) out.add(`${stack}:output.${name}`);
  }
  return out;
}

/** Whether an address belongs to `spoke`: anything in its stack, or port-block resources named for it. */
function ownedBy(address: string, spoke: string): boolean {
  return address.startsWith(`spoke-${spoke}:`) || new RegExp(`^hub-ports-\\d+:.*-${spoke}_[0-9A-F]{8}$`).test(address);
}

/** Whether an address belongs to the port block starting at `start`: anything in its stack. */
function ownedByBlock(address: string, start: number): boolean {
  return address.startsWith(`hub-ports-${start}:`);
}

function synthData(data: Data) {
  return synthConfig(parseConfigText(stringify(data), "stability.yaml")).json;
}

describe("Terraform addresses are keyed by spoke name, not position", () => {
  const baseData = defaultConfigData();
  const base = synthData(baseData);
  const baseAddresses = addresses(base);

  test("adding a spoke (sorting first) only adds addresses owned by it", () => {
    const data = defaultConfigData();
    data.spokes = { "aaa-first": { port: 3140, cidr: "10.0.0.0/16" }, ...data.spokes };
    const after = addresses(synthData(data));
    const added = [...after].filter((a) => !baseAddresses.has(a));
    const removed = [...baseAddresses].filter((a) => !after.has(a));
    expect(removed).toEqual([]);
    expect(added.length).toBeGreaterThan(10);
    expect(added.filter((a) => !ownedBy(a, "aaa-first"))).toEqual([]);
  });

  test("a spoke opening a new port block adds only that block's resources and its own", () => {
    const data = defaultConfigData();
    data.spokes["zz-new-block"] = { port: 3205, cidr: "10.0.0.0/16" };
    const after = addresses(synthData(data));
    expect([...baseAddresses].filter((a) => !after.has(a))).toEqual([]);
    const added = [...after].filter((a) => !baseAddresses.has(a));
    expect(added.some((a) => a.includes("aws_lb.") && ownedByBlock(a, 3200))).toBe(true);
    expect(added.filter((a) => !ownedBy(a, "zz-new-block") && !ownedByBlock(a, 3200))).toEqual([]);
  });

  test("removing a spoke only removes addresses owned by it, and changes no other spoke's stack", () => {
    const data = defaultConfigData();
    delete data.spokes["project-b"];
    const json = synthData(data);
    const after = addresses(json);
    const removed = [...baseAddresses].filter((a) => !after.has(a));
    expect([...after].filter((a) => !baseAddresses.has(a))).toEqual([]);
    expect(removed.length).toBeGreaterThan(10);
    expect(removed.filter((a) => !ownedBy(a, "project-b"))).toEqual([]);
    for (const spoke of ["project-a", "project-c", "project-d"]) expect(json[`spoke-${spoke}`]).toEqual(base[`spoke-${spoke}`]);
  });

  test("reordering spokes in the file changes nothing at all", () => {
    const data = defaultConfigData();
    data.spokes = Object.fromEntries(Object.entries(data.spokes).reverse());
    expect(Object.keys(data.spokes)[0]).toBe("project-e");
    expect(synthData(data)).toEqual(base);
  });

  test("adding an AZ to a spoke adds subnets and leaves existing addresses in place", () => {
    const data = defaultConfigData();
    data.spokes["project-a"].availabilityZones = ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"];
    const json = synthData(data);
    const after = addresses(json);
    expect([...baseAddresses].filter((a) => !after.has(a))).toEqual([]);
    const added = [...after].filter((a) => !baseAddresses.has(a));
    expect(added.every((a) => a.startsWith("spoke-project-a:") && a.includes("az3"))).toBe(true);
    expect(added.length).toBe(3);
  });

  test("the ownership rule itself tells spokes apart", () => {
    expect(ownedBy("hub-ports-3100:resource.aws_vpclattice_resource_configuration.hub_config-project-b_D019A2AE", "project-b")).toBe(true);
    expect(ownedBy("hub-ports-3100:resource.aws_vpclattice_resource_configuration.hub_config-project-b_D019A2AE", "project-a")).toBe(false);
    // The hub core holds nothing of any spoke.
    expect(ownedBy("hub:resource.aws_vpclattice_resource_configuration.hub_config-project-b_D019A2AE", "project-b")).toBe(false);
    expect(ownedBy("hub:resource.aws_vpc.hub_network_B231AB4B", "project-b")).toBe(false);
    expect(ownedByBlock("hub-ports-3100:resource.aws_lb.hub_proxy_ports-3100_nlb_A041DD57", 3100)).toBe(true);
    expect(ownedByBlock("hub:resource.aws_lb.hub_proxy_ports-3100_nlb_A041DD57", 3100)).toBe(false);
  });
});
