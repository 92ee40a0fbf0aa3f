import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

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
