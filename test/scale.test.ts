/**
 * One hub for 1,000 spokes: a config with varied spoke names, two domains of its own per spoke
 * and endpoints on every tenth synthesizes through the main job (no delivery limit below that),
 * Squid parses the squid.conf the hub delivers, and Terraform validates the hub stack. The mocked
 * apply of a 3,000-resource hub takes minutes, so this validates only. Full tier.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { defaultConfigData, deliveredSquidConf, ROOT, runMainJob, type TerraformJson } from "./helpers";
import { buildDist, programDescribe, requireProgram } from "./helpers-programs";
import { withLogDaemonIn } from "./helpers-squid";
import { validateStacks } from "./helpers-terraform";

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
  const out = join(work, "out");
  let job: Awaited<ReturnType<typeof runMainJob>>;
  let hub: TerraformJson;

  beforeAll(async () => {
    buildDist(ROOT);
    writeFileSync(join(work, "egress.config.yaml"), stringify({ ...defaultConfigData(), spokes: thousandSpokes() }));
    // The compiled job, as `npm run synth` runs it.
    job = await runMainJob(["--config", join(work, "egress.config.yaml"), "--out", out], { cwd: work, compiled: true, timeoutMs: 240_000 });
    if (job.code === 0) hub = JSON.parse(readFileSync(join(out, "stacks", "hub", "cdk.tf.json"), "utf8"));
    process.stderr.write(`${SPOKES} spokes: the main job took ${job.seconds.toFixed(1)} s (compiled, in a busy test run)\n`);
  }, 300_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test("synthesizes: a stack per spoke, a resource configuration and a port each on the hub", () => {
    expect([job.code, job.stderr.match(/problem|error/gi)]).toEqual([0, null]);
    expect(readdirSync(join(out, "stacks")).filter((s) => s.startsWith("spoke-"))).toHaveLength(SPOKES);
    expect(Object.keys(hub.resource?.aws_vpclattice_resource_configuration ?? {})).toHaveLength(SPOKES);
    expect(Object.keys(hub.output?.proxy_ports.value as object)).toHaveLength(SPOKES);
  });

  test("Squid parses the squid.conf the hub delivers: every spoke's port, no error or warning", () => {
    const content = deliveredSquidConf(hub);
    expect(content.match(/^http_port \d+ name=/gm)).toHaveLength(SPOKES + 1); // and the health port
    const file = join(work, "squid.conf");
    writeFileSync(file, withLogDaemonIn(work, content));
    const parse = spawnSync(squid, ["-k", "parse", "-f", file], { encoding: "utf8", timeout: 120_000 });
    expect(parse.status).toBe(0);
    expect(`${parse.stdout}${parse.stderr}`).not.toMatch(/ERROR|WARNING|FATAL/);
  }, 150_000);

  test("Terraform validates the hub stack", async () => {
    const result = (await validateStacks([{ label: "hub", json: hub }])).get("hub")!;
    expect(result.output).toContain("The configuration is valid");
    expect(result.ok).toBe(true);
  }, 300_000);
});
