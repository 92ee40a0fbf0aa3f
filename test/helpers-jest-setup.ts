import { Testing } from "cdktf";
import { applyCdktfShims } from "../modules/app/cdktf-shims";

Testing.setupJest();
// The suites synthesize as the main job does: with its cdktf shims (loudly, or not at all).
const problems = applyCdktfShims();
if (problems.length > 0) throw new Error(problems.join("; "));
