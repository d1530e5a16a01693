// Where a remediation's Pulumi update plan lives between `preview --save-plan` and `up --plan`. The file holds the
// program's inputs in plain text and its secrets encrypted with the stack's own key (which the stack's env
// carries), so it is private to the run and never logged, stored or kept.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";

/**
 * Runs `use` with the path of an update plan file (not yet written) in a fresh directory of mode 0700 under
 * `home`, and removes that directory afterwards, whatever happens.
 */
export async function withPlanFile<T>(home: string, use: (file: string) => Promise<T>): Promise<T> {
  await mkdir(home, { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(join(home, "plans-")); // mkdtemp creates it 0700
  try {
    return await use(join(dir, "update-plan.json"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
