// A vitest reporter that prints the ten slowest test files at the end of every run: where the suite's time goes,
// so the next person knows which file to look at first. A file's time is its own wall time in its worker (import,
// hooks and tests), not its share of the run: with several workers, files overlap. Beside it, the CPU the file
// used with every process it started (file-cpu.ts): with files in parallel, the suite's wall time is made of that.
import type { Reporter, TestModule } from "vitest/node";

/** How many files are listed: 10, or DRIFTWATCH_SLOWEST_FILES. */
function shown(): number {
  const given = Number(process.env.DRIFTWATCH_SLOWEST_FILES);
  return Number.isInteger(given) && given > 0 ? given : 10;
}

export interface FileTime {
  name: string;
  seconds: number;
  cpuSeconds?: number;
}

export function fileSeconds(module: TestModule): number {
  const d = module.diagnostic();
  return (d.environmentSetupDuration + d.prepareDuration + d.collectDuration + d.setupDuration + d.duration) / 1000;
}

/** The `count` slowest files, slowest first, as lines "  141.2 s   88.0 s CPU  test/remediation.test.ts". */
export function slowestLines(files: readonly FileTime[], count = shown()): string[] {
  return [...files]
    .sort((a, b) => b.seconds - a.seconds)
    .slice(0, count)
    .map(({ name, seconds, cpuSeconds }) => `${seconds.toFixed(1).padStart(7)} s ${(cpuSeconds === undefined ? "" : `${cpuSeconds.toFixed(1)} s CPU`).padStart(12)}  ${name}`);
}

export default class SlowestFilesReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const timed: FileTime[] = modules
      .map((m) => ({ name: m.relativeModuleId, seconds: fileSeconds(m), cpuSeconds: m.meta().cpuSeconds }))
      .filter((m) => m.seconds > 0);
    if (timed.length === 0) return;
    const total = timed.reduce((sum, m) => sum + m.seconds, 0);
    const cpu = timed.reduce((sum, m) => sum + (m.cpuSeconds ?? 0), 0);
    const lines = slowestLines(timed);
    process.stdout.write(`\n Slowest test files (of ${timed.length}; ${total.toFixed(0)} s of file time, ${cpu.toFixed(0)} s of CPU in all):\n${lines.join("\n")}\n`);
  }
}
