// Writes docs/configuration.md: `node src/config/write-config-reference.ts`. Run it after changing
// src/config/schema.ts (src/config/config-reference.spec.ts fails until the file is current).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../toolchain/paths.ts";
import { configReference } from "./config-reference.ts";

export const configReferencePath = join(repoRoot, "docs", "configuration.md");

if (import.meta.main) {
  writeFileSync(configReferencePath, configReference());
  process.stdout.write(`wrote ${configReferencePath}\n`);
}
