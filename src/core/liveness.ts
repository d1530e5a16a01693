// Which process of which host did something, and whether that process still exists: so what a crashed
// process left behind (a lease, a run noted as running) is recognised at once, while a live process's work —
// another Driftwatch on the same store, a `check` next to `serve` — is never taken for dead.
import { hostname } from "node:os";

/** This process, as `host:pid`. */
export function processId(): string {
  return `${hostname()}:${process.pid}`;
}

/**
 * Whether `id` (`host:pid`, optionally followed by `:anything`) names a process of this host that is gone. A
 * process of another host cannot be seen from here, and a pid reused since is taken as alive: both are waited for.
 */
export function processIsGone(id: string): boolean {
  const match = /^(.+):(\d+)(?::[^:]*)?$/.exec(id);
  if (!match || match[1] !== hostname()) return false;
  const pid = Number(match[2]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}
