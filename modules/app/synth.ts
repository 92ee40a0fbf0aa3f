/**
 * Writing the synthesized stacks without losing anything of the user's. The job replaces only its
 * own earlier output (cdktf's manifest.json and the stack files that manifest lists); everything
 * else in the output folder (Terraform state, .terraform/, lock files, plans, notes) is carried over
 * into the new output, and a failed or interrupted run leaves the folder exactly as it was.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { accessSync, chmodSync, chownSync, constants, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, renameSync, rmdirSync, rmSync, unlinkSync, writeFileSync, type Stats } from "node:fs";
import { basename, dirname, join, normalize, resolve, sep } from "node:path";
import { TerraformStack, type ISynthesisSession } from "cdktf";
import type { EgressConfig } from "../config/model";
import { stackHcl } from "./hcl";
import { renderSplitStateScript, SPLIT_STATE_SCRIPT, splitStateMoves } from "../hub/split-state";
import { HUB_STACK } from "../core/stack-names";
import { renderTopologyFile, TOPOLOGY_FILE, TOPOLOGY_MARK } from "./topology";
import { COST_JSON, COST_JSON_MARK, COST_MD, COST_MD_MARK, costReportFor, renderCostMarkdown } from "../cost/model";

/** The job will not write to the output folder; the message names the path and says what to do. */
export class OutputRefusedError extends Error {}

/** Replacing the output failed; the message says truthfully what was put back and what was not. */
export class ReplaceError extends Error {}

/** Synthesis stopped before the output was touched (`cause` says why), but its own folders could not all be removed. */
export class StagingLeftError extends Error {
  constructor(
    cause: unknown,
    /** Folders this run created and could not remove. */
    readonly leftovers: readonly string[],
  ) {
    super(`${(cause as Error).message}; could not remove ${leftovers.join(", ")}`, { cause });
  }
}

/** How `synthesizeTo` guards and reports a run. */
export interface SynthesizeOptions {
  /**
   * The config file: the output may be neither its folder nor any folder holding it.
   * @default - no such check
   */
  readonly configFile?: string;
  /**
   * Awaited between phases; what it throws stops the job, leaving the output as it was.
   * @default - no checkpoints
   */
  readonly checkpoint?: () => Promise<void>;
  /**
   * Progress and notes, one line each, without a newline.
   * @default - silent
   */
  readonly notify?: (line: string) => void;
}

/** Where `synthesizeTo` wrote, and what it could not clean up. */
export interface SynthesisResult {
  /** The output folder, symlinks resolved. */
  readonly outdir: string;
  /**
   * Set when the new output is in place but the earlier output's generated files could not be removed.
   * @default - none: the earlier output was removed
   */
  readonly leftover?: { readonly path: string; readonly reason: string };
}

/** What an existing output folder holds, by path relative to it. */
interface CarryOver {
  /** The earlier output's generated files: manifest.json and the stack files it lists. */
  readonly own: readonly string[];
  /** Its own folders, deepest first: each stack folder, then stacks/. */
  readonly folders: readonly string[];
  /** Everything else: moved into the new output as it is. */
  readonly carry: readonly string[];
}

const MANIFEST = "manifest.json";
const STACKS = "stacks";
/** Where the folders of stacks the config no longer has keep the user's files. */
const RETIRED_STACKS = "retired-stacks";
/** The files cdktf writes in a stack folder: only these may be replaced or removed there. */
const GENERATED_STACK_FILES = ["cdk.tf.json", "cdk.tf", "metadata.json"];
/** Inside a staging folder while it holds generated files only: names the pid of the run writing it. */
const STAGING_MARKER = ".egresslink-staging";

/**
 * Synthesizes the config's stacks into `outdir`, which must be new, empty or an earlier output
 * (anything else is refused with an OutputRefusedError before anything is written). The stacks
 * are written to a sibling staging folder; only when all succeeded does the staging folder take
 * the output's place, with every file of the earlier output that is not a generated one moved
 * into it. On any failure or a throw from `checkpoint`, the output folder is left as it was.
 */
export async function synthesizeTo(config: EgressConfig, outdir: string, options: SynthesizeOptions = {}): Promise<SynthesisResult> {
  const checkpoint = options.checkpoint ?? (async () => undefined);
  const notify = options.notify ?? (() => undefined);
  const target = resolveTarget(outdir, protectedFolders(options.configFile));
  checkWritable(target);
  const parent = dirname(target);
  const firstCreated = mkdirSync(parent, { recursive: true });
  const createdParents = firstCreated ? createdFolders(parent, firstCreated) : [];
  try {
    const lock = acquireLock(target);
    try {
      sweepLeftovers(target, notify);
      return await synthesizeAndReplace(config, target, checkpoint, notify);
    } finally {
      rmSync(lock, { force: true });
    }
  } catch (err) {
    const left = removeFolders(createdParents);
    throw left.length ? new StagingLeftError(err, left) : err;
  }
}

/** Synthesizes into a staging folder beside `target`, then swaps it in (see `replaceOutput`). */
async function synthesizeAndReplace(config: EgressConfig, target: string, checkpoint: () => Promise<void>, notify: (line: string) => void): Promise<SynthesisResult> {
  let staging: string | undefined;
  let plan: CarryOver | undefined;
  try {
    staging = siblingOf(target, "staging");
    // mkdir's mode, not mkdtemp's 0700: the output gets 0777 & ~umask like any new folder.
    mkdirSync(staging, { mode: 0o777 });
    writeFileSync(join(staging, STAGING_MARKER), `${process.pid}\n`);
    await synthesizeStacks(config, staging, target, checkpoint, notify);
    await checkpoint();
    // Listed again now: files added while synthesizing are carried over too.
    plan = planCarryOver(target);
  } catch (err) {
    const leftovers = discard(staging);
    throw leftovers.length ? new StagingLeftError(err, leftovers) : err;
  }
  return replaceOutput(staging, target, plan, notify);
}

/** cdktf's App.synth(), with a checkpoint after each phase and each stack. */
async function synthesizeStacks(config: EgressConfig, outdir: string, target: string, checkpoint: () => Promise<void>, notify: (line: string) => void): Promise<void> {
  // Loaded here, not at the top: the provider classes take a second to load, and a refused
  // output folder or a bad config is answered before they are needed.
  const [{ buildApp }, { HubPortBlockStack, HubStack }] = await Promise.all([import("./build"), import("../hub/stack")]);
  const app = buildApp(config, outdir);
  await checkpoint();
  const stacks = app.node.findAll().filter((c): c is TerraformStack => TerraformStack.isStack(c));
  notify(`synthesizing ${stacks.length} stacks into ${target} ...`);
  stacks.forEach((stack) => stack.prepareStack());
  await checkpoint();
  const session: ISynthesisSession = { outdir: app.outdir, skipValidation: app.skipValidation, manifest: app.manifest };
  // Each stack's Terraform JSON as written, for the cost model (counted from the stacks, not the config).
  const written: Record<string, Record<string, unknown>> = {};
  for (const stack of stacks) {
    stack.synthesizer.synthesize(session);
    const file = join(outdir, app.manifest.forStack(stack).synthesizedStackPath);
    // cdktf's HCL (`cdktf synth --hcl`) changes values and is not valid Terraform: rewritten from the stack's JSON (see hcl.ts).
    if (app.hclOutput) {
      written[stack.node.id] = stack.toTerraform() as Record<string, unknown>;
      writeFileSync(file, stackHcl(written[stack.node.id], readFileSync(file, "utf8")));
    } else written[stack.node.id] = JSON.parse(readFileSync(file, "utf8"));
    await checkpoint();
  }
  if (!app.skipValidation) {
    const errors = app.node.validate();
    if (errors.length) throw new Error(`App-level validation failed:\n  ${errors.join("\n  ")}`);
  }
  // Beside the hub core's stack: the state commands that move a 0.1 hub's resources into the port blocks' states.
  const hub = stacks.find((s) => s instanceof HubStack);
  if (hub) {
    const script = join(outdir, dirname(app.manifest.forStack(hub).synthesizedStackPath), SPLIT_STATE_SCRIPT);
    writeFileSync(script, renderSplitStateScript(splitStateMoves(stacks.filter((s) => s instanceof HubPortBlockStack))), { mode: 0o755 });
  }
  writeFileSync(join(outdir, TOPOLOGY_FILE), renderTopologyFile(config));
  const cost = costReportFor(written, config);
  writeFileSync(join(outdir, COST_JSON), `${JSON.stringify(cost, null, 2)}\n`);
  writeFileSync(join(outdir, COST_MD), renderCostMarkdown(cost));
  app.manifest.writeToFile();
}

interface ProtectedFolder {
  readonly path: string;
  /** Why, when the output would be this folder. */
  readonly is: string;
  /** Why, when the output would hold this folder. */
  readonly holds: string;
}

function protectedFolders(configFile: string | undefined): ProtectedFolder[] {
  const folders = [{ path: realPathOf(process.cwd()), is: "it is the current folder", holds: "it holds the current folder" }];
  if (configFile) {
    const file = resolve(configFile);
    folders.push({ path: realPathOf(dirname(file)), is: `it is the folder of the config file ${file}`, holds: `it holds the config file ${file}` });
  }
  return folders;
}

/** The output folder's real path, once it passed every check that needs no write access. */
function resolveTarget(outdir: string, protect: readonly ProtectedFolder[]): string {
  const given = resolve(outdir);
  const path = realPathOf(given);
  const named = path === given ? path : `${given} (${path})`;
  const refuse = (reason: string): never => {
    throw new OutputRefusedError(`will not write the output to ${named}: ${reason}`);
  };
  for (const folder of protect) {
    if (path === folder.path) refuse(`${folder.is}. Name a folder of its own for the output, e.g. --out cdktf.out`);
    if (isInside(folder.path, path)) refuse(`${folder.holds}. Name a folder of its own for the output, e.g. --out cdktf.out`);
  }
  const stats = lstatOrUndefined(path);
  if (!stats) {
    const holder = nearestExisting(dirname(path));
    const holderStats = lstatSync(holder);
    if (!holderStats.isDirectory()) refuse(`${holder} is ${kindOf(holderStats)}, not a folder, so it cannot hold the output. Name another output folder with --out`);
    return path;
  }
  // realPathOf resolved every link that leads somewhere.
  if (stats.isSymbolicLink()) refuse(`it is a symlink to ${readlinkSync(path)}, which does not exist. Remove the link or name another output folder with --out`);
  if (!stats.isDirectory()) refuse(`it is ${kindOf(stats)}, not a folder. Move it away or name another output folder with --out`);
  // The new output takes the folder's place by a rename, which cannot move a mount point.
  if (stats.dev !== lstatSync(dirname(path)).dev) refuse("it is a mount point (another filesystem). Name a folder inside it with --out, e.g. --out " + join(path, "cdktf.out"));
  if (!readable(path, () => ownedFiles(path))) {
    refuse(`it is a folder that does not hold egresslink output (a cdktf ${MANIFEST} and ${STACKS}/), so replacing it could delete your files. Name a new or empty folder, or an earlier output, with --out`);
  }
  return path;
}

/**
 * Removes staging folders of runs that were killed while synthesizing (they hold generated files
 * only, and the lock says no run is writing now). Refuses when a killed run may have left the
 * user's files in its staging folder.
 */
function sweepLeftovers(target: string, notify: (line: string) => void): void {
  const prefix = `.${basename(target)}.egresslink-`;
  for (const name of readdirSync(dirname(target))) {
    const match = name.startsWith(prefix) ? /^(staging|previous)-(\d+)-[0-9a-f]+$/.exec(name.slice(prefix.length)) : null;
    if (!match) continue;
    const [, kind, pidText] = match;
    const pid = Number(pidText);
    const path = join(dirname(target), name);
    if (kind === "previous") {
      notify(`note: ${path} is left over from an earlier run (pid ${pid}); it should hold only that run's old generated files: remove it`);
    } else if (markerPid(path) === pid) {
      try {
        rmSync(path, { recursive: true, force: true });
      } catch (err) {
        notify(`note: could not remove ${path}, left by a run (pid ${pid}) killed while synthesizing: ${(err as Error).message}`);
      }
    } else {
      throw new OutputRefusedError(
        `will not write the output to ${target}: ${path} was left by a run (pid ${pid}) that stopped while moving files between it and the output, so it may hold files of yours (e.g. terraform.tfstate, .terraform/). Move those back into ${target}, then remove ${path}`,
      );
    }
  }
}

/**
 * One run per output folder: an exclusive lock file beside it, naming the run (pid, host, boot).
 * A lock whose run is gone (same host and boot, no such pid) is taken over; any other is refused.
 */
function acquireLock(target: string): string {
  const lock = join(dirname(target), `.${basename(target)}.egresslink-lock`);
  const owner = `${process.pid} ${hostname()} ${bootId()}`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, `${owner}\n`, { flag: "wx" });
      return lock;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const [pid, host, boot] = readFileSync(lock, "utf8").trim().split(" ");
    const stale = host === hostname() && boot === bootId() && !isRunning(Number(pid));
    if (!stale) {
      throw new OutputRefusedError(`will not write the output to ${target}: another egresslink run (pid ${pid} on ${host}) is writing it (${lock}). Wait for it to finish, or remove ${lock} if there is no such run`);
    }
    rmSync(lock, { force: true });
  }
  throw new OutputRefusedError(`will not write the output to ${target}: another egresslink run took ${lock} at the same moment; run again`);
}

/** This boot of the kernel, so a pid from before a reboot (or another machine) is not taken for a live run. */
function bootId(): string {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return "unknown";
  }
}

/** Checks, before anything is written, every folder the run will create entries in or remove entries from. */
function checkWritable(target: string): void {
  const folders = new Set([nearestExisting(dirname(target))]);
  const plan = readable(target, () => planCarryOver(target));
  if (plan) {
    folders.add(target);
    for (const rel of [...plan.own, ...plan.carry, ...plan.folders]) {
      for (let dir = dirname(rel); dir !== "."; dir = dirname(dir)) folders.add(join(target, dir));
    }
    // Moving a folder to another parent rewrites its "..": that needs write access to it too.
    for (const rel of plan.carry) if (lstatSync(join(target, rel)).isDirectory()) folders.add(join(target, rel));
  }
  // A running terraform holds its local state lock; moving its folder would lose what it writes.
  for (const folder of plan?.folders ?? []) {
    const lock = join(target, folder, ".terraform.tfstate.lock.info");
    if (lstatOrUndefined(lock)) throw new OutputRefusedError(`will not write the output to ${target}: terraform is running in ${join(target, folder)} (${lock} exists). Wait for it to finish, then run again`);
  }
  for (const folder of folders) {
    try {
      accessSync(folder, constants.W_OK);
    } catch (err) {
      throw new OutputRefusedError(`will not write the output to ${target}: ${folder} is not writable (${(err as NodeJS.ErrnoException).code}). Make it writable, or name another output folder with --out`);
    }
  }
}

/** `read()`, with a refusal naming the unreadable path instead of a bare EACCES. */
function readable<T>(target: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof OutputRefusedError) throw err;
    throw new OutputRefusedError(`will not write the output to ${target}: it cannot be read (${(err as Error).message}). Make it readable, or name another output folder with --out`);
  }
}

/** The plan for an existing output folder; undefined when there is none. */
function planCarryOver(target: string): CarryOver | undefined {
  if (!lstatOrUndefined(target)) return undefined;
  const owned = ownedFiles(target);
  if (!owned) throw new OutputRefusedError(`will not write the output to ${target}: it no longer holds egresslink output (it changed while synthesizing)`);
  const own: string[] = [];
  const folders: string[] = [];
  const carry: string[] = [];
  const sort = (rel: string) => (owned.has(rel) && lstatSync(join(target, rel)).isFile() ? own : carry).push(rel);
  for (const name of readdirSync(target)) {
    if (name !== STACKS || !lstatSync(join(target, name)).isDirectory()) {
      sort(name);
      continue;
    }
    for (const stack of readdirSync(join(target, STACKS))) {
      const folder = join(STACKS, stack);
      if (!lstatSync(join(target, folder)).isDirectory()) {
        carry.push(folder);
        continue;
      }
      readdirSync(join(target, folder)).forEach((entry) => sort(join(folder, entry)));
      folders.push(folder);
    }
    folders.push(STACKS);
  }
  return { own, folders, carry };
}

/**
 * The generated files of an existing folder, relative to it, when it is egresslink output: empty,
 * or a cdktf manifest.json (version, and stacks with their synthesizedStackPath) and a stacks/ folder.
 * Undefined when it is anything else.
 */
function ownedFiles(folder: string): Set<string> | undefined {
  if (readdirSync(folder).length === 0) return new Set();
  if (!lstatOrUndefined(join(folder, STACKS))?.isDirectory() || !lstatOrUndefined(join(folder, MANIFEST))?.isFile()) return undefined;
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(join(folder, MANIFEST), "utf8"));
  } catch {
    return undefined;
  }
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObject(manifest) || typeof manifest.version !== "string" || !isObject(manifest.stacks)) return undefined;
  const stacks = Object.values(manifest.stacks);
  if (!stacks.every((s) => isObject(s) && typeof s.synthesizedStackPath === "string")) return undefined;
  const owned = new Set([MANIFEST]);
  for (const stack of stacks as Record<string, unknown>[]) {
    for (const file of [stack.synthesizedStackPath, stack.stackMetadataPath]) {
      // Only stacks/<stack>/<file>: a path elsewhere is not trusted to be ours.
      const parts = typeof file === "string" ? normalize(file).split(sep) : [];
      if (parts.length === 3 && parts[0] === STACKS && parts[1] !== "." && parts[1] !== ".." && GENERATED_STACK_FILES.includes(parts[2])) owned.add(parts.join(sep));
    }
  }
  // Written beside the manifest on every synth; owned only if it is ours (its first line says so).
  for (const [file, mark] of [[TOPOLOGY_FILE, TOPOLOGY_MARK], [COST_MD, COST_MD_MARK], [COST_JSON, COST_JSON_MARK]]) {
    if (lstatOrUndefined(join(folder, file))?.isFile() && readFileSync(join(folder, file), "utf8").startsWith(mark)) owned.add(file);
  }
  // The hub's state commands (see split-state.ts), written beside its stack file.
  const script = join(STACKS, HUB_STACK, SPLIT_STATE_SCRIPT);
  if ([...owned].some((file) => file.startsWith(join(STACKS, HUB_STACK) + sep)) && lstatOrUndefined(join(folder, script))?.isFile()) owned.add(script);
  return owned;
}

/**
 * The commit: moves the user's files from the earlier output into the staging folder, swaps the
 * staging folder in, then removes the earlier output's generated files. Runs without pausing, so
 * a signal cannot stop it halfway. A failure before the swap puts everything back.
 */
function replaceOutput(staging: string, target: string, plan: CarryOver | undefined, notify: (line: string) => void): SynthesisResult {
  const moved: { from: string; to: string }[] = [];
  let previous: string | undefined;
  try {
    // From here on the staging folder may hold the user's files; the next run must not sweep it.
    unlinkSync(join(staging, STAGING_MARKER));
    const destinationOf = retiredStackMapping(target, staging, plan, notify);
    for (const rel of plan?.carry ?? []) {
      const from = join(target, rel);
      const to = join(staging, destinationOf(rel));
      if (lstatOrUndefined(to)) throw new Error(`cannot carry ${from} over: the new output has a file of that name; move yours away and run again`);
      mkdirSync(dirname(to), { recursive: true });
      renameSync(from, to);
      moved.push({ from, to });
    }
    if (plan) {
      keepModes(target, staging, plan);
      const aside = siblingOf(target, "previous");
      renameSync(target, aside);
      previous = aside;
    }
    renameSync(staging, target);
  } catch (err) {
    throw new ReplaceError(`could not replace ${target}: ${(err as Error).message}. ${putBack(staging, target, previous, moved)}`);
  }
  if (!previous || !plan) return { outdir: target };
  try {
    plan.own.forEach((rel) => unlinkSync(join(previous!, rel)));
    // rmdir, not a recursive remove: anything unexpected in there stays.
    plan.folders.forEach((rel) => rmdirSync(join(previous!, rel)));
    rmdirSync(previous);
    return { outdir: target };
  } catch (err) {
    return { outdir: target, leftover: { path: previous, reason: (err as Error).message } };
  }
}

/**
 * Where each carried entry goes in the new output: where it was, except in the folder of a stack
 * the config no longer has. `cdktf synth` deletes stack folders its manifest does not list, state
 * and all, so those files move to `retired-stacks/<stack>/` (same depth, so relative paths hold).
 */
function retiredStackMapping(target: string, staging: string, plan: CarryOver | undefined, notify: (line: string) => void): (rel: string) => string {
  const retired = new Map<string, string>();
  for (const rel of plan?.carry ?? []) {
    const [top, stack] = rel.split(sep);
    if (top !== STACKS || stack === undefined || rel === join(STACKS, stack) || retired.has(stack) || lstatOrUndefined(join(staging, STACKS, stack))) continue;
    let folder = join(RETIRED_STACKS, stack);
    for (let n = 2; lstatOrUndefined(join(target, folder)) || [...retired.values()].includes(folder); n++) folder = join(RETIRED_STACKS, `${stack}-${n}`);
    retired.set(stack, folder);
    notify(`note: stack ${stack} is no longer in the config; the files of yours in its folder (Terraform state, .terraform/, ...) are kept in ${folder}/ of the output`);
  }
  return (rel) => {
    const [top, stack, ...rest] = rel.split(sep);
    const folder = top === STACKS && stack !== undefined ? retired.get(stack) : undefined;
    return folder && rest.length ? join(folder, ...rest) : rel;
  };
}

/** The earlier output's folder modes (and owner, where allowed) on the new one: a 0750 output stays 0750. */
function keepModes(target: string, staging: string, plan: CarryOver): void {
  for (const rel of [".", ...plan.folders]) {
    const old = lstatSync(join(target, rel));
    const path = join(staging, rel);
    if (!lstatOrUndefined(path)?.isDirectory()) continue;
    chmodSync(path, old.mode & 0o7777);
    try {
      chownSync(path, old.uid, old.gid);
    } catch {
      // Only root may give a folder away; the mode alone still keeps others out.
    }
  }
}

/** Undoes a failed commit's moves, newest first; says what state the output is in. */
function putBack(staging: string, target: string, previous: string | undefined, moved: readonly { from: string; to: string }[]): string {
  if (previous) {
    try {
      renameSync(previous, target);
    } catch (err) {
      return `The earlier output is now at ${previous} (${(err as Error).message}): rename it back to ${target}, and move back the files of yours listed here from ${staging}: ${moved.map((m) => m.to).join(", ") || "none"}`;
    }
  }
  const stuck: string[] = [];
  for (const { from, to } of [...moved].reverse()) {
    try {
      renameSync(to, from);
    } catch (err) {
      stuck.push(`${to} belongs at ${from} (${(err as Error).message})`);
    }
  }
  if (stuck.length) return `Some of your files could not be moved back; ${staging} is kept: ${stuck.join("; ")}`;
  const left = discard(staging);
  return left.length ? `${target} is as it was, but ${left.join(", ")} could not be removed` : "Nothing was changed";
}

/** Removes this run's staging folder (generated files only); returns what could not be removed. */
function discard(staging: string | undefined): string[] {
  if (!staging) return [];
  try {
    rmSync(staging, { recursive: true, force: true });
    return [];
  } catch (err) {
    return [`${staging} (${(err as Error).message})`];
  }
}

/** Removes the given empty folders, deepest first; returns those that could not be removed. */
function removeFolders(folders: readonly string[]): string[] {
  const left: string[] = [];
  for (const folder of folders) {
    try {
      rmdirSync(folder);
    } catch (err) {
      left.push(`${folder} (${(err as Error).message})`);
    }
  }
  return left;
}

/** `parent` and its ancestors up to `firstCreated`, deepest first: the folders mkdir -p just made. */
function createdFolders(parent: string, firstCreated: string): string[] {
  const folders = [parent];
  while (folders[folders.length - 1] !== firstCreated) folders.push(dirname(folders[folders.length - 1]));
  return folders;
}

/** A new name beside `target`, naming this process: `.<basename>.egresslink-<kind>-<pid>-<random>`. */
function siblingOf(target: string, kind: "staging" | "previous"): string {
  return join(dirname(target), `.${basename(target)}.egresslink-${kind}-${process.pid}-${randomBytes(4).toString("hex")}`);
}

function markerPid(staging: string): number | undefined {
  try {
    return Number(readFileSync(join(staging, STAGING_MARKER), "utf8").trim());
  } catch {
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

/** The real path of `path`, which need not exist: its nearest existing ancestor resolved, the rest appended. */
function realPathOf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    const parent = dirname(path);
    return parent === path ? path : join(realPathOf(parent), basename(path));
  }
}

function nearestExisting(path: string): string {
  return lstatOrUndefined(path) || dirname(path) === path ? path : nearestExisting(dirname(path));
}

/** Whether `path` is strictly inside `folder`. */
function isInside(path: string, folder: string): boolean {
  return path !== folder && path.startsWith(folder.endsWith(sep) ? folder : folder + sep);
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" || (err as NodeJS.ErrnoException).code === "ENOTDIR") return undefined;
    throw err;
  }
}

function kindOf(stats: Stats): string {
  if (stats.isFile()) return "a file";
  if (stats.isSocket()) return "a socket";
  if (stats.isFIFO()) return "a named pipe";
  if (stats.isBlockDevice() || stats.isCharacterDevice()) return "a device";
  return "a special file";
}
