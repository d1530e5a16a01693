// A directory only the service's user may enter (the data directory, the database's, a stack's home, a Pulumi
// backend): created 0700; one left more open (by an older Driftwatch, or by hand) is tightened.
import { chmodSync, mkdirSync, statSync } from "node:fs";

export function preparePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

/** What a failure to make, open or secure a file or folder means, in words (the error's own message otherwise). */
export function fileSystemProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case "EROFS":
      return "it is on a read-only filesystem; choose a writable place (a volume, in a read-only container)";
    case "EACCES":
    case "EPERM":
      return "permission denied; give the user running Driftwatch that folder, or choose another";
    case "EEXIST":
    case "ENOTDIR":
      return "a file is in the way (it must be a folder)";
    case "ENOSPC":
      return "the disk is full";
    default:
      return error instanceof Error ? error.message : String(error);
  }
}
