// One git command, run as a process group of its own (argument array, no shell), so a timeout or a stop ends it
// with whatever it started: git-remote-https, ssh, upload-pack. Killing only git (as simple-git's abort does)
// leaves a transport helper blocked on a stalled remote behind.
import { OutputTooLargeError } from "../../core/errors.ts";
import { DEFAULT_MAX_OUTPUT_BYTES, runTool } from "../../core/process.ts";

export interface GitCall {
  /** The directory git runs in (the repository, or where a clone goes). */
  cwd: string;
  /** Exactly the environment git gets (see gitEnvironment). */
  env: Record<string, string>;
  /** Ends the command (and its helpers): a time limit, a run's timeout, Driftwatch stopping. */
  signal: AbortSignal;
}

/** How long git and its helpers get after SIGINT before the group is killed. */
const GRACE_MS = 2_000;

/** git exited with an error; the message is what it printed on stderr (not redacted: callers redact). */
export class GitFailure extends Error {
  override name = "GitFailure";
}

/** The call's signal ended git before it finished. */
export class GitStopped extends Error {
  override name = "GitStopped";
  /** The git subcommand (fetch, clone, …). */
  readonly command: string;
  /** True when the signal's reason was a timeout (AbortSignal.timeout), false for a stop. */
  readonly timedOut: boolean;
  constructor(command: string, timedOut: boolean) {
    super(`git ${command} was ${timedOut ? "stopped: it took too long" : "cancelled"}`);
    this.command = command;
    this.timedOut = timedOut;
  }
}

/** Whether a signal was aborted by a timeout (AbortSignal.timeout, also through AbortSignal.any). */
export function abortedByTimeout(signal: AbortSignal): boolean {
  const reason: unknown = signal.reason;
  return reason instanceof Error && reason.name === "TimeoutError";
}

/**
 * Runs `git <args>`; resolves with its stdout, throws GitFailure (non-zero exit), GitStopped (signal) or
 * OutputTooLargeError (more stdout than runTool keeps: git was killed).
 */
export async function runGit(args: readonly string[], call: GitCall): Promise<string> {
  const result = await runTool("git", args, { cwd: call.cwd, env: call.env, signal: call.signal, graceMs: GRACE_MS });
  if (result.aborted) throw new GitStopped(args[0] ?? "", abortedByTimeout(call.signal));
  if (result.outputTooLarge) throw new OutputTooLargeError(`git ${args[0] ?? ""}`, DEFAULT_MAX_OUTPUT_BYTES);
  if (result.code !== 0) throw new GitFailure(result.stderr.trim() || `git ${args[0] ?? ""} exited with code ${result.code ?? "unknown"}`);
  return result.stdout;
}
