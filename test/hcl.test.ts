/**
 * The HCL output (`cdktf synth --hcl`, modules/app/hcl.ts): the same meaning as the JSON output,
 * `terraform fmt` clean, valid Terraform. Meaning is read by `@cdktf/hcl2json` (cdktf-cli's HCL
 * parser) and compared value by value with the JSON.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "@cdktf/hcl2json";
import { Testing } from "cdktf";
import { buildStacks } from "../modules/app/build";
import { stackHcl } from "../modules/app/hcl";
import { loadConfigFile } from "../modules/config/load";
import { DEFAULT_CONFIG_PATH, ROOT, runMainJob } from "./helpers";
import { programDescribe } from "./helpers-programs";
import { MIRROR_AWS_VERSION, PROVIDER_6_ONLY_ARGUMENTS, requireTerraform, runTerraform, terraformEnvironment } from "./helpers-terraform";

/** Keys whose JSON strings are references: hcl2json reports the bare HCL reference as "${ref}". */
const REFERENCE_KEYS = ["provider", "depends_on", "ignore_changes", "replace_triggered_by"];

interface Difference {
  readonly path: string;
  readonly json: unknown;
  readonly hcl: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Where hcl2json's reading of an HCL file differs from the JSON: every leaf compared with `===`.
 * hcl2json gives each block as a list of bodies; the JSON gives a single block as an object, so
 * an object meets a one-item list. JSON comments ("//") have no HCL counterpart.
 */
function differences(json: unknown, hcl: unknown, path = "", reference = false): Difference[] {
  if (isObject(json) && Array.isArray(hcl) && hcl.length === 1) return differences(json, hcl[0], path, reference);
  if (Array.isArray(json)) {
    if (!Array.isArray(hcl) || hcl.length !== json.length) return [{ path, json, hcl }];
    return json.flatMap((item, i) => differences(item, hcl[i], `${path}[${i}]`, reference));
  }
  if (isObject(json)) {
    if (!isObject(hcl)) return [{ path, json, hcl }];
    const keys = new Set([...Object.keys(json), ...Object.keys(hcl)].filter((key) => key !== "//"));
    return [...keys].flatMap((key) => differences(json[key], hcl[key], `${path}.${key}`, reference || REFERENCE_KEYS.includes(key)));
  }
  const read = reference && typeof hcl === "string" ? hcl.replace(/^\$\{(.*)\}$/, "$1") : hcl;
  return json === read ? [] : [{ path, json, hcl }];
}

/** The multi-line strings of a JSON document, by the paths `differences` uses. */
function multiLineStrings(json: unknown, path = ""): { path: string; value: string }[] {
  if (typeof json === "string") return json.includes("\n") ? [{ path, value: json }] : [];
  if (Array.isArray(json)) return json.flatMap((item, i) => multiLineStrings(item, `${path}[${i}]`));
  if (isObject(json)) return Object.entries(json).flatMap(([key, value]) => (key === "//" ? [] : multiLineStrings(value, `${path}.${key}`)));
  return [];
}

const meaning = (hcl: string): Promise<Record<string, unknown>> => parse("cdk.tf", hcl);

/** Expects `stackHcl` to write exactly `expected` (lines), which hcl2json reads as the JSON's meaning. */
async function expectHcl(json: Record<string, unknown>, cdktfHcl: string, expected: readonly string[]): Promise<void> {
  const hcl = stackHcl(json, cdktfHcl);
  expect(hcl).toBe(`${expected.join("\n")}\n`);
  expect(differences(json, await meaning(hcl))).toEqual([]);
}

describe("stackHcl: a stack's JSON as HCL of the same meaning", () => {
  /** An output holding `value`, rendered, and what hcl2json reads back. */
  const output = async (value: string) => {
    const hcl = stackHcl({ output: { v: { value } } }, "");
    const read = (await meaning(hcl)) as { output: { v: { value: unknown }[] } };
    return { hcl, read: read.output.v[0].value };
  };

  test("a string ending in a newline is a heredoc holding exactly that string (cdktf's adds a newline)", async () => {
    const value = '#!/bin/sh\necho "$HOME" \\\n  && true\n';
    const { hcl, read } = await output(value);
    expect(hcl).toBe(`output "v" {\n  value = <<EOT\n${value}EOT\n}\n`);
    expect(read).toBe(value);
  });

  test("a multi-line string without a final newline (which no heredoc holds) is quoted, with escapes", async () => {
    const value = '{\n  "path": "C:\\\\tmp",\n\t"tab": 1\n}';
    const { hcl, read } = await output(value);
    expect(hcl).toContain(String.raw`value = "{\n  \"path\": \"C:\\\\tmp\",\n\t\"tab\": 1\n}"`);
    expect(read).toBe(value);
    // CRLF lines stay quoted too (a heredoc would not keep the \r), and control characters become \u escapes.
    const crlf = await output("a\r\nb\u0001\r\n");
    expect(crlf.hcl).toContain(String.raw`value = "a\r\nb\u0001\r\n"`);
    expect(crlf.read).toBe("a\r\nb\u0001\r\n");
  });

  test("template sequences stay as they are; only the literal text around them is escaped", async () => {
    const value = 'echo "${lookup(var.m, "k\\"}")}" \\ done';
    const { hcl, read } = await output(value);
    expect(hcl).toContain('value = "echo \\"${lookup(var.m, "k\\"}")}\\" \\\\ done"');
    expect(read).toBe(value);
    // Escaped sequences ($${, %%{) and directives are the same in JSON and HCL templates.
    expect(stackHcl({ output: { v: { value: '$${HOME} %%{x} %{if true}"%{endif}' } } }, "")).toContain('value = "$${HOME} %%{x} %{if true}\\"%{endif}"');
  });

  test("a heredoc's marker is one that no line of the string equals (an indented one would end it too)", async () => {
    const value = "a\n  EOT\n";
    const { hcl, read } = await output(value);
    expect(hcl).toContain("value = <<EOT2\na\n  EOT\nEOT2\n");
    expect(read).toBe(value);
  });

  test("a string that is one interpolation is written bare, as terraform fmt writes it; other strings stay templates", async () => {
    const json = { output: { v: { value: ["${aws_vpc.a.id}", "${aws_vpc.a.arn}/*"] } } };
    const hcl = stackHcl(json, "");
    expect(hcl).toContain('value = [\n    aws_vpc.a.id,\n    "${aws_vpc.a.arn}/*",\n  ]');
    expect(differences(json, await meaning(hcl))).toEqual([]);
    // A strip marker (~) is template syntax: such a string stays a template.
    expect(stackHcl({ output: { v: { value: "${~ aws_vpc.a.id}" } } }, "")).toContain('value = "${~ aws_vpc.a.id}"');
  });

  test("keys are nested blocks where cdktf's HCL has blocks of that type (in any instance), attributes otherwise", async () => {
    const json = {
      resource: {
        aws_thing: {
          a: { "//": { metadata: {} }, tags: { Name: "a", "team:owner": "x", for: "y" }, rule: { status: "on" }, statement: [{ sid: "1" }, { sid: "2", condition: { test: "t" } }] },
          b: { tags: {} },
        },
      },
    };
    const cdktf = 'resource "aws_thing" "a" {\ntags = {\nName = "a"\n}\nrule {\nstatus = "on"\n}\nstatement {\nsid = "1"\n}\n}\nresource "aws_thing" "b" {\nstatement {\ncondition {\n}\n}\n}\n';
    await expectHcl(json, cdktf, [
      'resource "aws_thing" "a" {',
      "  tags = {",
      '    Name         = "a"',
      '    "for"        = "y"',
      '    "team:owner" = "x"',
      "  }",
      "  rule {",
      '    status = "on"',
      "  }",
      "  statement {",
      '    sid = "1"',
      "  }",
      "  statement {",
      '    sid = "2"',
      "    condition {",
      '      test = "t"',
      "    }",
      "  }",
      "}",
      "",
      'resource "aws_thing" "b" {',
      "  tags = {}",
      "}",
    ]);
  });

  test("meta-arguments: references bare (cdktf quotes them), pre/postconditions as blocks (cdktf writes a list attribute)", async () => {
    const json = {
      data: { aws_zones: { z: { lifecycle: { postcondition: [{ condition: "${length(self.names) >= 1}", error_message: "too few" }] } } } },
      resource: {
        aws_subnet: {
          s: {
            provider: "aws.west",
            vpc_id: "${aws_vpc.v.id}",
            depends_on: ["aws_vpc.v"],
            lifecycle: { create_before_destroy: true, ignore_changes: ["availability_zone"], precondition: { condition: "${aws_vpc.v.enable_dns_support}", error_message: "no" } },
          },
          t: { lifecycle: { ignore_changes: "all", replace_triggered_by: ["aws_vpc.v.id"] } },
        },
      },
      output: { o: { value: "${aws_subnet.s.id}", depends_on: ["aws_subnet.t"], precondition: [{ condition: "${aws_subnet.t.map_public_ip_on_launch}", error_message: "public" }] } },
    };
    const cdktf = 'data "aws_zones" "z" {\nlifecycle {\n  postcondition = [\n{\ncondition = "${length(self.names) >= 1}"\n},\n]\n}\n}\nresource "aws_subnet" "s" {\nprovider = "aws.west"\n}\n# cdktf writes comments, e.g. on attributes of unexpected types\nresource "aws_subnet" "t" {\n}\n';
    await expectHcl(json, cdktf, [
      'data "aws_zones" "z" {',
      "  lifecycle {",
      "    postcondition {",
      "      condition     = length(self.names) >= 1",
      '      error_message = "too few"',
      "    }",
      "  }",
      "}",
      "",
      'resource "aws_subnet" "s" {',
      "  provider = aws.west",
      "  vpc_id   = aws_vpc.v.id",
      "  depends_on = [",
      "    aws_vpc.v,",
      "  ]",
      "  lifecycle {",
      "    create_before_destroy = true",
      "    ignore_changes = [",
      "      availability_zone,",
      "    ]",
      "    precondition {",
      "      condition     = aws_vpc.v.enable_dns_support",
      '      error_message = "no"',
      "    }",
      "  }",
      "}",
      "",
      'resource "aws_subnet" "t" {',
      "  lifecycle {",
      "    ignore_changes = all",
      "    replace_triggered_by = [",
      "      aws_vpc.v.id,",
      "    ]",
      "  }",
      "}",
      "",
      'output "o" {',
      "  value = aws_subnet.s.id",
      "  depends_on = [",
      "    aws_subnet.t,",
      "  ]",
      "  precondition {",
      "    condition     = aws_subnet.t.map_public_ip_on_launch",
      '    error_message = "public"',
      "  }",
      "}",
    ]);
  });

  test("the terraform block keeps required_version (cdktf writes `0 = \"required_version\"`, which does not parse)", async () => {
    const json = {
      terraform: {
        required_version: ">= 1.11.0",
        required_providers: { aws: { source: "aws", version: "6.25.0" } },
        backend: { s3: { bucket: "b", encrypt: true, use_lockfile: true } },
      },
    };
    await expectHcl(json, 'terraform {\nrequired_providers {\n  aws = {\nversion = "6.25.0"\n}\n}\n\n  0 = "required_version"\n}\n', [
      "terraform {",
      '  required_version = ">= 1.11.0"',
      '  backend "s3" {',
      '    bucket       = "b"',
      "    encrypt      = true",
      "    use_lockfile = true",
      "  }",
      "  required_providers {",
      "    aws = {",
      '      source  = "aws"',
      '      version = "6.25.0"',
      "    }",
      "  }",
      "}",
    ]);
  });

  test("a cloud block (state in HCP Terraform) keeps its workspace block and project", async () => {
    const json = { terraform: { cloud: { hostname: "tfe.example.com", organization: "example-org", workspaces: { name: "egress-hub", project: "networking" } } } };
    await expectHcl(json, "", [
      "terraform {",
      "  cloud {",
      '    hostname     = "tfe.example.com"',
      '    organization = "example-org"',
      "    workspaces {",
      '      name    = "egress-hub"',
      '      project = "networking"',
      "    }",
      "  }",
      "}",
    ]);
  });

  test("= lines up across consecutive one-line attributes and heredocs, as terraform fmt aligns it; blocks and multi-line values break the run", async () => {
    const json = { resource: { t: { n: { a: 1, bbb: "x\n", cc: [1, 2], d: null, eeee: false, f: { g: 1 }, h: "y" } } } };
    await expectHcl(json, 'resource "t" "n" {\nf {\n}\n}\n', [
      'resource "t" "n" {', "  a   = 1", "  bbb = <<EOT", "x", "EOT", "  cc = [", "    1,", "    2,", "  ]", "  d    = null", "  eeee = false", '  h    = "y"', "  f {", "    g = 1", "  }", "}",
    ]);
  });

  test("refuses what it cannot render with the same meaning, and cdktf HCL it cannot read", () => {
    expect(() => stackHcl({ locals: { a: 1 } }, "")).toThrow("cannot render top-level locals");
    expect(() => stackHcl({ terraform: { encryption: {} } }, "")).toThrow("cannot render terraform.encryption");
    expect(() => stackHcl({ resource: { t: { n: { dynamic: {} } } } }, 'resource "t" "n" {\n}\n')).toThrow("cannot render dynamic");
    expect(() => stackHcl({ resource: { t: { n: {} } } }, "")).toThrow("cdktf's HCL has no resource t block");
    expect(() => stackHcl({ resource: { t: { n: { rule: "x" } } } }, 'resource "t" "n" {\nrule {\n}\n}\n')).toThrow('rule: expected an object in the stack\'s JSON, got "x"');
    expect(() => stackHcl({}, 'resource "t" "n" {\nrule {\n}\n')).toThrow("cannot read cdktf's HCL at line 4: a block is not closed");
    expect(() => stackHcl({}, 'resource "t" "n" {\nvalue = <<EOF\nx\n}\n')).toThrow("heredoc EOF is not closed");
  });
});

/** The heredoc content and closing marker lines of fmt-formatted HCL (false), so line edits skip them. */
function codeLines(lines: readonly string[]): boolean[] {
  let marker: string | undefined;
  return lines.map((line) => {
    if (marker) {
      if (line.trim() === marker) marker = undefined;
      return false;
    }
    marker = /<<-?([A-Za-z_][\w-]*)$/.exec(line)?.[1];
    return true;
  });
}

/**
 * The HCL test copy, as helpers-terraform's `terraformCopy` makes the JSON one: the aws provider
 * pinned to the mirror's version, no backend, no PROVIDER_6_ONLY_ARGUMENTS. A line edit on the
 * layout the fmt check holds: a top-level block's items start two spaces in, and a multi-line
 * item (block, list) closes at that indent; heredoc content is never touched.
 */
function validationCopy(hcl: string): string {
  const lines = hcl.split("\n");
  const code = codeLines(lines);
  const removed = new Set<number>();
  const removable = (header: string): string[] => {
    if (header === "terraform {") return ["backend"];
    const type = /^resource "([^"]+)"/.exec(header)?.[1];
    return PROVIDER_6_ONLY_ARGUMENTS.filter((a) => a.resourceType === type).map((a) => a.argument);
  };
  let header = "";
  for (let i = 0; i < lines.length; i++) {
    if (!code[i]) continue;
    if (/^\S/.test(lines[i])) header = lines[i];
    const name = /^ {2}([\w-]+)[ ={]/.exec(lines[i])?.[1];
    if (!name || !removable(header).includes(name)) continue;
    let end = i + 1;
    if (/[{[]$/.test(lines[i])) {
      while (!code[end] || !["  }", "  ]"].includes(lines[end])) end++;
    } else {
      while (!code[end]) end++;
      end--;
    }
    for (let j = i; j <= end; j++) removed.add(j);
    i = end;
  }
  // The first `version =` is the aws provider's: the terraform block comes first, with one provider.
  return lines
    .filter((_, i) => !removed.has(i))
    .join("\n")
    .replace(/^(\s+version\s*=\s*)"[^"]*"/m, `$1"${MIRROR_AWS_VERSION}"`);
}

programDescribe("the main job's HCL output (SYNTH_HCL_OUTPUT=true, as `cdktf synth --hcl` sets it)", () => {
  const CONFIGS = { default: DEFAULT_CONFIG_PATH, interconnect: join(ROOT, "examples", "interconnect.yaml") };
  let root: string;
  const runs: Record<string, { hcl: Awaited<ReturnType<typeof runMainJob>>; json: Awaited<ReturnType<typeof runMainJob>> }> = {};
  /** Every stack: its label, its cdk.tf and the JSON synthesized from the same config. */
  const stacks: { label: string; file: string; hcl: string; json: Record<string, unknown> }[] = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "egresslink-hcl-"));
    const { SYNTH_HCL_OUTPUT: _, ...jsonEnv } = process.env;
    await Promise.all(
      Object.entries(CONFIGS).map(async ([name, config]) => {
        const [hcl, json] = await Promise.all([
          runMainJob(["--config", config, "--out", join(root, name, "hcl")], { env: { ...jsonEnv, SYNTH_HCL_OUTPUT: "true" } }),
          runMainJob(["--config", config, "--out", join(root, name, "json")], { env: jsonEnv }),
        ]);
        runs[name] = { hcl, json };
        const stacksDir = join(root, name, "hcl", "stacks");
        for (const stack of readdirSync(stacksDir)) {
          const file = join(stacksDir, stack, "cdk.tf");
          const jsonFile = join(root, name, "json", "stacks", stack, "cdk.tf.json");
          stacks.push({ label: `${name}/${stack}`, file, hcl: readFileSync(file, "utf8"), json: JSON.parse(readFileSync(jsonFile, "utf8")) });
        }
      }),
    );
    stacks.sort((a, b) => a.label.localeCompare(b.label));
  }, 120_000);

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test("the main job exits 0 in both modes, and writes cdk.tf (not cdk.tf.json) for every stack in HCL mode", () => {
    for (const [name, run] of Object.entries(runs)) {
      expect({ name, mode: "json", ...run.json }).toMatchObject({ code: 0 });
      expect({ name, mode: "hcl", ...run.hcl }).toMatchObject({ code: 0 });
      // The hub's folder also holds its state commands for hubs of 0.1 (split-state.sh).
      for (const stack of readdirSync(join(root, name, "hcl", "stacks"))) {
        const files = readdirSync(join(root, name, "hcl", "stacks", stack)).sort();
        expect([stack, files]).toEqual([stack, stack === "hub" ? ["cdk.tf", "metadata.json", "split-state.sh"] : ["cdk.tf", "metadata.json"]]);
      }
    }
    expect(stacks.map((s) => s.label)).toEqual([
      "default/egress-state",
      "default/hub",
      "default/hub-ports-3100",
      "default/spoke-project-a",
      "default/spoke-project-b",
      "default/spoke-project-c",
      "default/spoke-project-d",
      "interconnect/egress-state",
      "interconnect/hub",
      "interconnect/interconnect",
    ]);
  });

  test("every cdk.tf is terraform fmt clean", async () => {
    requireTerraform();
    const env = terraformEnvironment(root);
    const checks = await Promise.all(stacks.map(async (s) => ({ label: s.label, ...(await runTerraform(["fmt", "-check", "-diff", "-no-color", s.file], root, env)) })));
    expect(checks.filter((c) => !c.ok)).toEqual([]);
  });

  test("every cdk.tf means what the JSON output means: every value, every multi-line string byte for byte", async () => {
    const read = await Promise.all(stacks.map(async (s) => ({ label: s.label, drift: differences(s.json, await meaning(s.hcl)) })));
    expect(read.filter((r) => r.drift.length)).toEqual([]);
    // The comparison covered both forms a multi-line string takes: heredocs and quoted strings with \n.
    expect(stacks.flatMap((s) => multiLineStrings(s.json)).length).toBeGreaterThan(10);
    expect(stacks.some((s) => s.hcl.includes("<<EOT\n"))).toBe(true);
    expect(stacks.some((s) => /= "[^\n]*\\n/.test(s.hcl))).toBe(true);
  });

  test("control: cdktf's own HCL does not parse, and without its bad line shows the heredoc drift in the same comparison", async () => {
    const app = Testing.app({ stackTraces: false });
    const built = buildStacks(app, loadConfigFile(DEFAULT_CONFIG_PATH));
    const spoke = built.spokes[0];
    const raw = Testing.synthHcl(spoke) as string;
    await expect(meaning(raw)).rejects.toThrow("Argument or block definition required");
    const json = stacks.find((s) => s.label === `default/${spoke.node.id}`)!.json;
    const drift = differences(json, await meaning(raw.replace(/^ {2}0 = "required_version"\n/m, "")));
    const multiLine = multiLineStrings(json);
    expect(multiLine.length).toBeGreaterThan(3);
    expect(drift).toEqual([
      ...multiLine.map(({ path, value }) => ({ path, json: value, hcl: `${value}\n` })),
      { path: ".terraform.required_version", json: ">= 1.11.0", hcl: undefined },
    ]);
  });

  test("every cdk.tf passes terraform validate (test copy: aws 5.100.0 from the mirror, no backend, no 6.x-only arguments)", async () => {
    requireTerraform();
    // One root with each stack's copy as a module: the provider's schema (seconds to load) is
    // loaded once, not per stack, and each diagnostic still names its stack's folder.
    const dir = join(root, "validate");
    for (const s of stacks) {
      mkdirSync(join(dir, s.label), { recursive: true });
      writeFileSync(join(dir, s.label, "main.tf"), validationCopy(s.hcl));
    }
    writeFileSync(join(dir, "main.tf"), stacks.map((s) => `module "${s.label.replace("/", "_")}" {\n  source = "./${s.label}"\n}\n`).join("\n"));
    const env = terraformEnvironment(root);
    const init = await runTerraform(["init", "-backend=false", "-input=false", "-no-color"], dir, env);
    expect(init).toMatchObject({ ok: true });
    const validate = await runTerraform(["validate", "-no-color"], dir, env);
    expect(validate).toEqual({ ok: true, output: "Success! The configuration is valid.\n\n" });
  }, 60_000);
});
