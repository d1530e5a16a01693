import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

/**
 * Test files run in parallel, more of them than there are cores: most of a file's time is spent waiting on
 * engines, servers and timers, not computing. DRIFTWATCH_TEST_WORKERS overrides the count (1: one file at a time).
 */
function workers(): number {
  const given = Number(process.env.DRIFTWATCH_TEST_WORKERS);
  if (Number.isInteger(given) && given > 0) return given;
  return Math.max(2, availableParallelism() * 2);
}

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.spec.ts"],
    // Integration tests drive real engines (pulumi up, tofu init/apply, a moto server): seconds to minutes each.
    // 300 s is ten times any test measured at up to 30 s on a quiet 2-core machine; longer ones set their own
    // limit with engineTimeout() (test/support/timeouts.ts), which explains the factor.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: "forks",
    maxWorkers: workers(),
    setupFiles: ["./test/support/file-cpu.ts"],
    reporters: ["default", "./test/support/slowest-files-reporter.ts"],
  },
});
