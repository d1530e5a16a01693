import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const MARKER = ".driftwatch-complete";

/** A short, stable key for a set of files and strings: part of a cache directory's name. */
export function cacheKey(parts: readonly (string | Buffer)[]): string {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part).update("\0");
  return hash.digest("hex").slice(0, 12);
}

export function fileKeyParts(files: readonly string[]): Buffer[] {
  return files.map((file) => readFileSync(file));
}

/**
 * Makes `dir` exist with the content `fill` writes, exactly once: `fill` writes into a staging directory that is
 * renamed into place only when it succeeded, so an interrupted or failed build never leaves a half-filled
 * cache entry behind. Returns whether the entry was already there.
 */
export async function ensureCacheEntry(dir: string, fill: (staging: string) => Promise<void>): Promise<boolean> {
  if (existsSync(join(dir, MARKER))) return true;
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    await fill(staging);
    writeFileSync(join(staging, MARKER), new Date().toISOString());
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  return false;
}
