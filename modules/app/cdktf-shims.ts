/**
 * Three costs cdktf 0.21 pays on every synth that egresslink's stacks do not need, each replaced
 * only on the cdktf release and function it was written for (otherwise: a reason, and no change).
 * Synthesized output is unchanged (test/cdktf-shims.test.ts compares it byte for byte).
 *
 * - Token stack traces: cdktf records a complete stack trace (`Error.stackTraceLimit =
 *   MAX_SAFE_INTEGER`, source-mapped under tsx) for every token it creates - thousands per stack -
 *   only to print where a token was made when resolving it fails. `stackTraces: false` does not
 *   stop it, and cdktf is archived. Profiled at 200 spokes: ~41% of synthesis. Only token error
 *   messages lose their "created at" lines. EGRESSLINK_TOKEN_STACK_TRACES=1 keeps them.
 * - The preparing resolve: `TerraformStack.prepareStack` resolves every element once before
 *   synthesis, only to find cross-stack references (which it turns into remote-state data sources
 *   and outputs). egresslink's stacks read each other only through remote state they declare
 *   themselves. Profiled at 1,000 spokes: 17.4 s -> 15.4 s. EGRESSLINK_PREPARING_RESOLVE=1 keeps it.
 * - The second resolve: `TerraformStack.toTerraform` resolves each element, merges them, then
 *   resolves the merged stack again, although only stack-level overrides (`stack.addOverride`)
 *   can still hold tokens by then. The replacement resolves the merged stack again only when the
 *   stack has such overrides (egresslink's have none). Profiled at 1,000 spokes: about a quarter
 *   of synthesis. EGRESSLINK_SECOND_RESOLVE=1 keeps it.
 */
import { DefaultTokenResolver, StringConcat, TerraformElement, TerraformOutput, TerraformStack, Tokenization } from "cdktf";
import type { IConstruct } from "constructs";

/** The cdktf release whose functions these were written against. */
export const SHIMMED_CDKTF_VERSION = "0.21.0";

/** Whether a shim was installed, and if not, why. */
export type ShimResult = { readonly installed: true } | { readonly installed: false; readonly reason: string };

/** cdktf's `tokens/private/stack-trace` module, as far as the shim touches it. */
export interface StackTraceModule {
  captureStackTrace: (below?: unknown) => string[];
}

/** `TerraformStack.prototype`, as far as the shim touches it. */
export interface PreparableStack {
  prepareStack: (this: { ensureBackendExists(): unknown }) => void;
}

/** `TerraformStack.prototype`, as far as the second-resolve shim touches it. */
export interface SynthesizableStack {
  toTerraform: (this: TerraformStack) => unknown;
}

interface Shim<T, K extends keyof T> {
  readonly what: string;
  readonly optOut: string;
  readonly target: T;
  readonly key: K;
  /** A line of the original function's source: how the shim knows it is the function it was written for. */
  readonly expected: string;
  readonly replacement: T[K];
}

/** Replaces `target[key]` if the release, the function and the environment allow; says why not otherwise. */
function install<T, K extends keyof T>(shim: Shim<T, K>, cdktfVersion: string, env: NodeJS.ProcessEnv): ShimResult {
  if (env[shim.optOut] === "1") return { installed: false, reason: `${shim.optOut}=1 keeps cdktf's ${shim.what}` };
  if (shim.target[shim.key] === shim.replacement) return { installed: true };
  if (cdktfVersion !== SHIMMED_CDKTF_VERSION) {
    return { installed: false, reason: `the ${shim.what} shim was written for cdktf ${SHIMMED_CDKTF_VERSION}, and cdktf ${cdktfVersion} is installed: not applied (synthesis is slower; check the shim against this release)` };
  }
  const original = shim.target[shim.key];
  if (typeof original !== "function" || !String(original).includes(shim.expected)) {
    return { installed: false, reason: `cdktf ${cdktfVersion}'s ${String(shim.key)} is not the function the ${shim.what} shim was written for: not applied` };
  }
  shim.target[shim.key] = shim.replacement;
  return { installed: true };
}

const installedVersion = (): string => require("cdktf/package.json").version;
const noStackTrace = (): string[] => [];
function prepareWithoutResolve(this: { ensureBackendExists(): unknown }): void {
  this.ensureBackendExists();
}

/** cdktf's own `deepMerge` (util.js), which `toTerraform` merges with: `undefined` deletes, arrays concatenate. */
const deepMerge: (target: object, source: object) => object = require("cdktf/lib/util").deepMerge;
const resolver = new DefaultTokenResolver(new StringConcat());

/** The Terraform elements of `scope` and its children, in construct order, not descending into other stacks. */
function elementsOf(scope: IConstruct, into: TerraformElement[] = []): TerraformElement[] {
  if (TerraformElement.isTerraformElement(scope)) into.push(scope);
  for (const child of scope.node.children) if (!TerraformStack.isStack(child)) elementsOf(child, into);
  return into;
}

/** cdktf 0.21.0's `TerraformStack.toTerraform`, resolving the merged stack again only when it has stack-level overrides. */
function toTerraformResolvingOnce(this: TerraformStack): unknown {
  const resolve = (value: unknown): Record<string, unknown> => Tokenization.resolve(value, { scope: this, preparing: false, resolver });
  // Private in cdktf's typings; read as its toTerraform reads them.
  const { rawOverrides: overrides, cdktfVersion } = this as unknown as { rawOverrides: Record<string, unknown>; cdktfVersion: string };
  const overridden = Object.keys(overrides).length > 0;
  const metadata = {
    version: cdktfVersion,
    stackName: this.node.id,
    backend: "local",
    cloud: undefined,
    ...(overridden ? { overrides: { stack: Object.keys(overrides) } } : {}),
  };
  const elements = elementsOf(this);
  for (const meta of elements.map((e) => resolve(e.toMetadata()))) deepMerge(metadata, meta);
  const outputs = {};
  for (const output of elements.filter((e) => TerraformOutput.isTerraformOutput(e))) {
    deepMerge(outputs, output.node.path.split("/").reduceRight<object>((inner, part) => ({ [part]: Object.keys(inner).length === 0 ? output.friendlyUniqueId : inner }), {}));
  }
  const tf: Record<string, unknown> = { "//": { metadata, outputs } };
  for (const fragment of elements.map((e) => resolve(e.toTerraform()))) deepMerge(tf, fragment);
  deepMerge(tf, overrides);
  if (overridden) return resolve(tf);
  // The fragments are resolved; what the second resolve still did to the rest was drop `undefined` (metadata.cloud).
  return { ...tf, "//": resolve(tf["//"]) };
}

/** Stops cdktf capturing a stack trace per token. */
export function skipTokenStackTraces(
  cdktfVersion: string = installedVersion(),
  target: StackTraceModule = require("cdktf/lib/tokens/private/stack-trace"),
  env: NodeJS.ProcessEnv = process.env,
): ShimResult {
  // Callers read it through the module object at each call (`(0, stack_trace_1.captureStackTrace)()`), so replacing the export reaches them all.
  return install({ what: "token stack traces", optOut: "EGRESSLINK_TOKEN_STACK_TRACES", target, key: "captureStackTrace", expected: "Error.captureStackTrace(object, below)", replacement: noStackTrace }, cdktfVersion, env);
}

/** Stops `TerraformStack.prepareStack` resolving every element before synthesis; it still ensures a backend. */
export function skipPreparingResolve(
  cdktfVersion: string = installedVersion(),
  target: PreparableStack = TerraformStack.prototype,
  env: NodeJS.ProcessEnv = process.env,
): ShimResult {
  return install({ what: "preparing resolve", optOut: "EGRESSLINK_PREPARING_RESOLVE", target, key: "prepareStack", expected: "A preparing resolve run might add new resources", replacement: prepareWithoutResolve }, cdktfVersion, env);
}

/** Makes `TerraformStack.toTerraform` resolve the merged stack again only when it has stack-level overrides. */
export function skipSecondResolve(
  cdktfVersion: string = installedVersion(),
  target: SynthesizableStack = TerraformStack.prototype,
  env: NodeJS.ProcessEnv = process.env,
): ShimResult {
  return install({ what: "second resolve", optOut: "EGRESSLINK_SECOND_RESOLVE", target, key: "toTerraform", expected: "(0, util_1.deepMerge)(tf, this.rawOverrides);\n        return (0, _tokens_1.resolve)(this, tf);", replacement: toTerraformResolvingOnce }, cdktfVersion, env);
}

/** All three shims; the reasons of those not installed (an opt-out is not reported). */
export function applyCdktfShims(env: NodeJS.ProcessEnv = process.env): string[] {
  const results: [string, ShimResult][] = [
    ["EGRESSLINK_TOKEN_STACK_TRACES", skipTokenStackTraces(undefined, undefined, env)],
    ["EGRESSLINK_PREPARING_RESOLVE", skipPreparingResolve(undefined, undefined, env)],
    ["EGRESSLINK_SECOND_RESOLVE", skipSecondResolve(undefined, undefined, env)],
  ];
  return results.flatMap(([optOut, r]) => (r.installed || env[optOut] === "1" ? [] : [r.reason]));
}
