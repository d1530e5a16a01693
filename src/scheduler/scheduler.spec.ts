// The scheduler on fake timers: cron ticks with jitter inside its bound, single flight, skipped ticks when it
// falls behind, the concurrency limit, and a stop that cancels what outlives the grace period.
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DEFAULT_REMEDIATION } from "../config/remediation.ts";
import type { StackConfig } from "../config/types.ts";
import { Scheduler, type SchedulerOptions, type TriggerReason } from "./scheduler.ts";

const logger = pino({ level: "silent" });

function stack(name: string, expression = "* * * * *"): StackConfig {
  return {
    name,
    engine: "terraform",
    source: { repo: "/r", ref: "main", path: "." },
    terraform: { varFiles: [], vars: {}, backendConfig: {} },
    env: {},
    timeoutSeconds: 60,
    alerts: { pending: false, mute: false },
    schedule: { expression, timezone: "UTC" },
    remediation: DEFAULT_REMEDIATION,
    approvers: [],
    actions: { restrict: false },
    ignore: [],
    flapping: { threshold: 3, windowMs: 86_400_000 },
    sandbox: { level: "strict", readOnly: [], readWrite: [], connectPorts: [], memoryBytes: 4096 * 1024 * 1024, cpuSeconds: 600 },
  };
}

interface Call {
  stack: string;
  reason: TriggerReason;
  at: number;
  finish: () => void;
  signal: AbortSignal;
}

function harness(stacks: StackConfig[], options: Partial<SchedulerOptions> = {}) {
  const calls: Call[] = [];
  let running = 0;
  let maxRunning = 0;
  const skips: string[] = [];
  const scheduler = new Scheduler({
    stacks,
    concurrency: 4,
    jitterMs: 0,
    logger,
    onSkip: (name) => skips.push(name),
    run: (s, reason, signal) =>
      new Promise<void>((resolve) => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        const finish = () => {
          running -= 1;
          resolve();
        };
        calls.push({ stack: s.name, reason, at: Date.now(), finish, signal });
        signal.addEventListener("abort", finish, { once: true });
      }),
    ...options,
  });
  return { scheduler, calls, skips, maxRunning: () => maxRunning };
}

const flush = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers({ now: new Date("2026-11-23T10:00:00.500Z") });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("Scheduler", () => {
  it("starts each scheduled check within the jitter bound after its tick", async () => {
    const { scheduler, calls } = harness([stack("a"), stack("b")], { jitterMs: 20_000 });
    // (Math.random, as in production: the offsets below must spread over the jitter window, not sit at 0.)
    scheduler.start(false);
    // Look 20 s after each tick (the jitter bound): by then both checks of that tick have started; finish them so
    // the next tick is not skipped.
    await vi.advanceTimersByTimeAsync(20_000);
    for (let minute = 0; minute < 3; minute += 1) {
      await vi.advanceTimersByTimeAsync(60_000);
      expect(calls).toHaveLength(2 * (minute + 1));
      for (const call of calls) call.finish();
    }
    await flush();
    for (const call of calls) {
      const offset = call.at % 60_000; // ticks are on the minute
      expect(offset).toBeLessThan(20_000);
    }
    expect(new Set(calls.map((c) => c.at % 60_000)).size).toBeGreaterThan(1); // really spread
    await scheduler.stop(0);
  });

  it("uses one cron task for every stack on the same schedule", async () => {
    const stacks = Array.from({ length: 50 }, (_, i) => stack(`s${i}`));
    const { scheduler, calls } = harness(stacks, { jitterMs: 10_000, random: () => 0.5, concurrency: 100 });
    scheduler.start(false);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toHaveLength(0); // each waits its jitter: 5 s here
    await vi.advanceTimersByTimeAsync(5_000);
    expect(calls).toHaveLength(50);
    expect(new Set(calls.map((c) => c.at)).size).toBe(1);
    calls.forEach((c) => c.finish());
    await scheduler.stop(0);
  });

  it("runs one check per stack at a time and coalesces triggers into one follow-up", async () => {
    const { scheduler, calls } = harness([stack("a", "0 0 1 1 *")]);
    scheduler.start(false);
    expect(scheduler.trigger("a", "api")).toBe("queued");
    await flush();
    expect(scheduler.trigger("a", "git")).toBe("coalesced");
    expect(scheduler.trigger("a", "webhook")).toBe("coalesced");
    expect(calls).toHaveLength(1);
    calls[0]!.finish();
    await flush();
    expect(calls.map((c) => c.reason)).toEqual(["api", "git"]);
    calls[1]!.finish();
    await flush();
    expect(calls).toHaveLength(2);
    expect(scheduler.trigger("nope", "api")).toBe("unknown-stack");
    await scheduler.stop(0);
  });

  it("skips scheduled ticks while a stack is still busy, and counts them", async () => {
    const { scheduler, calls, skips } = harness([stack("slow")]);
    scheduler.start(false);
    await vi.advanceTimersByTimeAsync(60_000); // first tick: starts
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(150_000); // two more ticks while it runs
    expect(calls).toHaveLength(1);
    expect(skips).toEqual(["slow", "slow"]);
    calls[0]!.finish();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toHaveLength(2);
    calls[1]!.finish();
    await scheduler.stop(0);
  });

  it("never runs more stacks at once than the concurrency limit", async () => {
    const stacks = ["a", "b", "c", "d", "e"].map((n) => stack(n, "0 0 1 1 *"));
    const { scheduler, calls, maxRunning } = harness(stacks, { concurrency: 2 });
    scheduler.start(true);
    await flush();
    expect(calls).toHaveLength(2);
    while (calls.some((c) => !c.signal.aborted)) {
      const open = calls.length;
      calls.forEach((c) => c.finish());
      await flush();
      if (calls.length === open) break;
    }
    expect(calls.map((c) => c.stack).sort()).toEqual(["a", "b", "c", "d", "e"]);
    expect(maxRunning()).toBe(2);
    await scheduler.stop(0);
  });

  it("lets runs finish within the grace period and cancels those that outlive it", async () => {
    const { scheduler, calls } = harness([stack("quick", "0 0 1 1 *"), stack("stuck", "0 0 1 1 *")]);
    scheduler.start(true);
    await flush();
    const stopped = scheduler.stop(5_000);
    expect(scheduler.trigger("quick", "api")).toBe("stopping");
    calls.find((c) => c.stack === "quick")!.finish();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(await stopped).toEqual({ finished: 1, cancelled: 1 });
    expect(calls.find((c) => c.stack === "stuck")!.signal.aborted).toBe(true);
    expect(calls.find((c) => c.stack === "quick")!.signal.aborted).toBe(true); // one signal for all; quick was done
  });
});
