// The scheduler of a fleet of replicas sharing one PostgreSQL database: a check is a job in a durable queue
// (pg-boss), so any replica's workers run it and a stack is queued at most once and running at most once across all
// of them. Every replica keeps the clock (node-cron, as the single-process Scheduler does); a job that stands for
// something seen everywhere at once carries an id derived from it, so N replicas make one job:
//
//   a schedule tick   stack + the tick's time       (each replica's cron fires; one job per stack per tick)
//   a new commit      stack + the commit            (the leader's poll, a webhook to any replica: one job)
//   the service start stack + the ten minutes it falls in (replicas starting together check once)
//
// Per stack the queue's `stately` policy holds one job queued and one running: a trigger while the stack runs queues
// exactly one more (coalesced, as in Scheduler), one while it is queued is covered. A replica killed mid-check stops
// its job's heartbeat; the queue's maintenance fails the job after `heartbeatSeconds` and another replica runs the
// stack again, noting the run the dead replica left as interrupted (`onRetry`).
import { createHash } from "node:crypto";
import { InterruptedError } from "../core/errors.ts";
import { latestTick } from "../reports/schedule.ts";
import { PgBoss, type Job } from "pg-boss";
import type { Logger } from "pino";
import type { StackConfig } from "../config/types.ts";
import { errorMessage } from "../core/errors.ts";
import { pinSearchPath } from "../store/postgres/search-path.ts";
import { type Clock, type CronTask, scheduleGroups, systemClock } from "./clock.ts";
import type { CheckScheduler, StopSummary, TriggerContext, TriggerOutcome, TriggerReason } from "./scheduler.ts";

export const CHECK_QUEUE = "driftwatch-check";
/** pg-boss's tables live in their own schema, beside Driftwatch's. */
export const QUEUE_SCHEMA = "driftwatch_queue";
/** Replicas started within the same slot of this length check every stack once between them. */
const START_SLOT_MS = 10 * 60_000;
/** Stacks whose tick jobs go in one INSERT. */
const TICK_BATCH = 500;
/** How often the fleet's phases (queued, running) are read for the dashboard. */
const PHASES_REFRESH_MS = 2_000;

interface CheckJob {
  stack: string;
  reason: TriggerReason;
  /** When the commit the trigger names was seen (epoch ms): the run fetches if its mirror is older. */
  seenAt?: number;
}

export interface FleetSchedulerOptions {
  stacks: readonly StackConfig[];
  /** Checks this replica runs at once. */
  concurrency: number;
  jitterMs: number;
  databaseUrl: string;
  /** Connections the queue holds at most (besides the store's pool). */
  poolSize: number;
  /** A running job's heartbeat; a job whose heartbeat stops for this long is run again elsewhere (≥ 10). */
  heartbeatSeconds: number;
  run(stack: StackConfig, reason: TriggerReason, signal: AbortSignal, fetchedAfter?: number): Promise<void>;
  /** Before a job runs again after its replica died: what that replica left running is interrupted. */
  onRetry(stack: StackConfig, attempt: number): Promise<void>;
  logger: Logger;
  random?: () => number;
  /** The cron ticks' clock (tests, benchmarks); default the system's. */
  clock?: Clock;
}

/** A UUID (version 5 layout) named by `name`: the same name gives the same id on every replica. */
export function jobId(name: string): string {
  const hash = createHash("sha1").update(`driftwatch:${name}`).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The job id of a trigger that stands for a shared event, if it does. */
export function jobIdFor(stack: string, reason: TriggerReason, context: TriggerContext, now: Date): string | undefined {
  if (context.tick) return jobId(`${stack}@tick:${context.tick.toISOString()}`);
  if (context.commit) return jobId(`${stack}@commit:${context.commit}`);
  if (reason === "start") return jobId(`${stack}@start:${Math.floor(now.getTime() / START_SLOT_MS)}`);
  return undefined;
}

/** How long a check's job may stay active before the queue takes it for lost: the check, a remediation, its re-check. */
function expireSeconds(stack: StackConfig): number {
  return Math.min(24 * 3600, Math.max(900, 3 * stack.timeoutSeconds + 300));
}

export class FleetScheduler implements CheckScheduler {
  readonly #options: FleetSchedulerOptions;
  readonly #clock: Clock;
  readonly #stacks = new Map<string, StackConfig>();
  readonly #boss: PgBoss;
  readonly #cancel = new AbortController();
  readonly #tasks: CronTask[] = [];
  /** Jobs this replica runs now. */
  readonly #active = new Set<Promise<void>>();
  #phases: Record<string, "idle" | "queued" | "running"> = {};
  #phasesTimer: NodeJS.Timeout | undefined;
  #started = false;
  #stopping = false;

  constructor(options: FleetSchedulerOptions) {
    this.#clock = options.clock ?? systemClock;
    this.#options = options;
    for (const stack of options.stacks) this.#stacks.set(stack.name, stack);
    this.#boss = new PgBoss({
      // Its connections (the pool and LISTEN's) look names up in pg_catalog, then the queue's schema, nowhere else
      // (see search-path.ts); pg-boss names its schema on every table and function of its own.
      ...pinSearchPath(options.databaseUrl, [QUEUE_SCHEMA]),
      schema: QUEUE_SCHEMA,
      max: options.poolSize,
      application_name: "driftwatch-queue",
      // Lost jobs are found by the maintenance pass: often enough that a dead replica's stack runs again soon.
      superviseIntervalSeconds: Math.max(2, Math.floor(options.heartbeatSeconds / 2)),
      monitorIntervalSeconds: Math.max(2, Math.floor(options.heartbeatSeconds / 2)),
      useListenNotify: true,
      // A connection may be a while coming when the pool is busy: a slow queue, not a lost trigger.
      connectionTimeoutMillis: 30_000,
    } as ConstructorParameters<typeof PgBoss>[0]);
    this.#boss.on("error", (error: Error) => options.logger.error({ err: error.message }, "the work queue reported an error"));
    for (const stack of options.stacks) this.#phases[stack.name] = "idle";
  }

  /** Joins the queue (creating it on first use), starts this replica's workers and clock. */
  async start(runOnStart: boolean): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await this.#boss.start();
    await this.#boss.createQueue(CHECK_QUEUE, {
      policy: "stately",
      notify: true,
      heartbeatSeconds: this.#options.heartbeatSeconds,
      // A job is retried only when its replica died or stopped (the handler never throws for a failed check): at
      // most twice; past that, the next trigger checks the stack again. A cut-off apply is never retried: the
      // retried check finds it (once the dead holder's lease expires), audits it as interrupted and pauses.
      retryLimit: 2,
      retryDelay: 0,
      deleteAfterSeconds: 7 * 86_400,
    });
    // One worker per slot of `concurrency`. A worker that finishes a job fetches the next at once (it is woken
    // from within the handler): after a tick the backlog drains at the speed of the checks, while an idle worker
    // waits for the queue's NOTIFY (polling every 10 s as a backstop).
    for (let slot = 0; slot < Math.max(1, this.#options.concurrency); slot++) {
      const worker: { id?: string } = {};
      worker.id = await this.#boss.work<CheckJob>(CHECK_QUEUE, { batchSize: 1, pollingIntervalSeconds: 2, notifyPollingIntervalSeconds: 10 }, async (jobs) => {
        try {
          await this.#work(jobs);
        } finally {
          if (worker.id && !this.#stopping) this.#boss.notifyWorker(worker.id);
        }
      });
    }
    for (const [[expression, timezone], stacks] of scheduleGroups(this.#stacks.values(), (stack) => stack)) {
      this.#tasks.push(this.#clock.schedule(expression, timezone, `driftwatch-fleet:${expression}:${timezone}`, () => this.#tick(stacks, expression, timezone)));
    }
    await this.#refreshPhases();
    this.#phasesTimer = setInterval(() => void this.#refreshPhases(), PHASES_REFRESH_MS);
    if (runOnStart) for (const stack of this.#stacks.values()) void this.trigger(stack.name, "start");
  }

  /**
   * A cron tick: one job per stack for the tick, started after the stack's own random delay within the jitter. The
   * jobs of a tick go in one statement per TICK_BATCH stacks (not one send each), so a large fleet's tick leaves
   * the queue's connections to the workers.
   */
  #tick(stacks: readonly StackConfig[], expression: string, timezone: string): void {
    // The tick as the schedule names it, whatever this replica's timer was late by: the same on every replica.
    const tick = latestTick(expression, timezone, this.#clock.now());
    if (!tick || this.#stopping) return;
    void this.queueTick(tick, stacks);
  }

  /**
   * Queues the jobs of one tick for `stacks` (default all): what this replica's cron does. Returns how many this
   * replica inserted (the rest another replica had, or the stack's previous job still waits).
   */
  async queueTick(tick: Date, stacks: readonly StackConfig[] = [...this.#stacks.values()]): Promise<number> {
    let inserted = 0;
    for (let i = 0; i < stacks.length; i += TICK_BATCH) {
      const jobs = stacks.slice(i, i + TICK_BATCH).map((stack) => this.#job(stack, "schedule", { tick }, tick));
      try {
        // Rows another replica inserted first (the same ids), or for a stack whose job still waits, are skipped.
        inserted += (await this.#boss.insert(CHECK_QUEUE, jobs, { returnId: true }))?.length ?? 0;
      } catch (error) {
        this.#options.logger.error({ err: errorMessage(error), tick: tick.toISOString(), stacks: jobs.length }, "could not queue a tick's checks; the next tick checks again");
      }
    }
    return inserted;
  }

  get running(): boolean {
    return this.#started && !this.#stopping;
  }

  /** What each stack is doing across the fleet (read every two seconds). */
  phases(): Record<string, "idle" | "queued" | "running"> {
    return { ...this.#phases };
  }

  async #refreshPhases(): Promise<void> {
    try {
      const jobs = await this.#boss.findJobs<CheckJob>(CHECK_QUEUE, { queued: true });
      const phases: Record<string, "idle" | "queued" | "running"> = {};
      for (const name of this.#stacks.keys()) phases[name] = "idle";
      for (const job of jobs) {
        const name = job.singletonKey ?? job.data.stack;
        if (!(name in phases)) continue;
        if (job.state === "active") phases[name] = "running";
        else if (phases[name] === "idle") phases[name] = "queued";
      }
      this.#phases = phases;
    } catch (error) {
      this.#options.logger.debug({ err: errorMessage(error) }, "could not read the queue's jobs");
    }
  }

  async trigger(name: string, reason: TriggerReason, context: TriggerContext = {}): Promise<TriggerOutcome> {
    const stack = this.#stacks.get(name);
    if (!stack) return "unknown-stack";
    if (this.#stopping) return "stopping";
    const log = this.#options.logger.child({ stack: name, trigger: reason });
    const { data, ...options } = this.#job(stack, reason, context, this.#clock.now());
    try {
      const sent = await this.#boss.send(CHECK_QUEUE, data, options);
      if (sent) return "queued";
      // Another replica sent this very job, or the stack has one queued already.
      log.debug("trigger coalesced: the stack has a job queued, or this one was sent already");
      return reason === "schedule" ? "skipped" : "coalesced";
    } catch (error) {
      log.error({ err: errorMessage(error) }, "could not queue the check");
      return "unavailable";
    }
  }

  /**
   * A stack's job as the queue takes it: keyed by the stack (one waiting, one running), its id when the trigger
   * stands for a shared event, an expiry fit for the stack, and for a schedule tick the stack's random delay
   * within the jitter.
   */
  #job(stack: StackConfig, reason: TriggerReason, context: TriggerContext, now: Date) {
    const id = jobIdFor(stack.name, reason, context, now);
    const delay = reason === "schedule" ? Math.floor((this.#options.random ?? Math.random)() * this.#options.jitterMs) : 0;
    return {
      data: { stack: stack.name, reason, ...(context.commit ? { seenAt: now.getTime() } : {}) } satisfies CheckJob,
      singletonKey: stack.name,
      ...(id ? { id } : {}),
      expireInSeconds: expireSeconds(stack),
      ...(delay >= 1000 ? { startAfter: Math.floor(delay / 1000) } : {}),
    };
  }

  async #work(jobs: Job<CheckJob>[]): Promise<void> {
    for (const job of jobs) {
      const stack = this.#stacks.get(job.data.stack);
      if (!stack) {
        // A replica with another configuration queued it: nothing this one can run.
        this.#options.logger.warn({ stack: job.data.stack }, "a queued check names a stack this replica does not know; dropped");
        continue;
      }
      const running = this.#runJob(stack, job);
      this.#active.add(running);
      try {
        await running;
      } finally {
        this.#active.delete(running);
      }
    }
  }

  async #runJob(stack: StackConfig, job: Job<CheckJob>): Promise<void> {
    const log = this.#options.logger.child({ stack: stack.name, job: job.id });
    this.#phases[stack.name] = "running";
    try {
      if (job.retryCount > 0) {
        log.warn({ attempt: job.retryCount + 1 }, "the replica running this check stopped before it finished: running it again");
        await this.#options.onRetry(stack, job.retryCount + 1);
      }
      const signal = job.signal ? AbortSignal.any([job.signal, this.#cancel.signal]) : this.#cancel.signal;
      await this.#options.run(stack, job.data.reason, signal, job.data.seenAt);
    } catch (error) {
      // Never a retry for a failure: the run is recorded (as an error) by the runner; the next trigger checks again.
      log.error({ err: errorMessage(error) }, "run failed unexpectedly");
    } finally {
      this.#phases[stack.name] = "idle";
    }
    // Cancelled because this replica stops: the job goes back to the queue, and another replica runs the stack.
    if (this.#cancel.signal.aborted) throw new InterruptedError(`replica stopped during the check of ${stack.name}`);
  }

  /**
   * Stops this replica's clock and workers; its checks in flight get `graceMs` to finish, then they are cancelled
   * (recorded as interrupted) and their jobs go back to the queue for another replica.
   */
  async stop(graceMs: number): Promise<StopSummary> {
    this.#stopping = true;
    clearInterval(this.#phasesTimer);
    for (const task of this.#tasks) task.stop();
    const running = this.#active.size;
    if (!this.#started) return { finished: 0, cancelled: 0 };
    const settled = Promise.allSettled([...this.#active]);
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), graceMs);
    });
    await this.#boss.offWork(CHECK_QUEUE, { wait: false });
    const outcome = await Promise.race([settled.then(() => "done" as const), graceOver]);
    clearTimeout(timer);
    const stillRunning = outcome === "done" ? 0 : this.#active.size;
    if (stillRunning > 0) {
      this.#options.logger.warn({ runs: stillRunning }, "grace period over: cancelling the runs in flight");
      this.#cancel.abort();
      await settled;
    }
    await this.#boss.stop({ graceful: true, timeout: 5_000 });
    return { finished: running - stillRunning, cancelled: stillRunning };
  }
}
