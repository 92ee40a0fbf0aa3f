/** Regenerates egress.config.schema.json from the config schema (`npm run schema`). */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { configJsonSchema } from "../modules/config/json-schema";

writeFileSync(join(__dirname, "..", "egress.config.schema.json"), `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
