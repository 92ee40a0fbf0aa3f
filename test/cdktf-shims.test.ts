/**
 * The cdktf shims (modules/app/cdktf-shims.ts): each applied only to the cdktf release and
 * function it was written for, and the main job's output byte for byte the same with and
 * without them, on the default config and every example.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, DefaultTokenResolver, StringConcat, TerraformStack, Tokenization } from "cdktf";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { SHIMMED_CDKTF_VERSION, skipPreparingResolve, skipSecondResolve, skipTokenStackTraces, type PreparableStack, type StackTraceModule, type SynthesizableStack } from "../modules/app/cdktf-shims";
import { buildApp } from "../modules/app/build";
import { DEFAULT_CONFIG_PATH, defaultConfig, filesUnder, ROOT, runMainJob } from "./helpers";
import { loadConfigFile } from "../modules/config/load";
import { programDescribe } from "./helpers-programs";


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
    expect(skipTokenStackTraces(SHIMMED_CDKTF_VERSION, target, {})).toMatchObject({ installed: false, reason: expect.stringContaining("is not the function the token stack traces shim was written for") });
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

describe("skipPreparingResolve", () => {
  /** A stand-in for TerraformStack.prototype, with 0.21.0's prepareStack body. */
  function stackLike(): PreparableStack & { calls: string[] } {
    const calls: string[] = [];
    return {
      calls,
      prepareStack(this: { ensureBackendExists(): unknown }) {
        this.ensureBackendExists();
        // A preparing resolve run might add new resources to the stack, e.g. for cross stack references.
        calls.push("resolve every element");
      },
    };
  }

  test("keeps ensuring a backend and drops the resolve, on cdktf 0.21.0 only", () => {
    const target = stackLike();
    expect(skipPreparingResolve(SHIMMED_CDKTF_VERSION, target, {})).toEqual({ installed: true });
    const backends: string[] = [];
    target.prepareStack.call({ ensureBackendExists: () => backends.push("backend") });
    expect([backends, target.calls]).toEqual([["backend"], []]);
    const other = stackLike();
    expect(skipPreparingResolve("0.22.0", other, {})).toMatchObject({ installed: false, reason: expect.stringContaining("cdktf 0.22.0 is installed") });
    other.prepareStack.call({ ensureBackendExists: () => 0 });
    expect(other.calls).toEqual(["resolve every element"]);
  });

  test("refuses another function, and EGRESSLINK_PREPARING_RESOLVE=1 keeps cdktf's", () => {
    const changed: PreparableStack = { prepareStack() {} };
    expect(skipPreparingResolve(SHIMMED_CDKTF_VERSION, changed, {})).toMatchObject({ installed: false, reason: expect.stringContaining("is not the function the preparing resolve shim was written for") });
    expect(skipPreparingResolve(SHIMMED_CDKTF_VERSION, stackLike(), { EGRESSLINK_PREPARING_RESOLVE: "1" })).toMatchObject({ installed: false });
  });

  test("is active in this test run, on the installed cdktf", () => {
    expect(String(require("cdktf").TerraformStack.prototype.prepareStack)).not.toContain("resolve");
  });
});

describe("skipSecondResolve", () => {
  const out = mkdtempSync(join(tmpdir(), "egresslink-second-resolve-"));
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  /** cdktf's own TerraformStack.prototype.toTerraform, from a copy of cdktf this suite's setup did not shim. */
  const original = (): SynthesizableStack["toTerraform"] => {
    let fn: SynthesizableStack["toTerraform"] | undefined;
    jest.isolateModules(() => {
      fn = require("cdktf").TerraformStack.prototype.toTerraform;
    });
    return fn!;
  };
  const resolveAgain = (scope: TerraformStack, value: unknown) => Tokenization.resolve(value, { scope, preparing: false, resolver: new DefaultTokenResolver(new StringConcat()) });

  test("acts on cdktf 0.21.0's toTerraform only, once, and EGRESSLINK_SECOND_RESOLVE=1 keeps cdktf's", () => {
    const cdktfs = { toTerraform: original() };
    expect(String(cdktfs.toTerraform)).toContain("return (0, _tokens_1.resolve)(this, tf);");
    expect(skipSecondResolve("0.21.1", { ...cdktfs }, {})).toMatchObject({ installed: false, reason: expect.stringContaining("cdktf 0.21.1 is installed") });
    expect(skipSecondResolve(SHIMMED_CDKTF_VERSION, { toTerraform: () => ({}) }, {})).toMatchObject({ installed: false, reason: expect.stringContaining("is not the function the second resolve shim was written for") });
    expect(skipSecondResolve(SHIMMED_CDKTF_VERSION, { ...cdktfs }, { EGRESSLINK_SECOND_RESOLVE: "1" })).toMatchObject({ installed: false });
    const target = { ...cdktfs };
    expect(skipSecondResolve(SHIMMED_CDKTF_VERSION, target, {})).toEqual({ installed: true });
    const applied = target.toTerraform;
    expect(applied).not.toBe(cdktfs.toTerraform);
    expect(skipSecondResolve(SHIMMED_CDKTF_VERSION, target, {})).toEqual({ installed: true });
    expect(target.toTerraform).toBe(applied);
    expect(TerraformStack.prototype.toTerraform).toBe(applied);
  });

  test.each([
    ["egress.config.yaml", () => defaultConfig()],
    ["examples/interconnect.yaml", () => loadConfigFile(join(ROOT, "examples", "interconnect.yaml"))],
  ])("%s: every stack it skips is already resolved (resolving it again changes nothing)", (_label, config) => {
    const app = buildApp(config(), out);
    const stacks = app.node.children.filter((c): c is TerraformStack => TerraformStack.isStack(c));
    expect(stacks.length).toBeGreaterThan(2);
    for (const stack of stacks) {
      const tf = stack.toTerraform() as Record<string, any>;
      expect(Object.keys(tf.resource ?? {}).length).toBeGreaterThan(0);
      expect([stack.node.id, resolveAgain(stack, tf)]).toEqual([stack.node.id, tf]);
    }
  });

  test("a stack with stack-level overrides is still resolved after they are merged", () => {
    const stack = new TerraformStack(new App({ outdir: out }), "overridden");
    const bucket = new S3Bucket(stack, "bucket", { bucket: "egresslink-override" });
    stack.addOverride("output.bucket_arn", { value: bucket.arn });
    const tf = stack.toTerraform() as Record<string, any>;
    expect(tf.output.bucket_arn.value).toBe("${aws_s3_bucket.bucket.arn}");
    expect(tf["//"].metadata.overrides).toEqual({ stack: ["output"] });
    expect(tf["//"].metadata).not.toHaveProperty("cloud");
  });
});

programDescribe("the main job with and without the shims", () => {
  const work = mkdtempSync(join(tmpdir(), "egresslink-shim-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const job = (config: string, out: string, env: NodeJS.ProcessEnv) => runMainJob(["--config", config, "--out", out], { cwd: work, env: { ...process.env, ...env } });

  test.each([
    ["egress.config.yaml", DEFAULT_CONFIG_PATH],
    ...readdirSync(join(ROOT, "examples")).filter((f) => f.endsWith(".yaml")).sort().map((f) => [`examples/${f}`, join(ROOT, "examples", f)]),
  ])("%s: every file written is byte for byte the same", async (label, config) => {
    const name = label.replace(/\W+/g, "-");
    const [shimmed, traced] = await Promise.all([
      job(config, join(work, `${name}-shim`), {}),
      job(config, join(work, `${name}-traces`), { EGRESSLINK_TOKEN_STACK_TRACES: "1", EGRESSLINK_PREPARING_RESOLVE: "1", EGRESSLINK_SECOND_RESOLVE: "1" }),
    ]);
    expect([shimmed.code, traced.code]).toEqual([0, 0]);
    expect(shimmed.stderr).not.toMatch(/warning/);
    const files = filesUnder(join(work, `${name}-shim`));
    expect(files).toEqual(filesUnder(join(work, `${name}-traces`)));
    expect(files.filter((f) => f.endsWith("cdk.tf.json")).length).toBeGreaterThan(2);
    for (const file of files) expect([file, readFileSync(join(work, `${name}-shim`, file), "utf8")]).toEqual([file, readFileSync(join(work, `${name}-traces`, file), "utf8")]);
  }, 150_000);
});
