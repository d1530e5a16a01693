import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.spec.ts"],
    // Integration tests drive real engines (pulumi up, tofu init/apply, a moto server): seconds to minutes each.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: "forks",
  },
});
