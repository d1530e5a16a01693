// One stack, one run: source → engine → ignore rules → flapping → (mask) → store. Readable top to bottom; every
// failure becomes a result.
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { StackConfig } from "../config/types.ts";
import { DriftwatchError, errorMessage, InterruptedError } from "../core/errors.ts";
import { flappingResources, windowStart } from "../core/flapping.ts";
import { PhaseTimer } from "../core/phase-timer.ts";
import { capResultSize } from "../core/result-size.ts";
import type { SecretMasker } from "../core/redact.ts";
import type { Detection, FlappingResource, ResourceChange, RunError, StackResult } from "../core/types.ts";
import { verdictOf } from "../core/types.ts";
import type { Engine, EngineContext, EngineState } from "../engines/api.ts";
import { applyIgnoreRules } from "../remediation/ignore.ts";
import type { GitSource } from "../sources/git/index.ts";
import type { Store } from "../store/api.ts";
import type { Alerting } from "./alerting.ts";
import { requireVerifiedCommit } from "./commit-verification.ts";
import { worktreeFolder } from "../core/worktree-file.ts";
import type { Sandboxes } from "../sandbox/sandboxes.ts";
import { privateDirs, stackEngineEnv } from "./engine-env.ts";

export interface RunDependencies {
  source: GitSource;
  engineFor(stack: StackConfig): Engine;
  store: Store;
  logger: Logger;
  /** The engine processes' allow-listed base environment (see engine-env.ts); HOME, TMPDIR and the stack's `env` go on top. */
  engineEnv: Record<string, string>;
  /** Driftwatch's data directory: each stack's private HOME and TMPDIR live under it. */
  dataDir: string;
  /** Masks every secret Driftwatch knows in what a run records and reports. */
  masker: SecretMasker;
  /** Turns recorded runs into alerts (episodes, outbox); absent: no alerts. */
  alerting?: Alerting;
  /** Makes each run's OS sandbox (src/sandbox/). */
  sandboxes: Sandboxes;
}

export type StackOperation = "detect" | "converge";

export function asRunError(error: unknown): RunError {
  if (error instanceof DriftwatchError) return { kind: error.name, message: error.message };
  return { kind: "InternalError", message: errorMessage(error) };
}

/**
 * Fields that identify a record rather than carry what an engine or a repository said (names, ids, verdicts,
 * times, change kinds): left as they are, so a secret that happens to equal a stack name cannot unlink a run.
 */
const IDENTITY = new Set(["runId", "stack", "engine", "verdict", "sandbox", "commit", "trigger", "startedAt", "finishedAt", "durationMs", "at", "mode", "decision", "outcome", "planFingerprint", "planChanges"]);

function isIdentity(path: readonly string[]): boolean {
  if (path.length === 1) return IDENTITY.has(path[0]!);
  const last = path.at(-1)!;
  return (last === "kind" || last === "action") && /^\d+$/.test(path.at(-2)!);
}

/** `value` with every secret Driftwatch knows masked (see core/redact.ts), its identifying fields kept. */
export function maskedFor<T>(value: T, deps: Pick<RunDependencies, "masker">): T {
  return deps.masker.value(value, isIdentity);
}

/**
 * Runs one stack: checks its source out at the configured ref, then detects (or converges and re-detects),
 * records the run and returns its result. Never throws for a stack's own failure.
 */
export interface RunStackOptions {
  /** Aborted when Driftwatch stops: the engine is cancelled and the run recorded as InterruptedError. */
  signal?: AbortSignal;
  /** What started the run (schedule, git change, webhook, api, cli), for the logs. */
  trigger?: string;
  /** The run's id, when it was noted as running before (a remediation's re-check); default a new one. */
  runId?: string;
  /** A fetch of the repository older than this (epoch ms) is not reused: the trigger saw a newer commit. */
  fetchedAfter?: number;
}

/**
 * What an engine gets for one run: the stack, its checked-out folder and commit, a signal for the run's timeout
 * (started now unless given) and Driftwatch stopping, the environment (allow-listed, a private HOME and TMPDIR,
 * then the stack's `env`), and its own record of the stack in the store.
 */
export function engineContext(
  stack: StackConfig,
  checkout: { dir: string; commit?: string },
  deps: RunDependencies,
  logger: Logger,
  stop: AbortSignal | undefined,
  timeout = AbortSignal.timeout(stack.timeoutSeconds * 1000),
): EngineContext {
  const dirs = privateDirs(deps.dataDir, stack.name);
  const env = stackEngineEnv(deps.engineEnv, dirs, stack);
  const signal = stop ? AbortSignal.any([timeout, stop]) : timeout;
  const places = { dir: checkout.dir, root: worktreeFolder(checkout.dir, stack.source.path).root, home: dirs.home, tmp: dirs.tmp };
  const sandbox = deps.sandboxes.forRun(stack, places, logger);
  return { stack, dir: checkout.dir, logger, signal, env, sandbox, ...(checkout.commit ? { commit: checkout.commit } : {}), state: engineState(stack, deps.store) };
}

/** The engine's record of the stack in the store. */
function engineState(stack: StackConfig, store: Store): EngineState {
  return {
    read: () => store.engineState(stack.name, stack.engine),
    write: (value, commit) => store.saveEngineState({ stack: stack.name, engine: stack.engine, ...(commit ? { commit } : {}), value, updatedAt: new Date().toISOString() }),
  };
}

/** The drifted resources of this run that flap; none when the history cannot be read (logged: it only informs). */
async function flappingOf(stack: StackConfig, deps: RunDependencies, current: { startedAt: string; drift: ResourceChange[] }, logger: Logger): Promise<FlappingResource[]> {
  if (stack.flapping.threshold === 0 || current.drift.length === 0) return [];
  try {
    const history = await deps.store.driftHistory(stack.name, windowStart(current.startedAt, stack.flapping), current.drift.map((c) => c.address));
    return flappingResources(history, current, stack.flapping);
  } catch (error) {
    logger.warn({ err: errorMessage(error) }, "could not read the drift history for flapping detection");
    return [];
  }
}

export async function runStack(stack: StackConfig, deps: RunDependencies, operation: StackOperation = "detect", options: RunStackOptions = {}): Promise<StackResult> {
  const runId = options.runId ?? randomUUID();
  const logger = deps.logger.child({ stack: stack.name, runId, ...(options.trigger ? { trigger: options.trigger } : {}) });
  const started = new Date();
  const timer = new PhaseTimer();
  await timer.time("store", async () => {
    try {
      if (!options.runId) await deps.store.startRun({ runId, stack: stack.name, engine: stack.engine, startedAt: started.toISOString() });
    } catch (error) {
      logger.warn({ err: errorMessage(error) }, "could not note the run's start");
    }
  });
  // What the kernel offers the sandbox is asked once per process (a launcher probe): ask it while git works, not
  // when the engine's first process starts. A failed probe fails that process, as it would have anyway.
  if (stack.sandbox.level !== "off") deps.sandboxes.support().catch(() => undefined);
  const timeout = AbortSignal.timeout(stack.timeoutSeconds * 1000);
  const runSignal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  let commit: string | undefined;
  let staleSource: StackResult["staleSource"];
  let detection: Detection | undefined;
  let applied: ResourceChange[] | undefined;
  let failure: RunError | undefined;

  try {
    if (options.signal?.aborted) throw new InterruptedError(`Driftwatch stopped before stack ${stack.name} started`);
    const acquired = await timer.time("git", () => deps.source.acquire(stack.source, { signal: runSignal, timings: timer, ...(options.fetchedAfter ? { fetchedAfter: options.fetchedAfter } : {}) }));
    commit = acquired.commit;
    staleSource = acquired.staleSource;
    if (staleSource) logger.warn({ commit, error: staleSource.error }, "remote unreachable; using the last fetched commit");
    try {
      await timer.time("git", () => requireVerifiedCommit(stack, acquired, deps.source, runSignal, logger));
      const ctx: EngineContext = await timer.time("engine", () => ({ ...engineContext(stack, acquired, deps, logger, options.signal, timeout), timings: timer }));
      const engine = deps.engineFor(stack);
      if (operation === "converge") {
        logger.info({ commit }, "converging");
        applied = await timer.time("engine", () => engine.converge(ctx));
      }
      logger.info({ commit }, "detecting");
      const detected = await timer.time("engine", () => engine.detect(ctx));
      detection = await timer.time("parse", () => applyIgnoreRules(stack.ignore, detected));
    } finally {
      await timer.time("worktree", () => acquired.release());
    }
  } catch (error) {
    failure =
      options.signal?.aborted && !(error instanceof InterruptedError)
        ? asRunError(new InterruptedError(`Driftwatch stopped before stack ${stack.name} finished; the engine was cancelled`))
        : asRunError(error);
  }

  const finished = new Date();
  const flapping = detection ? await timer.time("store", () => flappingOf(stack, deps, { startedAt: started.toISOString(), drift: detection.drift }, logger)) : [];
  // Masked first, then bounded (core/result-size.ts): a cut never splits a secret before the masker sees it whole.
  const result = await timer.time("parse", () => capResultSize(maskedFor<StackResult>(
    {
      runId,
      stack: stack.name,
      engine: stack.engine,
      verdict: failure || !detection ? "error" : verdictOf(detection),
      ...(commit ? { commit } : {}),
      ...(staleSource ? { staleSource } : {}),
      ...(options.trigger ? { trigger: options.trigger } : {}),
      sandbox: stack.sandbox.level,
      changes: detection ? [...detection.drift, ...detection.pending] : [],
      ...(failure ? { error: failure } : {}),
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationMs: finished.getTime() - started.getTime(),
      ...(detection?.unchecked?.length ? { unchecked: detection.unchecked } : {}),
      ...(detection?.notes?.length ? { notes: detection.notes } : {}),
      ...(applied ? { applied } : {}),
      ...(flapping.length > 0 ? { flapping } : {}),
    },
    deps,
  )));
  if (result.error) logger.error({ kind: result.error.kind, err: result.error.message }, "run failed");
  else logger.info({ verdict: result.verdict, changes: result.changes.length, durationMs: result.durationMs }, "run finished");
  await timer.time("store", async () => {
    try {
      await deps.store.recordRun(result);
    } catch (error) {
      logger.error({ err: errorMessage(error) }, "could not record the run");
    }
    await deps.alerting?.afterRun(stack, result);
  });
  return { ...result, phases: timer.timings() };
}
