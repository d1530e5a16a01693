// The data directory holds the database, git mirrors, worktrees, engine state and each stack's private home:
// the service's user only may enter it. Created 0700; one left more open by an older Driftwatch is tightened.
import { chmodSync, mkdirSync, statSync } from "node:fs";

export function preparePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
}
