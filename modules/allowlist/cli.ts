import { readFileSync } from "node:fs";
import { ConfigError } from "../config/errors";
import { loadConfigFile } from "../config/load";
import { renderSuggestionYaml, suggestAllowLists, type KnownLists } from "./suggest";

/** What the command prints and reads; the main job's own `CliIo` shape. */
interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

export const ALLOWLIST_USAGE = `Usage: egresslink allowlist suggest [--config PATH] [LOG ...]

Reads access-log lines of egresslink's proxies (log files, or CloudWatch Logs Insights results
with the @message column; "-" or none: standard input) and prints, per spoke, the allow-list
that covers what it reached, as YAML to paste under spokes: in the config. Hosts collapse to
their registrable domain (Public Suffix List); public suffixes, shared platforms' domains and IP
literals are never proposed. With --config, hosts the hub's global list or the spoke's own list
already allow are left out, each spoke's list is printed whole (its own entries, then the new
ones), and spokes with nothing new are left out.
`;

/** `egresslink allowlist suggest ...`: resolves to the exit code (0 done, 1 bad config, 2 bad arguments or unreadable input). */
export function runAllowlist(argv: readonly string[], io: Io, readStdin: () => string = () => readFileSync(0, "utf8")): number {
  const [command, ...rest] = argv;
  if (command === "--help" || command === "-h" || command === undefined) {
    io.stdout(ALLOWLIST_USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command !== "suggest") {
    io.stderr(`egresslink allowlist: unknown command "${command}"\n\n${ALLOWLIST_USAGE}`);
    return 2;
  }
  let config: string | undefined;
  const inputs: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const [flag, inline] = rest[i].split(/=(.*)/s, 2);
    if (flag === "--config") {
      config = inline ?? rest[++i];
      if (!config) return usage(io, "--config needs a value");
    } else if (rest[i] === "--help" || rest[i] === "-h") {
      io.stdout(ALLOWLIST_USAGE);
      return 0;
    } else if (rest[i].startsWith("-") && rest[i] !== "-") return usage(io, `unknown argument "${rest[i]}"`);
    else inputs.push(rest[i]);
  }
  let known: KnownLists = {};
  if (config) {
    try {
      const loaded = loadConfigFile(config, { refuseExpiredLearning: false });
      known = { global: loaded.hub.proxy.allowedDomains, spokes: Object.fromEntries(loaded.spokes.map((s) => [s.name, s.allowedDomains])) };
      // Which spokes learn, and whose learning has ended (the main job refuses those until their list is in).
      for (const w of loaded.warnings?.filter((w) => w.path.endsWith(".learnUntil")) ?? []) io.stderr(`egresslink allowlist: ${w.path}: ${w.message}\n`);
    } catch (err) {
      io.stderr(err instanceof ConfigError ? `${err.message}\n` : `egresslink allowlist: ${(err as Error).message}\n`);
      return 1;
    }
  }
  const texts: string[] = [];
  for (const input of inputs.length ? inputs : ["-"]) {
    try {
      texts.push(input === "-" ? readStdin() : readFileSync(input, "utf8"));
    } catch (err) {
      return usage(io, `cannot read ${input}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  io.stdout(renderSuggestionYaml(suggestAllowLists(texts.flatMap((t) => t.split(/\r?\n/)), known), config ? known : undefined));
  return 0;
}

function usage(io: Io, problem: string): number {
  io.stderr(`egresslink allowlist: ${problem}\n\n${ALLOWLIST_USAGE}`);
  return 2;
}
