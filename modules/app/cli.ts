import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { COST_JSON, type CostReport } from "../cost/model";
import { ConfigError } from "../config/errors";
import { DEFAULT_CONFIG_FILE, loadConfigFile } from "../config/load";
import type { EgressConfig } from "../config/model";
import { formatSummary, summarizeStacks } from "./summary";
import { OutputRefusedError, ReplaceError, StagingLeftError, synthesizeTo, type SynthesisResult } from "./synth";
import { applyCdktfShims } from "./cdktf-shims";
import { runAllowlist } from "../allowlist/cli";

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const USAGE = `Usage: egresslink [--config PATH] [--out DIR]
       egresslink allowlist suggest [--config PATH] [LOG ...]   (see egresslink allowlist --help)

Validates the config and synthesizes the state, hub and spoke stacks as Terraform JSON
(as HCL, cdk.tf, when SYNTH_HCL_OUTPUT=true, which \`cdktf synth --hcl\` sets).

  --config PATH  config file (default: $EGRESS_CONFIG, else ${DEFAULT_CONFIG_FILE})
  --out DIR      output folder (default: $CDKTF_OUTDIR, else cdktf.out): a new or empty
                 folder, or an earlier output. Only the generated files are replaced; all
                 else in it (terraform.tfstate, .terraform/, lock and plan files) is kept.
                 Never the current folder, the config's folder, or a folder holding either.
  --help         show this help

Exit codes:
  0        done
  1        the config is invalid, or synthesis failed (the output folder is unchanged)
  2        bad arguments, or an output folder it will not write to (not egresslink
           output, not a folder, not writable, or in use by another run)
  130/143  interrupted by SIGINT/SIGTERM (the output folder is unchanged)
`;

interface CliOptions {
  readonly config: string;
  readonly out: string;
}

/** Stops the job at its next phase boundary. */
class Interrupted extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
  }
}

/**
 * The main job. Resolves to the process exit code: 0 done, 1 invalid config or failed synthesis,
 * 2 bad arguments or a refused output folder, 130/143 interrupted by SIGINT/SIGTERM.
 */
export async function runCli(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, io: CliIo): Promise<number> {
  const started = process.hrtime.bigint();
  if (argv[0] === "allowlist") return runAllowlist(argv.slice(1), io);
  const parsed = parseArgs(argv, env);
  if (parsed === "help") {
    io.stdout(USAGE);
    return 0;
  }
  if (typeof parsed === "string") {
    io.stderr(`egresslink: ${parsed}\n\n${USAGE}`);
    return 2;
  }
  for (const reason of applyCdktfShims(env)) io.stderr(`egresslink: warning: ${reason}\n`);
  const signals = stopOnSignals();
  try {
    return await synthesize(parsed, io, signals.checkpoint, started);
  } finally {
    signals.dispose();
  }
}

async function synthesize(options: CliOptions, io: CliIo, checkpoint: () => Promise<void>, started: bigint): Promise<number> {
  let config: EgressConfig;
  let result: SynthesisResult;
  try {
    config = loadConfigFile(options.config);
    await checkpoint();
    result = await synthesizeTo(config, options.out, { configFile: options.config, checkpoint, notify: (line) => io.stderr(`egresslink: ${line}\n`) });
  } catch (err) {
    return reportFailure(err, io);
  }
  if (result.leftover) {
    io.stderr(`egresslink: warning: the new output is in ${result.outdir}, but the earlier output's generated files could not be removed from ${result.leftover.path} (${result.leftover.reason}); remove that folder by hand\n`);
  }
  try {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const cost = JSON.parse(readFileSync(join(result.outdir, COST_JSON), "utf8")) as CostReport;
    io.stdout(formatSummary(config, summarizeStacks(result.outdir), relative(process.cwd(), options.out) || ".", seconds, cost));
    return 0;
  } catch (err) {
    io.stderr(`egresslink: the new output is in ${result.outdir}, but summarizing it failed: ${(err as Error).message}\n`);
    return 1;
  }
}

/** Prints why the job stopped before replacing the output, and returns the exit code. */
function reportFailure(err: unknown, io: CliIo): number {
  const cause = err instanceof StagingLeftError ? err.cause : err;
  const message = (cause as Error).message;
  // Only claim that nothing was changed when this run's own folders are gone again.
  const unchanged = err instanceof StagingLeftError ? `the output folder was not changed, but ${err.leftovers.join(", ")} could not be removed` : "nothing was changed";
  if (cause instanceof ConfigError) {
    io.stderr(`${message}\n\nNothing was written.\n`);
    return 1;
  }
  if (cause instanceof Interrupted) {
    io.stderr(`egresslink: interrupted: ${unchanged}\n`);
    return cause.signal === "SIGINT" ? 130 : 143;
  }
  if (cause instanceof OutputRefusedError) {
    io.stderr(`egresslink: ${message}${err instanceof StagingLeftError ? `; ${unchanged}` : ""}\n`);
    return 2;
  }
  if (cause instanceof ReplaceError) {
    io.stderr(`egresslink: ${message}\n`);
    return 1;
  }
  io.stderr(`egresslink: synthesis failed, ${unchanged}: ${message}\n`);
  return 1;
}

/**
 * Turns SIGINT and SIGTERM into an Interrupted thrown at the next checkpoint, so the job can
 * clean up. Node runs signal handlers only when the event loop turns: checkpoint yields to it first.
 */
function stopOnSignals(): { checkpoint: () => Promise<void>; dispose: () => void } {
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    received ??= signal;
  };
  process.on("SIGINT", onSignal).on("SIGTERM", onSignal);
  return {
    checkpoint: async () => {
      await new Promise((resolve) => setImmediate(resolve));
      if (received) throw new Interrupted(received);
    },
    dispose: () => {
      process.off("SIGINT", onSignal).off("SIGTERM", onSignal);
    },
  };
}

function parseArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): CliOptions | "help" | string {
  let config = env.EGRESS_CONFIG || DEFAULT_CONFIG_FILE;
  let out = env.CDKTF_OUTDIR || "cdktf.out";
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") return "help";
    const [flag, inline] = arg.split(/=(.*)/s, 2);
    if (flag !== "--config" && flag !== "--out") return `unknown argument "${arg}"`;
    const value = inline ?? argv[++i];
    if (!value) return `${flag} needs a value`;
    // `--config --out x` would otherwise read "--out" as the config file (`--config=-x` still works).
    if (inline === undefined && /^-./.test(value)) return `${flag} needs a value; got the flag ${value}`;
    if (flag === "--config") config = value;
    else out = value;
  }
  return { config, out };
}
