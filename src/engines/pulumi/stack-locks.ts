// The locks a stopped engine left behind in a file:// backend. A timed-out or cancelled operation's process tree is
// killed as a whole (the sandbox's PID namespace goes with it), so a lock it held is never released by it; the pid a
// lock names is the CLI's pid inside that namespace, so liveness cannot be read from it. What can: the lock files of
// the stack on this host that appeared while the operation ran, which belonged to that operation (a second operation
// of the same stack at the same time would have found the stack locked).
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The lock files of `stackName` taken on this host in a file:// backend (none for other backends). */
export function stackLocks(backendUrl: string, stackName: string): Set<string> {
  const found = new Set<string>();
  if (!backendUrl.startsWith("file://")) return found;
  const visit = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.name.endsWith(".json") && dir.endsWith(`/${stackName}`)) {
        try {
          const lock = JSON.parse(readFileSync(path, "utf8")) as { hostname?: string };
          if (lock.hostname === hostname()) found.add(path);
        } catch {
          // not a lock file we understand
        }
      }
    }
  };
  visit(join(fileURLToPath(backendUrl), ".pulumi", "locks"));
  return found;
}

/** Removes the stack's locks on this host that were not there `before` the stopped operation; returns them. */
export function releaseLocksTakenSince(backendUrl: string, stackName: string, before: ReadonlySet<string>): string[] {
  const taken = [...stackLocks(backendUrl, stackName)].filter((path) => !before.has(path));
  for (const path of taken) rmSync(path, { force: true });
  return taken;
}
