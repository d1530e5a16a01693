import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { repoRoot } from "../../src/toolchain/paths.ts";
import { git } from "./git.ts";
import { sharedCacheDir } from "./tempdir.ts";

/**
 * The embedded demo's configuration (driftwatch.yaml at the repository root), pointed at a temporary data directory
 * and at the commit this test runs on; written into `dir`. Returns the file.
 */
export function demoCopy(dir: string, extraStacks: unknown[] = []): string {
  const doc = parseDocument(readFileSync(join(repoRoot, "driftwatch.yaml"), "utf8"));
  doc.set("dataDir", join(dir, "data"));
  doc.set("cacheDir", sharedCacheDir);
  const commit = git(repoRoot, "rev-parse", "HEAD");
  for (const index of [0, 1, 2]) {
    doc.setIn(["stacks", index, "source", "repo"], repoRoot);
    doc.setIn(["stacks", index, "source", "ref"], commit);
  }
  for (const stack of extraStacks) doc.addIn(["stacks"], stack);
  const file = join(dir, "driftwatch.yaml");
  writeFileSync(file, doc.toString());
  return file;
}
