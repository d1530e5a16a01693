// Time limits of engine-driven tests, derived from what each test was measured to take.
//
// A limit only catches a hang; it never says how fast something should be (bench/ measures that). So it is wide:
// CI shares its machine with other work. The Pulumi flapping test, 45 s alone on a quiet 2-core machine here, took
// 107 s here beside two CPU hogs (`npm run test:stress`), and 467 s on a slower machine while other builds ran:
// about ten times. vitest.config.ts's default limit of 300 s is ten times any test measured at up to 30 s.

/** The limit for a test (or hook) measured at `quietSeconds` alone on a quiet 2-core machine: 10×, at least 300 s. */
export function engineTimeout(quietSeconds: number): number {
  return Math.max(300, Math.ceil(quietSeconds * 10)) * 1000;
}
