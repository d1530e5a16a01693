// Waiting on CloudFormation's asynchronous operations: ask again with exponential backoff up to a cap, until the
// answer is final or the run's signal (its timeout, or Driftwatch stopping) aborts the wait. Throttling that
// outlasts the SDK's own adaptive retries is waited out the same way: a busy account slows a check, never fails it.
import { setTimeout as sleep } from "node:timers/promises";

export interface PollTiming {
  /** The first wait. */
  initialMs: number;
  /** The longest wait between two questions. */
  maxMs: number;
}

export const DEFAULT_POLL: PollTiming = { initialMs: 1_000, maxMs: 10_000 };

export async function pollUntil<T>(ask: () => Promise<T>, done: (answer: T) => boolean, timing: PollTiming, signal: AbortSignal): Promise<T> {
  let wait = timing.initialMs;
  for (;;) {
    const answer = await patiently(ask, timing, signal);
    if (done(answer)) return answer;
    await sleep(wait, undefined, { signal });
    wait = Math.min(timing.maxMs, wait * 2);
  }
}

/** Whether AWS said "slow down" (after the SDK's own adaptive retries gave up). */
export function isThrottling(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const retryable = (error as { $retryable?: { throttling?: boolean } }).$retryable;
  return retryable?.throttling === true || /^(Throttling|ThrottlingException|TooManyRequestsException|RequestLimitExceeded)$/.test(error.name) || /Rate exceeded/i.test(error.message);
}

/** Calls `fn`; throttled, waits (backoff as in pollUntil) and calls again until the signal aborts. */
export async function patiently<T>(fn: () => Promise<T>, timing: PollTiming, signal: AbortSignal): Promise<T> {
  let wait = timing.initialMs;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (!isThrottling(error) || signal.aborted) throw error;
      await sleep(wait, undefined, { signal });
      wait = Math.min(timing.maxMs, wait * 2);
    }
  }
}
