// Shared by the service benchmarks: a Git repository with a small Terraform module, a configuration, and
// `driftwatch serve` started as a real child process (so its memory is its own), whose URL it prints.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SERVICE_NODE_FLAGS, serviceRuntimeEnv } from "../src/service/runtime.ts";
import { repoRoot } from "../src/toolchain/paths.ts";
import { commitFiles, git } from "../test/support/git.ts";
import { localFilesModule } from "../test/support/terraform-modules.ts";

export const FILES_MODULE = localFilesModule({ a: "alpha\n" });

/** A scratch directory with a repository holding the module at `files/`. */
export function scratch(name: string): { root: string; repo: string } {
  const root = mkdtempSync(join(tmpdir(), `driftwatch-bench-${name}-`));
  const repo = join(root, "repo");
  mkdirSync(repo);
  git(repo, "init", "-q", "-b", "main");
  commitFiles(repo, { "files/main.tf": FILES_MODULE }, "module");
  return { root, repo };
}

export interface Served {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `driftwatch serve --config <file> --port 0` as `npm start` does (with the service's runtime settings,
 * unless `tuned` is false) and waits for the dashboard URL it prints.
 */
export async function serve(config: string, env: NodeJS.ProcessEnv = process.env, tuned = true): Promise<Served> {
  const child = spawn(process.execPath, [...(tuned ? SERVICE_NODE_FLAGS : []), join(repoRoot, "src", "cli", "main.ts"), "--config", config, "--log-level", "error", "serve", "--port", "0"], {
    env: tuned ? serviceRuntimeEnv(env) : env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /dashboard: (\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.on("exit", (code) => reject(new Error(`serve exited with ${code} before it was ready`)));
  });
  return {
    url,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
  return kib / 1024;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
