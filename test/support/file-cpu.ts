// A setup file (vitest.config.ts) that notes how much CPU each test file used: its worker process's own and that of
// every process it started and waited for (engines, servers, git: the kernel adds a child's CPU to its parent's
// when the parent reaps it). The slowest-files reporter prints it beside the wall time: with files in parallel,
// CPU is what a file costs the machine, and what the suite's wall time is made of when every core is busy.
import { readFileSync } from "node:fs";
import { afterAll } from "vitest";

declare module "vitest" {
  interface TaskMeta {
    /** CPU seconds of the file's worker and the processes it reaped, while the file ran. */
    cpuSeconds?: number;
  }
}

const TICKS_PER_SECOND = 100; // USER_HZ, the unit of /proc/<pid>/stat's times on Linux

/** This process's CPU time and its reaped children's, in seconds; undefined where /proc is not there. */
function cpuSeconds(): number | undefined {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime, stime, cutime, cstime: fields 14-17 of proc(5), counted from the state (field 3).
    return fields.slice(11, 15).reduce((sum, ticks) => sum + Number(ticks), 0) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

const atStart = cpuSeconds();
// Hooks take the test context's fixtures first (destructured, as vitest requires) and the file's suite second.
afterAll(({}, suite) => {
  const now = cpuSeconds();
  if (now !== undefined && atStart !== undefined) suite.meta.cpuSeconds = now - atStart;
});
