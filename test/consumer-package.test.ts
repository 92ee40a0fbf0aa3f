/**
 * Another team's app on the packed library: `npm pack`, a fresh app in a temp dir that installs the
 * tarball beside pinned cdktf, constructs (inside both our peer range and CDK Terrain's, >=10.6
 * <10.8) and the provider, and builds examples/consumer-app/main.ts (which imports "egresslink")
 * three ways: tsc then node, ts-node (the cdktf template's default) and tsx. Each writes the stacks
 * the in-repo build writes. The installed CLI answers --help and synthesizes; an import the
 * package does not export fails. Full tier: it packs, installs and runs processes.
 *
 * The third-party install (~450 MB, mostly the provider) is cached under os.tmpdir(), keyed by a
 * hash of the pinned versions; each run hard-links it into the fresh app and installs only the
 * tarball (with the package's own dependencies) on top.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { buildConsumerApp } from "../examples/consumer-app/main";
import { filesUnder, ROOT } from "./helpers";
import { cachedNpmInstall, lockedNpmPack, mustRun, programDescribe, runProgram, Stopwatch } from "./helpers-programs";

const repoPkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));

/** Newest 10.7.x: inside our peer range (>=10.4.2 <11) and CDK Terrain's (>=10.6 <10.8). */
const CONSTRUCTS = "10.7.2";
/** Not a dependency of the repo (it runs tsx); the cdktf template's runner. */
const TS_NODE = "10.9.2";

/** The consumer's third-party dependencies, pinned (the repo's versions where it has them). */
const THIRD_PARTY: Record<string, string> = {
  cdktf: "0.21.0",
  constructs: CONSTRUCTS,
  "@cdktf/provider-aws": "21.22.1",
  typescript: repoPkg.devDependencies.typescript,
  "ts-node": TS_NODE,
  tsx: repoPkg.devDependencies.tsx,
  "@types/node": repoPkg.devDependencies["@types/node"],
};

/** What `cdktf init --template=typescript` writes (CommonJS), building into build/. */
const TEMPLATE_TSCONFIG = {
  compilerOptions: {
    alwaysStrict: true,
    declaration: true,
    experimentalDecorators: true,
    inlineSourceMap: true,
    inlineSources: true,
    lib: ["es2018"],
    module: "CommonJS",
    noEmitOnError: true,
    noFallthroughCasesInSwitch: true,
    noImplicitAny: true,
    noImplicitReturns: true,
    noImplicitThis: true,
    noUnusedLocals: true,
    noUnusedParameters: true,
    resolveJsonModule: true,
    strict: true,
    strictNullChecks: true,
    strictPropertyInitialization: true,
    stripInternal: true,
    target: "ES2018",
    incremental: true,
    skipLibCheck: true,
    outDir: "build",
  },
  include: ["main.ts"],
  exclude: ["node_modules", "cdktf.out"],
};

const watch = new Stopwatch();
const { timings } = watch;
const timed = watch.timed.bind(watch);
const run = runProgram;

/** `stacks/<name>/cdk.tf.json` under a cdktf.out, by stack name. */
function stacksIn(outdir: string): Record<string, string> {
  const stacks = join(outdir, "stacks");
  return Object.fromEntries(readdirSync(stacks).sort().map((name) => [name, readFileSync(join(stacks, name, "cdk.tf.json"), "utf8")]));
}

/** The third-party install, made once per set of pinned versions and reused. */
function cachedDependencies(): string {
  const { dir, coldInstallSeconds } = cachedNpmInstall("egresslink-consumer-deps", THIRD_PARTY);
  timings[coldInstallSeconds === undefined ? "third-party install (cache hit)" : "third-party install (cold)"] = coldInstallSeconds ?? 0;
  return dir;
}

/** The README section's first ```ts block. */
function readmeSnippet(): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf("## Using the constructs in your own CDKTF app");
  if (start < 0) throw new Error("README has no 'Using the constructs in your own CDKTF app' section");
  const rest = readme.slice(start + 3);
  const section = rest.slice(0, rest.search(/^## /m) >= 0 ? rest.search(/^## /m) : undefined);
  const block = /^```ts\n([\s\S]*?)^```$/m.exec(section);
  if (!block) throw new Error("the README section has no ```ts block");
  return block[1];
}

programDescribe("the packed library in another team's fresh app", () => {
  let work: string;
  let app: string;
  let tarball: string;
  let reference: Record<string, string>;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "egresslink-consumer-"));
    const packed = timed("npm pack (with prepack build)", () => mustRun(...lockedNpmPack(["--json", "--pack-destination", work]), ROOT, 300_000));
    const info = JSON.parse(packed.stdout)[0];
    tarball = join(work, info.filename);
    timings["tarball size (bytes)"] = statSync(tarball).size;
    timings["tarball unpacked size (bytes)"] = info.unpackedSize;
    timings["tarball files"] = info.entryCount;

    const deps = cachedDependencies();
    app = join(work, "app");
    mkdirSync(app);
    // Hard links: instant, and the cache is left as it is (npm replaces, never edits, installed
    // files). The hidden lockfile is rewritten in place, so it is dropped from the copy.
    timed("link cached node_modules", () => mustRun("cp", ["-al", join(deps, "node_modules"), join(app, "node_modules")], work, 120_000));
    unlinkSync(join(app, "node_modules", ".package-lock.json"));
    unlinkSync(join(app, "node_modules", ".complete"));
    copyFileSync(join(deps, "package-lock.json"), join(app, "package-lock.json"));
    const manifest = { name: "egresslink-consumer", version: "0.0.0", private: true, dependencies: { ...THIRD_PARTY, egresslink: `file:${relative(app, tarball)}` } };
    writeFileSync(join(app, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    timed("install the tarball (warm)", () => mustRun("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], app, 300_000));

    copyFileSync(join(ROOT, "examples", "consumer-app", "main.ts"), join(app, "main.ts"));
    writeFileSync(join(app, "tsconfig.json"), `${JSON.stringify(TEMPLATE_TSCONFIG, null, 2)}\n`);

    // The in-repo build of the same app ("egresslink" is modules/index.ts here).
    const outdir = join(work, "reference");
    buildConsumerApp(outdir).app.synth();
    reference = stacksIn(outdir);
  }, 900_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
    console.info(`consumer-package timings (s) and sizes:\n${JSON.stringify(timings, null, 2)}`);
  });

  test("installs one copy of cdktf and constructs, the pinned ones, and the tarball's own dependencies", () => {
    const installed = (name: string) => JSON.parse(readFileSync(join(app, "node_modules", name, "package.json"), "utf8")).version;
    expect(installed("egresslink")).toBe(repoPkg.version);
    expect(installed("constructs")).toBe(CONSTRUCTS);
    expect(installed("cdktf")).toBe(THIRD_PARTY.cdktf);
    expect(existsSync(join(app, "node_modules", "egresslink", "node_modules"))).toBe(false);
    const ls = run("npm", ["ls", "--all", "--json", "constructs"], app);
    expect(ls.status).toBe(0);
    expect(new Set(ls.stdout.match(/"version": "10\.[^"]+"/g))).toEqual(new Set([`"version": "${CONSTRUCTS}"`]));
  });

  test("the reference build wrote the team's stack", () => {
    expect(Object.keys(reference)).toEqual(["project-e-network"]);
  });

  test("tsc then node writes the stacks the in-repo build writes", () => {
    timed("build: tsc", () => mustRun(join(app, "node_modules", ".bin", "tsc"), ["-p", "."], app));
    timed("build: node build/main.js", () => mustRun(process.execPath, [join("build", "main.js")], app));
    expect(stacksIn(join(app, "build", "cdktf.out"))).toEqual(reference);
  }, 200_000);

  test("ts-node (CommonJS, the cdktf template's runner) writes the stacks the in-repo build writes", () => {
    timed("build: ts-node main.ts", () => mustRun(join(app, "node_modules", ".bin", "ts-node"), ["main.ts"], app));
    renameSync(join(app, "cdktf.out"), join(app, "out-ts-node"));
    expect(stacksIn(join(app, "out-ts-node"))).toEqual(reference);
  }, 200_000);

  test("tsx writes the stacks the in-repo build writes", () => {
    timed("build: tsx main.ts", () => mustRun(join(app, "node_modules", ".bin", "tsx"), ["main.ts"], app));
    renameSync(join(app, "cdktf.out"), join(app, "out-tsx"));
    expect(stacksIn(join(app, "out-tsx"))).toEqual(reference);
  }, 200_000);

  test("npx egresslink --help prints the usage; a synth from the installed package writes what the repo's CLI writes", () => {
    // Both run in the app, writing side by side: the state bootstrap's local backend path is relative.
    const help = mustRun("npx", ["--no-install", "egresslink", "--help"], app);
    expect(help.stdout).toMatch(/^Usage: egresslink /);
    copyFileSync(join(ROOT, "egress.config.yaml"), join(app, "egress.config.yaml"));
    timed("npx egresslink synth", () => mustRun("npx", ["--no-install", "egresslink", "--config", "egress.config.yaml", "--out", "cli-out"], app));
    mustRun(process.execPath, ["--import", "tsx", join(ROOT, "main.ts"), "--config", join(app, "egress.config.yaml"), "--out", join(app, "repo-cli-out")], app);
    const files = filesUnder(join(app, "cli-out")).filter((f) => f.endsWith("cdk.tf.json"));
    expect(files).toEqual(expect.arrayContaining(["stacks/hub/cdk.tf.json", "stacks/spoke-project-a/cdk.tf.json"]));
    expect(files).toEqual(filesUnder(join(app, "repo-cli-out")).filter((f) => f.endsWith("cdk.tf.json")));
    for (const file of files) expect(readFileSync(join(app, "cli-out", file), "utf8")).toBe(readFileSync(join(app, "repo-cli-out", file), "utf8"));
  }, 200_000);

  test("control: an internal the package does not export fails to compile, and a deep import fails in tsc and node", () => {
    // A name the compiled config/schema module has that the package root does not export.
    const names = mustRun(process.execPath, ["-e", `const root = require("egresslink"); const schema = require("./node_modules/egresslink/dist/modules/config/schema.js"); console.log(JSON.stringify(Object.keys(schema).filter((n) => !(n in root))))`], app);
    const internal = (JSON.parse(names.stdout) as string[])[0];
    expect(internal).toMatch(/^\w+$/);

    writeFileSync(join(app, "control-internal.ts"), `import { ${internal} } from "egresslink";\nconsole.log(${internal});\n`);
    writeFileSync(join(app, "tsconfig.control-internal.json"), JSON.stringify({ extends: "./tsconfig.json", compilerOptions: { noEmit: true, incremental: false }, include: ["control-internal.ts"] }));
    const rootImport = run(join(app, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.control-internal.json"], app);
    expect(rootImport.status).not.toBe(0);
    expect(rootImport.stdout).toContain(`error TS2305: Module '"egresslink"' has no exported member '${internal}'.`);

    // A deep path outside the exports map: Node refuses it, and so does tsc under Node's resolution.
    const deep = "egresslink/dist/modules/config/schema";
    writeFileSync(join(app, "control-deep.ts"), `import { ${internal} } from "${deep}";\nconsole.log(${internal});\n`);
    writeFileSync(join(app, "tsconfig.control-deep.json"), JSON.stringify({ extends: "./tsconfig.json", compilerOptions: { noEmit: true, incremental: false, module: "node16", moduleResolution: "node16" }, include: ["control-deep.ts"] }));
    const deepImport = run(join(app, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.control-deep.json"], app);
    expect(deepImport.status).not.toBe(0);
    expect(deepImport.stdout).toContain(`error TS2307: Cannot find module '${deep}'`);
    const node = run(process.execPath, ["-e", `require(${JSON.stringify(deep)})`], app);
    expect(node.status).not.toBe(0);
    expect(node.stderr).toContain("ERR_PACKAGE_PATH_NOT_EXPORTED");
  }, 200_000);

  test("the README's import snippet compiles as written in the app", () => {
    writeFileSync(join(app, "readme-snippet.ts"), readmeSnippet());
    writeFileSync(join(app, "tsconfig.readme.json"), JSON.stringify({ extends: "./tsconfig.json", compilerOptions: { noEmit: true, incremental: false }, include: ["readme-snippet.ts"] }));
    const check = run(join(app, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.readme.json"], app);
    expect(`${check.stdout}${check.stderr}`).toBe("");
    expect(check.status).toBe(0);
  }, 200_000);
});
