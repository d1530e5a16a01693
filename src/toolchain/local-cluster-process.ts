// One server process of the local cluster (etcd, kube-apiserver): started with an argument array, its output
// written to a log file and the last part kept for error messages, stopped by pid with SIGTERM and, after a grace
// period, SIGKILL.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";

export interface ProcessExit {
  name: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

const TAIL_CHARS = 6_000;

export class ServerProcess {
  readonly name: string;
  readonly logFile: string;
  readonly #child: ChildProcess;
  readonly #log: WriteStream;
  #tail = "";
  /** Settles when the process has exited (and its output is flushed to the log). */
  readonly exited: Promise<ProcessExit>;

  /** `user` runs it as another user and group (this process being root), without supplementary groups. */
  constructor(
    name: string,
    bin: string,
    args: readonly string[],
    options: { logFile: string; env: NodeJS.ProcessEnv; cwd: string; user?: { uid: number; gid: number } },
  ) {
    this.name = name;
    this.logFile = options.logFile;
    this.#log = createWriteStream(options.logFile, { flags: "a" });
    const user = options.user ? { uid: options.user.uid, gid: options.user.gid } : {};
    this.#child = spawn(bin, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"], ...user });
    const collect = (chunk: Buffer) => {
      this.#log.write(chunk);
      this.#tail = (this.#tail + chunk.toString("utf8")).slice(-TAIL_CHARS);
    };
    this.#child.stdout?.on("data", collect);
    this.#child.stderr?.on("data", collect);
    this.exited = new Promise((resolvePromise) => {
      // 'close' comes after both pipes ended; a spawn failure (missing binary) gives 'error' and then 'close'.
      this.#child.once("error", (error) => collect(Buffer.from(`${error.message}\n`)));
      this.#child.once("close", (code, signal) => {
        this.#log.end(() => resolvePromise({ name, code, signal }));
      });
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null && this.#child.pid !== undefined;
  }

  /** The last few thousand characters the process wrote (stdout and stderr). */
  get outputTail(): string {
    return this.#tail;
  }

  /** `signal` (SIGTERM unless given), then SIGKILL when it has not exited after `graceMs`; resolves once it has exited. */
  async stop(graceMs: number, signal: NodeJS.Signals = "SIGTERM"): Promise<ProcessExit> {
    if (this.running) {
      this.#child.kill(signal);
      const graceOver = new AbortController();
      await Promise.race([this.exited, delay(graceMs, undefined, { signal: graceOver.signal }).catch(() => undefined)]);
      graceOver.abort();
      if (this.running) this.#child.kill("SIGKILL");
    }
    return this.exited;
  }
}
