import { spawn } from "node:child_process";
import { access, constants } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { StringDecoder } from "node:string_decoder";

export interface ExecResult {
  code: number | null;
  /** stdout and stderr interleaved, at most the last `keep` characters. */
  output: string;
  /** What the program wrote on stdout; empty when `outputTooLarge`. */
  stdout: string;
  /** True when stdout passed `maxStdoutBytes`: the program was killed (code null) and stdout dropped. */
  outputTooLarge?: boolean;
}

export interface ExecOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** How much combined output to keep for error messages. */
  keep?: number;
  /** The most of stdout kept; past it the program is killed (SIGKILL) and the result is `outputTooLarge`. 64 MiB by default. */
  maxStdoutBytes?: number;
  /** Run as this user and group (see execAs in postgres-user.ts). */
  uid?: number;
  gid?: number;
}

/** What exec keeps of stdout unless the caller says otherwise. */
export const DEFAULT_MAX_STDOUT_BYTES = 64 * 1024 * 1024;

/**
 * Runs a program with an argument array (never a shell string) and collects its output, bounded: the last `keep`
 * characters of both streams, and stdout up to `maxStdoutBytes` (past it the program is killed at once). Never
 * rejects: a program that cannot be started at all (missing, not executable) resolves with code null and the
 * reason as output, and so does a failing stream.
 */
export function exec(command: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const keep = options.keep ?? 20_000;
  const maxStdout = options.maxStdoutBytes ?? DEFAULT_MAX_STDOUT_BYTES;
  return new Promise((resolvePromise) => {
    let child: ReturnType<typeof spawn>;
    try {
      const ids = { ...(options.uid !== undefined ? { uid: options.uid } : {}), ...(options.gid !== undefined ? { gid: options.gid } : {}) };
      child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"], ...ids });
    } catch (error) {
      return resolvePromise({ code: null, output: (error as Error).message, stdout: "", outputTooLarge: false });
    }
    let output = "";
    let stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let outputTooLarge = false;
    let settled = false;
    const decoders = { stdout: new StringDecoder("utf8"), stderr: new StringDecoder("utf8") };
    const note = (text: string) => (output = `${output}${output && !output.endsWith("\n") ? "\n" : ""}${text}`.slice(-keep));
    const append = (chunk: Buffer, stream: "stdout" | "stderr") => {
      if (stream === "stdout") {
        if (outputTooLarge) return; // what was read before the kill took effect
        stdoutBytes += chunk.length;
        if (stdoutBytes > maxStdout) {
          outputTooLarge = true;
          stdout = [];
          child.kill("SIGKILL");
          return;
        }
        stdout.push(chunk);
      }
      output = (output + decoders[stream].write(chunk)).slice(-keep);
    };
    child.stdout!.on("data", (chunk: Buffer) => append(chunk, "stdout"));
    child.stderr!.on("data", (chunk: Buffer) => append(chunk, "stderr"));
    child.stdout!.on("error", (error) => note(`reading stdout failed: ${error.message}`));
    child.stderr!.on("error", (error) => note(`reading stderr failed: ${error.message}`));
    const finish = (code: number | null, problem?: string) => {
      if (settled) return;
      settled = true;
      if (outputTooLarge) note(`${command} was stopped: it wrote more than ${maxStdout} bytes to stdout`);
      if (problem) note(problem);
      let text = "";
      if (!outputTooLarge) {
        try {
          text = Buffer.concat(stdout, stdoutBytes).toString("utf8");
        } catch (error) {
          outputTooLarge = true;
          note(`stdout (${stdoutBytes} bytes) could not be decoded: ${(error as Error).message}`);
        }
      }
      stdout = [];
      resolvePromise({ code, output, stdout: text, outputTooLarge });
    };
    child.on("error", (error) => finish(null, error.message));
    child.on("close", (code) => finish(code));
  });
}

/** The absolute path of `name` on PATH, or undefined. */
export async function which(name: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}
