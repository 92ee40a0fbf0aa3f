/**
 * The token stack-trace shim (modules/app/token-stack-traces.ts): applied only to the cdktf
 * release and function it was written for, and the main job's output is byte for byte the same
 * with and without it.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { SHIMMED_CDKTF_VERSION, skipTokenStackTraces, type StackTraceModule } from "../modules/app/token-stack-traces";
import { DEFAULT_CONFIG_PATH, filesUnder, ROOT } from "./helpers";
import { programDescribe } from "./helpers-programs";

/** tsx by absolute URL: the job runs in a temp folder. */
const TSX = pathToFileURL(require.resolve("tsx", { paths: [ROOT] })).href;

/** A stand-in for cdktf's module, with its function's body. */
function cdktfLike(): StackTraceModule {
  return {
    captureStackTrace(below?: unknown) {
      const object = { stack: "" };
      Error.captureStackTrace(object, below as never);
      return object.stack.split("\n").slice(1);
    },
  };
}

describe("skipTokenStackTraces", () => {
  test("replaces cdktf 0.21.0's function with one that records nothing, once", () => {
    const target = cdktfLike();
    expect(target.captureStackTrace().length).toBeGreaterThan(0);
    expect(skipTokenStackTraces(SHIMMED_CDKTF_VERSION, target, {})).toEqual({ installed: true });
    expect(target.captureStackTrace()).toEqual([]);
    const applied = target.captureStackTrace;
    expect(skipTokenStackTraces(SHIMMED_CDKTF_VERSION, target, {})).toEqual({ installed: true });
    expect(target.captureStackTrace).toBe(applied);
  });

  test("refuses another cdktf release, and says which", () => {
    const target = cdktfLike();
    const original = target.captureStackTrace;
    const result = skipTokenStackTraces("0.21.1", target, {});
    expect(result).toEqual({ installed: false, reason: expect.stringContaining("written for cdktf 0.21.0, and cdktf 0.21.1 is installed") });
    expect(target.captureStackTrace).toBe(original);
  });

  test("refuses a function that is not the one it was written for", () => {
    const target: StackTraceModule = { captureStackTrace: () => ["changed upstream"] };
    expect(skipTokenStackTraces(SHIMMED_CDKTF_VERSION, target, {})).toMatchObject({ installed: false, reason: expect.stringContaining("is not the function the shim was written for") });
    expect(target.captureStackTrace()).toEqual(["changed upstream"]);
  });

  test("EGRESSLINK_TOKEN_STACK_TRACES=1 keeps cdktf's traces", () => {
    const target = cdktfLike();
    expect(skipTokenStackTraces(SHIMMED_CDKTF_VERSION, target, { EGRESSLINK_TOKEN_STACK_TRACES: "1" })).toMatchObject({ installed: false });
    expect(target.captureStackTrace().length).toBeGreaterThan(0);
  });

  test("is active in this test run, on the installed cdktf", () => {
    expect(require("cdktf/package.json").version).toBe(SHIMMED_CDKTF_VERSION);
    expect(require("cdktf/lib/tokens/private/stack-trace").captureStackTrace()).toEqual([]);
  });
});

programDescribe("the main job with and without the shim", () => {
  const work = mkdtempSync(join(tmpdir(), "egresslink-shim-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const job = (config: string, out: string, env: NodeJS.ProcessEnv) =>
    new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ["--import", TSX, join(ROOT, "main.ts"), "--config", config, "--out", out], { cwd: work, env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (d) => (stderr += d));
      const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
      child.on("error", reject);
      child.on("close", (code) => (clearTimeout(timer), resolve({ code, stderr })));
    });

  test.each([
    ["egress.config.yaml", DEFAULT_CONFIG_PATH],
    ["examples/interconnect.yaml", join(ROOT, "examples", "interconnect.yaml")],
  ])("%s: every file written is byte for byte the same", async (label, config) => {
    const name = label.replace(/\W+/g, "-");
    const [shimmed, traced] = await Promise.all([job(config, join(work, `${name}-shim`), {}), job(config, join(work, `${name}-traces`), { EGRESSLINK_TOKEN_STACK_TRACES: "1" })]);
    expect([shimmed.code, traced.code]).toEqual([0, 0]);
    expect(shimmed.stderr).not.toMatch(/warning/);
    const files = filesUnder(join(work, `${name}-shim`));
    expect(files).toEqual(filesUnder(join(work, `${name}-traces`)));
    expect(files.filter((f) => f.endsWith("cdk.tf.json")).length).toBeGreaterThan(2);
    for (const file of files) expect([file, readFileSync(join(work, `${name}-shim`, file), "utf8")]).toEqual([file, readFileSync(join(work, `${name}-traces`, file), "utf8")]);
  }, 150_000);
});
