import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.spec.ts"],
    // Integration tests drive real engines (pulumi up, tofu init/apply, a moto server): seconds to minutes each.
    // 300 s is ten times any test measured at up to 30 s on a quiet 2-core machine; longer ones set their own
    // limit with engineTimeout() (test/support/timeouts.ts), which explains the factor.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: "forks",
  },
});
