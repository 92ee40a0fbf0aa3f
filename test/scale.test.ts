/**
 * One hub for 1,000 spokes: a config with varied spoke names, two domains of its own per spoke
 * and endpoints on every tenth synthesizes through the main job (no delivery limit below that),
 * Squid parses the squid.conf the hub delivers, and Terraform validates the hub core and its port
 * blocks. Adding a spoke rewrites only its own stack and its block's; reordering the spokes
 * rewrites nothing. The mocked apply of 3,000 resources takes minutes, so this validates only.
 * Full tier.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { defaultConfigData, deliveredSquidConf, filesUnder, ROOT, runMainJob, type TerraformJson } from "./helpers";
import { buildDist, programDescribe, requireProgram } from "./helpers-programs";
import { withLogDaemonIn } from "./helpers-squid";
import { mockCoreOutputs, validateStacks } from "./helpers-terraform";
import { loadConfigFile } from "../modules/config/load";

const SPOKES = 1000;

/** Spokes named like teams' services (lengths vary), each with two domains of its own; every tenth with endpoints. */
function thousandSpokes(): Record<string, unknown> {
  const teams = ["payments", "ml", "search", "identity", "ledger", "web", "mobile", "data-platform", "infra", "growth"];
  const services = ["api", "worker", "batch", "etl", "frontend", "gateway", "scheduler", "indexer"];
  return Object.fromEntries(
    Array.from({ length: SPOKES }, (_, i) => [
      `${teams[i % teams.length]}-${services[(i * 7) % services.length]}-${i}`,
      { port: 3128 + i, cidr: "10.0.0.0/16", allowedDomains: [`.${teams[i % teams.length]}${i}.example.com`, `api.vendor${i}.example.net`], ...(i % 10 === 0 ? { endpoints: ["logs", "sts"] } : {}) },
    ]),
  );
}

programDescribe(`one hub, ${SPOKES} spokes`, () => {
  const squid = requireProgram("squid");
  const work = mkdtempSync(join(tmpdir(), "egresslink-scale-"));
  const spokes = thousandSpokes();
  const runs: Record<string, Awaited<ReturnType<typeof runMainJob>>> = {};
  /** The hub core's and the port blocks' stacks of the first run. */
  const hubStacks: Record<string, TerraformJson> = {};

  /** Writes `data` as a config and runs the compiled job (as `npm run synth` runs it) into `<work>/<name>`. */
  const synth = async (name: string, spokeEntries: Record<string, unknown>) => {
    writeFileSync(join(work, `${name}.yaml`), stringify({ ...defaultConfigData(), spokes: spokeEntries }));
    runs[name] = await runMainJob(["--config", join(work, `${name}.yaml`), "--out", join(work, name)], { cwd: work, compiled: true, timeoutMs: 240_000 });
  };
  const stacksOf = (name: string) => readdirSync(join(work, name, "stacks"));
  const read = (name: string, stack: string) => readFileSync(join(work, name, "stacks", stack, "cdk.tf.json"), "utf8");

  beforeAll(async () => {
    buildDist(ROOT);
    await synth("base", spokes);
    for (const stack of stacksOf("base").filter((s) => s === "hub" || s.startsWith("hub-ports-"))) hubStacks[stack] = JSON.parse(read("base", stack));
    process.stderr.write(`${SPOKES} spokes: the main job took ${runs.base.seconds.toFixed(1)} s (compiled, in a busy test run)\n`);
    // One spoke more (port 4128, in the last block, 4100-4149), and the same spokes in reverse order.
    await Promise.all([
      synth("added", { ...spokes, "payments-new-api": { port: 3128 + SPOKES, cidr: "10.0.0.0/16", allowedDomains: [".payments-new.example.com"] } }),
      synth("reversed", Object.fromEntries(Object.entries(spokes).reverse())),
    ]);
  }, 600_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test("synthesizes: a stack per spoke, a resource configuration and a port each in 20 port blocks of 50 (the last of 28)", () => {
    expect([runs.base.code, runs.base.stderr.match(/problem|error/gi)]).toEqual([0, null]);
    expect(stacksOf("base").filter((s) => s.startsWith("spoke-"))).toHaveLength(SPOKES);
    const blocks = Object.entries(hubStacks).filter(([name]) => name !== "hub");
    expect(blocks.map(([name]) => name).sort()).toEqual(Array.from({ length: 21 }, (_, i) => `hub-ports-${3100 + i * 50}`).sort());
    const configurations = blocks.map(([, tf]) => Object.keys(tf.resource?.aws_vpclattice_resource_configuration ?? {}).length);
    expect(configurations.reduce((a, b) => a + b)).toBe(SPOKES);
    expect(Math.max(...configurations)).toBe(50);
    expect(blocks.reduce((n, [, tf]) => n + Object.keys(tf.output?.proxy_ports.value as object).length, 0)).toBe(SPOKES);
    // The hub core holds nothing of any spoke.
    expect(hubStacks.hub.resource?.aws_vpclattice_resource_configuration).toBeUndefined();
    expect(read("base", "hub")).not.toMatch(/payments-api-0/);
  });

  test("adding a spoke rewrites only its own stack and its port block's; reordering the spokes rewrites nothing", () => {
    expect([runs.added.code, runs.reversed.code]).toEqual([0, 0]);
    const differing = (name: string) => {
      const [base, other] = [filesUnder(join(work, "base")), filesUnder(join(work, name))];
      const all = [...new Set([...base, ...other])];
      return all.filter((f) => !base.includes(f) || !other.includes(f) || readFileSync(join(work, "base", f), "utf8") !== readFileSync(join(work, name, f), "utf8")).sort();
    };
    // Of the stacks, only the new spoke's and its block's. Besides: cdktf's manifest lists every
    // stack; the hub's split-state.sh (state commands for hubs of 0.1) lists the block's resources;
    // the cost report and the topology diagram count and draw every spoke. None is Terraform config.
    expect(differing("added")).toEqual(["cost.json", "cost.md", "manifest.json", "stacks/hub-ports-4100/cdk.tf.json", "stacks/hub/split-state.sh", "stacks/spoke-payments-new-api/cdk.tf.json", "topology.md"]);
    expect(differing("reversed")).toEqual([]);
  });

  test("monitoring stays within CloudWatch's quotas: 17 metric filters on the log group (of 100), none seeing more than 500 spokes; 45 alarms; one dashboard of 10 widgets", () => {
    const all = Object.values(hubStacks);
    const filters = Object.values(hubStacks.hub.resource?.aws_cloudwatch_log_metric_filter ?? {}) as { pattern: string; metric_transformation: { dimensions?: object } }[];
    expect(all.filter((tf) => tf !== hubStacks.hub).flatMap((tf) => Object.keys(tf.resource?.aws_cloudwatch_log_metric_filter ?? {}))).toEqual([]);
    expect(filters).toHaveLength(17);
    // Each per-spoke filter matches one range of ports: at most 500 spokes (dimension values) an hour, half the 1,000 that disables a filter.
    const perSpoke = filters.filter((f) => f.metric_transformation.dimensions);
    expect(perSpoke).toHaveLength(15);
    for (const f of perSpoke) {
      const [, from, to] = /(\d+) && \w+ <= (\d+)/.exec(f.pattern)!;
      const spokesSeen = Object.values(spokes).filter((s) => (s as { port: number }).port >= Number(from) && (s as { port: number }).port <= Number(to)).length;
      expect(spokesSeen).toBeLessThanOrEqual(500);
    }
    const alarms = all.flatMap((tf) => Object.values(tf.resource?.aws_cloudwatch_metric_alarm ?? {}));
    // Core: config sync, spoke ports, the NAT gateway; each of the 21 blocks: healthy targets, in service.
    expect(alarms).toHaveLength(3 + 2 * 21);
    const dashboards = all.flatMap((tf) => Object.values(tf.resource?.aws_cloudwatch_dashboard ?? {})) as { dashboard_body: string }[];
    expect(dashboards).toHaveLength(1);
    expect(JSON.parse(dashboards[0].dashboard_body).widgets.length).toBeLessThanOrEqual(500);
    expect(dashboards[0].dashboard_body.length).toBeLessThan(10_000);
  });

  test("Squid parses the squid.conf the hub delivers: every spoke's port, no error or warning", () => {
    const content = deliveredSquidConf(hubStacks);
    expect(content.match(/^http_port \d+ name=/gm)).toHaveLength(SPOKES + 1); // and the health port
    const file = join(work, "squid.conf");
    writeFileSync(file, withLogDaemonIn(work, content));
    const parse = spawnSync(squid, ["-k", "parse", "-f", file], { encoding: "utf8", timeout: 120_000 });
    expect(parse.status).toBe(0);
    expect(`${parse.stdout}${parse.stderr}`).not.toMatch(/ERROR|WARNING|FATAL/);
  }, 150_000);

  test("Terraform validates the hub core and every port block", async () => {
    const core = mockCoreOutputs(loadConfigFile(join(work, "base.yaml")));
    const results = await validateStacks(Object.entries(hubStacks).map(([label, json]) => ({ label, json, hubOutputs: label === "hub" ? undefined : core })));
    expect(results.size).toBe(22);
    for (const [label, result] of results) {
      expect([label, result.ok]).toEqual([label, true]);
      expect(result.output).toContain("The configuration is valid");
    }
  }, 300_000);
});
