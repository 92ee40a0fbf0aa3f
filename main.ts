#!/usr/bin/env node
/**
 * egresslink main job: load and validate the config, synthesize the Terraform stacks, print a
 * summary. Run by `npm run synth` and, through cdktf.json, by `cdktf synth` / `cdktf deploy`.
 */
import { runCli } from "./modules/app/cli";

// exitCode, not exit(): stdout and stderr are flushed before the process ends.
void runCli(process.argv.slice(2), process.env, {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
}).then((code) => {
  process.exitCode = code;
});
