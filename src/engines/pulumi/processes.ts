// Last resort after a timeout: the engine processes that ignored the polite interrupt, found by their working
// directory, killed with their descendants, and the stack locks they left behind in a file:// backend removed.
import { readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

interface ProcessInfo {
  pid: number;
  ppid: number;
  cwd: string | undefined;
}

function processes(): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      let cwd: string | undefined;
      try {
        cwd = readlinkSync(`/proc/${entry}/cwd`);
      } catch {
        cwd = undefined;
      }
      out.push({ pid: Number(entry), ppid, cwd });
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** Kills (SIGKILL) our descendant processes running in `dir`, and theirs. Returns the pids killed. */
export function killProcessesIn(dir: string): number[] {
  if (process.platform !== "linux") return [];
  const all = processes();
  const children = new Map<number, number[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const ours = new Set<number>();
  const stack = [process.pid];
  while (stack.length > 0) {
    for (const child of children.get(stack.pop()!) ?? []) {
      ours.add(child);
      stack.push(child);
    }
  }
  const roots = all.filter((p) => ours.has(p.pid) && p.cwd === dir).map((p) => p.pid);
  const victims = new Set<number>();
  const walk = [...roots];
  while (walk.length > 0) {
    const pid = walk.pop()!;
    if (victims.has(pid)) continue;
    victims.add(pid);
    walk.push(...(children.get(pid) ?? []));
  }
  for (const pid of victims) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  return [...victims];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes the locks of `stackName` in a file:// backend that were taken on this host by processes that no longer
 * run. Locks of live processes, or of other hosts, are left alone.
 */
export function releaseStaleLocks(backendUrl: string, stackName: string): string[] {
  if (!backendUrl.startsWith("file://")) return [];
  const locks = join(fileURLToPath(backendUrl), ".pulumi", "locks");
  const removed: string[] = [];
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
          const lock = JSON.parse(readFileSync(path, "utf8")) as { pid?: number; hostname?: string };
          if (lock.hostname === hostname() && typeof lock.pid === "number" && !alive(lock.pid)) {
            rmSync(path, { force: true });
            removed.push(path);
          }
        } catch {
          // not a lock file we understand
        }
      }
    }
  };
  visit(locks);
  return removed;
}
