/**
 * `npm run bench`: wall time and peak RSS of the main job, as separate processes (cold start,
 * as users run it), for the default config and generated configs with many spokes; and the
 * rendered squid.conf's size and `squid -k parse` time.
 * Results go to stdout as a table and to bench/results/latest.json.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { loadConfigFile } from "../modules/config/load";
import { hubSquidConf } from "../modules/proxy/squid-conf";
import { encodeProxyConfig } from "../modules/proxy/config-delivery";
import { generatedSpokes } from "../test/helpers";

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
function squidParse(configFile: string): { spokes: number; confBytes: number; ssmBytes: number; parseMedianMs: number | string } {
  const config = loadConfigFile(configFile);
  const conf = hubSquidConf(config.hub, config.spokes);
  const file = join(work, `squid-${config.spokes.length}.conf`);
  writeFileSync(file, conf);
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
  return { spokes: config.spokes.length, confBytes: Buffer.byteLength(conf), ssmBytes: encodeProxyConfig(conf).value.length, parseMedianMs };
}

function measure(configFile: string): { wallMs: number[]; maxRssMiB: number } {
  const wallMs: number[] = [];
  let maxRssMiB = 0;
  for (let i = 0; i < RUNS; i++) {
    const out = mkdtempSync(join(tmpdir(), "egresslink-bench-out-"));
    // /usr/bin/time is not always installed: measure RSS from inside a wrapper instead.
    const started = process.hrtime.bigint();
    const run = spawnSync(process.execPath, ["--import", "tsx", "-e", `
      const { runCli } = require(${JSON.stringify(join(ROOT, "modules/app/cli.ts"))});
      runCli(["--config", ${JSON.stringify(configFile)}, "--out", ${JSON.stringify(join(out, "cdktf.out"))}], {}, { stdout: () => {}, stderr: (t) => process.stderr.write(t) })
        .then((code) => process.stdout.write(JSON.stringify({ code, rss: process.resourceUsage().maxRSS })));
    `], { cwd: ROOT, encoding: "utf8" });
    wallMs.push(Number(process.hrtime.bigint() - started) / 1e6);
    rmSync(out, { recursive: true, force: true });
    if (run.status !== 0) throw new Error(`bench run failed: ${run.stderr}`);
    const result = JSON.parse(run.stdout) as { code: number; rss: number };
    if (result.code !== 0) throw new Error(`main job exited ${result.code}: ${run.stderr}`);
    maxRssMiB = Math.max(maxRssMiB, result.rss / 1024);
  }
  return { wallMs, maxRssMiB };
}

const work = mkdtempSync(join(tmpdir(), "egresslink-bench-"));
try {
  const cases: [string, string][] = [["default (4 spokes)", join(ROOT, "egress.config.yaml")]];
  for (const n of [60, 150]) {
    const file = join(work, `spokes-${n}.yaml`);
    writeFileSync(file, manySpokes(n));
    cases.push([`${n} spokes`, file]);
  }
  const rows = cases.map(([name, file]) => {
    const { wallMs, maxRssMiB } = measure(file);
    const sorted = [...wallMs].sort((a, b) => a - b);
    return { case: name, runs: RUNS, medianMs: Math.round(sorted[Math.floor(sorted.length / 2)]), maxMs: Math.round(sorted[sorted.length - 1]), peakRssMiB: Math.round(maxRssMiB) };
  });
  console.table(rows);
  const squid = cases.map(([, file]) => squidParse(file));
  console.table(squid);
  mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
  writeFileSync(join(ROOT, "bench", "results", "latest.json"), `${JSON.stringify({ date: new Date().toISOString(), node: process.version, rows, squid }, null, 2)}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
