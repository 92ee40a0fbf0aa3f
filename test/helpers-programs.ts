import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * The path of a program the test needs. Missing programs fail the test, never skip it:
 * `.ci/run` installs them (squid-openssl, cloud-init, iproute2).
 */
export function requireProgram(name: string): string {
  const found = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  const path = found.stdout.trim();
  if (found.status !== 0 || !path) throw new Error(`${name} is not installed; this test runs the real program (see .ci/run for the packages)`);
  return path;
}

/**
 * `npm pack` arguments run under one lock: packing builds dist/ (prepack), and two suites packing
 * at once would read each other's half-written build. Returns the command and its arguments.
 */
export function lockedNpmPack(args: readonly string[]): [string, string[]] {
  return [requireProgram("flock"), [join(tmpdir(), "egresslink-npm-pack.lock"), "npm", "pack", ...args]];
}

/** Seconds each labelled step took (and other figures a suite reports), for the suite's log. */
export class Stopwatch {
  readonly timings: Record<string, number> = {};

  timed<T>(label: string, run: () => T): T {
    const start = Date.now();
    try {
      return run();
    } finally {
      this.timings[label] = (Date.now() - start) / 1000;
    }
  }
}

/** Runs a program to completion (bounded), without npm's update check; `env` adds to this process's. */
export function runProgram(command: string, args: readonly string[], cwd: string, timeout = 180_000, env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, encoding: "utf8", timeout, env: { ...process.env, CI: "1", npm_config_update_notifier: "false", ...env } });
}

/** `runProgram`, throwing with the program's output unless it exits 0. */
export function mustRun(command: string, args: readonly string[], cwd: string, timeout?: number, env?: NodeJS.ProcessEnv): SpawnSyncReturns<string> {
  const result = runProgram(command, args, cwd, timeout, env);
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} exited ${result.status} ${result.signal ?? ""}\n${result.stdout}\n${result.stderr}`);
  return result;
}

/**
 * `npm install` of `dependencies` in a folder under os.tmpdir() named by `prefix` and a hash of the
 * set (and the installing Node's major), made once and reused: large installs (the provider, Node
 * itself) are not repeated on every run. Returns the folder, and the cold install's seconds.
 */
export function cachedNpmInstall(prefix: string, dependencies: Record<string, string>, timeout = 600_000): { dir: string; coldInstallSeconds?: number } {
  const manifest = { name: prefix, version: "0.0.0", private: true, dependencies };
  const key = createHash("sha256").update(JSON.stringify({ manifest, node: process.versions.node.split(".")[0] })).digest("hex").slice(0, 16);
  const dir = join(tmpdir(), `${prefix}-${key}`);
  if (existsSync(join(dir, "node_modules", ".complete"))) return { dir };
  rmSync(dir, { recursive: true, force: true });
  const staging = mkdtempSync(`${dir}.staging-`);
  const start = Date.now();
  try {
    writeFileSync(join(staging, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    mustRun("npm", ["install", "--no-audit", "--no-fund"], staging, timeout);
    writeFileSync(join(staging, "node_modules", ".complete"), "");
    renameSync(staging, dir);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return { dir, coldInstallSeconds: (Date.now() - start) / 1000 };
}

/** Whether this process may create network namespaces. */
export function requireRoot(): void {
  if (typeof process.getuid === "function" && process.getuid() !== 0) throw new Error("this test creates network namespaces and must run as root");
}


/**
 * The fast tier (`npm run test:fast`, EGRESSLINK_TEST_TIER=fast) leaves out tests that run real
 * programs or the main job as a process; `npm test` (and CI) runs them, and there a missing
 * program fails the test.
 */
const FAST_TIER = process.env.EGRESSLINK_TEST_TIER === "fast";
export const programTest = FAST_TIER ? test.skip : test;
export const programDescribe = FAST_TIER ? describe.skip : describe;
