import { spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** Pids of the processes whose working directory is `dir` or below it (and whose command line matches `command`). */
export function processesUnder(dir: string, command?: RegExp): number[] {
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        if (!readlinkSync(`/proc/${p}/cwd`).startsWith(dir)) return false;
        return !command || command.test(readFileSync(`/proc/${p}/cmdline`, "utf8").replaceAll("\0", " "));
      } catch {
        return false;
      }
    })
    .map(Number);
}

/**
 * SIGKILL to each of `pids` that is still there. Killing a sandbox launcher ends the processes of its run with it
 * (they are in its PID namespace), so some of the others may be gone by the time their turn comes.
 */
export function killAll(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
    }
  }
}

/** Pids of the processes whose command line holds `marker`, anywhere on this machine, but for this process. */
export function processesWithMarker(marker: string): number[] {
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, "latin1").includes(marker);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/**
 * Polls `condition` every 200 ms until it holds; throws after `timeoutMs`. The timeout only bounds a wait for
 * something that should happen: size it for a busy machine, never as a statement about how fast it happens.
 */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * The ordering a timeout test forces: `condition` (the engine took its lock, its provider hung) holds while
 * `running` is still under way and before `deadlineMs` after `startedAt` (when the timeout under test expires).
 * Fails, saying so, when the run ended first or the condition came too late.
 */
export async function beforeDeadline(running: Promise<unknown>, condition: () => boolean, startedAt: number, deadlineMs: number, what: string): Promise<void> {
  let finished = false;
  void running.finally(() => (finished = true)).catch(() => undefined);
  await until(() => condition() || finished, Math.max(240_000, deadlineMs), what);
  if (finished) throw new Error(`the run ended before ${what}: give it a longer timeout`);
  const took = Date.now() - startedAt;
  if (took >= deadlineMs) throw new Error(`${what} only after ${took} ms, past the timeout of ${deadlineMs} ms: give it a longer timeout`);
}

/** Holds an fcntl write lock on `file` (the kind Terraform's local backend takes) until the returned function kills it. */
export async function holdLock(file: string): Promise<() => void> {
  const script = "import fcntl, sys, time\nf = open(sys.argv[1], 'r+')\nfcntl.lockf(f, fcntl.LOCK_EX)\nprint('locked', flush=True)\ntime.sleep(600)\n";
  const holder = spawn("python3", ["-c", script, file], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    holder.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("locked") && resolve());
    holder.on("exit", (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
  return () => holder.kill("SIGKILL");
}

/** The pid of a process that has exited (a stand-in for a crashed Driftwatch). */
export function exitedPid(): number {
  return Number(spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim());
}

/** Whether a process with this pid exists (signal 0 checks without signalling). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
