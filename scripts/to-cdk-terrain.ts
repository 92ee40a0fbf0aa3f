/**
 * Moves a copy of this project, or an app built on it, from cdktf to CDK Terrain (the community
 * fork of the archived cdktf) in one step:
 *
 *   npx tsx scripts/to-cdk-terrain.ts TARGET_DIR [--dry-run] [--allow-source-repo]
 *
 * - import specifiers in .ts/.tsx/.mts/.cts/.js/.mjs/.cjs files: `cdktf` and `cdktf/...` become
 *   `cdktn` and `cdktn/...`, `@cdktf/provider-aws/...` becomes `@cdktn/provider-aws/...` (and the
 *   CLI's packages, e.g. `@cdktf/hcl2json`, their `@cdktn/` namesakes), wherever a
 *   module is named: import/export ... from, side-effect and type-only imports, import(),
 *   require(), require.resolve(), jest.mock() and friends, `declare module`, `/// <reference types>`;
 * - tsconfig*.json, jsconfig*.json and jest.config.*: the same package names in their strings
 *   (paths, types, moduleNameMapper);
 * - package.json: cdktf, @cdktf/provider-aws and cdktf-cli become the CDK Terrain packages at the
 *   versions below (ranges in peerDependencies), constructs moves into CDK Terrain's peer range,
 *   `cdktf` run as a command in scripts becomes `cdktn`, engines.node (if set) rises to what the
 *   new packages declare.
 *
 * It rewrites files in place and creates or deletes none. Other strings that mention cdktf (the
 * `cdktf.out` folder, cdktf.json, which the cdktn CLI still reads, messages) stay as they are;
 * string literals that still name a cdktf package, and an `egresslink` dependency (a cdktf build),
 * are listed as warnings to check by hand. It
 * refuses this repository (or a folder inside or around it) unless --allow-source-repo is given:
 * the repository itself stays on cdktf.
 *
 * What the swap cannot do mechanically is listed in README ("CDK Terrain").
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";

/** The CDK Terrain releases the swap moves to (checked together by test/cdk-terrain.test.ts). */
export const CDK_TERRAIN = {
  cdktn: "0.24.0",
  providerAws: "25.7.0",
  cli: "0.24.0",
  /** Newest 10.7.x: inside cdktn's and the provider's peer range (>=10.6.0 <10.8.0). */
  constructs: "10.7.2",
  constructsRange: ">=10.6.0 <10.8.0",
  /** The hashicorp/aws release @cdktn/provider-aws 25.7.0 was generated from (cdktf 21.22.1: 6.25.0). */
  awsProvider: "6.66.0",
  /** engines.node of cdktn-cli 0.24.0; @cdktn/provider-aws 25.7.0 declares >= 22.11.0. */
  nodeForCli: ">=22.19.0",
  nodeForProvider: ">=22.11.0",
} as const;

const CLI_PEER = ">=0.24.0 <0.25";
/**
 * Package renames and the version each gets as a dependency and as a peer. The CLI's own packages
 * (hcl2json and friends, which tests may use) are released with cdktn-cli under the same version.
 */
const PACKAGES: Record<string, { name: string; version: string; peer: string }> = {
  cdktf: { name: "cdktn", version: CDK_TERRAIN.cdktn, peer: CLI_PEER },
  "@cdktf/provider-aws": { name: "@cdktn/provider-aws", version: CDK_TERRAIN.providerAws, peer: ">=25.7.0 <26" },
  "cdktf-cli": { name: "cdktn-cli", version: CDK_TERRAIN.cli, peer: CLI_PEER },
  ...Object.fromEntries(
    ["hcl2json", "hcl-tools", "hcl2cdk", "commons", "provider-generator", "provider-schema"].map((tool) => [`@cdktf/${tool}`, { name: `@cdktn/${tool}`, version: CDK_TERRAIN.cli, peer: CLI_PEER }]),
  ),
};

const SOURCE_EXTENSIONS = /\.(?:ts|tsx|mts|cts|js|mjs|cjs)$/;
const CONFIG_FILES = /^(?:(?:ts|js)config(?:\.[\w.-]+)?\.json|jest\.config\.(?:ts|js|mjs|cjs|json))$/;
/** This script and its test, in a copy of the repository: they name both packages on purpose. */
const SELF = /^(?:to-cdk-terrain\.|cdk-terrain\.test\.)/;
/** Dependencies, build output and synth output: never ours to rewrite. */
const SKIPPED_DIRS = new Set(["node_modules", ".git", "dist", "build", "cdktf.out", ".gen", "coverage"]);

/** The swapped package names as a regex alternation (cdktf-cli is a command, not imported). */
const SWAPPED_NAMES = Object.keys(PACKAGES)
  .filter((name) => name !== "cdktf-cli")
  .map((name) => name.replace("/", "\\/"))
  .join("|");
/** A module name that is one of the swapped packages, or a path inside one. */
const SWAPPED_MODULE = new RegExp(`^(?:${SWAPPED_NAMES})(?=$|/)`);
/** Places where TypeScript, Node or jest read a module name, followed by the quoted name. */
const SPECIFIER = new RegExp(
  String.raw`(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire(?:\.resolve)?\s*\(\s*|\bjest\.(?:mock|doMock|unmock|dontMock|setMock|requireActual|requireMock|createMockFromModule)\s*\(\s*|\bdeclare\s+module\s+|<reference\s+types\s*=\s*)(["'\x60])((?:${SWAPPED_NAMES})(?:\/[^"'\x60\s]*)?)\2`,
  "g",
);
/** A string literal, for config files and the warning scan. */
const STRING_LITERAL = /(["'`])((?:\\.|(?!\1)[^\\\n])*)\1/g;
/** A swapped package's name inside a config string (`cdktf.out`, `cdktf.json`, `cdktf-cli` are not). */
const PACKAGE_TOKEN = new RegExp(String.raw`(?<![\w@.-])(?:${SWAPPED_NAMES})(?![\w.-])`, "g");
/** Any cdktf package named in a string literal: left for a person to check. */
const CDKTF_PACKAGE_MENTION = /^(?:@cdktf\/[\w.-]+|cdktf(?:-cli)?)(?:\/.*)?$/;

/** `name` (a module specifier) with a swapped package renamed: `cdktf/lib/x` -> `cdktn/lib/x`. */
export function renameModule(name: string): string {
  return name.replace(SWAPPED_MODULE, (pkg) => PACKAGES[pkg].name);
}

/** `text` with every module specifier naming a swapped package renamed. */
export function rewriteSource(text: string): string {
  return text.replace(SPECIFIER, (_match, before: string, quote: string, name: string) => `${before}${quote}${renameModule(name)}${quote}`);
}

/** `text` (a tsconfig or jest config) with the swapped package names inside its strings renamed. */
export function rewriteConfig(text: string): string {
  return text.replace(STRING_LITERAL, (literal) => literal.replace(PACKAGE_TOKEN, renameModule));
}

/** Lines whose string literals still name a cdktf package, as "line: text". */
export function leftoverMentions(text: string): string[] {
  const found: string[] = [];
  text.split("\n").forEach((line, index) => {
    for (const match of line.matchAll(STRING_LITERAL)) {
      if (CDKTF_PACKAGE_MENTION.test(match[2])) {
        found.push(`${index + 1}: ${line.trim()}`);
        break;
      }
    }
  });
  return found;
}

type Json = Record<string, unknown>;

/** `record` with `from` renamed to `to` at the same position (key order is kept). */
function renameKey(record: Record<string, string>, from: string, to: string, value: string): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([key, old]) => (key === from ? [to, value] : [key, old])));
}

/** Renames the cdktf packages in string values and keys of a jest config object. */
function rewriteJson(value: unknown): unknown {
  if (typeof value === "string") return JSON.parse(rewriteConfig(JSON.stringify(value)));
  if (Array.isArray(value)) return value.map(rewriteJson);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [rewriteJson(k) as string, rewriteJson(v)]));
  return value;
}

/** The package.json with CDK Terrain's packages in place of cdktf's, and what changed. */
export function rewritePackageJson(pkg: Json): { pkg: Json; changes: string[] } {
  const out: Json = { ...pkg };
  const changes: string[] = [];
  let cliAtRuntime = false;
  for (const section of ["dependencies", "devDependencies", "optionalDependencies", "peerDependencies"]) {
    let deps = out[section] as Record<string, string> | undefined;
    if (!deps) continue;
    const peer = section === "peerDependencies";
    let hasCdktn = false;
    for (const [from, to] of Object.entries(PACKAGES)) {
      if (!(from in deps)) continue;
      const version = peer ? to.peer : to.version;
      changes.push(`${section}: ${from}@${deps[from]} -> ${to.name}@${version}`);
      deps = renameKey(deps, from, to.name, version);
      if (to.name === "cdktn") hasCdktn = true;
      if (to.name === "cdktn-cli" && section === "dependencies") cliAtRuntime = true;
    }
    // Both cdktn and the provider are peers of constructs >=10.6 <10.8: keep it next to them.
    const constructs = peer ? CDK_TERRAIN.constructsRange : CDK_TERRAIN.constructs;
    if ("constructs" in deps && deps.constructs !== constructs) {
      changes.push(`${section}: constructs@${deps.constructs} -> constructs@${constructs}`);
      deps = { ...deps, constructs };
    } else if (hasCdktn && !("constructs" in deps) && !peer) {
      changes.push(`${section}: + constructs@${constructs}`);
      deps = { ...deps, constructs };
    }
    out[section] = deps;
  }
  const meta = out.peerDependenciesMeta as Record<string, unknown> | undefined;
  if (meta) out.peerDependenciesMeta = Object.fromEntries(Object.entries(meta).map(([key, value]) => [PACKAGES[key]?.name ?? key, value]));
  const scripts = out.scripts as Record<string, string> | undefined;
  if (scripts) {
    out.scripts = Object.fromEntries(
      Object.entries(scripts).map(([name, command]) => {
        // `cdktf` run as a command (the CLI's bin is `cdktn`); not cdktf.out, cdktf.json or cdktf:synth.
        const swapped = command.replace(/(^|[\s;&|(])cdktf(?=\s|$)/g, "$1cdktn");
        if (swapped !== command) changes.push(`scripts.${name}: ${command} -> ${swapped}`);
        return [name, swapped];
      }),
    );
  }
  const engines = out.engines as Record<string, string> | undefined;
  if (engines?.node) {
    // What the package needs to run: the provider's floor, or the CLI's when it ships with it (a
    // dev-only cdktn-cli warns on install under Node < 22.19 by itself).
    const node = cliAtRuntime ? CDK_TERRAIN.nodeForCli : CDK_TERRAIN.nodeForProvider;
    if (engines.node !== node) changes.push(`engines.node: ${engines.node} -> ${node}`);
    out.engines = { ...engines, node };
  }
  if (out.jest) out.jest = rewriteJson(out.jest);
  return { pkg: out, changes };
}

/** Whether `inner` is `outer` or inside it. */
function isWithin(outer: string, inner: string): boolean {
  const rel = relative(outer, inner);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/** The files the swap reads: sources and configs, outside dependencies and output folders. */
function candidateFiles(dir: string, root = dir): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) files.push(...candidateFiles(path, root));
    } else if (entry.isFile() && !SELF.test(entry.name) && (SOURCE_EXTENSIONS.test(entry.name) || CONFIG_FILES.test(entry.name))) {
      files.push(relative(root, path));
    }
  }
  return files.sort();
}

export interface SwapOptions {
  /** Report what would change, write nothing. */
  dryRun?: boolean;
  /** Allow a target that is this repository, or inside or around it. */
  allowSourceRepo?: boolean;
  /** This repository (tests point it elsewhere to exercise the refusal). */
  sourceRoot?: string;
}

export interface SwapReport {
  /** Files rewritten (or that would be, in a dry run), relative to the target. */
  rewritten: string[];
  /** What changed in package.json. */
  packageChanges: string[];
  /** "file:line: text" for strings that still name a cdktf package. */
  warnings: string[];
}

export class SwapRefused extends Error {}

/** Swaps `target` from cdktf to CDK Terrain (see the file's comment). */
export function swapToCdkTerrain(target: string, options: SwapOptions = {}): SwapReport {
  if (!existsSync(target) || !statSync(target).isDirectory()) throw new SwapRefused(`${target} is not a directory`);
  const dir = realpathSync(target);
  const source = realpathSync(options.sourceRoot ?? resolve(__dirname, ".."));
  if (!options.allowSourceRepo && (isWithin(source, dir) || isWithin(dir, source))) {
    throw new SwapRefused(
      `refusing to rewrite ${dir}: it is (or holds, or is inside) the egresslink repository ${source}, which stays on cdktf. ` +
        "Copy the project elsewhere first (without node_modules), or pass --allow-source-repo to rewrite it in place.",
    );
  }
  const report: SwapReport = { rewritten: [], packageChanges: [], warnings: [] };
  for (const file of candidateFiles(dir)) {
    const path = join(dir, file);
    const text = readFileSync(path, "utf8");
    const swapped = CONFIG_FILES.test(file.split("/").pop()!) ? rewriteConfig(text) : rewriteSource(text);
    if (swapped !== text) {
      report.rewritten.push(file);
      if (!options.dryRun) writeFileSync(path, swapped);
    }
    for (const line of leftoverMentions(swapped)) report.warnings.push(`${file}:${line}`);
  }
  const pkgPath = join(dir, "package.json");
  if (existsSync(pkgPath)) {
    const text = readFileSync(pkgPath, "utf8");
    const { pkg, changes } = rewritePackageJson(JSON.parse(text));
    report.packageChanges = changes;
    if (changes.length > 0 || JSON.stringify(pkg) !== JSON.stringify(JSON.parse(text))) {
      report.rewritten.push("package.json");
      const indent = /^[ \t]+/m.exec(text)?.[0] ?? "  ";
      if (!options.dryRun) writeFileSync(pkgPath, `${JSON.stringify(pkg, null, indent)}\n`);
    }
    for (const section of ["dependencies", "devDependencies", "optionalDependencies", "peerDependencies", "overrides"]) {
      for (const name of Object.keys((pkg[section] as Json | undefined) ?? {})) {
        if (/^@cdktf\/|^cdktf/.test(name)) report.warnings.push(`package.json: ${section}.${name} has no CDK Terrain counterpart here; swap it by hand`);
        // Constructs of cdktf and cdktn do not mix in one app: synth fails (TypeError in TerraformStack).
        if (name === "egresslink") report.warnings.push(`package.json: ${section}.egresslink is built on cdktf; use one packed from a swapped copy of its repository`);
      }
    }
  }
  return report;
}

function main(argv: string[]): number {
  const flags = new Set(argv.filter((arg) => arg.startsWith("--")));
  const targets = argv.filter((arg) => !arg.startsWith("--"));
  const unknown = [...flags].filter((flag) => !["--dry-run", "--allow-source-repo", "--help"].includes(flag));
  if (flags.has("--help") || targets.length !== 1 || unknown.length > 0) {
    process.stderr.write(
      `${unknown.length > 0 ? `unknown option ${unknown.join(" ")}\n` : ""}Usage: tsx scripts/to-cdk-terrain.ts TARGET_DIR [--dry-run] [--allow-source-repo]\n` +
        "Rewrites the cdktf imports and dependencies of TARGET_DIR (a copy of this project or an app on it) to CDK Terrain.\n",
    );
    return flags.has("--help") && unknown.length === 0 ? 0 : 2;
  }
  let report: SwapReport;
  try {
    report = swapToCdkTerrain(targets[0], { dryRun: flags.has("--dry-run"), allowSourceRepo: flags.has("--allow-source-repo") });
  } catch (error) {
    if (!(error instanceof SwapRefused)) throw error;
    process.stderr.write(`to-cdk-terrain: ${error.message}\n`);
    return 2;
  }
  const verb = flags.has("--dry-run") ? "would rewrite" : "rewrote";
  process.stdout.write(`${verb} ${report.rewritten.length} files${report.rewritten.map((file) => `\n  ${file}`).join("")}\n`);
  if (report.packageChanges.length > 0) process.stdout.write(`package.json:${report.packageChanges.map((change) => `\n  ${change}`).join("")}\n`);
  if (report.warnings.length > 0) process.stdout.write(`check by hand (strings naming a cdktf package are left as they are):${report.warnings.map((w) => `\n  ${w}`).join("")}\n`);
  process.stdout.write(`next: npm install (CDK Terrain pins hashicorp/aws ${CDK_TERRAIN.awsProvider}; its CLI needs Node ${CDK_TERRAIN.nodeForCli})\n`);
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
