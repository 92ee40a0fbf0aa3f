/**
 * The cost model (modules/cost): counted from the synthesized stacks, priced from the dated table,
 * compared with a NAT gateway per spoke VPC. Figures are checked against hand arithmetic
 * (ap-northeast-1, 730 hours a month; unconfirmed figures as the table has them).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../modules/app/cli";
import { costReportFor, renderCostMarkdown, type CostReport } from "../modules/cost/model";
import { pricesFor } from "../modules/cost/prices";
import type { EgressConfig } from "../modules/config/model";
import { configFrom, DEFAULT_CONFIG_PATH, defaultConfig, defaultConfigData, manySpokesConfig, synthConfig } from "./helpers";

const report = (config: EgressConfig): CostReport => costReportFor(synthConfig(config).json, config);
const line = (r: CostReport["central"], item: string) => r.lines.find((l) => l.item === item);
const UNCONFIRMED = ["CloudWatch alarm metric", "CloudWatch dashboard", "EBS gp3 (GB-month)", "Resource endpoint (per AZ)", "custom metric (per spoke and name)", "interface endpoint (per AZ)", "t4g.small instance"];

describe("costReport", () => {
  test("the default config (4 spoke stacks, one with 6 interface endpoints, 1 port block), 100 GB per spoke", () => {
    const r = report(defaultConfig());
    // NAT 730 x 0.062 = 45.26; its IPv4 730 x 0.005 = 3.65; NLB 730 x 0.0243 = 17.739; 2 x t4g.small
    // 1,460 x 0.0216 = 31.536; EBS 2 x 16 GB x 0.096 = 3.072; interface endpoints 6 x 2 AZ x 730
    // x 0.014 = 122.64; Resource endpoints 4 x 2 AZ x 730 x 0.014 = 81.76. Monitoring: 6 alarm metrics
    // (3 core alarms; the block's healthy-targets alarm, and its in-service alarm on 2 metrics) x 0.10 =
    // 0.60; one dashboard 3.00; 20 custom metrics (4 per spoke for the 5 spokes the hub serves) x 0.30
    // = 6.00. Sum 315.26.
    expect(r.central.lines.map((l) => [l.item, l.quantity, l.monthlyUsd])).toEqual([
      ["NAT gateway", 730, 45.26],
      ["public IPv4 address", 730, 3.65],
      ["CloudWatch alarm metric", 6, 0.6],
      ["CloudWatch dashboard", 1, 3],
      ["Network Load Balancer", 730, 17.74],
      ["t4g.small instance", 1460, 31.54],
      ["EBS gp3 (GB-month)", 32, 3.07],
      ["interface endpoint (per AZ)", 8760, 122.64],
      ["Resource endpoint (per AZ)", 5840, 81.76],
      ["custom metric (per spoke and name)", 20, 6],
    ]);
    expect(r.central.fixedMonthlyUsd).toBe(315.26);
    // 400 GB x (0.01 Resource endpoint + 0.062 hub NAT) = 28.80.
    expect(r.centralMonthlyUsd).toBe(344.06);
    // 4 NATs 2,920 x 0.062 = 181.04; 4 IPv4 2,920 x 0.005 = 14.60; the same endpoints 122.64: 318.28;
    // plus 400 GB x 0.062 = 24.80.
    expect(r.baseline.fixedMonthlyUsd).toBe(318.28);
    expect(r.baselineMonthlyUsd).toBe(343.08);
    // (318.28 - 315.26) / (0.072 - 0.062) = 302 GB.
    expect(r.breakEvenMonthlyGb).toBe(302);
    expect(r.spokeVpcs).toBe(4);
    expect(r.unconfirmed).toEqual(UNCONFIRMED);
    expect(line(r.central, "NAT gateway")?.stacks).toEqual(["hub"]);
    expect(line(r.central, "t4g.small instance")?.stacks).toEqual(["hub-ports-3100"]);
  });

  test("50 spokes (2 port blocks, no endpoints), 100 GB per spoke", () => {
    const r = report(manySpokesConfig(50));
    // NAT 45.26; IPv4 3.65; 2 NLBs 1,460 x 0.0243 = 35.478; 4 x t4g.small 2,920 x 0.0216 = 63.072;
    // EBS 64 GB x 0.096 = 6.144; Resource endpoints 50 x 2 AZ x 730 x 0.014 = 1,022.00; 9 alarm metrics
    // 0.90; the dashboard 3.00; 50 x 4 = 200 custom metrics x 0.30 = 60.00. Sum 1,239.50.
    expect(r.central.fixedMonthlyUsd).toBe(1239.5);
    // 5,000 GB x 0.072 = 360.
    expect(r.centralMonthlyUsd).toBe(1599.5);
    // 50 NATs 36,500 x 0.062 = 2,263.00; 50 IPv4 36,500 x 0.005 = 182.50: 2,445.50; plus 5,000 x 0.062 = 310.
    expect(r.baseline.fixedMonthlyUsd).toBe(2445.5);
    expect(r.baselineMonthlyUsd).toBe(2755.5);
    // (2,445.50 - 1,239.50) / 0.01 = 120,600 GB a month.
    expect(r.breakEvenMonthlyGb).toBe(120600);
  });

  test("chargeback: the hub's fixed cost shared by the spokes it serves, each spoke stack's own, traffic at the per-GB rate", () => {
    const r = report(defaultConfig());
    // hub: 45.26 + 3.65 + 0.30 (3 alarms) + 3.00 + 6.00 = 58.21; hub-ports-3100: 17.739 + 31.536 + 3.072 + 0.30 = 52.647.
    expect(r.chargeback).toMatchObject({ spokes: 5, sharedMonthlyUsd: 110.86, sharedPerSpokeUsd: 22.17, perGbUsd: 0.072 });
    // project-a: 2 AZ Resource endpoint 20.44 + 6 interface endpoints x 2 AZ 122.64; the others their endpoint only.
    expect(r.chargeback.ownMonthlyUsd).toEqual({ "spoke-project-a": 143.08, "spoke-project-b": 20.44, "spoke-project-c": 20.44, "spoke-project-d": 20.44 });
    const md = renderCostMarkdown(r);
    expect(md).toContain("## Chargeback: cost per spoke");
    expect(md).toContain("- The hub's fixed cost (core and port blocks, its metrics and alarms included): $110.86 a month, $22.17 for each of the 5 spokes it serves.");
    expect(md).toContain("`BytesOut` and `BytesIn`");
  });

  test("prices from the config replace the table's and count as confirmed; a Region the table lacks uses us-east-1's, unconfirmed", () => {
    const data = defaultConfigData();
    data.cost = { monthlyGbPerSpoke: 1000, prices: { items: { resourceEndpointAzHour: 0.01 }, instanceHour: { "t4g.small": 0.02 } } };
    const r = report(configFrom(data));
    expect(line(r.central, "Resource endpoint (per AZ)")).toMatchObject({ monthlyUsd: 58.4, price: { usd: 0.01, confirmed: true, source: "the config (cost.prices)" } });
    expect(line(r.central, "t4g.small instance")?.monthlyUsd).toBe(29.2);
    expect(r.unconfirmed).not.toContain("Resource endpoint (per AZ)");
    expect(r.monthlyGbPerSpoke).toBe(1000);
    const elsewhere = pricesFor("eu-north-1");
    expect(elsewhere.items.natGatewayHour).toMatchObject({ usd: 0.045, confirmed: false, source: "us-east-1's price; eu-north-1 is not in the table" });
  });

  test("cost.md marks every unconfirmed price and names both designs' totals", () => {
    const md = renderCostMarkdown(report(defaultConfig()));
    expect(md).toContain("| Resource endpoint (per AZ) | 4 stacks | 5,840 | $0.014/AZ-hour (unconfirmed) | $81.76 |");
    expect(md).toContain("- central (this deployment): $344.06");
    expect(md).toContain("- a NAT gateway in every spoke VPC (what it replaces): $343.08");
    expect(md).toContain("| NAT gateway | hub | 730 | $0.062/hour | $45.26 |");
  });
});

describe("the main job's cost output", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "egresslink-cost-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test("writes cost.json and cost.md beside the manifest and prints the comparison; a cost.md of the user's is never overwritten", async () => {
    const out = join(dir, "out");
    let stdout = "";
    expect(await runCli(["--config", DEFAULT_CONFIG_PATH, "--out", out], {}, { stdout: (t) => (stdout += t), stderr: () => undefined })).toBe(0);
    const cost = JSON.parse(readFileSync(join(out, "cost.json"), "utf8")) as CostReport;
    expect([cost.centralMonthlyUsd, cost.baselineMonthlyUsd, cost.breakEvenMonthlyGb]).toEqual([344.06, 343.08, 302]);
    expect(readFileSync(join(out, "cost.md"), "utf8")).toBe(renderCostMarkdown(cost));
    expect(stdout).toContain("central $344.06 ($315.26 fixed) vs a NAT gateway per spoke VPC $343.08 ($318.28 fixed), at 100 GB per spoke VPC");
    expect(stdout).toContain(`unconfirmed prices (set them in cost.prices): ${UNCONFIRMED.join(", ")}`);
    writeFileSync(join(out, "cost.md"), "my budget notes\n");
    expect(await runCli(["--config", DEFAULT_CONFIG_PATH, "--out", out], {}, { stdout: () => undefined, stderr: () => undefined })).toBe(1);
    expect(readFileSync(join(out, "cost.md"), "utf8")).toBe("my budget notes\n");
  });
});
