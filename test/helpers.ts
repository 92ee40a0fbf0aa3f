import { spawn } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { Testing } from "cdktf";
import { parse, stringify } from "yaml";
import { buildStacks, type EgressStacks } from "../modules/app/build";
import { ConfigError } from "../modules/config/errors";
import { parseConfigText } from "../modules/config/load";
import type { EgressConfig } from "../modules/config/model";
import { HUB_PORTS_STACK_PREFIX } from "../modules/core/stack-names";
import { assembleSquidConf } from "../modules/proxy/squid-conf";

export const ROOT = join(__dirname, "..");

/** Every file under `dir`, relative to it, sorted. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .map((path) => relative(dir, path))
    .sort();
}
export const DEFAULT_CONFIG_PATH = join(ROOT, "egress.config.yaml");

/** A Terraform JSON document as cdktf writes it. */
export interface TerraformJson {
  terraform?: { backend?: Record<string, Record<string, unknown>>; cloud?: Record<string, unknown>; required_providers?: Record<string, unknown> };
  provider?: Record<string, Record<string, unknown>[]>;
  resource?: Record<string, Record<string, Record<string, unknown>>>;
  data?: Record<string, Record<string, Record<string, unknown>>>;
  output?: Record<string, { value: unknown; description?: string; sensitive?: boolean }>;
  variable?: Record<string, unknown>;
  locals?: Record<string, unknown>;
}

/** The default config file as plain data, for tests to edit. */
export function defaultConfigData(): Record<string, any> {
  return parse(readFileSync(DEFAULT_CONFIG_PATH, "utf8"));
}

/** The ConfigError `fn` throws; fails the test if it throws anything else or nothing. */
export function captureConfigError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

export function configFrom(data: unknown): EgressConfig {
  return parseConfigText(stringify(data), "test.yaml");
}

export function defaultConfig(): EgressConfig {
  return configFrom(defaultConfigData());
}

/** The default config with its state in HCP Terraform workspaces instead of S3. */
export function defaultCloudConfig(): EgressConfig {
  return configFrom({ ...defaultConfigData(), state: { backend: "cloud", organization: "example-org", project: "networking" } });
}

/** A config with `n` spokes, each with its own allow-list, on one hub. */
export function manySpokesConfig(n: number): EgressConfig {
  const data = defaultConfigData();
  data.hub.proxy.connectPorts = [443, 8443];
  data.spokes = generatedSpokes(n);
  return configFrom(data);
}

/** `n` spokes (project-000, ...) on consecutive ports, each with two allow-list entries of its own. */
export function generatedSpokes(n: number): Record<string, { port: number; cidr: string; allowedDomains: string[] }> {
  return Object.fromEntries(
    Array.from({ length: n }, (_, i) => [`project-${String(i).padStart(3, "0")}`, { port: 3128 + i, cidr: "10.0.0.0/16", allowedDomains: [`.team${i}.example.com`, `api.vendor${i}.example.net`] }]),
  );
}


export interface Synthesized {
  readonly stacks: EgressStacks;
  /** Parsed cdk.tf.json per stack name. */
  readonly json: Record<string, TerraformJson>;
  /** `Testing.synth` output per stack name, for the cdktf matchers. */
  readonly text: Record<string, string>;
}

/** Builds every stack of `config` in a test app and synthesizes each. */
export function synthConfig(config: EgressConfig): Synthesized {
  const app = Testing.app({ stackTraces: false });
  const stacks = buildStacks(app, config);
  const all = [stacks.state, stacks.hub, ...stacks.portBlocks, ...stacks.spokes, stacks.interconnect].filter((s) => s !== undefined);
  const text = Object.fromEntries(all.map((s) => [s.node.id, Testing.synth(s)]));
  const json = Object.fromEntries(Object.entries(text).map(([k, v]) => [k, JSON.parse(v) as TerraformJson]));
  return { stacks, json, text };
}

/** The reference a port-block stack makes to one of the hub core's outputs (through its remote state). */
export function coreOutput(tf: TerraformJson, name: string): string {
  const states = Object.keys(tf.data?.terraform_remote_state ?? {});
  if (states.length !== 1) throw new Error(`expected one remote state, found ${states.length}`);
  return `\${data.terraform_remote_state.${states[0]}.outputs.${name}}`;
}

/** The blocks of one resource type in a stack, by Terraform name. */
export function resources(tf: TerraformJson, type: string): Record<string, Record<string, any>> {
  return (tf.resource?.[type] ?? {}) as Record<string, Record<string, any>>;
}

/**
 * Whether a Terraform name belongs to the construct at `pathSuffix` (e.g. `hub/network`):
 * cdktf names nested constructs by their path segments joined with `_`, plus a hash.
 */
function namedFor(name: string, pathSuffix: string): boolean {
  const path = name.replace(/_[0-9A-F]{8}$/, "");
  const suffix = pathSuffix.replace(/\//g, "_");
  return path === suffix || path.endsWith(`_${suffix}`);
}

/** The Terraform reference (`type.name`) of the only resource of `type` at `pathSuffix`. */
export function addressAt(tf: TerraformJson, type: string, pathSuffix: string): string {
  const names = Object.keys(resources(tf, type)).filter((n) => namedFor(n, pathSuffix));
  if (names.length !== 1) throw new Error(`expected one ${type} at */${pathSuffix}, found ${names.length}: ${Object.keys(resources(tf, type)).join(", ")}`);
  return `${type}.${names[0]}`;
}

/** The only block of a resource type whose construct path ends with `pathSuffix`. */
export function resourceAt(tf: TerraformJson, type: string, pathSuffix: string): Record<string, any> {
  return resources(tf, type)[addressAt(tf, type, pathSuffix).slice(type.length + 1)];
}

/** Every `${...}` expression in any string of `value`, with the JSON path where it was found. */
export function interpolations(value: unknown, path = ""): { path: string; expr: string }[] {
  if (typeof value === "string") return extractExpressions(value).map((expr) => ({ path, expr }));
  if (Array.isArray(value)) return value.flatMap((v, i) => interpolations(v, `${path}[${i}]`));
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => interpolations(v, path ? `${path}.${k}` : k));
  return [];
}

/** Every `${...}` expression in a string; templates nested in one are left inside it. */
export function extractExpressions(text: string): string[] {
  const found: string[] = [];
  let start = text.indexOf("${");
  while (start !== -1) {
    let depth = 0;
    let end = text.length;
    for (let i = start + 1; i < text.length; i++) {
      if (text[i] === "{") depth++;
      else if (text[i] === "}" && --depth === 0) {
        found.push(text.slice(start + 2, i));
        end = i;
        break;
      }
    }
    // Templates nested in this one are searched by referencesIn, not here.
    start = text.indexOf("${", end);
  }
  return found;
}

/** A reference inside an expression to a block of the same document. */
export interface Reference {
  readonly kind: "resource" | "data" | "var" | "local";
  readonly type?: string;
  readonly name: string;
}

/**
 * References in an HCL expression. Quoted strings are not code (map keys are not references),
 * but the `${...}` templates inside them are, so those are searched in turn.
 */
export function referencesIn(expr: string): Reference[] {
  const nested: Reference[] = [];
  const code = expr.replace(/"((?:[^"\\]|\\.)*)"/g, (_m, body: string) => {
    for (const inner of extractExpressions(body.replace(/\\"/g, '"'))) nested.push(...referencesIn(inner));
    return '""';
  });
  const refs: Reference[] = [...nested];
  for (const m of code.matchAll(/(?<![\w.])(data\.)?([a-z][a-z0-9_]*)\.([A-Za-z_][\w-]*)/g)) {
    const [, isData, first, second] = m;
    if (isData) refs.push({ kind: "data", type: first, name: second });
    else if (first === "var") refs.push({ kind: "var", name: second });
    else if (first === "local") refs.push({ kind: "local", name: second });
    else if (first === "self") continue; // the block itself, in its own postconditions

    else if (/^aws_|^terraform_|^null_|^random_|^tls_/.test(first)) refs.push({ kind: "resource", type: first, name: second });
    else throw new Error(`unrecognised reference root "${first}" in \${${expr}}`);
  }
  return refs;
}

/** References in `tf` that point at no block declared in `tf`, as readable strings. */
export function danglingReferences(tf: TerraformJson): string[] {
  const dangling: string[] = [];
  for (const { path, expr } of interpolations(tf)) {
    for (const ref of referencesIn(expr)) {
      const ok =
        ref.kind === "resource" ? tf.resource?.[ref.type!]?.[ref.name] !== undefined
        : ref.kind === "data" ? tf.data?.[ref.type!]?.[ref.name] !== undefined
        : ref.kind === "var" ? (tf.variable as Record<string, unknown> | undefined)?.[ref.name] !== undefined
        : (tf.locals as Record<string, unknown> | undefined)?.[ref.name] !== undefined;
      if (!ok) dangling.push(`${path}: ${ref.kind === "data" ? "data." : ""}${ref.type ?? ref.kind}.${ref.name}`);
    }
  }
  return dangling;
}

/** Router endpoints for tests: documentation addresses, made-up keys and their parameters. */
export const TEST_ENDPOINTS = {
  localAddress: "192.0.2.10",
  publicIp: "198.51.100.20",
  tunnels: [
    { outsideAddress: "203.0.113.1", presharedKey: "Example.Psk_1", presharedKeyParameter: "/egresslink/egress/interconnect/site-a/tunnel1-psk" },
    { outsideAddress: "203.0.113.2", presharedKey: "Example.Psk_2", presharedKeyParameter: "/egresslink/egress/interconnect/site-a/tunnel2-psk" },
  ],
} as const;

/** The deployed network of a test router: the ENI's MAC, its subnet (192.0.2.0/24, gateway .1) and the site VPC. */
export const TEST_ROUTER_NETWORK = {
  region: "ap-southeast-1",
  eniTag: "egress-site-a-router",
  eniMac: "0a:1b:2c:3d:4e:5f",
  routerSubnetCidr: "192.0.2.0/24",
  vpcCidr: "10.0.1.0/24",
  groupName: "egress-site-a-router",
} as const;

/**
 * The squid.conf a synthesized hub delivers, as the proxies assemble it: the core's base object and
 * each port-block stack's fragment, in block order, as Terraform reads them (the JSON escapes
 * their template sequences).
 */
export function deliveredSquidConf(stacks: Readonly<Record<string, TerraformJson>>): string {
  const unescape = (content: unknown) => String(content).replace(/\$\$\{/g, "${").replace(/%%\{/g, "%{");
  const blocks = Object.keys(stacks)
    .filter((name) => name.startsWith(HUB_PORTS_STACK_PREFIX))
    .sort((a, b) => Number(a.slice(HUB_PORTS_STACK_PREFIX.length)) - Number(b.slice(HUB_PORTS_STACK_PREFIX.length)));
  const fragments = blocks.map((name) => unescape(resourceAt(stacks[name], "aws_s3_object", `ports-${name.slice(HUB_PORTS_STACK_PREFIX.length)}/config`).content));
  return assembleSquidConf(unescape(resourceAt(stacks.hub, "aws_s3_object", "proxy/config-bucket/squid-conf").content), fragments);
}

/**
 * Runs the main job as a process: from source through tsx (by absolute URL, so any `cwd` works)
 * or, with `compiled`, dist/main.js as `npm run synth` runs it (build it first: `buildDist`).
 */
export function runMainJob(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; compiled?: boolean; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string; seconds: number }> {
  const job = options.compiled ? [join(ROOT, "dist", "main.js")] : ["--import", pathToFileURL(require.resolve("tsx", { paths: [ROOT] })).href, join(ROOT, "main.ts")];
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...job, ...args], { cwd: options.cwd ?? ROOT, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, seconds: (Date.now() - started) / 1000 });
    });
  });
}
