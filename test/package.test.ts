/**
 * The npm package as `npm pack` makes it: compiled JS with declarations, the README, CHANGELOG and
 * LICENSE, nothing else; its CLI is the compiled main job and writes what the development run
 * (tsx) writes. Full tier: it builds (`prepack`) and runs the job as a process.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { filesUnder, ROOT } from "./helpers";
import { lockedNpmPack, programDescribe } from "./helpers-programs";

interface PackEntry {
  readonly path: string;
}

programDescribe("the npm package", () => {
  let files: string[];
  let work: string;
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));

  beforeAll(() => {
    const [command, args] = lockedNpmPack(["--dry-run", "--json", "--ignore-scripts=false"]);
    const packed = spawnSync(command, args, { cwd: ROOT, encoding: "utf8", timeout: 180_000 });
    if (packed.status !== 0) throw new Error(`npm pack failed: ${packed.stderr}`);
    files = (JSON.parse(packed.stdout)[0].files as PackEntry[]).map((f) => f.path).sort();
    work = mkdtempSync(join(tmpdir(), "egresslink-package-"));
  }, 200_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test("ships only the compiled library and CLI, README, CHANGELOG and LICENSE", () => {
    const outside = files.filter((f) => !f.startsWith("dist/"));
    expect(outside).toEqual(["CHANGELOG.md", "LICENSE", "README.md", "package.json"]);
    const shipped = files.filter((f) => f.startsWith("dist/"));
    expect(shipped.every((f) => /\.(js|d\.ts|js\.map|d\.ts\.map)$/.test(f))).toBe(true);
    expect(shipped.some((f) => f.startsWith("dist/test/") || f.startsWith("dist/scripts/") || f.startsWith("dist/examples/"))).toBe(false);
    // Everything the build emits for the library and the CLI ships; not tsc's incremental-build record.
    const built = filesUnder(join(ROOT, "dist")).filter((f) => f !== ".tsbuildinfo").map((f) => `dist/${f}`);
    expect(shipped).toEqual(built);
  });

  test("entry points are compiled JS with declarations; cdktf, constructs and the provider are peers", () => {
    expect(pkg.private).toBeUndefined();
    expect(pkg.exports["."]).toEqual({ types: "./dist/modules/index.d.ts", default: "./dist/modules/index.js" });
    expect(files).toEqual(expect.arrayContaining([pkg.main, pkg.types, pkg.bin.egresslink]));
    for (const name of ["cdktf", "constructs", "@cdktf/provider-aws"]) {
      expect(pkg.dependencies[name]).toBeUndefined();
      expect(pkg.peerDependencies[name]).toBeDefined();
    }
  });

  test("the compiled CLI answers --help and writes the same stacks as the development run", () => {
    const help = spawnSync(process.execPath, [join(ROOT, pkg.bin.egresslink), "--help"], { encoding: "utf8" });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: egresslink /);
    const run = (args: string[], out: string) => spawnSync(process.execPath, [...args, "--out", join(work, out)], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
    expect(run([join(ROOT, pkg.bin.egresslink)], "compiled").status).toBe(0);
    expect(run(["--import", "tsx", join(ROOT, "main.ts")], "development").status).toBe(0);
    const compiled = filesUnder(join(work, "compiled"));
    expect(compiled).toEqual(filesUnder(join(work, "development")));
    for (const file of compiled) expect(readFileSync(join(work, "compiled", file), "utf8")).toBe(readFileSync(join(work, "development", file), "utf8"));
  });
});
