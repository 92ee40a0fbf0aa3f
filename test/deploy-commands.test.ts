/**
 * Every `cdktf deploy` command the README and the main job's summary print passes cdktf's stack
 * selection, and reaches Terraform for the stacks it names, in dependency order. Terraform is a
 * stub first on PATH: it records the stack folder and arguments of each call, answers `init` and
 * `providers lock` as no-ops, and refuses (exit 1) `plan`, `apply` and anything else that could
 * change something; AWS variables are removed. So nothing can be deployed, and since every apply
 * fails, only stacks with no dependency among the selected ones are ever applied. Full tier.
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { runCli } from "../modules/app/cli";
import { defaultConfigData, ROOT } from "./helpers";
import { buildDist, programDescribe } from "./helpers-programs";

/** Calls that only read or prepare; everything else is refused. */
const STUB = `#!/bin/sh
printf '%s\\t%s\\n' "$PWD" "$*" >> "$EGRESSLINK_STUB_LOG"
case "$1" in
  init|version|-v|-version|providers) exit 0 ;;
esac
echo "stub terraform: refusing '$*'" >&2
exit 1
`;

const DEPENDENCY_ERROR = "dependencies are not included in the stacks to run";

interface Project {
  readonly label: string;
  /** The config, as the project's egress.config.yaml. */
  readonly configText: string;
  /** cdktf.out/manifest.json's dependencies, by stack. */
  dependencies: Record<string, readonly string[]>;
  /** The `cdktf deploy` lines the summary printed. */
  summaryCommands: string[];
}

interface Reached {
  readonly command: string;
  readonly status: number | null;
  readonly output: string;
  /** Stacks in the order Terraform was first called in their folder. */
  readonly initialized: string[];
  /** Stacks Terraform was asked to apply (or plan). */
  readonly applied: string[];
}

const work = mkdtempSync(join(tmpdir(), "egresslink-deploy-"));
const stubDir = join(work, "bin");
let runs = 0;

function project(label: string, config: Record<string, unknown>): Project {
  return { label, configText: stringify(config), dependencies: {}, summaryCommands: [] };
}

/** A fresh project folder per run, so runs may go in parallel: the repo's cdktf.json (its app run from here), the config, the repo's node_modules. */
function projectDir(p: Project): string {
  const dir = join(work, `${p.label}-${++runs}`);
  mkdirSync(dir);
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  const cdktf = JSON.parse(readFileSync(join(ROOT, "cdktf.json"), "utf8"));
  // The repo's app builds dist/ and runs it; here dist/ is built once (beforeAll), so parallel runs never build at once.
  writeFileSync(join(dir, "cdktf.json"), JSON.stringify({ ...cdktf, app: `node ${join(ROOT, "dist", "main.js")}` }));
  writeFileSync(join(dir, "egress.config.yaml"), p.configText);
  return dir;
}

/** The main job's summary for the project's config, and the stacks' dependencies from its output. */
async function summarize(p: Project): Promise<void> {
  let stdout = "";
  const out = join(work, `${p.label}-summary-out`);
  const code = await runCli(["--config", join(projectDir(p), "egress.config.yaml"), "--out", out], {}, { stdout: (t) => (stdout += t), stderr: () => {} });
  if (code !== 0) throw new Error(`the main job failed on ${p.label}`);
  const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")) as { stacks: Record<string, { dependencies: string[] }> };
  p.dependencies = Object.fromEntries(Object.entries(manifest.stacks).map(([name, s]) => [name, s.dependencies]));
  p.summaryCommands = [...stdout.matchAll(/cdktf deploy [^\n]*/g)].map((m) => m[0].trim());
}

/** Every `cdktf deploy` command in the README (code blocks and inline code), comments dropped, with its section; placeholders and elisions skipped. */
function readmeCommands(): { command: string; section: string }[] {
  const found: { command: string; section: string }[] = [];
  let section = "";
  for (const line of readFileSync(join(ROOT, "README.md"), "utf8").split("\n")) {
    if (line.startsWith("## ")) section = line.slice(3);
    for (const m of line.matchAll(/(?:npx )?cdktf deploy [^`\n]*/g)) {
      const command = m[0].replace(/\s+#.*$/, "").trim();
      if (!/<|\.\.\./.test(command) && !found.some((f) => f.command === command)) found.push({ command, section });
    }
  }
  return found;
}

/** `npx cdktf ...` runs the same CLI as `cdktf ...` (node_modules/.bin is on PATH in both). */
function sameCommand(a: string, b: string): boolean {
  return a.replace(/^npx /, "") === b.replace(/^npx /, "");
}

function run(p: Project, command: string): Promise<Reached> {
  const dir = projectDir(p);
  const log = join(dir, "terraform-calls.log");
  writeFileSync(log, "");
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("AWS_") && !k.startsWith("TF_")));
  Object.assign(env, { PATH: `${stubDir}:${join(ROOT, "node_modules", ".bin")}:${process.env.PATH}`, EGRESSLINK_STUB_LOG: log, CHECKPOINT_DISABLE: "1", CI: "true" });
  return new Promise((resolve, reject) => {
    const child = spawn("sh", ["-c", command], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      const calls = readFileSync(log, "utf8").split("\n").filter(Boolean).map((line) => line.split("\t"));
      const stackOf = (dir: string) => /\/cdktf\.out\/stacks\/([^/]+)$/.exec(dir)?.[1];
      const initialized = [...new Set(calls.map(([dir]) => stackOf(dir)).filter((s): s is string => !!s))];
      const applied = [...new Set(calls.filter(([, args]) => /^(apply|plan)\b/.test(args)).map(([dir]) => stackOf(dir)).filter((s): s is string => !!s))];
      resolve({ command, status, output, initialized, applied });
    });
  });
}

/** The stacks a command names: its arguments, with cdktf's globs expanded. */
function selected(p: Project, command: string): string[] {
  const args = command.replace(/^(npx )?cdktf deploy /, "").split(/\s+/).filter((a) => !a.startsWith("--")).map((a) => a.replace(/^'|'$/g, ""));
  const stacks = Object.keys(p.dependencies);
  return stacks.filter((s) => args.some((a) => (a.endsWith("*") ? s.startsWith(a.slice(0, -1)) : s === a)));
}

/** Runs `jobs`, `parallel` at a time (each cdktf run is a few seconds of CPU). */
async function pool<T>(jobs: readonly (() => Promise<T>)[], parallel: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return results;
}

programDescribe("cdktf deploy, as printed, against a stub terraform", () => {
  const interconnect = parse(readFileSync(join(ROOT, "examples", "interconnect.yaml"), "utf8"));
  const retiring = defaultConfigData();
  retiring.spokes["project-b"].retired = true;
  const projects = {
    default: project("default", defaultConfigData()),
    interconnect: project("interconnect", interconnect),
    retiring: project("retiring", retiring),
    cloud: project("cloud", { ...defaultConfigData(), state: { backend: "cloud", organization: "example-org" } }),
  };
  const results = new Map<Project, Reached[]>();

  beforeAll(async () => {
    buildDist(ROOT);
    mkdirSync(stubDir);
    writeFileSync(join(stubDir, "terraform"), STUB);
    chmodSync(join(stubDir, "terraform"), 0o755);
    await Promise.all(Object.values(projects).map(summarize));
    // README commands name the default config's stacks, the interconnect example's, or (in its section) the cloud variant's; each runs once.
    // The retiring config has the default config's stacks: only its retirement commands are new.
    const retiringOnly = projects.retiring.summaryCommands.filter((c) => !projects.default.summaryCommands.includes(c));
    const plan = new Map<Project, string[]>(Object.values(projects).map((p) => [p, p === projects.retiring ? retiringOnly : [...p.summaryCommands]]));
    for (const { command, section } of readmeCommands()) {
      const p = section.startsWith("State in HCP Terraform") ? projects.cloud : command.includes("interconnect") ? projects.interconnect : projects.default;
      if (![...plan.values()].flat().some((c) => sameCommand(c, command))) plan.get(p)!.push(command);
    }
    const jobs = [...plan].flatMap(([p, commands]) => commands.map((command) => async () => [p, await run(p, command)] as const));
    for (const [p, reached] of await pool(jobs, 2)) results.set(p, [...(results.get(p) ?? []), reached]);
    const lines = [...results].flatMap(([p, rs]) => rs.map((r) => `  ${p.label.padEnd(12)} ${r.command.padEnd(72)} applied: ${r.applied.join(" ") || "-"}`));
    process.stderr.write(`cdktf deploy against a stub terraform:\n${lines.join("\n")}\n`);
  }, 900_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test("the summary prints deploy commands for each config, and the README its own", () => {
    expect(projects.default.summaryCommands).toEqual([
      "cdktf deploy egress-state",
      "cdktf deploy hub --ignore-missing-stack-dependencies",
      "cdktf deploy hub-ports-3100 --ignore-missing-stack-dependencies",
      "cdktf deploy 'spoke-*' --ignore-missing-stack-dependencies",
      "cdktf deploy '*'",
    ]);
    expect(projects.cloud.summaryCommands).toEqual([
      "cdktf deploy hub",
      "cdktf deploy hub-ports-3100 --ignore-missing-stack-dependencies",
      "cdktf deploy 'spoke-*' --ignore-missing-stack-dependencies",
      "cdktf deploy '*'",
    ]);
    expect(projects.interconnect.summaryCommands).toEqual(["cdktf deploy egress-state", "cdktf deploy hub interconnect --ignore-missing-stack-dependencies", "cdktf deploy '*'"]);
    expect(projects.retiring.summaryCommands).toEqual(
      expect.arrayContaining(["cdktf deploy spoke-project-b --ignore-missing-stack-dependencies", "cdktf deploy egress-state hub-ports-3100 --ignore-missing-stack-dependencies"].map((c) => expect.stringContaining(c))),
    );
    expect(readmeCommands().length).toBeGreaterThanOrEqual(8);
  });

  test("every command passes cdktf's stack selection and reaches Terraform for exactly the stacks it names", () => {
    for (const [p, rs] of results) {
      for (const r of rs) {
        const where = `${p.label}: ${r.command}`;
        expect([where, r.output.includes(DEPENDENCY_ERROR)]).toEqual([where, false]);
        expect([where, [...r.initialized].sort()]).toEqual([where, selected(p, r.command).sort()]);
        // The stub refused every apply: cdktf reports a failure, and nothing was deployed.
        expect([where, r.status]).not.toEqual([where, 0]);
      }
    }
  });

  test("stacks are applied in dependency order: only those with no dependency among the selected ones start", () => {
    for (const [p, rs] of results) {
      for (const r of rs) {
        const chosen = selected(p, r.command);
        const first = chosen.filter((s) => !p.dependencies[s].some((d) => chosen.includes(d)));
        expect([`${p.label}: ${r.command}`, [...r.applied].sort()]).toEqual([`${p.label}: ${r.command}`, first.sort()]);
      }
    }
    const everything = results.get(projects.default)!.find((r) => r.command === "cdktf deploy '*'")!;
    expect(everything.applied).toEqual(["egress-state"]);
    expect(everything.initialized[0]).toBe("egress-state");
  });

  test("control: a subset without its dependencies and without the flag is refused by cdktf before Terraform runs", async () => {
    const refused = await run(projects.default, "cdktf deploy hub");
    expect(refused.output).toContain(DEPENDENCY_ERROR);
    expect(refused.initialized).toEqual([]);
  }, 120_000);
});
