import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { runCli } from "../modules/app/cli";
import { deploySteps } from "../modules/app/summary";
import { Testing } from "cdktf";
import { buildConsumerApp } from "../examples/consumer-app/main";
import { loadConfigFile } from "../modules/config/load";
import { DEFAULT_CONFIG_PATH, ROOT, danglingReferences, defaultConfig, interpolations, referencesIn, synthConfig, type TerraformJson } from "./helpers";

describe("the default app (the seeds' scenario)", () => {
  const { json } = synthConfig(defaultConfig());

  test("has the state, hub core, one port block and four spoke stacks (project-e is external: its team's app deploys it)", () => {
    expect(Object.keys(json).sort()).toEqual(["egress-state", "hub", "hub-ports-3100", "spoke-project-a", "spoke-project-b", "spoke-project-c", "spoke-project-d"]);
  });

  test("every stack requires Terraform 1.11 or later (S3-native locking, use_lockfile, is GA from 1.11)", () => {
    for (const stack of Object.values(json)) expect(stack.terraform).toMatchObject({ required_version: ">= 1.11.0" });
  });

  test.each(["egress-state", "hub", "spoke-project-a", "spoke-project-b", "spoke-project-c", "spoke-project-d"])(
    "every ${...} reference in %s resolves to a block declared in that stack",
    (stack) => {
      const found = interpolations(json[stack]).flatMap((i) => referencesIn(i.expr));
      expect(found.length).toBeGreaterThan(stack === "egress-state" ? 2 : 10);
      expect(danglingReferences(json[stack])).toEqual([]);
    },
  );

  test.each(["hub", "spoke-project-a", "spoke-project-b", "spoke-project-c", "spoke-project-d"])(
    "%s keeps its state in the S3 bucket, encrypted, with S3-native locking",
    (stack) => {
      expect(json[stack].terraform?.backend).toEqual({
        s3: { bucket: "egresslink-tfstate-example", key: `egresslink/${stack}.tfstate`, region: "ap-northeast-1", encrypt: true, use_lockfile: true },
      });
    },
  );

  test("only the bootstrap stack uses a local backend, by a relative path", () => {
    const local = json["egress-state"].terraform?.backend?.local as { path: string };
    expect(Object.keys(json["egress-state"].terraform?.backend ?? {})).toEqual(["local"]);
    expect(isAbsolute(local.path)).toBe(false);
    expect(local.path).toMatch(/(^|\/)terraform\.egress-state\.tfstate$/);
  });

  test("every stack pins the AWS provider and tags everything it creates", () => {
    for (const [name, tf] of Object.entries(json)) {
      expect(tf.terraform?.required_providers).toEqual({ aws: { source: "aws", version: "6.25.0" } });
      expect(tf.provider?.aws[0]).toMatchObject({
        region: "ap-northeast-1",
        default_tags: [{ tags: { Owner: "platform-team", "egresslink:stack": name, "egresslink:managed-by": "egresslink" } }],
      });
    }
  });
});

describe.each(["examples/existing-vpcs.yaml", "examples/cross-account.yaml", "examples/interconnect.yaml"])("%s", (file) => {
  const { json } = synthConfig(loadConfigFile(join(ROOT, file)));
  test("every reference in every stack resolves, and every non-bootstrap stack locks its S3 state", () => {
    for (const [stack, tf] of Object.entries(json)) {
      expect([stack, danglingReferences(tf)]).toEqual([stack, []]);
      if (stack !== "egress-state") expect(tf.terraform?.backend?.s3).toMatchObject({ encrypt: true, use_lockfile: true, key: expect.stringMatching(new RegExp(`/${stack}\\.tfstate$`)) });
    }
  });
});

test("the consumer app's references resolve", () => {
  const { stack } = buildConsumerApp(Testing.app().outdir);
  expect(danglingReferences(JSON.parse(Testing.synth(stack)))).toEqual([]);
});

test("an external spoke gets its resource configuration in its port block but no spoke stack", () => {
  const config = loadConfigFile(join(ROOT, "examples", "existing-vpcs.yaml"));
  const { json } = synthConfig(config);
  expect(json["spoke-team-x"]).toBeUndefined();
  expect(Object.keys(json).filter((s) => s.startsWith("spoke-")).sort()).toEqual(["spoke-billing", "spoke-data-platform", "spoke-sandbox"]);
  const block = json["hub-ports-3100"];
  expect((block.output?.proxy_ports.value as Record<string, number>)["team-x"]).toBe(3131);
  expect(Object.keys(block.output?.resource_configuration_arns.value as object)).toContain("team-x");
});

describe("the reference checker", () => {
  test("reports a reference to an undeclared block, and skips quoted map keys", () => {
    const tf: TerraformJson = {
      resource: { aws_vpc: { main: {} }, aws_subnet: { a: { vpc_id: "${aws_vpc.main.id}", tags: { x: '${lookup(data.terraform_remote_state.hub.outputs.m, "aws_vpc.ghost")}' } } } },
      output: { o: { value: "${aws_vpc.missing.id}" }, p: { value: '${base64encode("#!/bin/sh\\necho \\"${aws_eip.nowhere.public_ip}\\"")}' } },
    };
    expect(danglingReferences(tf)).toEqual([
      "resource.aws_subnet.a.tags.x: data.terraform_remote_state.hub",
      "output.o.value: aws_vpc.missing",
      "output.p.value: aws_eip.nowhere",
    ]);
  });
});

describe("deploy steps", () => {
  test("follow dependencies and reject cycles", () => {
    expect(deploySteps({ hub: ["state"], state: [], "spoke-a": ["hub"], "spoke-b": ["hub"] })).toEqual({ state: 1, hub: 2, "spoke-a": 3, "spoke-b": 3 });
    expect(() => deploySteps({ a: ["b"], b: ["a"] })).toThrow(/cycle: a -> b -> a/);
  });
});

describe("the main job", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "egresslink-cli-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const run = async (argv: string[], env: Record<string, string> = {}) => {
    let stdout = "";
    let stderr = "";
    const code = await runCli(argv, env, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
    return { code, stdout, stderr };
  };

  test("writes every stack and prints stacks, resource counts, spokes and the deploy order", async () => {
    const out = join(dir, "out");
    const { code, stdout } = await run(["--config", DEFAULT_CONFIG_PATH, "--out", out]);
    expect(code).toBe(0);
    expect(readdirSync(join(out, "stacks")).sort()).toEqual(["egress-state", "hub", "hub-ports-3100", "spoke-project-a", "spoke-project-b", "spoke-project-c", "spoke-project-d"]);
    const hub = JSON.parse(readFileSync(join(out, "stacks", "hub", "cdk.tf.json"), "utf8"));
    const hubResources = Object.values(hub.resource as Record<string, object>).reduce((n, byName) => n + Object.keys(byName).length, 0);
    expect(stdout).toMatch(new RegExp(`\\n\\s+2\\s+hub\\s+${hubResources}\\s`));
    expect(stdout).toMatch(/project-c\s+10\.0\.0\.0\/16 \(new\)\s+http:\/\/proxy\.egress\.internal:3130\s+hub's\s+4/);
    // Terraform runs in the stack's directory; the bootstrap state must live outside the output, in the working directory.
    const local = JSON.parse(readFileSync(join(out, "stacks", "egress-state", "cdk.tf.json"), "utf8")).terraform.backend.local.path;
    expect(resolve(out, "stacks", "egress-state", local)).toBe(join(process.cwd(), "terraform.egress-state.tfstate"));
    expect(stdout).toContain("1. cdktf deploy egress-state\n  2. cdktf deploy hub --ignore-missing-stack-dependencies\n  3. cdktf deploy hub-ports-3100 --ignore-missing-stack-dependencies\n  4. cdktf deploy 'spoke-*' --ignore-missing-stack-dependencies\n");
  });

  test("takes the config from EGRESS_CONFIG and the output directory from CDKTF_OUTDIR", async () => {
    const out = join(dir, "from-env");
    expect((await run([], { EGRESS_CONFIG: DEFAULT_CONFIG_PATH, CDKTF_OUTDIR: out })).code).toBe(0);
    expect(existsSync(join(out, "stacks", "hub", "cdk.tf.json"))).toBe(true);
  });

  test("replaces a previous output's generated files, keeps the user's, and leaves no staging directories", async () => {
    const out = join(dir, "out");
    expect((await run(["--config", DEFAULT_CONFIG_PATH, "--out", out])).code).toBe(0);
    writeFileSync(join(out, "notes.txt"), "not generated: carried over");
    expect((await run(["--config", DEFAULT_CONFIG_PATH, "--out", out])).code).toBe(0);
    expect(readFileSync(join(out, "notes.txt"), "utf8")).toBe("not generated: carried over");
    expect(readdirSync(dir)).toEqual(["out"]);
  });

  test("rejects unknown arguments with usage and exit code 2", async () => {
    const { code, stderr } = await run(["--conifg", "x.yaml"]);
    expect(code).toBe(2);
    expect(stderr).toContain('unknown argument "--conifg"');
    expect(stderr).toContain("Usage: egresslink");
  });
});
