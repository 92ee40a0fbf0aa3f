/**
 * `npm run bench`: wall time, peak RSS and output size of the main job, compiled, as separate
 * processes (cold start, as users run it), against a floor measured in the same run (a bare
 * one-resource cdktf app, compiled, same Node flags), for the default config and 50, 200 and
 * 1,000 generated spokes, with the marginal cost per spoke and each row's ratio to the floor; the
 * rendered squid.conf's size and `squid -k parse` time; and how fast hostile or oversized
 * configs (20 MB, 10,000-entry allow-list, alias bomb, deep nesting) get their error.
 * Results go to stdout as a table and to bench/results/latest.json.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { loadConfigFile } from "../modules/config/load";
import { hubSquidConf } from "../modules/proxy/squid-conf";
import { renderTopology } from "../modules/app/topology";
import { costReportFor } from "../modules/cost/model";
import { gzipSync } from "node:zlib";
import { generatedSpokes } from "../test/helpers";
import { withLogDaemonIn } from "../test/helpers-squid";

const ROOT = join(__dirname, "..");
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

/** A config with `count` spokes, each with two allow-list entries of its own. */
function manySpokes(count: number): string {
  const spokes = generatedSpokes(count);
  return stringify({
    state: { bucket: "egresslink-bench" },
    hub: { region: "ap-northeast-1", cidr: "10.0.0.0/16", availabilityZones: ["ap-northeast-1a", "ap-northeast-1c"], proxy: { allowedDomains: ["cdn.amazonlinux.com"] } },
    spokes,
  });
}

/** squid.conf size for a config, and `squid -k parse` wall time (median of RUNS) when Squid is installed. */
function squidParse(configFile: string): { spokes: number; confBytes: number; gzipBytes: number; parseMedianMs: number | string } {
  const config = loadConfigFile(configFile);
  const conf = hubSquidConf(config.hub, config.spokes);
  const file = join(work, `squid-${config.spokes.length}.conf`);
  writeFileSync(file, withLogDaemonIn(work, conf));
  const squid = spawnSync("sh", ["-c", "command -v squid"], { encoding: "utf8" }).stdout.trim();
  let parseMedianMs: number | string = "squid not installed";
  if (squid) {
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const started = process.hrtime.bigint();
      const result = spawnSync(squid, ["-k", "parse", "-f", file], { encoding: "utf8" });
      times.push(Number(process.hrtime.bigint() - started) / 1e6);
      if (result.status !== 0) throw new Error(`squid -k parse failed: ${result.stderr}`);
    }
    parseMedianMs = Math.round(times.sort((a, b) => a - b)[Math.floor(times.length / 2)]);
  }
  return { spokes: config.spokes.length, confBytes: Buffer.byteLength(conf), gzipBytes: gzipSync(conf, { level: 9 }).length, parseMedianMs };
}

/** Wall times and peak RSS of RUNS runs of the main job on `configFile`, which must exit with `expectedCode`. */
/**
 * Configs a user (or an attacker) can hand the job, each of which must be answered with a clear
 * error, quickly and in bounded memory: files written in `dir`, by case name.
 */
function hostileInputs(dir: string): [string, string][] {
  const head = stringify({ state: { bucket: "egresslink-bench" }, hub: { region: "ap-northeast-1", cidr: "10.0.0.0/16" } });
  const write = (name: string, text: string): [string, string] => {
    const file = join(dir, `${name.replace(/\W+/g, "-")}.yaml`);
    writeFileSync(file, text);
    return [name, file];
  };
  const domains = (count: number, tag: string) => Array.from({ length: count }, (_, i) => `api${i}.${tag}.example-saas.com`);
  const laughs = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]", ...Array.from({ length: 9 }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(9).fill(`*a${i}`).join(", ")}]`)];
  return [
    // 20 MB of allow-list: refused by size before it is parsed.
    write("20 MB config", `${head}spokes:\n  team-a:\n    port: 3128\n    cidr: 10.0.0.0/16\n    allowedDomains:\n${domains(520_000, "big").map((d) => `      - ${d}\n`).join("")}`),
    write("10,000-entry allow-list", stringify({ ...parse(head), spokes: { "team-a": { port: 3128, cidr: "10.0.0.0/16", allowedDomains: domains(10_000, "many") } } })),
    write("alias bomb (10^9 values)", `${laughs.join("\n")}\n`),
    write("5,000 nested lists", `hub: ${"[".repeat(5000)}${"]".repeat(5000)}\n`),
  ];
}

/** Bytes under `dir`. */
function bytesUnder(dir: string): number {
  return readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).reduce((n, e) => n + statSync(join(e.parentPath, e.name)).size, 0);
}

/** One measured process: `script` (JS) run by this Node with no loader, writing into `out`; it prints its exit code and peak RSS. */
function runMeasured(script: string, out: string): { wallMs: number; rssMiB: number; code: number; stderr: string; outBytes: number } {
  const started = process.hrtime.bigint();
  const run = spawnSync(process.execPath, ["-e", script], { cwd: ROOT, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (run.status !== 0) throw new Error(`bench run failed: ${run.stderr}`);
  const result = JSON.parse(run.stdout) as { code: number; rss: number };
  const outBytes = existsSync(out) ? bytesUnder(out) : 0;
  rmSync(out, { recursive: true, force: true });
  return { wallMs, rssMiB: result.rss / 1024, code: result.code, stderr: run.stderr, outBytes };
}

/** The compiled main job (dist/) on `configFile`, as `npm run synth` runs it, `runs` times. */
function measure(configFile: string, expectedCode = 0, runs = RUNS): { wallMs: number[]; maxRssMiB: number; stderr: string; outBytes: number } {
  const samples = Array.from({ length: runs }, () => {
    const out = join(mkdtempSync(join(tmpdir(), "egresslink-bench-out-")), "cdktf.out");
    const sample = runMeasured(
      `const { runCli } = require(${JSON.stringify(join(ROOT, "dist/modules/app/cli.js"))});
      runCli(["--config", ${JSON.stringify(configFile)}, "--out", ${JSON.stringify(out)}], {}, { stdout: () => {}, stderr: (t) => process.stderr.write(t) })
        .then((code) => process.stdout.write(JSON.stringify({ code, rss: process.resourceUsage().maxRSS })));`,
      out,
    );
    if (sample.code !== expectedCode) throw new Error(`main job exited ${sample.code}, expected ${expectedCode}: ${sample.stderr}`);
    return sample;
  });
  return { wallMs: samples.map((s) => s.wallMs), maxRssMiB: Math.max(...samples.map((s) => s.rssMiB)), stderr: samples[samples.length - 1].stderr, outBytes: samples[0].outBytes };
}

/** The floor: a bare cdktf app with one provider and one resource, compiled JS, the same Node flags. */
function measureFloor(runs: number): { wallMs: number[]; maxRssMiB: number; outBytes: number } {
  const samples = Array.from({ length: runs }, () => {
    const out = join(mkdtempSync(join(tmpdir(), "egresslink-bench-floor-")), "cdktf.out");
    const req = (path: string) => `require(${JSON.stringify(join(ROOT, "node_modules", path))})`;
    return runMeasured(
      `const { App, TerraformStack } = ${req("cdktf")};
      const { AwsProvider } = ${req("@cdktf/provider-aws/lib/provider")};
      const { S3Bucket } = ${req("@cdktf/provider-aws/lib/s3-bucket")};
      const app = new App({ outdir: ${JSON.stringify(out)} });
      const stack = new TerraformStack(app, "floor");
      new AwsProvider(stack, "aws", { region: "ap-northeast-1" });
      new S3Bucket(stack, "bucket", { bucket: "egresslink-floor" });
      app.synth();
      process.stdout.write(JSON.stringify({ code: 0, rss: process.resourceUsage().maxRSS }));`,
      out,
    );
  });
  return { wallMs: samples.map((s) => s.wallMs), maxRssMiB: Math.max(...samples.map((s) => s.rssMiB)), outBytes: samples[0].outBytes };
}

/**
 * The synth-time cost of the topology diagram and the cost model, which run on every synth: the
 * main job's output for `file` is kept once, then renderTopology and costReport (on the stacks as
 * written) are timed in this process.
 */
function derivedOutputs(name: string, file: string): { case: string; topologyMs: number; costModelMs: number; stacks: number } {
  const out = join(mkdtempSync(join(tmpdir(), "egresslink-bench-derived-")), "cdktf.out");
  const run = spawnSync(process.execPath, [join(ROOT, "dist", "main.js"), "--config", file, "--out", out], { cwd: ROOT, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`main job failed: ${run.stderr}`);
  const config = loadConfigFile(file);
  const stacks = Object.fromEntries(readdirSync(join(out, "stacks")).map((s) => [s, JSON.parse(readFileSync(join(out, "stacks", s, "cdk.tf.json"), "utf8"))]));
  rmSync(join(out, ".."), { recursive: true, force: true });
  const time = (fn: () => unknown) => median(Array.from({ length: RUNS }, () => {
    const started = process.hrtime.bigint();
    fn();
    return Number(process.hrtime.bigint() - started) / 1e6;
  }));
  return {
    case: name,
    stacks: Object.keys(stacks).length,
    topologyMs: Math.round(time(() => renderTopology(config)) * 10) / 10,
    costModelMs: Math.round(time(() => costReportFor(stacks, config)) * 10) / 10,
  };
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const work = mkdtempSync(join(tmpdir(), "egresslink-bench-"));
try {
  // The job runs compiled, as `npm run synth` does: build first (incremental).
  const build = spawnSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json"], { cwd: ROOT, encoding: "utf8" });
  if (build.status !== 0) throw new Error(`build failed: ${build.stdout}${build.stderr}`);
  const floor = measureFloor(RUNS);
  const floorMs = median(floor.wallMs);
  const cases: { name: string; spokes: number; file: string; runs: number }[] = [{ name: "default", spokes: loadConfigFile(join(ROOT, "egress.config.yaml")).spokes.length, file: join(ROOT, "egress.config.yaml"), runs: RUNS }];
  for (const n of [50, 200, 1000]) {
    const file = join(work, `spokes-${n}.yaml`);
    writeFileSync(file, manySpokes(n));
    cases.push({ name: `${n} spokes`, spokes: n, file, runs: n >= 1000 ? Math.min(RUNS, 2) : RUNS });
  }
  const measured = cases.map((c) => ({ ...c, ...measure(c.file, 0, c.runs) }));
  const base = measured.find((c) => c.spokes === 50)!;
  const rows = [
    { case: "floor (bare cdktf app, 1 resource)", runs: RUNS, medianMs: Math.round(floorMs), peakRssMiB: Math.round(floor.maxRssMiB), outputKiB: Math.round(floor.outBytes / 1024), msPerExtraSpoke: "", mibPerExtraSpoke: "", xFloor: "1.00" },
    ...measured.map((c) => {
      const ms = median(c.wallMs);
      const extra = c.spokes - base.spokes;
      return {
        case: c.name,
        runs: c.runs,
        medianMs: Math.round(ms),
        peakRssMiB: Math.round(c.maxRssMiB),
        outputKiB: Math.round(c.outBytes / 1024),
        // Marginal cost against the 50-spoke config (the default has fewer).
        msPerExtraSpoke: extra > 0 ? ((ms - median(base.wallMs)) / extra).toFixed(1) : "",
        mibPerExtraSpoke: extra > 0 ? ((c.maxRssMiB - base.maxRssMiB) / extra).toFixed(2) : "",
        xFloor: (ms / floorMs).toFixed(2),
      };
    }),
  ];
  console.log(`main job (compiled, cdktf shims on), load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}, ${availableParallelism()} cores:`);
  console.table(rows);
  const row = (name: string, file: string, expectedCode: number) => {
    const { wallMs, maxRssMiB, stderr } = measure(file, expectedCode);
    const answer = stderr.split("\n").find((l) => l.startsWith("  "))?.trim().slice(0, 90) ?? "";
    return { case: name, runs: RUNS, medianMs: Math.round(median(wallMs)), maxMs: Math.round(Math.max(...wallMs)), peakRssMiB: Math.round(maxRssMiB), answer };
  };
  const badRows = hostileInputs(work).map(([name, file]) => row(name, file, 1));
  console.table(badRows);
  const squid = cases.map((c) => squidParse(c.file));
  console.table(squid);
  const derived = cases.map((c) => derivedOutputs(c.name, c.file));
  console.log("what every synth derives from the config and the stacks (in process, median of runs; included in the rows above):");
  console.table(derived);
  mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
  writeFileSync(join(ROOT, "bench", "results", "latest.json"), `${JSON.stringify({ date: new Date().toISOString(), node: process.version, loadavg: loadavg(), rows, badRows, squid, derived }, null, 2)}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
