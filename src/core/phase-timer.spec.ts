import { describe, expect, it } from "vitest";
import { PhaseTimer, timed } from "./phase-timer.ts";

/** A clock the test moves by hand. */
function manualClock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

describe("PhaseTimer", () => {
  it("charges each moment to the innermost phase, and adds up repeated phases", async () => {
    const clock = manualClock();
    const timer = new PhaseTimer(clock.now);
    await timer.time("git", async () => {
      clock.advance(30);
      await timed(timer, "worktree", async () => clock.advance(12));
    });
    await timer.time("engine", async () => {
      clock.advance(100);
      await timed(timer, "dependencies", async () => clock.advance(400));
      clock.advance(50);
      await timed(timer, "parse", async () => clock.advance(9));
    });
    clock.advance(1_000); // outside any phase: nobody's
    await timer.time("store", () => clock.advance(7.4));
    await timer.time("git", () => clock.advance(5));
    expect(timer.timings()).toEqual({ git: 35, worktree: 12, dependencies: 400, engine: 150, parse: 9, store: 7 });
  });

  it("ends the phase when its work throws", async () => {
    const clock = manualClock();
    const timer = new PhaseTimer(clock.now);
    await expect(
      timer.time("engine", () => {
        clock.advance(20);
        throw new Error("failed");
      }),
    ).rejects.toThrow("failed");
    clock.advance(500);
    expect(timer.timings()).toEqual({ git: 0, worktree: 0, dependencies: 0, engine: 20, parse: 0, store: 0 });
  });

  it("timed without a timer just runs the work", async () => {
    expect(await timed(undefined, "dependencies", async () => "done")).toBe("done");
  });
});
