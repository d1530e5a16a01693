import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../config/load.ts";
import type { ToolchainManifest } from "../toolchain/manifest.ts";
import { baseEngineEnv, privateDirs, stackEngineEnv } from "./engine-env.ts";

const root = mkdtempSync(join(tmpdir(), "driftwatch-engine-env-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** What baseEngineEnv reads of a manifest. */
const toolchain = { pulumi: { binDir: "/tools/pulumi/bin" }, node: { bin: "/tools/node/bin/node" }, terraform: { cliConfigFile: "/tools/providers/cli.tfrc" } } as unknown as ToolchainManifest;

const config = parseConfig(
  [
    "stacks:",
    "  - { name: tf, engine: terraform, source: { repo: ., path: a } }",
    "  - { name: web, engine: pulumi, source: { repo: ., path: b }, pulumi: { stack: dev } }",
    "  - { name: own, engine: pulumi, source: { repo: ., path: b }, pulumi: { stack: dev }, env: { TF_CLI_CONFIG_FILE: /etc/mine.tfrc } }",
  ].join("\n"),
  join(root, "driftwatch.yaml"),
  { env: {} },
);

describe("an engine's environment", () => {
  const service = { PATH: "/usr/bin", HOME: "/home/ops", TF_CLI_CONFIG_FILE: "/etc/team.tfrc", TF_TOKEN_app_terraform_io: "tok-123", SLACK_BOT_TOKEN: "xoxb-1", LANG: "C.UTF-8" };
  const base = baseEngineEnv(toolchain, service);
  const envOf = (name: string) => stackEngineEnv(base, privateDirs(root, name), config.stacks.find((s) => s.name === name)!);

  it("gives the operator's Terraform CLI configuration and registry tokens to Terraform stacks only, never the provisioned mirror's", () => {
    expect(base.TF_CLI_CONFIG_FILE).toBe("/etc/team.tfrc");
    expect(envOf("tf")).toMatchObject({ TF_CLI_CONFIG_FILE: "/etc/team.tfrc", TF_TOKEN_app_terraform_io: "tok-123", LANG: "C.UTF-8", HOME: join(root, "stacks", "tf", "home") });
    expect(envOf("web")).not.toHaveProperty("TF_CLI_CONFIG_FILE");
    expect(envOf("web")).not.toHaveProperty("TF_TOKEN_app_terraform_io");
    // A stack's own env is its own, whatever its engine.
    expect(envOf("own").TF_CLI_CONFIG_FILE).toBe("/etc/mine.tfrc");
    for (const name of ["tf", "web"]) expect(envOf(name)).not.toHaveProperty("SLACK_BOT_TOKEN");
    expect(baseEngineEnv(toolchain, { PATH: "/usr/bin" })).not.toHaveProperty("TF_CLI_CONFIG_FILE");
    expect(baseEngineEnv(toolchain, { PATH: "/usr/bin" }).PATH).toBe("/tools/pulumi/bin:/tools/node/bin:/usr/bin");
  });
});
