/**
 * `npm run bench`: wall time and peak RSS of the main job, as separate processes (cold start,
 * as users run it), for the default config and generated configs with many spokes; and the
 * rendered squid.conf's size and `squid -k parse` time; and how fast hostile or oversized
 * configs (20 MB, 10,000-entry allow-list, alias bomb, deep nesting) get their error.
 * Results go to stdout as a table and to bench/results/latest.json.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { loadConfigFile } from "../modules/config/load";
import { hubSquidConf } from "../modules/proxy/squid-conf";
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
  const large = Object.fromEntries(Object.entries(generatedSpokes(1000)).map(([name, spoke], i) => [name, { ...spoke, allowedDomains: domains(40, `vendor${i}`) }]));
  const laughs = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]", ...Array.from({ length: 9 }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(9).fill(`*a${i}`).join(", ")}]`)];
  return [
    // 20 MB of allow-list: refused by size before it is parsed.
    write("20 MB config", `${head}spokes:\n  team-a:\n    port: 3128\n    cidr: 10.0.0.0/16\n    allowedDomains:\n${domains(520_000, "big").map((d) => `      - ${d}\n`).join("")}`),
    write("10,000-entry allow-list", stringify({ ...parse(head), spokes: { "team-a": { port: 3128, cidr: "10.0.0.0/16", allowedDomains: domains(10_000, "many") } } })),
    write("1,000 spokes x 40 domains (delivery limit)", stringify({ ...parse(head), spokes: large })),
    write("alias bomb (10^9 values)", `${laughs.join("\n")}\n`),
    write("5,000 nested lists", `hub: ${"[".repeat(5000)}${"]".repeat(5000)}\n`),
  ];
}

function measure(configFile: string, expectedCode = 0): { wallMs: number[]; maxRssMiB: number; stderr: string } {
  const wallMs: number[] = [];
  let maxRssMiB = 0;
  let stderr = "";
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
    if (result.code !== expectedCode) throw new Error(`main job exited ${result.code}, expected ${expectedCode}: ${run.stderr}`);
    maxRssMiB = Math.max(maxRssMiB, result.rss / 1024);
    stderr = run.stderr;
  }
  return { wallMs, maxRssMiB, stderr };
}

const work = mkdtempSync(join(tmpdir(), "egresslink-bench-"));
try {
  const cases: [string, string][] = [["default (4 spokes)", join(ROOT, "egress.config.yaml")]];
  for (const n of [60, 150]) {
    const file = join(work, `spokes-${n}.yaml`);
    writeFileSync(file, manySpokes(n));
    cases.push([`${n} spokes`, file]);
  }
  const row = (name: string, file: string, expectedCode = 0) => {
    const { wallMs, maxRssMiB, stderr } = measure(file, expectedCode);
    const sorted = [...wallMs].sort((a, b) => a - b);
    const answer = expectedCode === 0 ? {} : { answer: stderr.split("\n").find((l) => l.startsWith("  "))?.trim().slice(0, 90) ?? "" };
    return { case: name, runs: RUNS, medianMs: Math.round(sorted[Math.floor(sorted.length / 2)]), maxMs: Math.round(sorted[sorted.length - 1]), peakRssMiB: Math.round(maxRssMiB), ...answer };
  };
  const rows = cases.map(([name, file]) => row(name, file));
  console.table(rows);
  const badRows = hostileInputs(work).map(([name, file]) => row(name, file, 1));
  console.table(badRows);
  const squid = cases.map(([, file]) => squidParse(file));
  console.table(squid);
  mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
  writeFileSync(join(ROOT, "bench", "results", "latest.json"), `${JSON.stringify({ date: new Date().toISOString(), node: process.version, rows, badRows, squid }, null, 2)}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
