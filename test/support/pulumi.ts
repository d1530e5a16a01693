import { cpSync, mkdirSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation/index.js";
import { repoRoot } from "../../src/toolchain/paths.ts";
import { testToolchain } from "./toolchain.ts";

/** Copies repo paths (files or folders) into `dir`, and links the repo's node_modules so programs resolve @pulumi/pulumi. */
export function copyProgram(dir: string, paths: readonly string[]): void {
  for (const path of paths) cpSync(join(repoRoot, path), join(dir, path), { recursive: true });
  symlinkSync(join(repoRoot, "node_modules"), join(dir, "node_modules"));
}

export interface LocalStack {
  stack: Stack;
  command: PulumiCommand;
}

/**
 * A stack of the program in `workDir` on the provisioned Pulumi CLI, with a file:// backend and PULUMI_HOME
 * under `scratch` so nothing touches the user's ~/.pulumi.
 */
export async function localStack(workDir: string, stackName: string, scratch: string): Promise<LocalStack> {
  const { manifest, env } = testToolchain();
  const backend = join(scratch, "backend");
  mkdirSync(backend, { recursive: true });
  const command = await PulumiCommand.get({ root: dirname(manifest.pulumi.binDir) });
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName, workDir },
    {
      pulumiCommand: command,
      envVars: {
        PATH: env.PATH!,
        PULUMI_BACKEND_URL: `file://${backend}`,
        PULUMI_CONFIG_PASSPHRASE: "test-passphrase",
        PULUMI_HOME: join(scratch, "pulumi-home"),
      },
    },
  );
  return { stack, command };
}
