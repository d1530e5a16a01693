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

export interface PulumiStackEntry {
  name: string;
  repo: string;
  /** The program's folder in the repository. */
  path: string;
  ref?: string;
  /** The Pulumi stack; the entry's name by default. */
  stack?: string;
  /** PULUMI_CONFIG_PASSPHRASE as YAML writes it: a literal, or `${env:NAME}`. */
  passphrase: string;
  /** The demo program's DEMO_FILES_DIR: the folder its files go in. */
  world: string;
  /** More env entries (name → YAML value), after those two. */
  env?: Record<string, string>;
  /** More folders or files the stack may write besides its world (a gate a test holds the program with). */
  readWrite?: readonly string[];
  /** Files or folders it may only read. */
  readOnly?: readonly string[];
  timeoutSeconds?: number;
}

/** A YAML block list, one item a line, at `indent`: paths with `${dataDir}` in them stay valid YAML. */
function blockList(indent: string, items: readonly string[]): string[] {
  return items.map((item) => `${indent}- ${item}`);
}

/**
 * The YAML lines of one Pulumi stack under `stacks:`, for the demo program (stacks/demo-files) or one like it. Its
 * files are its "world": the one folder outside its own that its sandbox may write (`sandbox.readWrite`).
 */
export function pulumiStackYaml(s: PulumiStackEntry): string[] {
  return [
    `  - name: ${s.name}`,
    "    engine: pulumi",
    `    source: { repo: ${s.repo}, ref: ${s.ref ?? "main"}, path: ${s.path} }`,
    `    pulumi: { stack: ${s.stack ?? s.name} }`,
    ...(s.timeoutSeconds ? [`    timeoutSeconds: ${s.timeoutSeconds}`] : []),
    "    env:",
    `      PULUMI_CONFIG_PASSPHRASE: ${s.passphrase}`,
    `      DEMO_FILES_DIR: ${s.world}`,
    ...Object.entries(s.env ?? {}).map(([name, value]) => `      ${name}: ${value}`),
    "    sandbox:",
    "      readWrite:",
    ...blockList("        ", [s.world, ...(s.readWrite ?? [])]),
    ...(s.readOnly?.length ? ["      readOnly:", ...blockList("        ", s.readOnly)] : []),
  ];
}
