// Shared by the benchmarks: a Git repository with a small Terraform module, `driftwatch serve` started as a real
// child process (so its memory is its own), timing and process helpers, and the phases of runs (where time went).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PHASES, type PhaseTimings } from "../src/core/phase-timer.ts";
import type { StackResult } from "../src/core/types.ts";
import { converge, type CheckOptions } from "../src/run/check.ts";
import { SERVICE_NODE_FLAGS, serviceRuntimeEnv } from "../src/service/runtime.ts";
import { buildDist } from "../src/toolchain/build-dist.ts";
import { exec, type ExecOptions } from "../src/toolchain/exec.ts";
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
 * How `serve` is started: `npm-start` as `npm start` does (src/cli/main.ts with the service's runtime settings),
 * `bin` as the installed command runs it (the compiled dist/cli/bin.js on plain `node`, which relaunches itself with
 * those settings; see compiledBin), `defaults` the same with the relaunch turned off (Node's defaults).
 */
export type ServeHow = "npm-start" | "bin" | "defaults";

/** The compiled CLI (`npm pack` runs the same build), built once per benchmark process. */
let compiled: string | undefined;
export function compiledBin(): string {
  if (!compiled) {
    buildDist(join(repoRoot, "src"), join(repoRoot, "dist"));
    compiled = join(repoRoot, "dist", "cli", "bin.js");
  }
  return compiled;
}

/** Starts `driftwatch serve --config <file> --port 0` (see ServeHow) and waits for the dashboard URL it prints. */
export async function serve(config: string, env: NodeJS.ProcessEnv = process.env, how: ServeHow = "npm-start"): Promise<Served> {
  const args = ["--config", config, "--log-level", "error", "serve", "--port", "0"];
  const child =
    how === "npm-start"
      ? spawn(process.execPath, [...SERVICE_NODE_FLAGS, join(repoRoot, "src", "cli", "main.ts"), ...args], { env: serviceRuntimeEnv(env), stdio: ["ignore", "pipe", "inherit"] })
      : spawn(process.execPath, [compiledBin(), ...args], { env: how === "bin" ? env : { ...env, DRIFTWATCH_SERVICE_FLAGS: "off" }, stdio: ["ignore", "pipe", "inherit"] });
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

/** Milliseconds as seconds, e.g. `3.21s`. */
export const seconds = (ms: number) => `${(ms / 1000).toFixed(2)}s`;

/** How long `work` takes, in ms. */
export async function wallTime(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** `work` `runs` times, one after another: each one's wall time in ms. */
export async function wallTimes(runs: number, work: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await wallTime(work));
  return times;
}

/** Runs a program with an argument array; its stdout, or an error with its output when it exits non-zero. */
export async function run(command: string, args: readonly string[], options: ExecOptions = {}): Promise<string> {
  const result = await exec(command, args, options);
  if (result.code !== 0) throw new Error(`${command} ${args.join(" ")} failed (exit ${result.code}) in ${options.cwd ?? process.cwd()}:\n${result.output}`);
  return result.stdout;
}

/** Converges the stacks (Git's desired state applied to the world), so that checking them is warm and in sync. */
export async function deploy(options: CheckOptions): Promise<void> {
  const failed = (await converge(options)).filter((r) => r.verdict !== "in-sync");
  if (failed.length > 0) throw new Error(`converge left ${failed.map((r) => `${r.stack}: ${r.verdict} ${r.error?.message ?? ""}`).join("; ")}`);
}

/** The values added up. */
export const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);

/** One statistic (median, sum) of each phase over the results' phases (see core/phase-timer.ts). */
export function phaseStat(results: readonly StackResult[], stat: (values: readonly number[]) => number): PhaseTimings {
  return Object.fromEntries(PHASES.map((phase) => [phase, stat(results.map((r) => r.phases?.[phase] ?? 0))])) as PhaseTimings;
}

/** `git 40 ms, worktree 30 ms, dependencies 0 ms, engine 2310 ms, parse 3 ms, store 4 ms`. */
export function phaseLine(phases: PhaseTimings): string {
  return PHASES.map((phase) => `${phase} ${Math.round(phases[phase])} ms`).join(", ");
}
