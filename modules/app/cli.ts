import { relative } from "node:path";
import { ConfigError } from "../config/errors";
import { DEFAULT_CONFIG_FILE, loadConfigFile } from "../config/load";
import { formatSummary, summarizeStacks } from "./summary";
import { synthesizeTo } from "./synth";

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const USAGE = `Usage: egresslink [--config PATH] [--out DIR]

Validates the config and synthesizes the state, hub and spoke stacks as Terraform JSON.

  --config PATH  config file (default: $EGRESS_CONFIG, else ${DEFAULT_CONFIG_FILE})
  --out DIR      output directory (default: $CDKTF_OUTDIR, else cdktf.out)
  --help         show this help
`;

interface CliOptions {
  readonly config: string;
  readonly out: string;
}

/** The main job. Returns the process exit code: 0 done, 1 bad config or failed synthesis, 2 bad arguments. */
export function runCli(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, io: CliIo): number {
  const started = process.hrtime.bigint();
  const parsed = parseArgs(argv, env);
  if (parsed === "help") {
    io.stdout(USAGE);
    return 0;
  }
  if (typeof parsed === "string") {
    io.stderr(`egresslink: ${parsed}\n\n${USAGE}`);
    return 2;
  }
  try {
    const config = loadConfigFile(parsed.config);
    synthesizeTo(config, parsed.out);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    io.stdout(formatSummary(config, summarizeStacks(parsed.out), relative(process.cwd(), parsed.out) || ".", seconds));
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr(`${err.message}\n\nNothing was written.\n`);
      return 1;
    }
    io.stderr(`egresslink: synthesis failed, nothing was written: ${(err as Error).message}\n`);
    return 1;
  }
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
    if (flag === "--config") config = value;
    else out = value;
  }
  return { config, out };
}
