// The plugin-cache init lock: one holder at a time in a process, a live holder of another process waited for,
// a dead one's lock taken over, and the wait bounded by the run's signal.
import { existsSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { rm } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { exitedPid } from "../../../test/support/processes.ts";
import { tempDir } from "../../../test/support/tempdir.ts";
import { withInitLock } from "./init-lock.ts";

const LOCK = ".driftwatch-init.lock";
const never = () => new AbortController().signal;

describe("the init lock of a plugin cache", () => {
  it("lets one init in at a time within a process, and leaves no lock file behind", async () => {
    const dir = tempDir();
    let inside = 0;
    let most = 0;
    const init = () =>
      withInitLock(dir, never(), async () => {
        most = Math.max(most, ++inside);
        await new Promise((r) => setTimeout(r, 30));
        inside -= 1;
      });
    await Promise.all([init(), init(), init()]);
    expect(most).toBe(1);
    expect(existsSync(join(dir, LOCK))).toBe(false);
  });

  it("waits for a live holder of another process, and takes a dead holder's lock over at once", async () => {
    const dir = tempDir();
    // A live holder (this test's own pid stands in for another driftwatch), released a little later: however busy
    // the machine, the waiter must not get in before that.
    writeFileSync(join(dir, LOCK), `${hostname()}:${process.pid}`);
    let released = false;
    const waiter = withInitLock(dir, never(), async () => released);
    setTimeout(() => {
      released = true;
      void rm(join(dir, LOCK));
    }, 400);
    expect(await waiter).toBe(true); // it got in only after the holder let go

    // A holder whose process is gone: taken over without anybody releasing it (else this would wait forever).
    writeFileSync(join(dir, LOCK), `${hostname()}:${exitedPid()}`);
    await withInitLock(dir, never(), async () => undefined);
  });

  it("never takes an empty lock of another process for a dead one's while it may still be being written", async () => {
    const dir = tempDir();
    // An empty lock file, just made: however long its writer takes to name itself, the waiter waits.
    writeFileSync(join(dir, LOCK), "");
    await expect(withInitLock(dir, AbortSignal.timeout(1_000), async () => "got in")).rejects.toThrow(/aborted/i);
    // One untouched for more than a minute is a leftover, taken over at once.
    const old = new Date(Date.now() - 120_000);
    utimesSync(join(dir, LOCK), old, old);
    expect(await withInitLock(dir, never(), async () => "got in")).toBe("got in");
    // The lock this process made held its name from the start, and nothing of it is left behind.
    expect(readdirSync(dir)).toEqual([]);
  });

  it("gives up waiting when the run's signal aborts", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, LOCK), `${hostname()}:${process.pid}`);
    await expect(withInitLock(dir, AbortSignal.timeout(300), async () => "never")).rejects.toThrow(/aborted/i);
  });
});
