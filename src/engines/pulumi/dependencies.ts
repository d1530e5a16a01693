// A Pulumi Node.js program's npm dependencies, installed once per lockfile and shared by every worktree.
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import { ProgramError } from "../../core/errors.ts";
import { exec } from "../../toolchain/exec.ts";

const MARKER = ".driftwatch-installed";

export interface DependencyOptions {
  /** The project folder holding package.json. */
  dir: string;
  cacheDir: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
}

export type DependencyOutcome = "none" | "cached" | "installed";

function lockfileKey(dir: string, env: NodeJS.ProcessEnv): { key: string; lockfile: string | undefined } {
  const lockfile = existsSync(join(dir, "package-lock.json")) ? "package-lock.json" : undefined;
  const hash = createHash("sha256");
  hash.update(readFileSync(join(dir, "package.json")));
  if (lockfile) hash.update(readFileSync(join(dir, lockfile)));
  hash.update(env.DRIFTWATCH_NODE_VERSION ?? process.version);
  return { key: hash.digest("hex").slice(0, 16), lockfile };
}

function linksTo(path: string, target: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink() && readlinkSync(path) === target;
  } catch {
    return false;
  }
}

/** Points <dir>/node_modules at the cache entry. Stacks sharing a worktree folder may do this at the same time. */
function link(dir: string, target: string): void {
  const path = join(dir, "node_modules");
  if (linksTo(path, target)) return;
  rmSync(path, { recursive: true, force: true });
  try {
    symlinkSync(target, path, "dir");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST" || !linksTo(path, target)) throw error;
  }
}

const inFlight = new Map<string, Promise<void>>();

async function install(entry: string, options: DependencyOptions, lockfile: string | undefined): Promise<void> {
  const staging = `${entry}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  copyFileSync(join(options.dir, "package.json"), join(staging, "package.json"));
  if (lockfile) copyFileSync(join(options.dir, lockfile), join(staging, lockfile));
  const npm = options.env.DRIFTWATCH_NPM ?? "npm";
  const args = lockfile ? ["ci", "--no-audit", "--no-fund"] : ["install", "--no-audit", "--no-fund", "--no-package-lock"];
  const started = Date.now();
  options.logger.info({ npm: args[0], dir: options.dir }, "installing program dependencies");
  const result = await exec(npm, args, { cwd: staging, env: options.env });
  if (result.code !== 0) {
    rmSync(staging, { recursive: true, force: true });
    throw new ProgramError(`npm ${args[0]} failed in ${options.dir}:\n${result.output.trim()}`);
  }
  writeFileSync(join(staging, MARKER), new Date().toISOString());
  // Another process sharing the cache may have finished the same entry meanwhile, and programs may be running
  // from it: keep that one. Only an entry without the marker (an interrupted older layout) is replaced.
  if (existsSync(join(entry, MARKER))) {
    rmSync(staging, { recursive: true, force: true });
  } else {
    rmSync(entry, { recursive: true, force: true });
    try {
      renameSync(staging, entry);
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      if (!existsSync(join(entry, MARKER))) throw error; // not a finished twin that won the race
    }
  }
  options.logger.info({ durationMs: Date.now() - started }, "program dependencies installed");
}

/**
 * Makes `<dir>/node_modules` a link to the cache entry for this package.json + lockfile, running `npm ci`
 * (or `npm install` without a lockfile) only when no entry exists yet. An unchanged lockfile never runs npm.
 */
export async function ensureDependencies(options: DependencyOptions): Promise<DependencyOutcome> {
  if (!existsSync(join(options.dir, "package.json"))) return "none";
  const { key, lockfile } = lockfileKey(options.dir, options.env);
  const entry = join(options.cacheDir, "npm", key);
  let outcome: DependencyOutcome = "cached";
  if (!existsSync(join(entry, MARKER))) {
    let pending = inFlight.get(entry);
    if (!pending) {
      outcome = "installed";
      pending = install(entry, options, lockfile).finally(() => inFlight.delete(entry));
      inFlight.set(entry, pending);
    }
    await pending;
  } else {
    options.logger.debug({ key }, "program dependencies cached");
  }
  link(options.dir, join(entry, "node_modules"));
  return outcome;
}
