// The engine plug-in registry: a plain map from `engine:` in the config to a factory. No import-time work.
import type { Logger } from "pino";
import type { StackConfig } from "../config/types.ts";
import type { Detection } from "../core/types.ts";
import type { ToolchainManifest } from "../toolchain/manifest.ts";
import { createPulumiEngine } from "./pulumi/index.ts";

export interface EngineContext {
  stack: StackConfig;
  /** The project folder inside the worktree. */
  dir: string;
  logger: Logger;
  /** Aborted when the stack's timeout expires; engines stop their processes. */
  signal: AbortSignal;
  /** The environment engine processes get: toolchain PATH and settings plus the stack's `env`. */
  env: NodeJS.ProcessEnv;
}

export interface Engine {
  readonly id: string;
  /** Drift and pending changes. Finding them is a result; only failures throw (typed errors from core/errors). */
  detect(ctx: EngineContext): Promise<Detection>;
  /** Applies Git's desired state to the world. */
  converge(ctx: EngineContext): Promise<void>;
}

export interface EngineDependencies {
  toolchain: ToolchainManifest;
  logger: Logger;
  /** Where program dependencies are cached, keyed by lockfile hash. */
  cacheDir: string;
}

export const engineFactories = {
  pulumi: createPulumiEngine,
} satisfies Record<StackConfig["engine"], (deps: EngineDependencies) => Engine>;

export function createEngine(id: StackConfig["engine"], deps: EngineDependencies): Engine {
  return engineFactories[id](deps);
}
