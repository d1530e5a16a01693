// Files a stack's configuration names inside its repository (a CloudFormation template, a parameters file, a
// Terraform var file): whoever commits to the repository chooses what is at that path, so it is resolved to its
// real path and refused unless it is a regular file inside the worktree, of bounded size. Reading goes through
// the opened descriptor (checked again with fstat), never the path, so a file swapped between check and read is
// refused too. No error ever holds a byte of the file, nor where a link out of the worktree points.
import { constants, type Stats } from "node:fs";
import { open, realpath, stat } from "node:fs/promises";
import { isAbsolute, posix, relative, resolve, sep } from "node:path";
import { ProgramError } from "./errors.ts";

/**
 * The default size cap for a repository file: 1 MiB. Such files are written by hand (or small generated
 * tfvars/parameters), and CloudFormation's largest parameter set (200 parameters of at most 4 KiB) is ~0.8 MiB,
 * yet a service that reads several of them at once for many stacks holds only a few MiB.
 */
export const REPO_FILE_LIMIT = 1024 * 1024;

/** A file named in a stack's configuration. */
export interface WorktreeFileRef {
  stack: string;
  /** The configuration key naming it, e.g. `cloudformation.template` or `terraform.varFiles[1]`. */
  key: string;
  /** The path as configured, relative to the project folder (source.path). */
  path: string;
}

/** Where a stack's files are: relative paths start at `dir`; nothing may resolve outside `root`. */
export interface WorktreeFolder {
  /** The project folder (source.path inside the worktree). */
  dir: string;
  /** The worktree root. */
  root: string;
}

export interface WorktreeFileLimit {
  /** The largest size accepted, in bytes (default REPO_FILE_LIMIT). */
  maxBytes?: number;
  /** Why that is the limit, said when a file is over it. */
  why?: string;
}

/** A file named in the configuration that Driftwatch will not use (outside the worktree, not a regular file, too large). */
export class UnsafePathError extends ProgramError {
  override name = "UnsafePathError";
  /** The stack's name (`stack` is the Error's trace). */
  readonly stackName: string;
  readonly key: string;
  readonly path: string;
  constructor(ref: WorktreeFileRef, reason: string) {
    super(`stack ${ref.stack}: ${ref.key} '${ref.path}' ${reason}; refused`);
    this.stackName = ref.stack;
    this.key = ref.key;
    this.path = ref.path;
  }
}

/** The project folder `dir` of a stack whose source.path is `sourcePath`, and its worktree root. */
export function worktreeFolder(dir: string, sourcePath: string): WorktreeFolder {
  const segments = posix.normalize(sourcePath).split("/").filter((s) => s !== "" && s !== ".");
  if (segments[0] === ".." || isAbsolute(sourcePath)) throw new ProgramError(`source path '${sourcePath}' is not inside the repository`);
  return { dir, root: resolve(dir, ...segments.map(() => "..")) };
}

/** Whether `path` is `root` or below it (both absolute, already resolved as the caller needs). */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return "a directory";
  if (stats.isFIFO()) return "a FIFO";
  if (stats.isSocket()) return "a socket";
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return "a device";
  return "not a regular file";
}

/** Why a file with these stats is refused, or undefined when it is a regular file within the limit. */
function refusal(stats: Stats, limit: WorktreeFileLimit): string | undefined {
  const maxBytes = limit.maxBytes ?? REPO_FILE_LIMIT;
  if (!stats.isFile()) return `is ${kindOf(stats)}, not a regular file`;
  if (stats.size > maxBytes) return `is ${stats.size} bytes, more than the ${maxBytes} allowed${limit.why ? ` (${limit.why})` : ""}`;
  return undefined;
}

async function checked(folder: WorktreeFolder, ref: WorktreeFileRef, limit: WorktreeFileLimit): Promise<{ real: string; stats: Stats }> {
  if (isAbsolute(ref.path)) throw new UnsafePathError(ref, "is an absolute path; it must be relative to the project folder");
  const wanted = resolve(folder.dir, ref.path);
  if (!isInside(folder.root, wanted)) throw new UnsafePathError(ref, "leaves the repository's worktree");
  let real: string;
  let stats: Stats;
  try {
    real = await realpath(wanted);
    stats = await stat(real);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") throw new ProgramError(`stack ${ref.stack}: ${ref.key} '${ref.path}' does not exist in the repository at this commit`);
    if (code === "ELOOP") throw new UnsafePathError(ref, "is a loop of symbolic links");
    throw new UnsafePathError(ref, `cannot be resolved (${code ?? "unknown error"})`);
  }
  if (!isInside(await realpath(folder.root), real)) throw new UnsafePathError(ref, "is a symbolic link to a place outside the repository's worktree");
  const why = refusal(stats, limit);
  if (why) throw new UnsafePathError(ref, why);
  return { real, stats };
}

/**
 * The real path of a file the configuration names, once it is known to be a regular file inside the worktree
 * within the size limit: for a tool that reads the file itself (Terraform's -var-file), which gets this path.
 */
export async function resolveWorktreeFile(folder: WorktreeFolder, ref: WorktreeFileRef, limit: WorktreeFileLimit = {}): Promise<string> {
  return (await checked(folder, ref, limit)).real;
}

/** Reads a file the configuration names (UTF-8), refusing what resolveWorktreeFile refuses, and any swap before the read. */
export async function readWorktreeFile(folder: WorktreeFolder, ref: WorktreeFileRef, limit: WorktreeFileLimit = {}): Promise<string> {
  const { real, stats } = await checked(folder, ref, limit);
  const maxBytes = limit.maxBytes ?? REPO_FILE_LIMIT;
  // O_NONBLOCK: a FIFO put there since the check must not block the open; O_NOFOLLOW: nor a link put in its place.
  const handle = await open(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW | constants.O_NOCTTY).catch(() => {
    throw new UnsafePathError(ref, "changed while it was being read");
  });
  try {
    const opened = await handle.stat();
    if (opened.dev !== stats.dev || opened.ino !== stats.ino) throw new UnsafePathError(ref, "changed while it was being read");
    const why = refusal(opened, limit);
    if (why) throw new UnsafePathError(ref, why);
    // At most one byte more than allowed: a file that grew since fstat is refused without reading the rest.
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) throw new UnsafePathError(ref, `grew beyond the ${maxBytes} bytes allowed while it was being read`);
    return buffer.toString("utf8", 0, length);
  } finally {
    await handle.close();
  }
}
