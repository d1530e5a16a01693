// When stacks are checked, and how many at once. Cron schedules (node-cron: one task per distinct schedule and
// time zone, however many stacks share it; on each tick every stack starts after its own random delay up to the
// jitter, so a fleet does not start in the same second), triggers from Git changes, webhooks and the API, one run
// per stack at a time (single flight), a global concurrency limit, and a graceful stop. It never knows engine
// details: it calls `run`.
//
// Per stack:   idle ──trigger──> queued ──slot free──> running ──done──> idle (or queued again, see below)
//   a schedule tick for a stack that is queued or running is skipped (and counted): falling behind never piles up;
//   any other trigger while running is coalesced into one follow-up run; while queued, it is already covered.
import pLimit from "p-limit";
import type { Logger } from "pino";
import type { StackConfig } from "../config/types.ts";
import { type Clock, type CronTask, scheduleGroups, systemClock } from "./clock.ts";

export type TriggerReason = "schedule" | "start" | "git" | "webhook" | "api" | "slack";
/** `unavailable`: the check could not be queued (a fleet's database did not answer). */
export type TriggerOutcome = "queued" | "coalesced" | "skipped" | "stopping" | "unknown-stack" | "unavailable";

/** What a trigger stands for, when many processes may see the same event (fleet.ts makes one job of it). */
export interface TriggerContext {
  /** The schedule tick. */
  tick?: Date;
  /** The commit a Git change or webhook is about. */
  commit?: string;
}

/** When stacks are checked: this file's Scheduler (one process), or fleet.ts's FleetScheduler (replicas). */
export interface CheckScheduler {
  readonly running: boolean;
  start(runOnStart: boolean): void | Promise<void>;
  phases(): Record<string, "idle" | "queued" | "running">;
  trigger(name: string, reason: TriggerReason, context?: TriggerContext): TriggerOutcome | Promise<TriggerOutcome>;
  stop(graceMs: number): Promise<StopSummary>;
}

export interface SchedulerOptions {
  stacks: readonly StackConfig[];
  concurrency: number;
  /** Upper bound of the random delay before a scheduled check starts. */
  jitterMs: number;
  /**
   * Runs one stack until its result is recorded. `signal` aborts when the service stops for good; `fetchedAfter`
   * (epoch ms): a trigger saw a newer commit then, so an older fetch of the repository is not reused.
   */
  run(stack: StackConfig, reason: TriggerReason, signal: AbortSignal, fetchedAfter?: number): Promise<void>;
  /** A scheduled tick was skipped because the stack was still queued or running. */
  onSkip?(stack: string): void;
  logger: Logger;
  /** Uniform in [0, 1): the jitter's randomness (Math.random by default). */
  random?: () => number;
  /** The cron ticks' clock (tests, benchmarks); default the system's. */
  clock?: Clock;
}

interface StackState {
  stack: StackConfig;
  phase: "idle" | "queued" | "running";
  /** A trigger that arrived while running: one more run follows. */
  again?: TriggerReason;
  /** When a trigger about a new commit arrived (see SchedulerOptions.run). */
  fetchedAfter?: number;
}

export interface StopSummary {
  /** Runs that finished within the grace period. */
  finished: number;
  /** Runs cancelled after it. */
  cancelled: number;
}

export class Scheduler implements CheckScheduler {
  readonly #options: SchedulerOptions;
  readonly #states = new Map<string, StackState>();
  readonly #limit: ReturnType<typeof pLimit>;
  readonly #cancel = new AbortController();
  readonly #inflight = new Set<Promise<void>>();
  readonly #tasks: CronTask[] = [];
  readonly #jitterTimers = new Set<NodeJS.Timeout>();
  #stopping = false;
  #started = false;

  constructor(options: SchedulerOptions) {
    this.#options = options;
    this.#limit = pLimit(Math.max(1, options.concurrency));
    for (const stack of options.stacks) this.#states.set(stack.name, { stack, phase: "idle" });
  }

  /** Starts the cron schedules (and, with `runOnStart`, a check of every stack now). */
  start(runOnStart: boolean): void {
    if (this.#started) return;
    this.#started = true;
    const clock = this.#options.clock ?? systemClock;
    for (const [[expression, timezone], states] of scheduleGroups([...this.#states.values()], (state) => state.stack)) {
      this.#tasks.push(clock.schedule(expression, timezone, `driftwatch:${expression}:${timezone}`, () => this.#tick(states)));
    }
    if (runOnStart) for (const state of this.#states.values()) this.trigger(state.stack.name, "start");
  }

  /** A cron tick: each stack of the schedule is triggered after its own random delay within the jitter. */
  #tick(states: readonly StackState[]): void {
    const random = this.#options.random ?? Math.random;
    for (const state of states) {
      const delay = Math.floor(random() * this.#options.jitterMs);
      if (delay <= 0) {
        this.trigger(state.stack.name, "schedule");
        continue;
      }
      const timer = setTimeout(() => {
        this.#jitterTimers.delete(timer);
        this.trigger(state.stack.name, "schedule");
      }, delay);
      this.#jitterTimers.add(timer);
    }
  }

  get running(): boolean {
    return this.#started && !this.#stopping;
  }

  /** What each stack is doing now. */
  phases(): Record<string, StackState["phase"]> {
    return Object.fromEntries([...this.#states].map(([name, s]) => [name, s.phase]));
  }

  /** Asks for a check of `name`; see the state diagram at the top for what happens when it is busy. */
  trigger(name: string, reason: TriggerReason, context: TriggerContext = {}): TriggerOutcome {
    const state = this.#states.get(name);
    if (!state) return "unknown-stack";
    if (this.#stopping) return "stopping";
    if (context.commit) state.fetchedAfter = Date.now();
    const log = this.#options.logger.child({ stack: name, trigger: reason });
    if (state.phase !== "idle") {
      if (reason === "schedule") {
        log.warn({ phase: state.phase }, "scheduled check skipped: the previous one has not finished");
        this.#options.onSkip?.(name);
        return "skipped";
      }
      if (state.phase === "running") state.again ??= reason;
      log.debug({ phase: state.phase }, "trigger coalesced");
      return "coalesced";
    }
    state.phase = "queued";
    const job = this.#limit(() => this.#runNow(state, reason)).catch((error: unknown) =>
      log.error({ err: error instanceof Error ? error.message : String(error) }, "run failed unexpectedly"),
    );
    this.#inflight.add(job);
    void job.finally(() => this.#inflight.delete(job));
    return "queued";
  }

  async #runNow(state: StackState, reason: TriggerReason): Promise<void> {
    if (this.#stopping) {
      state.phase = "idle";
      return;
    }
    state.phase = "running";
    const fetchedAfter = state.fetchedAfter;
    state.fetchedAfter = undefined;
    try {
      await this.#options.run(state.stack, reason, this.#cancel.signal, fetchedAfter);
    } finally {
      state.phase = "idle";
      const again = state.again;
      state.again = undefined;
      if (again && !this.#stopping) this.trigger(state.stack.name, again);
    }
  }

  /**
   * Stops scheduling and triggering; runs in flight get `graceMs` to finish, then their signal aborts (engines
   * cancel, runs are recorded as interrupted) and this waits for them to wind down.
   */
  async stop(graceMs: number): Promise<StopSummary> {
    this.#stopping = true;
    const running = [...this.#states.values()].filter((s) => s.phase === "running").length;
    for (const task of this.#tasks) task.stop();
    for (const timer of this.#jitterTimers) clearTimeout(timer);
    this.#jitterTimers.clear();
    const settled = Promise.all([...this.#inflight]);
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), graceMs);
    });
    const outcome = await Promise.race([settled.then(() => "done" as const), graceOver]);
    clearTimeout(timer);
    if (outcome === "done") return { finished: running, cancelled: 0 };
    const stillRunning = [...this.#states.values()].filter((s) => s.phase === "running").length;
    this.#options.logger.warn({ runs: stillRunning }, "grace period over: cancelling the runs in flight");
    this.#cancel.abort();
    await settled;
    return { finished: running - stillRunning, cancelled: stillRunning };
  }
}
