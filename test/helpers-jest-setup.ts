import { Testing } from "cdktf";
import { skipTokenStackTraces } from "../modules/app/token-stack-traces";

Testing.setupJest();
// The suites synthesize as the main job does: without a stack trace per token (loudly, or not at all).
const shim = skipTokenStackTraces();
if (!shim.installed && process.env.EGRESSLINK_TOKEN_STACK_TRACES !== "1") throw new Error(shim.reason);
