// What every run of a process shares: the store, the Git source, the engines and alerting. `check`/`converge`
// make one for a single pass over their stacks; `serve` keeps one for its whole life.
import type { Logger } from "pino";
import { secretMaskerFor } from "../config/secrets.ts";
import type { DriftwatchConfig, StackConfig } from "../config/types.ts";
import { StartupError } from "../core/errors.ts";
import { fileSystemProblem, preparePrivateDir } from "../core/private-dir.ts";
import type { SecretMasker } from "../core/redact.ts";
import type { StackResult } from "../core/types.ts";
import type { Engine } from "../engines/api.ts";
import { createEngine } from "../engines/registry.ts";
import { createNotifiers } from "../notifiers/registry.ts";
import { GitSource } from "../sources/git/index.ts";
import type { ApprovalRecord, Store } from "../store/api.ts";
import { openStore } from "../store/open.ts";
import type { EngineToolchain } from "../toolchain/manifest.ts";
import { createAlerting, type Alerting } from "./alerting.ts";
import { baseEngineEnv } from "./engine-env.ts";
import { Sandboxes } from "../sandbox/sandboxes.ts";
import { afterInSyncCheck, approveRemediation, rejectRemediation, remediateAfterCheck, remediationWanted, settleInterruptedApplies } from "./remediation-run.ts";
import { runStack, type RunStackOptions, type StackOperation } from "./stack-run.ts";

export interface RunnerOptions {
  config: DriftwatchConfig;
  toolchain: EngineToolchain;
  logger: Logger;
  /** The service's environment (default process.env): engines get only its allow-listed part (see engine-env.ts). */
  env?: NodeJS.ProcessEnv;
  /** Masks what runs record and report; default: every secret of `config` and `env` (config/secrets.ts). */
  masker?: SecretMasker;
  /** How long a repository fetch is reused (default: for the runner's life, right for one `check` pass). */
  fetchMaxAgeMs?: number;
}

export interface Runner {
  readonly store: Store;
  readonly source: GitSource;
  /** The outbox and its delivery, for alerts that are not about a run (report digests). */
  readonly alerting: Alerting;
  /** The OS sandbox every run's engine processes start in: what this machine supports, asked once. */
  readonly sandboxes: Sandboxes;
  /** One run of one stack; never throws for the stack's own failure. */
  run(stack: StackConfig, operation: StackOperation, options?: RunStackOptions): Promise<StackResult>;
  /** Applies a waiting remediation approval (see approveRemediation); throws ApprovalError when it cannot be used. */
  approve(approvalId: string, approver: string, options?: RunStackOptions): Promise<StackResult>;
  /** Voids a waiting remediation approval (see rejectRemediation); throws ApprovalError when it cannot be rejected. */
  reject(approvalId: string, by: string, trigger: string): Promise<ApprovalRecord>;
  /** Settles the remediation applies a dead process left unfinished as interrupted (see settleInterruptedApplies). */
  settleInterruptedApplies(): Promise<void>;
  /** Lets alerts drain (bounded), tidies worktrees, closes the store. */
  close(): Promise<void>;
}


/** The data directory, private (0700); a directory that cannot be made or used is a StartupError naming the key. */
function prepareDataDir(config: DriftwatchConfig): void {
  try {
    preparePrivateDir(config.dataDir);
  } catch (error) {
    throw new StartupError(`cannot use the data directory ${config.dataDir} (dataDir in ${config.file}): ${fileSystemProblem(error)}`);
  }
}

export async function createRunner(options: RunnerOptions): Promise<Runner> {
  const { config, logger } = options;
  const env = options.env ?? process.env;
  prepareDataDir(config);
  const store = await openStore(config.database, { onIdleError: (error) => logger.warn({ err: error.message }, "a database connection failed while idle; it is replaced") });
  const notifiers = createNotifiers({ alerts: config.alerts, stacks: config.stacks, logger });
  const alerting = createAlerting(config, store, notifiers, logger);
  const source = new GitSource({
    dataDir: config.dataDir,
    logger,
    env,
    tokenHosts: config.git.tokenHosts,
    timeoutMs: config.git.timeoutMs,
    ...(options.fetchMaxAgeMs === undefined ? {} : { fetchMaxAgeMs: options.fetchMaxAgeMs }),
  });
  const engines = new Map<string, Engine>();
  const engineEnv = baseEngineEnv(options.toolchain, env);
  const sandboxes = new Sandboxes({
    toolchain: options.toolchain,
    engineEnv,
    serviceEnv: env,
    dataDir: config.dataDir,
    protectedFiles: [config.file, ...(config.database.kind === "sqlite" ? [config.database.file] : [])],
  });
  const deps = {
    source,
    store,
    logger,
    engineEnv,
    sandboxes,
    dataDir: config.dataDir,
    masker: options.masker ?? secretMaskerFor(config, env),
    alerting,
    engineFor: (stack: StackConfig) => {
      let engine = engines.get(stack.engine);
      if (!engine) {
        engine = createEngine(stack.engine, {
          toolchain: options.toolchain,
          logger,
          cacheDir: config.cacheDir,
          dataDir: config.dataDir,
          sharedHistory: config.database.kind === "postgres",
          ...(env.HOME ? { operatorHome: env.HOME } : {}),
        });
        engines.set(stack.engine, engine);
      }
      return engine;
    },
  };
  let closed = false;

  return {
    store,
    source,
    alerting,
    sandboxes,
    async run(stack, operation, runOptions) {
      const result = await runStack(stack, deps, operation, runOptions);
      // Only a check leads to remediation; `converge` is the user's explicit apply.
      if (operation === "detect" && remediationWanted(stack, result)) return remediateAfterCheck(stack, result, deps, runOptions);
      await afterInSyncCheck(stack, result, deps);
      return result;
    },
    async approve(approvalId, approver, runOptions) {
      const approval = await store.getApproval(approvalId);
      return approveRemediation(
        config.stacks.find((s) => s.name === approval?.stack),
        approval,
        approver,
        deps,
        runOptions,
      );
    },
    async reject(approvalId, by, trigger) {
      const approval = await store.getApproval(approvalId);
      return rejectRemediation(config.stacks.find((s) => s.name === approval?.stack), approval, by, trigger, deps);
    },
    async settleInterruptedApplies() {
      await settleInterruptedApplies(config.stacks, deps);
    },
    async close() {
      if (closed) return;
      closed = true;
      await alerting.finish();
      await source.prune().catch((error: unknown) => logger.warn({ err: String(error) }, "worktree housekeeping failed"));
      await store.close();
    },
  };
}
