// Running an engine CLI as a process tree that a timeout or cancellation can stop as a whole.
import { spawn } from "node:child_process";

export interface ToolRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** True when the run was stopped because the signal aborted. */
  aborted: boolean;
}

export interface ToolRunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  /** After an interrupt, how long the tool gets to stop cleanly (release locks) before its whole tree is killed. */
  graceMs?: number;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

/**
 * Spawns `bin` (argument array, no shell) in a process group of its own, so plugins and providers it starts
 * go with it: on abort the group gets SIGINT, then SIGKILL after the grace period.
 */
export function runTool(bin: string, args: readonly string[], options: ToolRunOptions): Promise<ToolRun> {
  return new Promise((resolvePromise) => {
    if (options.signal.aborted) return resolvePromise({ code: null, stdout: "", stderr: "not started: aborted", aborted: true });
    const child = spawn(bin, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    let aborted = false;
    let killer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      aborted = true;
      if (child.pid === undefined) return;
      const pid = child.pid;
      signalGroup(pid, "SIGINT");
      killer = setTimeout(() => signalGroup(pid, "SIGKILL"), options.graceMs ?? 10_000);
    };
    options.signal.addEventListener("abort", onAbort, { once: true });
    const finish = (code: number | null, extra = "") => {
      clearTimeout(killer);
      options.signal.removeEventListener("abort", onAbort);
      // Whatever is left of the group (a provider that outlived the CLI) goes too.
      if (aborted && child.pid !== undefined) signalGroup(child.pid, "SIGKILL");
      resolvePromise({ code, stdout: Buffer.concat(stdout).toString("utf8"), stderr: Buffer.concat(stderr).toString("utf8") + extra, aborted });
    };
    child.on("error", (error) => finish(null, error.message));
    child.on("close", (code) => finish(code));
  });
}
