// A vitest reporter that prints the ten slowest test files at the end of every run: where the suite's time goes,
// so the next person knows which file to look at first. A file's time is its own wall time in its worker (import,
// hooks and tests), not its share of the run: with several workers, files overlap.
import type { Reporter, TestModule } from "vitest/node";

const SHOWN = 10;

export function fileSeconds(module: TestModule): number {
  const d = module.diagnostic();
  return (d.environmentSetupDuration + d.prepareDuration + d.collectDuration + d.setupDuration + d.duration) / 1000;
}

/** The `count` slowest of `modules`, slowest first, as lines "  141.2 s  test/remediation.test.ts". */
export function slowestLines(modules: readonly { name: string; seconds: number }[], count = SHOWN): string[] {
  return [...modules]
    .sort((a, b) => b.seconds - a.seconds)
    .slice(0, count)
    .map(({ name, seconds }) => `${seconds.toFixed(1).padStart(7)} s  ${name}`);
}

export default class SlowestFilesReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const timed = modules.map((m) => ({ name: m.relativeModuleId, seconds: fileSeconds(m) })).filter((m) => m.seconds > 0);
    if (timed.length === 0) return;
    const total = timed.reduce((sum, m) => sum + m.seconds, 0);
    const lines = slowestLines(timed);
    process.stdout.write(`\n Slowest test files (of ${timed.length}, ${total.toFixed(0)} s of file time in all):\n${lines.join("\n")}\n`);
  }
}
