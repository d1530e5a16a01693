// driftwatch.yaml's JSON Schema, derived from the zod schema so the two cannot disagree. Editors use it for
// completion and validation (e.g. `# yaml-language-server: $schema=./driftwatch.schema.json` at the top of the file).
// write-json-schema.ts writes it to driftwatch.schema.json; a test keeps that file in sync.
import { z } from "zod";
import { configFileSchema } from "./schema.ts";

export const CONFIG_SCHEMA_ID = "urn:driftwatch:schema:driftwatch.yaml";

/** The JSON Schema (draft 2020-12) of driftwatch.yaml as people write it (defaulted keys are optional). */
export function configJsonSchema(): Record<string, unknown> {
  const { $schema, ...rest } = z.toJSONSchema(configFileSchema, { target: "draft-2020-12", io: "input" });
  return { $schema, $id: CONFIG_SCHEMA_ID, title: "Driftwatch configuration", ...rest };
}
