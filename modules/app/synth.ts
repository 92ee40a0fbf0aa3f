import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { EgressConfig } from "../config/model";
import { buildApp } from "./build";

/**
 * Synthesizes the config's stacks into `outdir`. Writes to a sibling temporary directory
 * first and swaps it in only when synthesis succeeded, so a failure leaves `outdir` as it was.
 */
export function synthesizeTo(config: EgressConfig, outdir: string): void {
  const target = resolve(outdir);
  mkdirSync(dirname(target), { recursive: true });
  const staging = mkdtempSync(join(dirname(target), `.${basename(target)}-`));
  try {
    buildApp(config, staging).synth();
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  const previous = `${staging}-previous`;
  if (existsSync(target)) renameSync(target, previous);
  renameSync(staging, target);
  rmSync(previous, { recursive: true, force: true });
}
