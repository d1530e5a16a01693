// A Pulumi Node.js program's npm dependencies, installed once per lockfile and shared by every worktree. The
// entry a program runs from is verified before every use (dependency-integrity.ts): a program that changed it
// cannot change what the next stack's program executes; the entry is installed again instead.
//
// npm runs install scripts, which are repository code (the program's own package.json, or a dependency's), so it
// runs in the run's sandbox with the "install" profile: it may write only its staging folder (with a home and temp
// folder of its own inside it, removed before the entry is kept), read the toolchain, and reach the registry. It
// gets none of the stack's settings but npm's own (npm_config_*): a script run for one stack has nothing of that
// stack's to leave in an entry another stack with the same lockfile will run from. Programs read their entry only.
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import { ProgramError } from "../../core/errors.ts";
import { readWorktreeFile, type WorktreeFolder } from "../../core/worktree-file.ts";
import { LOCALE, pickEnv, PROXIES } from "../../core/env-allow-list.ts";
import type { RunSandbox } from "../../sandbox/run-sandbox.ts";
import { contentFingerprint, stateFingerprint } from "./dependency-integrity.ts";

/** Written last into a finished entry: when, and the content fingerprint of its node_modules. */
const MARKER = ".driftwatch-installed";

export interface DependencyOptions {
  /** The project folder holding package.json, inside its worktree. */
  folder: WorktreeFolder;
  /** The stack, for errors about its files. */
  stack: string;
  cacheDir: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** The run's sandbox, which npm runs in. */
  sandbox: RunSandbox;
  signal: AbortSignal;
}

export interface DependencyOutcome {
  how: "none" | "cached" | "installed";
  /** The cache entry's node_modules the program runs from (readable by its sandbox); absent without package.json. */
  entry?: string;
}

interface Manifest {
  /** File name → content, as read from the worktree (size-capped, never through a link out). */
  files: Map<string, string>;
  key: string;
}

function present(dir: string, name: string): boolean {
  try {
    lstatSync(join(dir, name));
    return true;
  } catch {
    return false;
  }
}

async function readManifest(options: DependencyOptions): Promise<Manifest> {
  const names = ["package.json", ...(present(options.folder.dir, "package-lock.json") ? ["package-lock.json"] : [])];
  const files = new Map<string, string>();
  const hash = createHash("sha256");
  for (const name of names) {
    const content = await readWorktreeFile(options.folder, { stack: options.stack, key: name, path: name });
    files.set(name, content);
    hash.update(content);
  }
  hash.update(options.env.DRIFTWATCH_NODE_VERSION ?? process.version);
  return { files, key: hash.digest("hex").slice(0, 16) };
}

/** The state fingerprint each entry had when this process last found it intact. */
const verified = new Map<string, string>();

/**
 * Beside the marker: the entry's state fingerprint once its content was known good, so that a new process (each
 * one-shot `driftwatch check`) checks the state instead of hashing every file again. Programs and npm runs can only
 * read the cache in their sandbox, so only the service writes it; an unconfined program (`sandbox: off`) could
 * rewrite it, as it could anything else the service's user may write.
 */
const STATE = ".driftwatch-state";

function markedContent(entry: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(entry, MARKER), "utf8")) as { content?: unknown }).content as string | undefined;
  } catch {
    return undefined; // an entry from an older Driftwatch, or a marker someone changed: not to be trusted
  }
}

function keptState(entry: string): string | undefined {
  try {
    return readFileSync(join(entry, STATE), "utf8");
  } catch {
    return undefined;
  }
}

/**
 * Remembers the state of an entry whose content is known good, here and beside the entry for later processes (where
 * the entry cannot be written, later processes check its content again, as before).
 */
function trust(entry: string, state: string): void {
  verified.set(entry, state);
  const staged = join(entry, `${STATE}.${process.pid}`);
  try {
    writeFileSync(staged, state);
    renameSync(staged, join(entry, STATE));
  } catch {
    rmSync(staged, { force: true });
  }
}

/** Whether the entry is exactly what was installed (see dependency-integrity.ts); remembers its state when so. */
async function intact(entry: string): Promise<boolean> {
  const tree = join(entry, "node_modules");
  const expected = markedContent(entry);
  if (expected === undefined || !existsSync(tree)) return false;
  const known = verified.get(entry) ?? keptState(entry);
  const state = await stateFingerprint(tree);
  if (known !== undefined && state === known) {
    verified.set(entry, state);
    return true;
  }
  if (verified.has(entry)) return false; // changed since this process found it intact
  if ((await contentFingerprint(tree)) !== expected) return false;
  trust(entry, state);
  return true;
}

/** Moves a changed entry out of the way (programs may still run from it) and deletes it. */
function discard(entry: string): void {
  const aside = `${entry}.changed-${process.pid}-${Date.now()}`;
  verified.delete(entry);
  try {
    renameSync(entry, aside);
  } catch {
    return; // another process moved it first
  }
  rmSync(aside, { recursive: true, force: true });
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

async function install(entry: string, options: DependencyOptions, manifest: Manifest): Promise<void> {
  const staging = `${entry}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  for (const [name, content] of manifest.files) writeFileSync(join(staging, name), content);
  const lockfile = manifest.files.has("package-lock.json");
  const npm = options.env.DRIFTWATCH_NPM ?? "npm";
  const args = lockfile ? ["ci", "--no-audit", "--no-fund"] : ["install", "--no-audit", "--no-fund", "--no-package-lock"];
  const started = Date.now();
  options.logger.info({ npm: args[0], dir: options.folder.dir }, "installing program dependencies");
  const scratch = { home: join(staging, ".home"), tmp: join(staging, ".tmp") };
  for (const dir of Object.values(scratch)) mkdirSync(dir, { mode: 0o700 });
  const result = await options.sandbox.run(npm, args, {
    cwd: staging,
    env: { ...installEnv(options.env), HOME: scratch.home, TMPDIR: scratch.tmp, TMP: scratch.tmp, TEMP: scratch.tmp },
    signal: options.signal,
    grants: { profile: "install", readWrite: [staging] },
  });
  for (const dir of Object.values(scratch)) rmSync(dir, { recursive: true, force: true });
  if (result.code !== 0 || result.aborted || result.outputTooLarge) {
    rmSync(staging, { recursive: true, force: true });
    const why = result.aborted ? "it was stopped (timeout or shutdown)" : result.outputTooLarge ? "it wrote too much output" : `${result.stderr}\n${result.stdout}`.trim().slice(-20_000);
    throw new ProgramError(`npm ${args[0]} failed in ${options.folder.dir}:\n${why}`);
  }
  mkdirSync(join(staging, "node_modules"), { recursive: true }); // a package without dependencies gets none
  const content = await contentFingerprint(join(staging, "node_modules"));
  writeFileSync(join(staging, MARKER), JSON.stringify({ installedAt: new Date().toISOString(), content }));
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
    trust(entry, await stateFingerprint(join(entry, "node_modules")));
  }
  options.logger.info({ durationMs: Date.now() - started }, "program dependencies installed");
}

/** What npm gets of the stack's environment: the toolchain's PATH and npm's own settings, nothing else of the stack's. */
function installEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  return pickEnv(env, LOCALE, PROXIES, {
    names: ["PATH", "SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS", "DRIFTWATCH_NPM", "DRIFTWATCH_NODE_VERSION"],
    prefixes: ["npm_config_", "NPM_CONFIG_"],
  });
}

/**
 * Makes `<dir>/node_modules` a link to the cache entry for this package.json + lockfile, running `npm ci`
 * (or `npm install` without a lockfile) only when no intact entry exists. An unchanged lockfile never runs npm,
 * unless something changed the entry since it was installed.
 */
export async function ensureDependencies(options: DependencyOptions): Promise<DependencyOutcome> {
  if (!present(options.folder.dir, "package.json")) return { how: "none" };
  const manifest = await readManifest(options);
  const entry = join(options.cacheDir, "npm", manifest.key);
  let how: DependencyOutcome["how"] = "cached";
  let pending = inFlight.get(entry);
  if (!pending && existsSync(join(entry, MARKER)) && !(await intact(entry))) {
    options.logger.warn({ key: manifest.key, entry }, "program dependencies changed since they were installed (by a program that ran from them?); installing them again");
    discard(entry);
  }
  pending = inFlight.get(entry);
  if (pending || !existsSync(join(entry, MARKER))) {
    if (!pending) {
      how = "installed";
      pending = install(entry, options, manifest).finally(() => inFlight.delete(entry));
      inFlight.set(entry, pending);
    }
    await pending;
  } else {
    options.logger.debug({ key: manifest.key }, "program dependencies cached");
  }
  link(options.folder.dir, join(entry, "node_modules"));
  return { how, entry: join(entry, "node_modules") };
}
