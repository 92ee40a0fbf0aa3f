/** AWS quotas the hub grows into with its spokes: warnings that name the config path and the quota to raise. */
import type { EgressConfig, SpokeConfig } from "../modules/config/model";
import { HUB_QUOTAS, quotaWarnings } from "../modules/config/quotas";
import { configFrom, defaultConfig, defaultConfigData } from "./helpers";

/** The default config with `count` spokes on consecutive ports from `firstPort`. */
function withSpokes(count: number, firstPort: number, proxy: Partial<EgressConfig["hub"]["proxy"]> = {}): EgressConfig {
  const config = defaultConfig();
  const template = config.spokes[0];
  const spokes: SpokeConfig[] = Array.from({ length: count }, (_, i) => ({ ...template, name: `s${i}`, port: firstPort + i }));
  return { ...config, hub: { ...config.hub, proxy: { ...config.hub.proxy, ...proxy } }, spokes };
}

describe("quota warnings", () => {
  test("the default config and 1,000 spokes on one hub stay within every default quota", () => {
    expect(quotaWarnings(defaultConfig())).toEqual([]);
    expect(quotaWarnings(withSpokes(1000, 3200))).toEqual([]);
  });

  test("more spokes than resource configurations per Region, port blocks than NLBs per Region", () => {
    const warnings = quotaWarnings(withSpokes(2600, 3200));
    expect(warnings).toEqual([
      { path: "spokes", message: expect.stringContaining(`2600 spokes need as many resource configurations in ap-northeast-1; the default quota "Resource configurations per Region" (Amazon VPC Lattice) is ${HUB_QUOTAS.resourceConfigurationsPerRegion}`) },
      { path: "spokes", message: expect.stringContaining('52 port blocks, one Network Load Balancer each in ap-northeast-1 (others of the account count too); the default quota "Network Load Balancers per Region" (Elastic Load Balancing) is 50') },
    ]);
    // Single mode has no load balancers.
    expect(quotaWarnings(withSpokes(2600, 3200, { mode: "single", maxInstances: 1 })).map((w) => w.message)).toEqual([expect.stringContaining("resource configurations")]);
  });

  test("targets per NLB: a full port block times the instances, with the maxInstances that fits", () => {
    expect(quotaWarnings(withSpokes(50, 3200, { maxInstances: 10 }))).toEqual([]);
    expect(quotaWarnings(withSpokes(50, 3200, { maxInstances: 12 }))).toEqual([
      {
        path: "hub.proxy.maxInstances",
        message: 'port block 3200 has 50 spokes x 12 instances = 600 targets on its Network Load Balancer; the default quota "Targets per Network Load Balancer" (Elastic Load Balancing) is 500: request an increase in Service Quotas before deploying, or lower maxInstances to 10',
      },
    ]);
  });

  test("security group rules: one per port block and direction, and the health check's", () => {
    expect(quotaWarnings(withSpokes(59 * 50, 3200)).filter((w) => w.message.includes("security groups"))).toEqual([]);
    expect(quotaWarnings(withSpokes(60 * 50, 3200)).filter((w) => w.message.includes("security groups"))).toEqual([
      { path: "spokes", message: expect.stringContaining('need 61 rules in one direction (one per port block, and the health check); the default quota "Inbound or outbound rules per security group" (Amazon VPC) is 60') },
    ]);
  });

  test("they reach the loaded config's warnings, which the summary prints", () => {
    const data = defaultConfigData();
    data.hub.proxy.minInstances = 2;
    data.hub.proxy.maxInstances = 12;
    data.spokes = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`team-${i}`, { port: 3200 + i, cidr: "10.0.0.0/16", allowedDomains: [`.team${i}.example.com`] }]));
    expect(configFrom(data).warnings).toEqual([expect.objectContaining({ path: "hub.proxy.maxInstances", message: expect.stringContaining("600 targets") })]);
  });
});
