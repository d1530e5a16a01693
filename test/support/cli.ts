import { PassThrough } from "node:stream";
import { runCli } from "../../src/cli/main.ts";
import { manifestPath } from "../../src/toolchain/paths.ts";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function collect(stream: PassThrough): () => string {
  const chunks: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => chunks.push(chunk));
  return () => Buffer.concat(chunks).toString("utf8");
}

/**
 * Runs the driftwatch CLI in-process with captured output (logs are JSON lines on stderr). Aborting `stop` is
 * what SIGINT/SIGTERM are to the real process.
 */
export async function driftwatch(args: readonly string[], env: NodeJS.ProcessEnv = {}, stop?: AbortSignal): Promise<CliRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out = collect(stdout);
  const err = collect(stderr);
  const code = await runCli(args, {
    stdout,
    stderr,
    // Progress logs on (info) unless a test says otherwise: what must never be logged is looked for in all of them.
    env: { ...process.env, DRIFTWATCH_TOOLCHAIN: process.env.DRIFTWATCH_TOOLCHAIN ?? manifestPath(), DRIFTWATCH_LOG_LEVEL: "info", ...env },
    ...(stop ? { stop } : {}),
  });
  return { code, stdout: out(), stderr: err() };
}
