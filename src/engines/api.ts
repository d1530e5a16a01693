// The engine plug-ins' interface: what a run gives an engine and what an engine does. Their map is registry.ts.
import type { Logger } from "pino";
import type { StackConfig } from "../config/types.ts";
import type { PhaseTimer } from "../core/phase-timer.ts";
import type { Detection, ResourceChange } from "../core/types.ts";
import type { RunSandbox } from "../sandbox/run-sandbox.ts";
import type { EngineToolchain } from "../toolchain/manifest.ts";

export interface EngineContext {
  stack: StackConfig;
  /** The project folder inside the worktree. */
  dir: string;
  logger: Logger;
  /** Aborted when the stack's timeout expires; engines stop their processes. */
  signal: AbortSignal;
  /** The environment engine processes get: toolchain PATH and settings plus the stack's `env`. */
  env: NodeJS.ProcessEnv;
  /**
   * The only way an engine starts a process: every process tree that runs code or reads content from the
   * repository starts through it, confined to this run's places (src/sandbox/).
   */
  sandbox: RunSandbox;
  /** The commit checked out in `dir`. */
  commit?: string;
  /** What this engine recorded for the stack after its last successful apply (engines whose backend keeps no state). */
  state: EngineState;
  /** The run's phase timer, when it keeps one: an engine times the install of program dependencies as `install`. */
  timings?: PhaseTimer;
}

/** An engine's own record of a stack, kept in Driftwatch's database. Never holds secrets. */
export interface EngineState {
  read(): Promise<{ commit?: string; value: string; updatedAt: string } | undefined>;
  /** Replaces the record; `commit` is the one that was applied. */
  write(value: string, commit: string | undefined): Promise<void>;
}

/** What converging would do, as the engine planned it, secrets masked. */
export interface RemediationPlan {
  /** One entry per resource the apply would touch (kind "pending": Git's desired state made real). */
  changes: ResourceChange[];
  /** fingerprintChanges(changes): equal plans, equal fingerprints. */
  fingerprint: string;
}

/** Looks at a plan and says whether to apply it. */
export type PlanDecision = (plan: RemediationPlan) => Promise<boolean>;

export interface Engine {
  readonly id: string;
  /** Drift and pending changes. Finding them is a result; only failures throw (typed errors from core/errors). */
  detect(ctx: EngineContext): Promise<Detection>;
  /** Applies Git's desired state to the world; returns what it applied (kind "pending", secrets masked). */
  converge(ctx: EngineContext): Promise<ResourceChange[]>;
  /**
   * Plans convergence, hands the plan to `decide`, and applies exactly that plan if it says yes (Terraform: the
   * saved plan file; Pulumi: `up` held to the update plan the judged preview saved, else PlanViolationError).
   */
  remediate(ctx: EngineContext, decide: PlanDecision): Promise<{ plan: RemediationPlan; applied: boolean }>;
}

export interface EngineDependencies {
  toolchain: EngineToolchain;
  logger: Logger;
  /** Where program dependencies are cached, keyed by lockfile hash. */
  cacheDir: string;
  /** Driftwatch's data directory, for engine state that must outlive a worktree. */
  dataDir: string;
  /**
   * Other processes (replicas on other hosts) share the history: state kept under `dataDir` is this process's
   * alone, and an engine says so when it falls back to keeping a stack's state there.
   */
  sharedHistory?: boolean;
  /**
   * The service user's home, where an engine's own CLI configuration is (`~/.tofurc`, `~/.terraformrc`): a run's
   * HOME is a private one.
   */
  operatorHome?: string;
}
