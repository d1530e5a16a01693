// Cron arithmetic the scheduler does not need but reports do: which ticks of a schedule lie before a moment
// (cron-parser, which reads the five-field expressions node-cron runs, in the same time zones).
import { CronExpressionParser } from "cron-parser";

/** The latest `count` ticks of `expression` at or before `at`, newest first. */
export function ticksAtOrBefore(expression: string, timezone: string, at: Date, count: number): Date[] {
  // prev() is strictly before currentDate: one millisecond later makes a tick exactly at `at` count.
  const ticks = CronExpressionParser.parse(expression, { currentDate: new Date(at.getTime() + 1), tz: timezone });
  const out: Date[] = [];
  for (let i = 0; i < count; i++) {
    if (!ticks.hasPrev()) break;
    out.push(ticks.prev().toDate());
  }
  return out;
}

/** The latest tick of `expression` at or before `at`, if the schedule has one. */
export function latestTick(expression: string, timezone: string, at: Date): Date | undefined {
  return ticksAtOrBefore(expression, timezone, at, 1)[0];
}

/** The next tick strictly after `at`. */
export function nextTick(expression: string, timezone: string, at: Date): Date | undefined {
  const ticks = CronExpressionParser.parse(expression, { currentDate: at, tz: timezone });
  return ticks.hasNext() ? ticks.next().toDate() : undefined;
}
