import { describe, expect, it } from "vitest";
import { ManualClock } from "./clock.ts";

describe("the manual clock", () => {
  it("fires every schedule's ticks passed, in time order, with now() at the tick, and not after stop", () => {
    const clock = new ManualClock(new Date("2026-12-07T09:58:30Z"));
    const fired: string[] = [];
    clock.schedule("* * * * *", "UTC", "minutely", () => fired.push(`minute ${clock.now().toISOString()}`));
    const hourly = clock.schedule("0 * * * *", "UTC", "hourly", () => fired.push(`hour ${clock.now().toISOString()}`));
    clock.schedule("0 11 * * *", "Europe/Berlin", "berlin", () => fired.push(`berlin ${clock.now().toISOString()}`));
    clock.advanceTo(new Date("2026-12-07T10:01:00Z")); // a tick exactly at the end counts
    expect(fired).toEqual([
      "minute 2026-12-07T09:59:00.000Z",
      "minute 2026-12-07T10:00:00.000Z",
      "hour 2026-12-07T10:00:00.000Z",
      "berlin 2026-12-07T10:00:00.000Z",
      "minute 2026-12-07T10:01:00.000Z",
    ]);
    expect(clock.now().toISOString()).toBe("2026-12-07T10:01:00.000Z");
    fired.length = 0;
    hourly.stop();
    clock.advance(59 * 60_000 + 30_000);
    expect(fired.filter((f) => f.startsWith("hour"))).toEqual([]);
    expect(fired).toHaveLength(59);
    expect(clock.now().toISOString()).toBe("2026-12-07T11:00:30.000Z");
    expect(() => clock.advanceTo(new Date("2026-12-07T11:00:00Z"))).toThrow(/does not go back/);
  });
});
