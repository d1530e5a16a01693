// A mirror's repository configuration is Driftwatch's. A program run by an engine runs as the service's user and
// can write into a mirror (its worktree's `.git` file names it): a `core.sshCommand`, `credential.helper`,
// `filter.<driver>.smudge` (for a driver a committed .gitattributes assigns), `core.gitProxy`,
// `remote.<url>.uploadpack`, `url.<base>.insteadOf` or `include.path` in its config would have the next git
// command on that mirror run or fetch what the program chose, with git's environment (for a fetch, the token's
// header). Git has no switch to skip a repository's config, and command-line settings (git-env.ts) cannot name
// every key (filter drivers, insteadOf bases), so before every git command on a mirror Driftwatch holds what git
// would read there to what it wrote itself:
//   - `config` is exactly canonicalConfig(): written by Driftwatch right after the clone, no remote (fetches name
//     the configured URL), no includes, nothing that runs anything;
//   - nothing exists at `commondir` (git would read config, refs and objects from where it points),
//     `config.worktree` and `worktrees/<id>/config.worktree` (read only with extensions.worktreeConfig, which the
//     canonical config never sets: removed anyway), `info/attributes` (attributes for every checkout, which can
//     assign a filter) or `objects/info/alternates` (objects from another repository).
// Git is pointed at the mirror with GIT_DIR, so a `.git` a program puts inside the mirror is never looked at.
//
// What differs is restored in place (the caller logs it): the canonical config written again, the rest removed.
// In place rather than cloning again, because that needs no network (a remote that is down does not turn a
// program's write into failed runs), leaves the worktrees running stacks hold alone, and removes everything the
// mirror could make git run. The refs a program moved are overwritten by the next fetch (`+refs/*:refs/*
// --prune`). Its objects are the limit of any check: a program running as the service's user can rewrite them
// without touching the config, which no check short of `git fsck` notices and a fresh clone after a config change
// would not prevent either. Likewise a program still running beside a git command can change a file between this
// check and git's read of it: the check is for what a run leaves behind. Committers who must not reach each
// other's stacks belong in separate services (users, data directories).
import { randomBytes } from "node:crypto";
import { lstat, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DriftwatchError } from "../../core/errors.ts";

export type ObjectFormat = "sha1" | "sha256";

/** Files git reads as configuration, attributes or objects of a bare repository that a mirror never has. */
const ABSENT = ["commondir", "config.worktree", join("info", "attributes"), join("objects", "info", "alternates")];

/** Larger than any config Driftwatch writes: not read, just replaced. */
const MAX_CONFIG_BYTES = 64 * 1024;

/** The whole repository config of a mirror: a bare repository of the remote's object format, and nothing else. */
export function canonicalConfig(format: ObjectFormat): string {
  const lines = [
    "# Written by Driftwatch, which writes it again whenever it finds it changed: see mirror-config.ts.",
    "[core]",
    `\trepositoryformatversion = ${format === "sha1" ? 0 : 1}`,
    "\tbare = true",
  ];
  if (format !== "sha1") lines.push("[extensions]", `\tobjectformat = ${format}`);
  return `${lines.join("\n")}\n`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT" || (error as NodeJS.ErrnoException).code === "ENOTDIR") return false;
    throw error;
  }
}

/** The config's text when it is a regular file of a sane size, else undefined. */
async function configText(path: string): Promise<string | undefined> {
  try {
    const stats = await lstat(path);
    if (!stats.isFile() || stats.size > MAX_CONFIG_BYTES) return undefined;
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/**
 * The object format a config declares. A fresh clone's config says what the remote's is; a changed config may
 * say anything, and the only harm in the wrong one is git refusing the mirror (nothing runs).
 */
function declaredFormat(text: string | undefined): ObjectFormat {
  return text !== undefined && /^\s*objectformat\s*=\s*sha256\s*$/im.test(text) ? "sha256" : "sha1";
}

/** `worktrees/<id>/config.worktree` of every worktree the mirror records. */
async function worktreeConfigs(dir: string): Promise<string[]> {
  let ids: string[];
  try {
    ids = await readdir(join(dir, "worktrees"));
  } catch (error) {
    if (["ENOENT", "ENOTDIR"].includes((error as NodeJS.ErrnoException).code ?? "")) return [];
    throw error;
  }
  const found: string[] = [];
  for (const id of ids) {
    const path = join("worktrees", id, "config.worktree");
    if (await exists(join(dir, path))) found.push(path);
  }
  return found;
}

/**
 * Makes the mirror at `dir` hold exactly the configuration Driftwatch writes (see the top of this file) and
 * returns what it had to restore, relative to the mirror: `[]` when it was so already.
 */
export async function restoreMirrorConfig(dir: string): Promise<string[]> {
  // Never written through a link to wherever a program pointed it: the next fetch clones such a mirror again.
  if (!(await lstat(dir)).isDirectory()) throw new DriftwatchError(`the mirror ${dir} is no longer a directory (a link or a file took its place); the next fetch clones it again`);
  const restored: string[] = [];
  const configPath = join(dir, "config");
  const text = await configText(configPath);
  const wanted = canonicalConfig(declaredFormat(text));
  if (text !== wanted) {
    if (text === undefined) await rm(configPath, { recursive: true, force: true }); // a directory, a link, a FIFO…
    const temp = `${configPath}.driftwatch-${randomBytes(4).toString("hex")}`;
    await writeFile(temp, wanted, { mode: 0o600 });
    await rename(temp, configPath);
    restored.push("config");
  }
  for (const path of [...ABSENT, ...(await worktreeConfigs(dir))]) {
    if (await exists(join(dir, path))) {
      await rm(join(dir, path), { recursive: true, force: true });
      restored.push(path);
    }
  }
  return restored;
}
