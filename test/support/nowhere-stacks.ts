// Three stacks of three engines whose repository is nowhere: for tests of what the service shows about stacks
// (the dashboard, /metrics), where nothing is ever checked out. app (terraform), web (pulumi), idle (kubernetes).
import { join } from "node:path";
import { parseConfig } from "../../src/config/load.ts";
import type { DriftwatchConfig } from "../../src/config/types.ts";

export function nowhereStacksConfig(dir: string): DriftwatchConfig {
  return parseConfig(
    [
      `dataDir: ${dir}`,
      "service: { schedule: '0 * * * *' }",
      "stacks:",
      "  - { name: app, engine: terraform, source: { repo: /nowhere, path: app } }",
      "  - { name: web, engine: pulumi, source: { repo: /nowhere, path: web }, pulumi: { stack: dev } }",
      "  - { name: idle, engine: kubernetes, source: { repo: /nowhere, path: k8s } }",
      "",
    ].join("\n"),
    join(dir, "driftwatch.yaml"),
    { env: {} },
  );
}
