// Running an engine CLI as a process tree that a timeout or cancellation can stop as a whole, keeping a bounded
// amount of what it writes: a tool's output is repository-driven (a kustomization that doubles itself renders
// hundreds of MB), and an unbounded buffer would end Driftwatch itself, not just the stack's run.
import { spawn } from "node:child_process";

export interface ToolRun {
  code: number | null;
  /** What the tool wrote on stdout; empty when `outputTooLarge`. */
  stdout: string;
  /** The last `maxStderrBytes` of what it wrote on stderr (a note says when earlier bytes were left out). */
  stderr: string;
  /** True when the run was stopped because the signal aborted. */
  aborted: boolean;
  /**
   * True when stdout passed `maxOutputBytes` (or could not be decoded for its size): the process group was killed
   * at once and stdout was dropped. Callers turn it into an OutputTooLargeError naming the stack and the tool.
   */
  outputTooLarge: boolean;
}

export interface ToolRunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  /** After an interrupt, how long the tool gets to stop cleanly (release locks) before its whole tree is killed. */
  graceMs?: number;
  /** The most of stdout kept; past it the process group is killed (SIGKILL) and the run is `outputTooLarge`. */
  maxOutputBytes?: number;
  /** The most of stderr kept: its last bytes (where tools say what went wrong); more never stops the tool. */
  maxStderrBytes?: number;
}

const MiB = 1024 * 1024;
/** What a run keeps of stdout unless the caller says otherwise. */
export const DEFAULT_MAX_OUTPUT_BYTES = 64 * MiB;
/** What a run keeps of stderr (its last bytes) unless the caller says otherwise. */
export const DEFAULT_MAX_STDERR_BYTES = 4 * MiB;

/** After the tool exits, how long what it wrote may still arrive through its pipes before they are let go. */
const DRAIN_AFTER_EXIT_MS = 2_000;

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

/** The last `limit` bytes of a stream, in chunks, with a count of what was left out. */
class Tail {
  readonly #limit: number;
  readonly #chunks: Buffer[] = [];
  #kept = 0;
  #dropped = 0;
  constructor(limit: number) {
    this.#limit = limit;
  }
  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#kept += chunk.length;
    while (this.#kept > this.#limit) {
      const first = this.#chunks[0]!;
      const over = this.#kept - this.#limit;
      if (first.length <= over) {
        this.#chunks.shift();
        this.#kept -= first.length;
        this.#dropped += first.length;
      } else {
        this.#chunks[0] = first.subarray(over);
        this.#kept -= over;
        this.#dropped += over;
      }
    }
  }
  text(): string {
    const kept = Buffer.concat(this.#chunks, this.#kept).toString("utf8");
    return this.#dropped > 0 ? `… (${this.#dropped} earlier bytes left out)\n${kept}` : kept;
  }
}

/**
 * Spawns `bin` (argument array, no shell) in a process group of its own, so plugins and providers it starts
 * go with it: on abort the group gets SIGINT, then SIGKILL after the grace period; when stdout passes
 * `maxOutputBytes` the group gets SIGKILL at once. Never rejects: whatever goes wrong (the tool cannot start,
 * a stream fails, the output cannot be decoded) is in the resolved result.
 */
export function runTool(bin: string, args: readonly string[], options: ToolRunOptions): Promise<ToolRun> {
  return new Promise((resolvePromise) => {
    if (options.signal.aborted) return resolvePromise({ code: null, stdout: "", stderr: "not started: aborted", aborted: true, outputTooLarge: false });
    const maxOutput = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    let stdout: Buffer[] = [];
    let stdoutBytes = 0;
    const stderr = new Tail(options.maxStderrBytes ?? DEFAULT_MAX_STDERR_BYTES);
    /** What Driftwatch itself has to say about the run (a stream error), after the tool's stderr. */
    const problems: string[] = [];
    let aborted = false;
    let outputTooLarge = false;
    let settled = false;
    let killer: NodeJS.Timeout | undefined;
    let drain: NodeJS.Timeout | undefined;
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(bin, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    } catch (error) {
      // Invalid arguments (a NUL byte in an argument, say) throw synchronously rather than emit "error".
      return resolvePromise({ code: null, stdout: "", stderr: (error as Error).message, aborted: false, outputTooLarge: false });
    }

    const onStdout = (chunk: Buffer) => {
      if (outputTooLarge) return;
      stdoutBytes += chunk.length;
      if (stdoutBytes <= maxOutput) {
        stdout.push(chunk);
        return;
      }
      // Misbehaving: no grace, the whole group goes now, and what it wrote is let go of at once.
      outputTooLarge = true;
      stdout = [];
      if (child.pid !== undefined) signalGroup(child.pid, "SIGKILL");
      child.stdout?.destroy();
    };
    child.stdout!.on("data", onStdout);
    child.stderr!.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.stdout!.on("error", (error) => problems.push(`reading stdout failed: ${error.message}`));
    child.stderr!.on("error", (error) => problems.push(`reading stderr failed: ${error.message}`));

    const onAbort = () => {
      aborted = true;
      if (child.pid === undefined) return;
      const pid = child.pid;
      signalGroup(pid, "SIGINT");
      killer = setTimeout(() => signalGroup(pid, "SIGKILL"), options.graceMs ?? 10_000);
    };
    options.signal.addEventListener("abort", onAbort, { once: true });

    const finish = (code: number | null, extra?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(killer);
      clearTimeout(drain);
      options.signal.removeEventListener("abort", onAbort);
      // Whatever is left of the group (a provider that outlived the CLI) goes too.
      if ((aborted || outputTooLarge) && child.pid !== undefined) signalGroup(child.pid, "SIGKILL");
      if (extra) problems.push(extra);
      let out = "";
      let err = "";
      try {
        err = stderr.text();
      } catch (error) {
        problems.push(`stderr could not be read: ${(error as Error).message}`);
      }
      if (!outputTooLarge) {
        try {
          out = Buffer.concat(stdout, stdoutBytes).toString("utf8");
        } catch (error) {
          // Within the limit but still too much to hold as one string (a limit above V8's string length).
          outputTooLarge = true;
          problems.push(`stdout (${stdoutBytes} bytes) could not be decoded: ${(error as Error).message}`);
        }
      }
      stdout = [];
      const tail = problems.length > 0 ? `${err && !err.endsWith("\n") ? "\n" : ""}${problems.join("\n")}` : "";
      resolvePromise({ code, stdout: out, stderr: err + tail, aborted, outputTooLarge });
    };
    child.on("error", (error) => finish(null, error.message));
    child.on("close", (code) => finish(code));
    // A process the tool left behind (a daemon in a session of its own, which its group's signals do not reach)
    // may hold its pipes open long after it exited: its output is let go of shortly after the exit, not waited for.
    child.on("exit", (code) => {
      drain = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish(code);
      }, DRAIN_AFTER_EXIT_MS);
    });
  });
}
