// Writing an output file (a report, a JUnit file) so that a reader never sees half of it: a temporary file in the
// same folder, then a rename over the target.
import { randomBytes } from "node:crypto";
import { existsSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { UsageError } from "./errors.ts";

/**
 * Writes `text` to `file` atomically, readable by everyone unless `mode` says otherwise; a missing folder or a
 * folder given as the file is a UsageError naming `what` (the option or setting).
 */
export function writeOutputFile(file: string, text: string, what = "--out", mode = 0o644): void {
  const target = resolve(file);
  const folder = dirname(target);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new UsageError(`${what} ${file}: the folder ${folder} does not exist`);
  if (existsSync(target) && statSync(target).isDirectory()) throw new UsageError(`${what} ${file}: is a folder; give a file name`);
  const temporary = join(folder, `.${basename(target)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    writeFileSync(temporary, text, { mode, flag: "wx" });
    renameSync(temporary, target);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
