// `check` and `converge` over the configured stacks: the scheduler-free entry point the CLI (and later the
// service) calls. Decides which stacks and how many at once; never knows engine details.
import { availableParallelism } from "node:os";
import pLimit from "p-limit";
import type { Logger } from "pino";
import type { DriftwatchConfig, StackConfig } from "../config/types.ts";
import { UsageError } from "../core/errors.ts";
import type { SecretMasker } from "../core/redact.ts";
import type { StackResult } from "../core/types.ts";
import type { EngineToolchain } from "../toolchain/manifest.ts";
import { createRunner } from "./runner.ts";
import type { StackOperation } from "./stack-run.ts";


export interface CheckOptions {
  config: DriftwatchConfig;
  toolchain: EngineToolchain;
  logger: Logger;
  /** Stack names to run; all when empty. Unknown names are a ConfigError. */
  only?: readonly string[];
  concurrency?: number;
  /** The service's environment (default process.env): engines get only its allow-listed part. */
  env?: NodeJS.ProcessEnv;
  /** Masks what runs record and report; default: every secret of `config` and `env`. */
  masker?: SecretMasker;
  /** Aborted when Driftwatch is asked to stop: runs in flight are cancelled, the rest do not start (InterruptedError). */
  signal?: AbortSignal;
  /** Told each stack's result as soon as it is there (a terminal's progress lines). */
  onResult?: (result: StackResult) => void;
}

/**
 * Stack names given on a command line that the configuration does not have: a UsageError naming each and what
 * the file has. `skippedToo`: stacks skipped for `requiresEnv` count as known (their history is still there).
 */
export function requireKnownStacks(config: DriftwatchConfig, names: readonly string[], command: string, skippedToo = false): void {
  const watched = config.stacks.map((s) => s.name);
  const known = new Set([...watched, ...(skippedToo ? config.skipped.map((s) => s.name) : [])]);
  const unknown = names.filter((name) => !known.has(name));
  if (unknown.length === 0) return;
  const why = (name: string) =>
    (!skippedToo && config.skipped.find((s) => s.name === name)?.reason) || `no stack named '${name}' in ${config.file} (it has: ${[...known].join(", ") || "none"})`;
  throw new UsageError(`${command}: ${unknown.map(why).join("; ")}`);
}

export function selectStacks(config: DriftwatchConfig, only: readonly string[] = [], command = "check"): StackConfig[] {
  if (only.length === 0) return config.stacks;
  requireKnownStacks(config, only, command);
  return config.stacks.filter((s) => only.includes(s.name));
}

async function runAll(options: CheckOptions, operation: StackOperation): Promise<StackResult[]> {
  const stacks = selectStacks(options.config, options.only, operation === "converge" ? "converge" : "check");
  const runner = await createRunner(options);
  const limit = pLimit(Math.max(1, options.concurrency ?? availableParallelism()));
  try {
    // The command is what started these runs: `check` or `converge` in history and the audit log.
    const runOptions = { trigger: operation === "converge" ? "converge" : "check", ...(options.signal ? { signal: options.signal } : {}) };
    return await Promise.all(
      stacks.map((stack) =>
        limit(async () => {
          const result = await runner.run(stack, operation, runOptions);
          options.onResult?.(result);
          return result;
        }),
      ),
    );
  } finally {
    await runner.close();
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
