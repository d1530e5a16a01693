// Writes driftwatch.schema.json at the repository root: `node src/config/write-json-schema.ts`.
// Run it after changing src/config/schema.ts (src/config/json-schema.spec.ts fails until the file is current).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../toolchain/paths.ts";
import { configJsonSchema } from "./json-schema.ts";

/** Where the schema is published: next to driftwatch.yaml. */
export const jsonSchemaPath = join(repoRoot, "driftwatch.schema.json");

/** The file's exact text: pretty JSON and a trailing newline. */
export function jsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}

/** Writes the schema file and returns its path. */
export function writeJsonSchema(path: string = jsonSchemaPath): string {
  writeFileSync(path, jsonSchemaText());
  return path;
}

if (import.meta.main) {
  process.stdout.write(`wrote ${writeJsonSchema()}\n`);
}
