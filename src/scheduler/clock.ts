// The clock of everything that happens on a schedule: the checks' cron ticks (Scheduler, FleetScheduler) and the
// scheduled reports. The service runs on the system clock (node-cron); tests and benchmarks drive a ManualClock,
// which fires a schedule's ticks when it is moved past them instead of when the minute comes.
import { CronExpressionParser } from "cron-parser";
import cron from "node-cron";
import type { StackConfig } from "../config/types.ts";

export interface CronTask {
  stop(): void;
}

export interface Clock {
  now(): Date;
  /** Calls `onTick` at every tick of a five-field cron expression in `timezone` until the task is stopped. */
  schedule(expression: string, timezone: string, name: string, onTick: () => void): CronTask;
}

export const systemClock: Clock = {
  now: () => new Date(),
  schedule(expression, timezone, name, onTick) {
    const task = cron.schedule(expression, onTick, { name, timezone });
    return { stop: () => void task.destroy() };
  },
};

/** `items` grouped by their stack's schedule (expression, time zone), in order: one cron task per group. */
export function scheduleGroups<T>(items: Iterable<T>, stackOf: (item: T) => StackConfig): [[expression: string, timezone: string], T[]][] {
  const groups = new Map<string, [[string, string], T[]]>();
  for (const item of items) {
    const { expression, timezone } = stackOf(item).schedule;
    const key = `${expression}\n${timezone}`;
    const group = groups.get(key);
    if (group) group[1].push(item);
    else groups.set(key, [[expression, timezone], [item]]);
  }
  return [...groups.values()];
}

interface ManualTask {
  expression: string;
  timezone: string;
  onTick: () => void;
}

/** A clock that moves only when told to. */
export class ManualClock implements Clock {
  #now: Date;
  readonly #tasks = new Set<ManualTask>();

  constructor(start: Date) {
    this.#now = new Date(start);
  }

  now(): Date {
    return new Date(this.#now);
  }

  schedule(expression: string, timezone: string, _name: string, onTick: () => void): CronTask {
    const task = { expression, timezone, onTick };
    this.#tasks.add(task);
    return { stop: () => void this.#tasks.delete(task) };
  }

  /** How many schedules are running. */
  get scheduled(): number {
    return this.#tasks.size;
  }

  /**
   * Moves the clock to `to`, firing every tick of every running schedule in between (after now, up to `to`) in time
   * order, with now() at that tick while its callbacks run.
   */
  advanceTo(to: Date): void {
    if (to.getTime() < this.#now.getTime()) throw new RangeError(`the clock does not go back (from ${this.#now.toISOString()} to ${to.toISOString()})`);
    const ticks: { at: number; task: ManualTask }[] = [];
    for (const task of this.#tasks) {
      const times = CronExpressionParser.parse(task.expression, { currentDate: this.#now, endDate: to, tz: task.timezone });
      while (times.hasNext()) ticks.push({ at: times.next().getTime(), task });
    }
    ticks.sort((a, b) => a.at - b.at);
    for (const { at, task } of ticks) {
      this.#now = new Date(at);
      if (this.#tasks.has(task)) task.onTick();
    }
    this.#now = new Date(to);
  }

  /** Moves the clock `ms` forward (see advanceTo). */
  advance(ms: number): void {
    this.advanceTo(new Date(this.#now.getTime() + ms));
  }
}
