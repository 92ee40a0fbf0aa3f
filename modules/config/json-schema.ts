import { z } from "zod";
import { configSchema, EXTENSION_KEY_PREFIX } from "./schema";

/**
 * The config's JSON Schema, for editors (`# yaml-language-server: $schema=...`). Generated from
 * the zod schema and committed as egress.config.schema.json; a test keeps the two equal.
 * Rules spanning fields (unique ports, subnets inside the VPC, ...) are checked only by egresslink.
 */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configSchema, { io: "input", target: "draft-2020-12" }),
    // Top-level x-... keys hold YAML anchors for `<<:` merges; egresslink ignores them.
    patternProperties: { [`^${EXTENSION_KEY_PREFIX}`]: {} },
    $id: "https://github.com/egresslink/egresslink/egress.config.schema.json",
    title: "egresslink config",
  };
}
