import { spawn } from "node:child_process";
import { access, constants } from "node:fs/promises";
import { delimiter, join } from "node:path";

export interface ExecResult {
  code: number | null;
  /** stdout and stderr interleaved, at most the last `keep` characters. */
  output: string;
  stdout: string;
}

export interface ExecOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** How much combined output to keep for error messages. */
  keep?: number;
}

/**
 * Runs a program with an argument array (never a shell string) and collects its output. A program that cannot
 * be started at all (missing, not executable) resolves with code null and the reason as output.
 */
export function exec(command: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const keep = options.keep ?? 20_000;
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    let stdout = "";
    const append = (chunk: Buffer, toStdout: boolean) => {
      const text = chunk.toString("utf8");
      if (toStdout) stdout += text;
      output = (output + text).slice(-keep);
    };
    child.stdout.on("data", (chunk: Buffer) => append(chunk, true));
    child.stderr.on("data", (chunk: Buffer) => append(chunk, false));
    child.on("error", (error) => resolvePromise({ code: null, output: `${output}${error.message}`, stdout }));
    child.on("close", (code) => resolvePromise({ code, output, stdout }));
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
