// A directory only the service's user may enter (the data directory, the database's, a stack's home, a Pulumi
// backend): created 0700; one left more open (by an older Driftwatch, or by hand) is tightened.
import { chmodSync, mkdirSync, statSync } from "node:fs";

export function preparePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
}
