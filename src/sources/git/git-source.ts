// The Git source: one bare mirror per repository URL, fetched at most once per GitSource (one per `check` run),
// and one detached worktree per commit, shared by every stack at that commit and pruned when nobody used it.
//
//   <dataDir>/git/mirrors/<slug>-<hash>.git     git clone --mirror, then git fetch --prune
//   <dataDir>/git/worktrees/<commit>            git worktree add --detach (made under a temporary name, then moved)
//
// Whatever reaches an error message or a log line went through redactUrls and the token's values.
import { randomBytes } from "node:crypto";
import { mkdir, readdir, realpath, rename, rm, stat, utimes } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import type { Logger } from "pino";
import type { SourceSpec } from "../../config/types.ts";
import { DriftwatchError, SourceNotFoundError, SourceUnreachableError } from "../../core/errors.ts";
import { redactUrls, redactValues } from "../../core/redact.ts";
import { gitClient, gitEnvironment, isHttpsUrl, tokenSecrets } from "./git-env.ts";
import { mirrorDirName } from "./mirror-path.ts";
import { resolveRef } from "./refs.ts";
import { verifyCommitSignature, type SignatureCheck } from "./signatures.ts";

export interface AcquiredSource {
  /** Absolute path of the project folder inside the worktree (worktree root + spec.path). */
  dir: string;
  /** Absolute worktree root. */
  worktree: string;
  /** Full commit id the ref resolved to. */
  commit: string;
  /** Set when the remote could not be fetched and an earlier fetch was used. */
  staleSource?: { error: string };
  /** The caller is done with the worktree (idempotent). */
  release(): Promise<void>;
}

export interface GitSourceOptions {
  /** Driftwatch's data directory; mirrors and worktrees live under `<dataDir>/git`. */
  dataDir: string;
  logger?: Logger;
  /** The environment git runs with (default process.env); DRIFTWATCH_GIT_TOKEN authenticates https remotes. */
  env?: NodeJS.ProcessEnv;
  /**
   * How long a finished fetch of a repository is reused by later acquisitions. Default: for the life of the
   * instance (one `check` pass fetches each repository once). A long-running service sets a few seconds, so
   * stacks triggered together share a fetch and later runs see new commits.
   */
  fetchMaxAgeMs?: number;
}

interface Mirror {
  dir: string;
  /** The (redacted) reason the fetch failed, when an earlier fetch is used instead. */
  staleError?: string;
}

/** Marks a directory being built under a temporary name (`<final>.tmp-<pid>-<random>`). */
const TEMP_MARK = ".tmp-";

function tempName(finalPath: string): string {
  return `${finalPath}${TEMP_MARK}${process.pid}-${randomBytes(4).toString("hex")}`;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function listDir(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}

export class GitSource {
  private readonly mirrorsDir: string;
  private readonly worktreesDir: string;
  private readonly logger: Logger | undefined;
  private readonly env: NodeJS.ProcessEnv;
  private readonly secrets: string[];
  private readonly createdAt = new Date();
  /** One mirror update (clone or fetch) per URL for this instance's lifetime, failures included. */
  private readonly mirrors = new Map<string, { pending: Promise<Mirror>; settledAt?: number }>();
  private readonly fetchMaxAgeMs: number;
  /** One worktree preparation per commit; forgotten when it fails or prune removes the worktree. */
  private readonly worktrees = new Map<string, Promise<string>>();
  /** Commit → number of unreleased acquisitions. */
  private readonly holders = new Map<string, number>();
  /** Temporary directories this instance is building right now (prune leaves them alone). */
  private readonly inFlight = new Set<string>();
  /** The latest prune; acquisitions wait for it so a worktree is never removed under a new holder. */
  private pruning: Promise<void> = Promise.resolve();

  constructor(options: GitSourceOptions) {
    const gitDir = join(resolve(options.dataDir), "git");
    this.mirrorsDir = join(gitDir, "mirrors");
    this.worktreesDir = join(gitDir, "worktrees");
    this.logger = options.logger;
    this.env = { ...(options.env ?? process.env) };
    this.secrets = tokenSecrets(this.env);
    this.fetchMaxAgeMs = options.fetchMaxAgeMs ?? Number.POSITIVE_INFINITY;
  }

  /** Fetches (once per instance) the spec's repository, resolves its ref and checks that commit out. */
  async acquire(spec: SourceSpec): Promise<AcquiredSource> {
    const repo = this.redact(spec.repo);
    const mirror = await this.mirror(spec.repo);
    const commit = await resolveRef(gitClient(mirror.dir, this.localEnv()), spec.ref);
    if (!commit) {
      const stale = mirror.staleError ? ` (the remote could not be fetched, so the mirror may be out of date: ${mirror.staleError})` : "";
      throw new SourceNotFoundError(`ref '${spec.ref}' not found in ${repo}: no branch, tag or commit by that name${stale}`);
    }
    this.logger?.debug({ repo, ref: spec.ref, commit }, "resolved ref");

    await this.prunesSettled();
    this.hold(commit);
    let worktree: string;
    let dir: string;
    try {
      worktree = await this.worktree(mirror.dir, commit, repo);
      dir = await this.projectDir(worktree, spec.path, commit, repo);
      const now = new Date();
      await utimes(worktree, now, now); // "last acquired", for prune (across instances and processes)
    } catch (error) {
      this.unhold(commit);
      throw error;
    }

    let released = false;
    return {
      dir,
      worktree,
      commit,
      ...(mirror.staleError !== undefined ? { staleSource: { error: mirror.staleError } } : {}),
      release: async () => {
        if (released) return;
        released = true;
        this.unhold(commit);
      },
    };
  }

  /**
   * Removes worktrees not acquired since `since` (default: when this GitSource was created, i.e. those no stack
   * of this run used) and not currently held, leftovers of interrupted clones and checkouts, and the mirrors'
   * records of removed worktrees (`git worktree prune`). Failures are logged and reported together at the end.
   */
  prune(since: Date = this.createdAt): Promise<void> {
    const run = this.pruning.then(() => this.pruneNow(since.getTime()));
    this.pruning = run.catch(() => undefined);
    return run;
  }

  private async pruneNow(since: number): Promise<void> {
    const failures: string[] = [];
    const removeIfUnused = async (path: string, what: string, commit?: string): Promise<void> => {
      try {
        if (this.inFlight.has(path)) return;
        if (commit !== undefined && (this.holders.get(commit) ?? 0) > 0) return;
        const stats = await stat(path).catch(() => undefined);
        if (!stats || stats.mtimeMs >= since) return;
        if (commit !== undefined && (this.holders.get(commit) ?? 0) > 0) return;
        if (commit !== undefined) this.worktrees.delete(commit);
        await rm(path, { recursive: true, force: true });
        this.logger?.info({ path, ...(commit !== undefined ? { commit } : {}) }, `removed ${what}`);
      } catch (error) {
        failures.push(`${path}: ${this.message(error)}`);
      }
    };

    for (const name of await listDir(this.worktreesDir)) {
      const path = join(this.worktreesDir, name);
      if (name.includes(TEMP_MARK)) await removeIfUnused(path, "unfinished worktree");
      else await removeIfUnused(path, "unused worktree", name);
    }
    for (const name of await listDir(this.mirrorsDir)) {
      const path = join(this.mirrorsDir, name);
      if (name.includes(TEMP_MARK)) {
        await removeIfUnused(path, "unfinished clone");
      } else if (name.endsWith(".git") && (await isDirectory(path))) {
        try {
          await gitClient(path, this.localEnv()).raw(["worktree", "prune"]);
        } catch (error) {
          failures.push(`${path}: ${this.message(error)}`);
        }
      }
    }

    if (failures.length > 0) {
      for (const failure of failures) this.logger?.warn({ err: failure }, "worktree housekeeping failed");
      throw new DriftwatchError(`worktree housekeeping failed:\n${failures.map((f) => `  - ${f}`).join("\n")}`);
    }
  }

  /** Waits until no prune is running (including prunes started while waiting). */
  private async prunesSettled(): Promise<void> {
    for (;;) {
      const current = this.pruning;
      await current;
      if (current === this.pruning) return;
    }
  }

  private hold(commit: string): void {
    this.holders.set(commit, (this.holders.get(commit) ?? 0) + 1);
  }

  private unhold(commit: string): void {
    const count = (this.holders.get(commit) ?? 0) - 1;
    if (count > 0) this.holders.set(commit, count);
    else this.holders.delete(commit);
  }

  /** The repository's mirror, fetched unless a fetch is running or finished less than fetchMaxAgeMs ago. */
  private mirror(url: string): Promise<Mirror> {
    const cached = this.mirrors.get(url);
    if (cached && (cached.settledAt === undefined || Date.now() - cached.settledAt < this.fetchMaxAgeMs)) return cached.pending;
    const entry: { pending: Promise<Mirror>; settledAt?: number } = { pending: this.updateMirror(url) };
    // A failure is shared the same way (stacks of one pass get the same answer); a service asks again later.
    const settled = () => (entry.settledAt = Date.now());
    entry.pending.then(settled, settled);
    this.mirrors.set(url, entry);
    return entry.pending;
  }

  /**
   * The commit `ref` names on the remote right now (`git ls-remote`, nothing fetched); undefined when the remote
   * has no such branch or tag. Throws SourceUnreachableError when the remote cannot be asked.
   */
  async remoteCommit(repo: string, ref: string): Promise<string | undefined> {
    if (/^[0-9a-f]{40}$/i.test(ref)) return ref.toLowerCase();
    const env = gitEnvironment(this.env, isHttpsUrl(repo));
    await mkdir(this.mirrorsDir, { recursive: true });
    let out: string;
    try {
      out = await gitClient(this.mirrorsDir, env).raw(["ls-remote", "--", repo, `refs/heads/${ref}`, `refs/tags/${ref}`, `refs/tags/${ref}^{}`]);
    } catch (error) {
      throw new SourceUnreachableError(`cannot reach ${this.redact(repo)}: ${this.message(error)}`);
    }
    const lines = out.trim().split("\n").filter(Boolean).map((line) => line.split(/\s+/) as [string, string]);
    const pick = (name: string) => lines.find(([, r]) => r === name)?.[0];
    return pick(`refs/heads/${ref}`) ?? pick(`refs/tags/${ref}^{}`) ?? pick(`refs/tags/${ref}`);
  }

  /**
   * Whether `commit` (checked out in `worktree`) carries a good signature, in the format of `trustedKeys`, by one
   * of its keys (signatures.ts). Never throws for a bad, foreign or missing signature.
   */
  verifyCommit(worktree: string, commit: string, trustedKeys: string, signal?: AbortSignal): Promise<SignatureCheck> {
    return verifyCommitSignature({ worktree, commit, trustedKeys, env: this.localEnv(), redact: (text) => this.redact(text), ...(signal ? { signal } : {}) });
  }

  /**
   * The files that differ between two commits of a repository (fetching it if needed); undefined when either
   * commit is unknown to the mirror.
   */
  async changedPaths(repo: string, from: string, to: string): Promise<string[] | undefined> {
    const diff = async (): Promise<string[] | undefined> => {
      const mirror = await this.mirror(repo);
      try {
        const out = await gitClient(mirror.dir, this.localEnv()).raw(["diff", "--name-only", "--no-renames", `${from}^{commit}`, `${to}^{commit}`, "--"]);
        return out.split("\n").filter(Boolean);
      } catch {
        return undefined;
      }
    };
    const first = await diff().catch(() => undefined);
    if (first) return first;
    // The mirror's last fetch predates the new commit: fetch now and ask again.
    const cached = this.mirrors.get(repo);
    if (cached?.settledAt !== undefined) this.mirrors.delete(repo);
    return diff().catch(() => undefined);
  }

  /** Fetches into the existing mirror (falling back to it when the remote fails), or clones a new one. */
  private async updateMirror(url: string): Promise<Mirror> {
    const repo = this.redact(url);
    const dir = join(this.mirrorsDir, mirrorDirName(url));
    const env = gitEnvironment(this.env, isHttpsUrl(url));
    const started = Date.now();

    if (await isDirectory(dir)) {
      this.logger?.info({ repo, mirror: dir }, "fetching mirror");
      try {
        await gitClient(dir, env).raw(["fetch", "--prune", "--quiet"]);
      } catch (error) {
        const message = this.message(error);
        this.logger?.warn({ repo, err: message }, "fetch failed; using the previous fetch");
        return { dir, staleError: message };
      }
      this.logger?.info({ repo, durationMs: Date.now() - started }, "fetched mirror");
      return { dir };
    }

    await mkdir(this.mirrorsDir, { recursive: true });
    const temp = tempName(dir);
    this.inFlight.add(temp);
    try {
      this.logger?.info({ repo, mirror: dir }, "cloning mirror");
      try {
        await gitClient(this.mirrorsDir, env).raw(["clone", "--mirror", "--quiet", "--", url, temp]);
      } catch (error) {
        const message = this.message(error);
        this.logger?.warn({ repo, err: message }, "clone failed");
        throw new SourceUnreachableError(`cannot clone ${repo}: ${message}`);
      }
      try {
        await rename(temp, dir);
      } catch (error) {
        // Another process finished the same clone first; its mirror is as fresh as ours.
        if (!(await isDirectory(dir))) throw error;
      }
    } finally {
      await rm(temp, { recursive: true, force: true });
      this.inFlight.delete(temp);
    }
    this.logger?.info({ repo, durationMs: Date.now() - started }, "cloned mirror");
    return { dir };
  }

  private worktree(mirrorDir: string, commit: string, repo: string): Promise<string> {
    let pending = this.worktrees.get(commit);
    if (!pending) {
      const created = this.prepareWorktree(mirrorDir, commit, repo);
      created.catch(() => {
        if (this.worktrees.get(commit) === created) this.worktrees.delete(commit);
      });
      this.worktrees.set(commit, created);
      pending = created;
    }
    return pending;
  }

  /** Reuses `<worktrees>/<commit>` when it is a valid checkout of the commit; else builds it anew. */
  private async prepareWorktree(mirrorDir: string, commit: string, repo: string): Promise<string> {
    const dir = join(this.worktreesDir, commit);
    if (await this.isWorktreeAt(dir, commit)) {
      this.logger?.debug({ repo, commit, worktree: dir }, "reusing worktree");
      return dir;
    }
    await rm(dir, { recursive: true, force: true });
    await mkdir(this.worktreesDir, { recursive: true });
    const git = gitClient(mirrorDir, this.localEnv());
    const temp = tempName(dir);
    this.inFlight.add(temp);
    try {
      // Forget registrations whose folders are gone (such as the invalid one just removed), then check out under a
      // temporary name and move into place, so an interrupted checkout never looks complete.
      await git.raw(["worktree", "prune"]);
      await git.raw(["worktree", "add", "--detach", "--quiet", temp, commit]);
      try {
        await git.raw(["worktree", "move", temp, dir]);
      } catch (error) {
        if (!(await this.isWorktreeAt(dir, commit))) throw error; // else another process built it first
      }
    } catch (error) {
      throw new DriftwatchError(`cannot check out ${commit} of ${repo}: ${this.message(error)}`);
    } finally {
      await rm(temp, { recursive: true, force: true }); // only left when something failed; `worktree prune` forgets it
      this.inFlight.delete(temp);
    }
    this.logger?.info({ repo, commit, worktree: dir }, "created worktree");
    return dir;
  }

  private async isWorktreeAt(dir: string, commit: string): Promise<boolean> {
    try {
      // A .git file first: without it, git would walk up and answer for whatever repository holds the data dir.
      if (!(await stat(join(dir, ".git"))).isFile()) return false;
      const [top, head] = (await gitClient(dir, this.localEnv()).raw(["rev-parse", "--show-toplevel", "HEAD"])).trim().split("\n");
      return head === commit && top !== undefined && (await realpath(top)) === (await realpath(dir));
    } catch {
      return false;
    }
  }

  /** `spec.path` inside the worktree: must exist as a directory and stay inside the worktree. */
  private async projectDir(worktree: string, path: string, commit: string, repo: string): Promise<string> {
    const notFound = () => new SourceNotFoundError(`path '${path}' is not a directory at commit ${commit} of ${repo}`);
    const dir = resolve(worktree, path);
    const rel = relative(worktree, dir);
    if (rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) throw notFound();
    let inside = false;
    try {
      const [real, root] = await Promise.all([realpath(dir), realpath(worktree)]);
      inside = (real === root || real.startsWith(root + sep)) && (await stat(real)).isDirectory();
    } catch {
      inside = false;
    }
    if (!inside) throw notFound();
    return dir;
  }

  /** The environment for git commands that never talk to a remote. */
  private localEnv(): Record<string, string> {
    return gitEnvironment(this.env, false);
  }

  private redact(text: string): string {
    return redactValues(redactUrls(text), this.secrets);
  }

  private message(error: unknown): string {
    const text = (error instanceof Error ? error.message : String(error)).trim();
    return this.redact(text) || "git failed without a message";
  }
}
