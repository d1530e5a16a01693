#!/usr/bin/env node
// The driftwatch command. `check` (one pass over the configured stacks) lands with the next issue; until then
// the command says so honestly instead of pretending.
import { Command } from "commander";

export function buildProgram(): Command {
  const program = new Command("driftwatch")
    .description("GitOps drift monitor for Pulumi, Terraform/OpenTofu, CloudFormation and Kubernetes stacks")
    .exitOverride();
  program
    .command("check")
    .description("check every configured stack once for drift and pending changes")
    .option("-c, --config <file>", "configuration file", "driftwatch.yaml")
    .action(() => {
      process.stderr.write("driftwatch check: not implemented yet (the toolchain is provisioned; detection lands next)\n");
      process.exitCode = 1;
    });
  return program;
}

if (import.meta.main) {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    const code = (error as { exitCode?: number }).exitCode;
    process.exitCode = typeof code === "number" ? code : 1;
  }
}
