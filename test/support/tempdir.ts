import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onTestFinished } from "vitest";

/** A fresh directory under the OS temp dir, removed when the current test finishes. */
export function tempDir(prefix = "driftwatch-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A cache directory (`cacheDir:`) that every test of this user on this machine shares, as a long-lived service's
 * cache would be: the test programs' npm dependencies are installed into it once, not once per test. Each test's
 * data (database, state, worktrees) stays its own.
 */
export const sharedCacheDir = join(tmpdir(), `driftwatch-test-cache-${process.getuid?.() ?? "user"}`);
