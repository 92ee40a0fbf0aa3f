import { spawnSync, type ChildProcess, type SpawnSyncReturns } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
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
  return [requireProgram("flock"), [BUILD_LOCK, "npm", "pack", ...args]];
}

const BUILD_LOCK = join(tmpdir(), "egresslink-npm-pack.lock");

/**
 * Builds dist/ (incrementally: a no-op when nothing changed) under the same lock as `npm pack`,
 * for suites that run the compiled main job, as `npm run synth` does. Throws on a failed build.
 */
export function buildDist(root: string): void {
  const build = spawnSync(requireProgram("flock"), [BUILD_LOCK, process.execPath, join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json"], { cwd: root, encoding: "utf8", timeout: 300_000 });
  if (build.status !== 0) throw new Error(`building dist/ failed: ${build.stdout}${build.stderr}`);
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

/**
 * `text` with each `[from, to, times]` applied, where `from` must occur exactly `times` times: a
 * test that runs a rendered script with a documented change fails loudly once the script no longer
 * contains what the change replaces.
 */
export function substituteExactly(text: string, substitutions: readonly (readonly [from: string, to: string, times: number])[]): string {
  return substitutions.reduce((out, [from, to, times]) => {
    const found = out.split(from).length - 1;
    if (found !== times) throw new Error(`expected ${times} occurrence(s) of ${JSON.stringify(from)}, found ${found}`);
    return out.split(from).join(to);
  }, text);
}

/** A stand-in `aws` CLI (see writeStubAws): its folder (put it first on PATH) and the calls it saw. */
export interface StubAws {
  readonly binDir: string;
  /** Each call's arguments, in order. */
  calls(): string[][];
}

/**
 * Writes a stand-in `aws` into `dir`/bin for scripts that read SSM parameters. It records every
 * call's arguments; `ssm get-parameter --name N` prints `keys[N]` (as `--output text` would) and
 * exits 0, an unknown name exits 254 like a missing parameter; with `fail` every call exits 1.
 */
export function writeStubAws(dir: string, keys: Readonly<Record<string, string>>, fail = false): StubAws {
  const binDir = join(dir, "bin");
  const log = join(dir, "aws-calls.log");
  mkdirSync(binDir, { recursive: true });
  writeFileSync(log, "");
  const cases = Object.entries(keys)
    .map(([name, key]) => `  ${shellQuote(name)}) printf '%s\\n' ${shellQuote(key)} ;;`)
    .join("\n");
  const script = `#!/bin/bash
# Stand-in for the aws CLI (egresslink tests).
(IFS=$'\\x1f'; printf '%s\\n' "$*") >>${shellQuote(log)}
${fail ? 'echo "stub aws: simulated failure" >&2\nexit 1' : `name=""
while [ $# -gt 0 ]; do
  [ "$1" = --name ] && name=$2
  shift
done
case "$name" in
${cases}
  *) echo "stub aws: ParameterNotFound: $name" >&2; exit 254 ;;
esac`}
`;
  writeFileSync(join(binDir, "aws"), script, { mode: 0o755 });
  return {
    binDir,
    calls: () =>
      readFileSync(log, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => line.split("\x1f")),
  };
}

/**
 * Polls `check` every `intervalMs` until it returns true, and resolves with the milliseconds that
 * took; after `ms` it throws, naming what it waited for and the last error `check` threw.
 */
export async function waitUntil(what: string, ms: number, check: () => boolean, intervalMs = 200): Promise<number> {
  const start = Date.now();
  let last: unknown;
  while (Date.now() - start < ms) {
    try {
      if (check()) return Date.now() - start;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

/** Ends a child process this suite started: SIGTERM, SIGKILL after `graceMs`; resolves once it has exited. */
export async function stopChild(child: ChildProcess | undefined, graceMs = 5000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const late = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs)))]);
  clearTimeout(timer); // or jest waits for it (an open handle)
  if (late) {
    child.kill("SIGKILL");
    await exited;
  }
}

/** Ends daemons this suite started, by their pid files (missing files are skipped): SIGTERM, then SIGKILL after `graceMs`. */
export async function stopPidFiles(pidFiles: readonly string[], graceMs = 5000): Promise<void> {
  const running = (pid: number) => existsSync(`/proc/${pid}`);
  const pids = pidFiles.filter((file) => existsSync(file)).map((file) => Number(readFileSync(file, "utf8").trim())).filter((pid) => pid > 0 && running(pid));
  pids.forEach((pid) => process.kill(pid, "SIGTERM"));
  await waitUntil("daemons to stop", graceMs, () => !pids.some(running), 100).catch(() => pids.filter(running).forEach((pid) => process.kill(pid, "SIGKILL")));
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
