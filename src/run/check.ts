// `check` and `converge` over the configured stacks: the scheduler-free entry point the CLI (and later the
// service) calls. Decides which stacks and how many at once; never knows engine details.
import { availableParallelism } from "node:os";
import { join } from "node:path";
import pLimit from "p-limit";
import type { Logger } from "pino";
import type { DriftwatchConfig, StackConfig } from "../config/types.ts";
import { ConfigError } from "../core/errors.ts";
import type { StackResult } from "../core/types.ts";
import { createEngine, type Engine } from "../engines/api.ts";
import { GitSource } from "../sources/git/index.ts";
import type { Store } from "../store/api.ts";
import { openSqliteStore } from "../store/sqlite/index.ts";
import { toolchainEnv, type ToolchainManifest } from "../toolchain/manifest.ts";
import { runStack, type StackOperation } from "./stack-run.ts";

export interface CheckOptions {
  config: DriftwatchConfig;
  toolchain: ToolchainManifest;
  logger: Logger;
  /** Stack names to run; all when empty. Unknown names are a ConfigError. */
  only?: readonly string[];
  concurrency?: number;
  /** The service's environment, base of every engine's (default process.env). */
  env?: NodeJS.ProcessEnv;
}

export function databasePath(config: DriftwatchConfig): string {
  return join(config.dataDir, "driftwatch.db");
}

export function selectStacks(config: DriftwatchConfig, only: readonly string[] = []): StackConfig[] {
  if (only.length === 0) return config.stacks;
  const known = new Set(config.stacks.map((s) => s.name));
  const unknown = only.filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new ConfigError(config.file, unknown.map((name) => `no stack named '${name}' (known: ${[...known].join(", ") || "none"})`));
  }
  return config.stacks.filter((s) => only.includes(s.name));
}

async function runAll(options: CheckOptions, operation: StackOperation): Promise<StackResult[]> {
  const stacks = selectStacks(options.config, options.only);
  const store: Store = openSqliteStore(databasePath(options.config));
  const source = new GitSource({ dataDir: options.config.dataDir, logger: options.logger, env: options.env ?? process.env });
  const engines = new Map<string, Engine>();
  const deps = {
    source,
    store,
    logger: options.logger,
    engineEnv: toolchainEnv(options.toolchain, options.env ?? process.env),
    engineFor: (stack: StackConfig) => {
      let engine = engines.get(stack.engine);
      if (!engine) {
        engine = createEngine(stack.engine, { toolchain: options.toolchain, logger: options.logger, cacheDir: join(options.config.dataDir, "cache") });
        engines.set(stack.engine, engine);
      }
      return engine;
    },
  };
  const limit = pLimit(Math.max(1, options.concurrency ?? availableParallelism()));
  try {
    return await Promise.all(stacks.map((stack) => limit(() => runStack(stack, deps, operation))));
  } finally {
    await source.prune().catch((error: unknown) => options.logger.warn({ err: String(error) }, "worktree housekeeping failed"));
    store.close();
  }
}

/** Detects drift and pending changes for the selected stacks, concurrently; one failing stack never stops the others. */
export function check(options: CheckOptions): Promise<StackResult[]> {
  return runAll(options, "detect");
}

/** Applies Git's desired state to the selected stacks, then re-detects. */
export function converge(options: CheckOptions): Promise<StackResult[]> {
  return runAll(options, "converge");
}
