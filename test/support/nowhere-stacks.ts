// Stacks whose repository is nowhere: for tests of what the service and the reports show about stacks (the
// dashboard, /metrics, a recorded history), where nothing is ever checked out.
import { join } from "node:path";
import { parseConfig } from "../../src/config/load.ts";
import type { DriftwatchConfig } from "../../src/config/types.ts";

/** A configuration in `dir` holding `stacks` (one YAML flow mapping each), checked hourly, no environment. */
export function nowhereConfig(dir: string, stacks: string[]): DriftwatchConfig {
  return parseConfig(
    [`dataDir: ${dir}`, "service: { schedule: '0 * * * *' }", "stacks:", ...stacks.map((s) => `  - ${s}`), ""].join("\n"),
    join(dir, "driftwatch.yaml"),
    { env: {} },
  );
}

/** Three stacks of three engines: app (terraform), web (pulumi), idle (kubernetes). */
export function nowhereStacksConfig(dir: string): DriftwatchConfig {
  return nowhereConfig(dir, [
    "{ name: app, engine: terraform, source: { repo: /nowhere, path: app } }",
    "{ name: web, engine: pulumi, source: { repo: /nowhere, path: web }, pulumi: { stack: dev } }",
    "{ name: idle, engine: kubernetes, source: { repo: /nowhere, path: k8s } }",
  ]);
}
