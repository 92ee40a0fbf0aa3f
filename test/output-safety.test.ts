/**
 * The main job never loses a user's file: it replaces only its own earlier output, carries
 * everything else over, and leaves the output as it was when it refuses, fails or is interrupted.
 * Every case runs the job as a real process in a temp folder.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, chownSync, cpSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { basename, join } from "node:path";
import { stringify } from "yaml";
import { DEFAULT_CONFIG_PATH, ROOT, defaultConfigData, generatedSpokes } from "./helpers";
import { buildDist, programDescribe } from "./helpers-programs";

/** The compiled job, as `npm run synth` runs it (built in beforeAll): one process, so signals reach the job itself. */
const MAIN = join(ROOT, "dist", "main.js");
const NOBODY = 65534;
/** Long enough for a cold start of the job on a busy machine; no test asserts on durations. */
const RUN_TIMEOUT_MS = 120_000;

interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface Running {
  readonly pid: number;
  readonly finished: Promise<Finished>;
  /** Resolves once stderr matches; rejects on timeout or when the job ends first. */
  readonly waitForStderr: (pattern: RegExp, timeoutMs?: number) => Promise<void>;
  readonly kill: (signal: NodeJS.Signals) => void;
}

const running = new Set<Running>();

/** Starts the main job in `cwd` with umask 022, as root's `nobody` when `asNobody` and this is root. */
function start(cwd: string, args: readonly string[], { asNobody = false } = {}): Running {
  const job = [process.execPath, MAIN, ...args];
  const dropPrivileges = asNobody && process.getuid?.() === 0 ? ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups"] : [];
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== "EGRESS_CONFIG" && k !== "CDKTF_OUTDIR"));
  const child = spawn("sh", ["-c", 'umask 022 && exec "$@"', "sh", ...dropPrivileges, ...job], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let exited = false;
  const listeners = new Set<() => void>();
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
    listeners.forEach((l) => l());
  });
  const finished = new Promise<Finished>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      exited = true;
      listeners.forEach((l) => l());
      resolve({ code, signal, stdout, stderr });
    });
  });
  const run: Running = {
    pid: child.pid!,
    finished,
    waitForStderr: (pattern, timeoutMs = 60_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => done(new Error(`no ${pattern} on stderr within ${timeoutMs} ms; stderr so far:\n${stderr}`)), timeoutMs);
        const check = () => {
          if (pattern.test(stderr)) done();
          else if (exited) done(new Error(`the job ended before ${pattern} appeared on stderr:\n${stderr}`));
        };
        const done = (err?: Error) => {
          clearTimeout(timer);
          listeners.delete(check);
          if (err) reject(err);
          else resolve();
        };
        listeners.add(check);
        check();
      }),
    kill: (signal) => {
      if (!exited) child.kill(signal);
    },
  };
  running.add(run);
  finished.finally(() => running.delete(run)).catch(() => undefined);
  return run;
}

function runJob(cwd: string, args: readonly string[], options?: { asNobody?: boolean }): Promise<Finished> {
  return start(cwd, args, options).finished;
}

/** Every entry under `dir` by relative path: type, mode, and a file's bytes or a link's target. */
function snapshot(dir: string, keep: (rel: string) => boolean = () => true): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const child = rel ? join(rel, name) : name;
      const path = join(dir, child);
      const stats = lstatSync(path);
      const mode = (stats.mode & 0o7777).toString(8);
      if (stats.isDirectory()) {
        if (keep(child)) out[child] = `folder ${mode}`;
        walk(child);
      } else if (keep(child)) {
        out[child] = stats.isSymbolicLink() ? `link -> ${readlinkSync(path)}` : `file ${mode} ${readFileSync(path).toString("latin1")}`;
      }
    }
  };
  walk("");
  return out;
}

/** Staging and previous folders of the job anywhere under `dir`. */
function leftovers(dir: string): string[] {
  return Object.keys(snapshot(dir)).filter((rel) => /^\..*\.egresslink-(staging|previous)-\d+-[0-9a-f]+$/.test(basename(rel)));
}

function chownTree(path: string, uid: number): void {
  chownSync(path, uid, uid);
  if (lstatSync(path).isDirectory()) readdirSync(path).forEach((name) => chownTree(join(path, name), uid));
}

programDescribe("the main job never loses a user's file (real processes)", () => {
  let fixtures: string;
  /** An output of the default config, made once and copied into each test. */
  let earlierOutput: string;
  /** A config with many spokes, so that synthesis takes a few seconds. */
  let bigConfig: string;
  let work: string;
  /** The job's working folder: holds the config and the user's notes. */
  let project: string;

  beforeAll(async () => {
    buildDist(ROOT);
    fixtures = realpathSync(mkdtempSync(join(tmpdir(), "egresslink-safety-fixtures-")));
    cpSync(DEFAULT_CONFIG_PATH, join(fixtures, "egress.config.yaml"));
    const made = await runJob(fixtures, ["--out", "cdktf.out"]);
    expect([made.code, made.stderr]).toEqual([0, expect.stringContaining("synthesizing")]);
    earlierOutput = join(fixtures, "cdktf.out");
    // 150 spokes: the bench's largest case, within what the proxy's SSM parameter holds.
    const data = defaultConfigData();
    data.spokes = generatedSpokes(150);
    bigConfig = stringify(data);
  }, RUN_TIMEOUT_MS);

  afterAll(() => rmSync(fixtures, { recursive: true, force: true }));

  beforeEach(() => {
    work = realpathSync(mkdtempSync(join(tmpdir(), "egresslink-safety-")));
    project = join(work, "project");
    mkdirSync(project);
    cpSync(DEFAULT_CONFIG_PATH, join(project, "egress.config.yaml"));
    writeFileSync(join(project, "notes.txt"), "the user's own notes\n");
  });

  afterEach(async () => {
    for (const run of running) {
      run.kill("SIGKILL");
      await run.finished.catch(() => undefined);
    }
    rmSync(work, { recursive: true, force: true });
  });

  /** Runs the job and checks that it refused, with exit 2, without changing anything under `work`. */
  async function expectRefusal(args: readonly string[], message: string, cwd = project): Promise<void> {
    const before = snapshot(work);
    const result = await runJob(cwd, args);
    expect(result.stderr).toContain(message);
    expect(result.code).toBe(2);
    expect(snapshot(work)).toEqual(before);
  }

  test("refuses --out . (the current folder)", async () => {
    await expectRefusal(["--out", "."], `egresslink: will not write the output to ${project}: it is the current folder. Name a folder of its own for the output, e.g. --out cdktf.out`);
  }, RUN_TIMEOUT_MS);

  test("refuses --out .. (a folder holding the current folder)", async () => {
    await expectRefusal(["--out", ".."], `egresslink: will not write the output to ${work}: it holds the current folder.`);
  }, RUN_TIMEOUT_MS);

  test("refuses the config file's folder and a folder holding it", async () => {
    mkdirSync(join(work, "settings", "conf"), { recursive: true });
    const config = join(work, "settings", "conf", "egress.yaml");
    cpSync(DEFAULT_CONFIG_PATH, config);
    await expectRefusal(["--config", config, "--out", join(work, "settings", "conf")], `will not write the output to ${join(work, "settings", "conf")}: it is the folder of the config file ${config}.`);
    await expectRefusal(["--config", config, "--out", join(work, "settings")], `will not write the output to ${join(work, "settings")}: it holds the config file ${config}.`);
  }, RUN_TIMEOUT_MS);

  test("refuses a folder of the user's files", async () => {
    mkdirSync(join(project, "docs", "drafts"), { recursive: true });
    writeFileSync(join(project, "docs", "notes.txt"), "mine\n");
    writeFileSync(join(project, "docs", "drafts", "plan.md"), "# plan\n");
    await expectRefusal(["--out", "docs"], `will not write the output to ${join(project, "docs")}: it is a folder that does not hold egresslink output (a cdktf manifest.json and stacks/), so replacing it could delete your files.`);
  }, RUN_TIMEOUT_MS);

  test("refuses an existing file, also through a symlink", async () => {
    await expectRefusal(["--out", "notes.txt"], `will not write the output to ${join(project, "notes.txt")}: it is a file, not a folder.`);
    symlinkSync("notes.txt", join(project, "out-link"));
    await expectRefusal(["--out", "out-link"], `will not write the output to ${join(project, "out-link")} (${join(project, "notes.txt")}): it is a file, not a folder.`);
  }, RUN_TIMEOUT_MS);

  test("refuses a default cdktf.out that is a regular file", async () => {
    writeFileSync(join(project, "cdktf.out"), "not an output folder\n");
    await expectRefusal([], `will not write the output to ${join(project, "cdktf.out")}: it is a file, not a folder.`);
  }, RUN_TIMEOUT_MS);

  test.each([
    ["the output folder", "cdktf.out"],
    ["a stack folder", join("cdktf.out", "stacks", "hub")],
    ["the folder holding the output", "."],
  ])("as a non-root user, refuses when %s is read-only, renaming nothing", async (_what, readOnly) => {
    cpSync(earlierOutput, join(project, "cdktf.out"), { recursive: true });
    if (process.getuid?.() === 0) chownTree(work, NOBODY);
    chmodSync(join(project, readOnly), 0o555);
    const before = snapshot(work);
    const result = await runJob(project, [], { asNobody: true });
    expect(result.stderr).toContain(`egresslink: will not write the output to ${join(project, "cdktf.out")}: ${join(project, readOnly)} is not writable (EACCES).`);
    expect(result.code).toBe(2);
    expect(snapshot(work)).toEqual(before);
  }, RUN_TIMEOUT_MS);

  test.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)("%s during synthesis stops the job with exit %i and leaves the earlier output as it was", async (signal, exitCode) => {
    cpSync(earlierOutput, join(project, "cdktf.out"), { recursive: true });
    writeFileSync(join(project, "big.yaml"), bigConfig);
    const before = snapshot(work);
    const job = start(project, ["--config", "big.yaml"]);
    await job.waitForStderr(/egresslink: synthesizing \d+ stacks into /);
    job.kill(signal);
    const result = await job.finished;
    expect(result.stderr).toContain("egresslink: interrupted: nothing was changed");
    expect(result.code).toBe(exitCode);
    expect(snapshot(work)).toEqual(before);
    expect(leftovers(work)).toEqual([]);
  }, RUN_TIMEOUT_MS);

  test("the staging folder of a run killed with SIGKILL is removed by the next run, which succeeds", async () => {
    cpSync(earlierOutput, join(project, "cdktf.out"), { recursive: true });
    writeFileSync(join(project, "big.yaml"), bigConfig);
    const userFiles = snapshot(work, (rel) => !rel.includes("cdktf.out"));
    const job = start(project, ["--config", "big.yaml"]);
    await job.waitForStderr(/egresslink: synthesizing \d+ stacks into /);
    job.kill("SIGKILL");
    expect((await job.finished).signal).toBe("SIGKILL");
    expect(leftovers(work)).toEqual([expect.stringMatching(/^project\/\.cdktf\.out\.egresslink-staging-\d+-[0-9a-f]+$/)]);

    const next = await runJob(project, []);
    expect([next.code, next.stderr]).toEqual([0, expect.any(String)]);
    expect(leftovers(work)).toEqual([]);
    expect(snapshot(work, (rel) => !rel.includes("cdktf.out"))).toEqual(userFiles);
    expect(Object.keys(JSON.parse(readFileSync(join(project, "cdktf.out", "manifest.json"), "utf8")).stacks)).toHaveLength(7);
  }, RUN_TIMEOUT_MS);

  test("Terraform's files in stack folders and other files in the output survive a re-synth, also for a removed spoke", async () => {
    const out = join(project, "cdktf.out");
    cpSync(earlierOutput, out, { recursive: true });
    const userFiles: Record<string, string> = {
      "stacks/hub/.terraform/providers/registry.terraform.io/hashicorp/aws/6.25.0/linux_amd64/terraform-provider-aws": "\u007fELF provider binary",
      "stacks/hub/.terraform/terraform.tfstate": '{"backend": {"type": "s3"}}',
      "stacks/hub/.terraform.lock.hcl": 'provider "registry.terraform.io/hashicorp/aws" {}\n',
      "stacks/hub/terraform.tfstate": '{"version": 4, "serial": 7}',
      "stacks/hub/terraform.tfstate.backup": '{"version": 4, "serial": 6}',
      "stacks/hub/plan.out": "a saved plan",
      "stacks/spoke-project-d/terraform.tfstate": '{"version": 4, "serial": 3}',
      "stacks/spoke-project-d/.terraform/environment": "default",
      "README.local.md": "my notes about this output\n",
    };
    for (const [rel, text] of Object.entries(userFiles)) {
      mkdirSync(join(out, rel, ".."), { recursive: true });
      writeFileSync(join(out, rel), text);
    }
    // A removed stack's folder would be deleted by `cdktf synth`: its files move to retired-stacks/.
    const retired = (rel: string) => rel.replace(/^stacks\/spoke-project-d\//, "retired-stacks/spoke-project-d/");
    const isUserFile = (rel: string) => rel in userFiles;
    const before = snapshot(out, isUserFile);
    expect(Object.keys(before)).toHaveLength(Object.keys(userFiles).length);
    const [oldHub, oldBlock] = ["hub", "hub-ports-3100"].map((stack) => readFileSync(join(out, "stacks", stack, "cdk.tf.json"), "utf8"));
    const data = defaultConfigData();
    delete data.spokes["project-d"];
    data.hub.proxy.allowedDomains.push("updates.example.com");
    writeFileSync(join(project, "egress.config.yaml"), stringify(data));

    const result = await runJob(project, []);
    expect([result.code, result.stderr]).toEqual([0, expect.any(String)]);
    const movedFiles = new Set(Object.keys(userFiles).map(retired));
    expect(snapshot(out, (rel) => movedFiles.has(rel))).toEqual(Object.fromEntries(Object.entries(before).map(([rel, file]) => [retired(rel), file])));
    expect(result.stderr).toContain("note: stack spoke-project-d is no longer in the config; the files of yours in its folder (Terraform state, .terraform/, ...) are kept in retired-stacks/spoke-project-d/ of the output");
    expect(leftovers(work)).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")) as { stacks: Record<string, { synthesizedStackPath: string }> };
    expect(Object.keys(manifest.stacks).sort()).toEqual(["egress-state", "hub", "hub-ports-3100", "spoke-project-a", "spoke-project-b", "spoke-project-c"]);
    for (const stack of Object.values(manifest.stacks)) expect(JSON.parse(readFileSync(join(out, stack.synthesizedStackPath), "utf8")).terraform).toBeDefined();
    // The new config's global allow-list is in the hub core's base config; the removed spoke left its port block.
    expect(readFileSync(join(out, "stacks", "hub", "cdk.tf.json"), "utf8")).not.toBe(oldHub);
    expect(readFileSync(join(out, "stacks", "hub-ports-3100", "cdk.tf.json"), "utf8")).not.toBe(oldBlock);
    expect(readdirSync(join(out, "stacks")).sort()).toEqual(["egress-state", "hub", "hub-ports-3100", "spoke-project-a", "spoke-project-b", "spoke-project-c"]);
    expect(readdirSync(join(out, "retired-stacks", "spoke-project-d")).sort()).toEqual([".terraform", "terraform.tfstate"]);
  }, RUN_TIMEOUT_MS);

  test("a file of the user's that clashes with a new generated file stops the commit: exit 1, every file moved back", async () => {
    const out = join(project, "cdktf.out");
    cpSync(earlierOutput, out, { recursive: true });
    for (const stack of readdirSync(join(out, "stacks"))) writeFileSync(join(out, "stacks", stack, "terraform.tfstate"), `{"stack": "${stack}"}`);
    writeFileSync(join(out, "README.local.md"), "mine\n");
    // Without its manifest entry, the hub's cdk.tf.json is no longer the job's own: it must be carried, and cannot be.
    const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
    delete manifest.stacks.hub;
    writeFileSync(join(out, "manifest.json"), JSON.stringify(manifest));
    const before = snapshot(work);
    const result = await runJob(project, []);
    expect(result.stderr).toContain(`egresslink: could not replace ${out}: cannot carry ${join(out, "stacks", "hub", "cdk.tf.json")} over: the new output has a file of that name; move yours away and run again. Nothing was changed`);
    expect(result.code).toBe(1);
    expect(snapshot(work)).toEqual(before);
  }, RUN_TIMEOUT_MS);

  test("the output folder gets mode 0755 with umask 022, when new and when replaced", async () => {
    const out = join(project, "cdktf.out");
    expect((await runJob(project, [])).code).toBe(0);
    expect((statSync(out).mode & 0o777).toString(8)).toBe("755");
    expect((await runJob(project, [])).code).toBe(0);
    expect((statSync(out).mode & 0o777).toString(8)).toBe("755");
    expect((statSync(join(out, "stacks", "hub")).mode & 0o777).toString(8)).toBe("755");
  }, RUN_TIMEOUT_MS);

  test("a private output folder (2750, 0700 stack folder) keeps its modes when replaced", async () => {
    const out = join(project, "cdktf.out");
    cpSync(earlierOutput, out, { recursive: true });
    chmodSync(out, 0o2750);
    chmodSync(join(out, "stacks", "hub"), 0o700);
    expect((await runJob(project, [])).code).toBe(0);
    expect((statSync(out).mode & 0o7777).toString(8)).toBe("2750");
    expect((statSync(join(out, "stacks", "hub")).mode & 0o7777).toString(8)).toBe("700");
  }, RUN_TIMEOUT_MS);

  test("a manifest naming Terraform's files as its own cannot get them deleted: only cdktf's file names are generated", async () => {
    const out = join(project, "cdktf.out");
    cpSync(earlierOutput, out, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
    manifest.stacks.hub.stackMetadataPath = "stacks/hub/terraform.tfstate";
    manifest.stacks["egress-state"].stackMetadataPath = "stacks/hub/terraform.tfstate.backup";
    writeFileSync(join(out, "manifest.json"), JSON.stringify(manifest));
    writeFileSync(join(out, "stacks", "hub", "terraform.tfstate"), "state");
    writeFileSync(join(out, "stacks", "hub", "terraform.tfstate.backup"), "backup");
    expect((await runJob(project, [])).code).toBe(0);
    expect(readFileSync(join(out, "stacks", "hub", "terraform.tfstate"), "utf8")).toBe("state");
    expect(readFileSync(join(out, "stacks", "hub", "terraform.tfstate.backup"), "utf8")).toBe("backup");
  }, RUN_TIMEOUT_MS);

  test("one run at a time: a lock held by a live run is refused; a lock left by a dead run on this machine is taken over", async () => {
    const out = join(project, "cdktf.out");
    cpSync(earlierOutput, out, { recursive: true });
    const lock = join(project, ".cdktf.out.egresslink-lock");
    const bootId = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    writeFileSync(lock, `${process.pid} ${hostname()} ${bootId}\n`);
    await expectRefusal([], `another egresslink run (pid ${process.pid} on ${hostname()}) is writing it (${lock})`);
    writeFileSync(lock, `999999 ${hostname()} ${bootId}\n`);
    const result = await runJob(project, []);
    expect(result.code).toBe(0);
    expect(readdirSync(project).filter((n) => n.startsWith("."))).toEqual([]);
  }, RUN_TIMEOUT_MS);

  test("a terraform run in a stack folder (its state lock) is waited for, not moved away", async () => {
    const out = join(project, "cdktf.out");
    cpSync(earlierOutput, out, { recursive: true });
    writeFileSync(join(out, "stacks", "egress-state", ".terraform.tfstate.lock.info"), "{}");
    await expectRefusal([], `terraform is running in ${join(out, "stacks", "egress-state")}`);
  }, RUN_TIMEOUT_MS);

  test("a mount point is refused up front (the new output could not take its place)", async () => {
    const out = join(project, "cdktf.out");
    mkdirSync(out);
    expect(spawnSync("mount", ["-t", "tmpfs", "none", out]).status).toBe(0);
    try {
      await expectRefusal([], "it is a mount point (another filesystem). Name a folder inside it with --out");
    } finally {
      spawnSync("umount", [out]);
    }
  }, RUN_TIMEOUT_MS);

  test.each([
    [["--config", "--out", "x"], "--config needs a value; got the flag --out"],
    [["--out", "--config", "x"], "--out needs a value; got the flag --config"],
  ])("%j is a usage error (exit 2) that writes nothing", async (args, message) => {
    const before = snapshot(work);
    const result = await runJob(project, args);
    expect(result.stderr).toContain(`egresslink: ${message}\n`);
    expect(result.code).toBe(2);
    expect(snapshot(work)).toEqual(before);
  }, RUN_TIMEOUT_MS);
});
