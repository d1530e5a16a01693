// A run's sandbox for tests that drive an engine (or one of its steps) directly, as stack-run.ts makes it: the
// provisioned launcher and toolchain, the stack's settings, the run's places.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import type { StackConfig } from "../../src/config/types.ts";
import { worktreeFolder } from "../../src/core/worktree-file.ts";
import type { RunSandbox } from "../../src/sandbox/run-sandbox.ts";
import { Sandboxes } from "../../src/sandbox/sandboxes.ts";
import { testToolchain } from "./toolchain.ts";

/** The settings a stack gets when its configuration says nothing of the sandbox. */
export function defaultSandbox(overrides: Partial<StackConfig["sandbox"]> = {}): StackConfig["sandbox"] {
  return { level: "strict", readOnly: [], readWrite: [], connectPorts: [], memoryBytes: 4096 * 1024 * 1024, cpuSeconds: 600, ...overrides };
}

/**
 * The sandbox of one run of `stack` in `dir` (its project folder), with home and temp folders under `dataDir`;
 * `env` is the service's environment the launcher's own settings are read from.
 */
export function sandboxFor(stack: StackConfig, dir: string, dataDir: string, env: NodeJS.ProcessEnv = process.env): RunSandbox {
  const home = join(dataDir, "stacks", stack.name, "home");
  const tmp = join(dataDir, "stacks", stack.name, "tmp");
  for (const path of [home, tmp]) mkdirSync(path, { recursive: true, mode: 0o700 });
  const sandboxes = new Sandboxes({ toolchain: testToolchain().manifest, engineEnv: {}, serviceEnv: env, dataDir, protectedFiles: [] });
  return sandboxes.forRun(stack, { dir, root: worktreeFolder(dir, stack.source.path).root, home, tmp }, pino({ level: "silent" }));
}
