/**
 * cdktf 0.21 records a complete stack trace (`Error.stackTraceLimit = MAX_SAFE_INTEGER`, source-
 * mapped when run through tsx) for every token it creates - thousands per stack - and reads it only
 * to print where a token was made when resolving it fails. `stackTraces: false` does not stop it,
 * and cdktf is archived, so no upstream fix comes. Profiled at 200 spokes it was ~41% of synthesis.
 * This replaces that one function with one that records nothing. Synthesized output is unchanged
 * (test/token-stack-traces.test.ts compares it byte for byte); only token error messages lose the
 * "created at" lines. EGRESSLINK_TOKEN_STACK_TRACES=1 keeps cdktf's behaviour for debugging.
 */

/** The cdktf release whose `tokens/private/stack-trace.js` this was written against. */
export const SHIMMED_CDKTF_VERSION = "0.21.0";

/** What cdktf's module exports, as far as the shim touches it. */
export interface StackTraceModule {
  captureStackTrace: (below?: unknown) => string[];
}

/** Whether the shim was installed, and if not, why. */
export type ShimResult = { readonly installed: true } | { readonly installed: false; readonly reason: string };

const noStackTrace = (): string[] => [];

/**
 * Stops cdktf capturing a stack trace per token, if the installed cdktf is the release this was
 * written for and its function is the one expected; otherwise changes nothing and says why.
 */
export function skipTokenStackTraces(
  cdktfVersion: string = require("cdktf/package.json").version,
  target: StackTraceModule = require("cdktf/lib/tokens/private/stack-trace"),
  env: NodeJS.ProcessEnv = process.env,
): ShimResult {
  if (env.EGRESSLINK_TOKEN_STACK_TRACES === "1") return { installed: false, reason: "EGRESSLINK_TOKEN_STACK_TRACES=1 keeps cdktf's token stack traces" };
  if (target.captureStackTrace === noStackTrace) return { installed: true };
  if (cdktfVersion !== SHIMMED_CDKTF_VERSION) {
    return { installed: false, reason: `the token stack-trace shim was written for cdktf ${SHIMMED_CDKTF_VERSION}, and cdktf ${cdktfVersion} is installed: not applied (synthesis is slower; check the shim against this release)` };
  }
  if (typeof target.captureStackTrace !== "function" || !String(target.captureStackTrace).includes("Error.captureStackTrace(object, below)")) {
    return { installed: false, reason: `cdktf ${cdktfVersion}'s captureStackTrace is not the function the shim was written for: not applied` };
  }
  // Callers read it through the module object at each call (`(0, stack_trace_1.captureStackTrace)()`), so replacing the export reaches them all.
  target.captureStackTrace = noStackTrace;
  return { installed: true };
}
