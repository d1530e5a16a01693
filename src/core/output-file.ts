// Writing an output file (a report, a JUnit file) so that a reader never sees half of it: a temporary file in the
// same folder, then a rename over the target.
import { randomBytes } from "node:crypto";
import { existsSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { UsageError } from "./errors.ts";

/**
 * Refuses a file that cannot be written, before the work that produces it: its folder must exist, and it must not
 * be a folder itself. A UsageError naming `what` (the option or setting).
 */
export function checkOutputFile(file: string, what = "--out"): string {
  const target = resolve(file);
  const folder = dirname(target);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new UsageError(`${what} ${file}: the folder ${folder} does not exist (create it first)`);
  if (existsSync(target) && statSync(target).isDirectory()) throw new UsageError(`${what} ${file} is a folder; give a file name`);
  return target;
}

/** Writes `text` to `file` atomically (checked as checkOutputFile does), readable by everyone unless `mode` says otherwise. */
export function writeOutputFile(file: string, text: string, what = "--out", mode = 0o644): void {
  const target = checkOutputFile(file, what);
  const folder = dirname(target);
  const temporary = join(folder, `.${basename(target)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    writeFileSync(temporary, text, { mode, flag: "wx" });
    renameSync(temporary, target);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
