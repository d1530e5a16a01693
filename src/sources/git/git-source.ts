// The Git source: one bare mirror per repository URL, fetched at most once per GitSource (one per `check` run, or
// every few seconds in the service), and a fresh checkout per commit for the runs that use it together.
//
//   <dataDir>/git/mirrors/<slug>-<hash>.git             git clone --mirror, then git fetch --prune <url>
//   <dataDir>/git/worktrees/<commit>-<pid>-<random>     the commit's files (git read-tree -u); removed when its last
//                                                       run ends
//
// A run's engine executes the repository's code, which can write into its checkout. So a checkout is never kept
// for a later run: it is made for the first run that needs the commit, shared by the runs at that commit that
// overlap it, and removed when the last of them releases it. Nothing a finished run wrote reaches a later run.
//
// A checkout is the commit's files and nothing else: no `.git` inside, no record of it in the mirror. git writes
// them from the mirror (GIT_DIR) through an index of its own next to the checkout, deleted once they are written;
// one git process instead of `git worktree add`'s, and removing the checkout is deleting a folder. So no program
// can reach the mirror through its checkout, and no worktree records (`<mirror>/worktrees/<id>`) are left to a
// program to rewrite or to other checkouts of the mirror to wait on.
//
// A mirror's repository configuration is Driftwatch's (mirror-config.ts): before every git command on a mirror,
// what git would read there is compared with what Driftwatch wrote, and restored (with a warning) when a program
// changed it. Git runs in a mirror with GIT_DIR set to it, and never in a checkout once a run has it: the
// signature check reads the commit from the mirror.
//
// Every git command is a process group bounded by `timeoutMs` and by the caller's signal (its run's timeout,
// Driftwatch stopping). A fetch or checkout several callers wait for stops when the last of them gives up, and
// the next caller starts it anew. Whatever reaches an error message or a log line went through the masker (URL
// credentials and the token's values).
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { lstat, mkdir, readdir, readFile, realpath, rename, rm, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Logger } from "pino";
import type { SourceSpec } from "../../config/types.ts";
import { DriftwatchError, InterruptedError, SourceNotFoundError, SourceUnreachableError, TimeoutError } from "../../core/errors.ts";
import { processIsGone } from "../../core/liveness.ts";
import { timed, type PhaseTimer } from "../../core/phase-timer.ts";
import { SecretMasker } from "../../core/redact.ts";
import { isInside } from "../../core/worktree-file.ts";
import { abortedByTimeout, GitStopped, runGit } from "./git-command.ts";
import { gitEnvironment, tokenSecrets } from "./git-env.ts";
import { restoreMirrorConfig } from "./mirror-config.ts";
import { mirrorDirName } from "./mirror-path.ts";
import { resolveRef } from "./refs.ts";
import { SharedWork, unlessAborted } from "./shared-work.ts";
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
  /** The caller is done with the worktree (idempotent); the last user's release removes it. */
  release(): Promise<void>;
}

export interface GitSourceOptions {
  /** Driftwatch's data directory; mirrors and worktrees live under `<dataDir>/git`. */
  dataDir: string;
  logger?: Logger;
  /** The environment git runs with (default process.env); DRIFTWATCH_GIT_TOKEN authenticates to `tokenHosts`. */
  env?: NodeJS.ProcessEnv;
  /**
   * The hosts (`host`, `host:port`, `*.domain`) DRIFTWATCH_GIT_TOKEN is sent to, over https only; git itself
   * scopes the header to them and follows no redirect from them. Default none.
   */
  tokenHosts?: readonly string[];
  /** The most one git command may take (fetch, clone, ls-remote, worktree add, rev-parse, diff). Default 300 s. */
  timeoutMs?: number;
  /**
   * How long a finished fetch of a repository is reused by later acquisitions. Default: for the life of the
   * instance (one `check` pass fetches each repository once). A long-running service sets a few seconds, so
   * stacks triggered together share a fetch and later runs see new commits.
   */
  fetchMaxAgeMs?: number;
}

export interface GitCallOptions {
  /** Stops waiting (and the git commands only this caller needs): a run's timeout, Driftwatch stopping. */
  signal?: AbortSignal;
  /**
   * acquire: a fetch of the mirror that started before this time (epoch ms) is not reused. A check triggered by a
   * commit someone saw (a poll, a webhook, maybe on another replica) gets at least that commit.
   */
  fetchedAfter?: number;
  /** acquire: the run's phase timer; the wait for the commit's worktree is charged to its `worktree` phase. */
  timings?: PhaseTimer;
}

interface Mirror {
  dir: string;
  /** The (redacted) reason the fetch failed, when an earlier fetch is used instead. */
  staleError?: string;
  /**
   * The commits refs resolved to since this fetch: the stacks of one repository share the answer instead of a
   * `git rev-parse` each. A new fetch makes a new Mirror, so an answer never outlives the refs it was read from.
   */
  commits: Map<string, string>;
}

interface MirrorUpdate {
  work: SharedWork<Mirror>;
  startedAt: number;
  settledAt?: number;
}

/** The worktree the runs at one commit share while at least one of them holds it. */
interface Checkout {
  commit: string;
  dir: string;
  mirrorDir: string;
  /** The repository, redacted. */
  repo: string;
  work: SharedWork<void>;
}

const DEFAULT_TIMEOUT_MS = 300_000;

/** How often a mirror gets `git gc --auto` (a fetch itself starts no maintenance: git-env.ts). */
const MAINTENANCE_INTERVAL_MS = 24 * 3_600_000;

/** In a mirror: its mtime is when `git gc --auto` was last started there. */
const MAINTENANCE_STAMP = "driftwatch-maintained";

/** `<base>-<pid>-<random>`: a directory only this process builds, recognisable as a dead process's leftover. */
function ownName(base: string): string {
  return `${base}-${process.pid}-${randomBytes(4).toString("hex")}`;
}

/** The process that named a directory with ownName (or a checkout's index, `<name>.index`); undefined for any other name. */
function namingPid(name: string): number | undefined {
  const match = /-(\d+)-[0-9a-f]{8}(?:\.index(?:\.lock)?)?$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** What is at a mirror's path: a directory of its own, nothing, or something else (a link, a file). */
async function mirrorState(path: string): Promise<"directory" | "absent" | "other"> {
  try {
    return (await lstat(path)).isDirectory() ? "directory" : "other";
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "absent";
    throw error;
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

/**
 * Whether `git worktree prune` has anything to do in a mirror: a worktree record (`<mirror>/worktrees/<id>`) whose
 * checkout is gone, or that cannot be read. Earlier versions checked commits out with `git worktree add`; their
 * records go once their checkouts are gone. Asked before starting git for it, which every one-shot check would do.
 */
async function hasStaleWorktreeRecords(mirror: string): Promise<boolean> {
  for (const id of await listDir(join(mirror, "worktrees"))) {
    try {
      await stat((await readFile(join(mirror, "worktrees", id, "gitdir"), "utf8")).trim());
    } catch {
      return true;
    }
  }
  return false;
}

/** The error for a caller whose own signal ended its wait: its run's timeout, or Driftwatch stopping. */
function callerStopped(signal: AbortSignal, doing: string): DriftwatchError {
  return abortedByTimeout(signal) ? new TimeoutError(`the run's timeout expired while ${doing}`) : new InterruptedError(`Driftwatch stopped while ${doing}`);
}

export class GitSource {
  private readonly mirrorsDir: string;
  private readonly worktreesDir: string;
  private readonly logger: Logger | undefined;
  private readonly env: NodeJS.ProcessEnv;
  private readonly masker: SecretMasker;
  private readonly tokenHosts: readonly string[];
  private readonly timeoutMs: number;
  private readonly fetchMaxAgeMs: number;
  /** One mirror update (clone or fetch) per URL at a time, reused for fetchMaxAgeMs, failures included. */
  private readonly mirrors = new Map<string, MirrorUpdate>();
  /** Commit → the worktree its current runs share. */
  private readonly checkouts = new Map<string, Checkout>();
  /** Worktrees of this instance whose removal failed; prune tries again. */
  private readonly unremoved = new Set<string>();
  /** `git gc --auto` runs started by this instance and not finished; prune waits for them. */
  private readonly maintenance = new Set<Promise<void>>();

  constructor(options: GitSourceOptions) {
    const gitDir = join(resolve(options.dataDir), "git");
    this.mirrorsDir = join(gitDir, "mirrors");
    this.worktreesDir = join(gitDir, "worktrees");
    this.logger = options.logger;
    this.env = { ...(options.env ?? process.env) };
    this.masker = new SecretMasker(tokenSecrets(this.env), []);
    this.tokenHosts = [...(options.tokenHosts ?? [])];
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.fetchMaxAgeMs = options.fetchMaxAgeMs ?? Number.POSITIVE_INFINITY;
  }

  /**
   * Fetches (once per instance, or per fetchMaxAgeMs) the spec's repository, resolves its ref and checks that
   * commit out. When `signal` aborts first, throws TimeoutError (its reason was a timeout) or InterruptedError.
   */
  async acquire(spec: SourceSpec, options: GitCallOptions = {}): Promise<AcquiredSource> {
    const { signal } = options;
    const repo = this.redact(spec.repo);
    const mirror = await this.mirror(spec.repo, signal, options.fetchedAfter);
    let commit = mirror.commits.get(spec.ref);
    if (!commit) {
      try {
        commit = await resolveRef((args) => this.inMirror(mirror.dir, repo, args, this.localEnv(), this.bounded(signal)), spec.ref);
      } catch (error) {
        throw this.failure(error, signal, `resolving '${spec.ref}' in ${repo}`, (message) => new DriftwatchError(`cannot resolve '${spec.ref}' in ${repo}: ${message}`));
      }
      if (commit) mirror.commits.set(spec.ref, commit);
    }
    if (!commit) {
      const stale = mirror.staleError ? ` (the remote could not be fetched, so the mirror may be out of date: ${mirror.staleError})` : "";
      throw new SourceNotFoundError(`ref '${spec.ref}' not found in ${repo}: no branch, tag or commit by that name${stale}`);
    }
    this.logger?.debug({ repo, ref: spec.ref, commit }, "resolved ref");

    const checkout = this.checkoutFor(mirror.dir, commit, repo);
    const leave = checkout.work.enter();
    let released = false;
    const release = async (): Promise<void> => {
      if (released) return;
      released = true;
      leave();
      await this.retire(checkout);
    };
    let dir: string;
    try {
      dir = await timed(options.timings, "worktree", async () => {
        await unlessAborted(checkout.work.result, signal, (s) => callerStopped(s, `checking out ${commit} of ${repo}`));
        return this.projectDir(checkout.dir, spec.path, commit, repo);
      });
    } catch (error) {
      await release();
      throw error;
    }
    return {
      dir,
      worktree: checkout.dir,
      commit,
      ...(mirror.staleError !== undefined ? { staleSource: { error: mirror.staleError } } : {}),
      release,
    };
  }

  /**
   * Removes what no live process uses: worktrees and unfinished clones of processes that are gone (and of
   * earlier versions, which named worktrees by commit alone), worktrees of this instance whose removal failed,
   * and the mirrors' records of removed worktrees (`git worktree prune`). Failures are logged and reported
   * together at the end.
   */
  async prune(): Promise<void> {
    await Promise.all(this.maintenance);
    const failures: string[] = [];
    const current = new Set([...this.checkouts.values()].map((c) => c.dir));
    const leftover = (path: string, name: string): boolean => {
      if (this.unremoved.has(path)) return true;
      const pid = namingPid(name);
      if (pid === undefined) return true;
      return pid !== process.pid && processIsGone(`${hostname()}:${pid}`);
    };
    const remove = async (path: string, what: string): Promise<void> => {
      try {
        await rm(path, { recursive: true, force: true });
        this.unremoved.delete(path);
        this.logger?.info({ path }, `removed ${what}`);
      } catch (error) {
        failures.push(`${path}: ${this.message(error)}`);
      }
    };

    for (const name of await listDir(this.worktreesDir)) {
      const path = join(this.worktreesDir, name);
      if (!current.has(path) && leftover(path, name)) await remove(path, "leftover worktree");
    }
    for (const name of await listDir(this.mirrorsDir)) {
      const path = join(this.mirrorsDir, name);
      if (!name.endsWith(".git")) {
        if (leftover(path, name)) await remove(path, "unfinished clone");
      } else if ((await mirrorState(path)) === "directory" && (await hasStaleWorktreeRecords(path))) {
        try {
          await this.inMirror(path, path, ["worktree", "prune"], this.localEnv(), this.bounded(undefined));
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

  /**
   * The repository's mirror: a fetch is started unless one is running or finished less than fetchMaxAgeMs ago
   * (a failure is shared the same way: stacks of one pass get the same answer; a service asks again later).
   * A fetch abandoned by every caller is not reused.
   */
  private async mirror(url: string, signal: AbortSignal | undefined, fetchedAfter = 0): Promise<Mirror> {
    let update = this.mirrors.get(url);
    const reusable =
      update &&
      !update.work.abandoned &&
      update.startedAt >= fetchedAfter &&
      (update.settledAt === undefined || Date.now() - update.settledAt < this.fetchMaxAgeMs);
    if (!update || !reusable) {
      const previous = update?.work.result;
      const created: MirrorUpdate = {
        startedAt: Date.now(),
        // After the previous update of this mirror is over (an abandoned one is being stopped), so two never overlap.
        work: new SharedWork(async (workSignal) => {
          await previous?.catch(() => undefined);
          return this.updateMirror(url, workSignal);
        }),
      };
      const settled = () => (created.settledAt = Date.now());
      created.work.result.then(settled, settled);
      this.mirrors.set(url, created);
      update = created;
    }
    const leave = update.work.enter();
    try {
      return await unlessAborted(update.work.result, signal, (s) => callerStopped(s, `fetching ${this.redact(url)}`));
    } finally {
      leave();
    }
  }

  /**
   * The commit `ref` names on the remote right now (`git ls-remote`, nothing fetched); undefined when the remote
   * has no such branch or tag. Throws SourceUnreachableError when the remote cannot be asked in time.
   */
  async remoteCommit(repo: string, ref: string, options: GitCallOptions = {}): Promise<string | undefined> {
    if (/^[0-9a-f]{40}$/i.test(ref)) return ref.toLowerCase();
    await mkdir(this.mirrorsDir, { recursive: true });
    let out: string;
    try {
      const args = ["ls-remote", "--", repo, `refs/heads/${ref}`, `refs/tags/${ref}`, `refs/tags/${ref}^{}`];
      out = await runGit(args, { cwd: this.mirrorsDir, env: this.remoteEnv(repo), signal: this.bounded(options.signal) });
    } catch (error) {
      throw this.failure(error, options.signal, `asking ${this.redact(repo)} for '${ref}'`, (message) => new SourceUnreachableError(`cannot reach ${this.redact(repo)}: ${message}`));
    }
    const lines = out.trim().split("\n").filter(Boolean).map((line) => line.split(/\s+/) as [string, string]);
    const pick = (name: string) => lines.find(([, r]) => r === name)?.[0];
    return pick(`refs/heads/${ref}`) ?? pick(`refs/tags/${ref}^{}`) ?? pick(`refs/tags/${ref}`);
  }

  /**
   * Whether `commit` (checked out in `worktree`, an acquired worktree still held) carries a good signature, in the
   * format of `trustedKeys`, by one of its keys (signatures.ts). The commit is read from the checkout's mirror,
   * never through anything in the checkout, which the runs holding it can write (a `.git` of their own). Never
   * throws for a bad, foreign or missing signature.
   */
  async verifyCommit(worktree: string, commit: string, trustedKeys: string, signal?: AbortSignal): Promise<SignatureCheck> {
    const checkout = [...this.checkouts.values()].find((c) => c.dir === worktree);
    if (!checkout) throw new DriftwatchError(`cannot verify commit ${commit}: ${worktree} is not a worktree this source holds`);
    await this.ownMirror(checkout.mirrorDir, checkout.repo);
    const env = { ...this.localEnv(), GIT_DIR: checkout.mirrorDir };
    return verifyCommitSignature({ repository: checkout.mirrorDir, commit, trustedKeys, env, redact: (text) => this.redact(text), ...(signal ? { signal } : {}) });
  }

  /**
   * The files that differ between two commits of a repository (fetching it if needed); undefined when either
   * commit is unknown to the mirror or the repository cannot be fetched. Throws when `signal` stopped it.
   */
  async changedPaths(repo: string, from: string, to: string, options: GitCallOptions = {}): Promise<string[] | undefined> {
    const { signal } = options;
    const diff = async (): Promise<string[] | undefined> => {
      try {
        const mirror = await this.mirror(repo, signal);
        const args = ["diff", "--name-only", "--no-renames", "--no-ext-diff", `${from}^{commit}`, `${to}^{commit}`, "--"];
        return (await this.inMirror(mirror.dir, this.redact(repo), args, this.localEnv(), this.bounded(signal))).split("\n").filter(Boolean);
      } catch (error) {
        if (signal?.aborted) throw callerStopped(signal, `comparing commits of ${this.redact(repo)}`);
        this.logger?.debug({ repo: this.redact(repo), err: this.message(error) }, "cannot compare commits");
        return undefined;
      }
    };
    const first = await diff();
    if (first) return first;
    // The mirror's last fetch predates the new commit: fetch now and ask again.
    const cached = this.mirrors.get(repo);
    if (cached?.settledAt !== undefined) this.mirrors.delete(repo);
    return diff();
  }

  /**
   * Fetches into the existing mirror (falling back to it when the remote fails or takes too long), or clones a
   * new one. The URL is always the configured one, never what the mirror's own config says.
   */
  private async updateMirror(url: string, signal: AbortSignal): Promise<Mirror> {
    const repo = this.redact(url);
    const dir = join(this.mirrorsDir, mirrorDirName(url));
    const started = Date.now();

    const state = await mirrorState(dir);
    if (state === "other") {
      this.logger?.warn({ repo, mirror: dir }, "the mirror's path holds something else than a directory (a link, a file): cloning it again");
      await rm(dir, { recursive: true, force: true });
    }
    if (state === "directory") {
      this.logger?.info({ repo, mirror: dir }, "fetching mirror");
      try {
        await this.inMirror(dir, repo, ["fetch", "--prune", "--quiet", "--", url, "+refs/*:refs/*"], this.remoteEnv(url), this.bounded(signal));
      } catch (error) {
        const message = this.message(error);
        this.logger?.warn({ repo, err: message }, "fetch failed; using the previous fetch");
        return { dir, staleError: message, commits: new Map() };
      }
      this.logger?.info({ repo, durationMs: Date.now() - started }, "fetched mirror");
      await this.maintainWhenDue(dir, repo);
      return { dir, commits: new Map() };
    }

    await mkdir(this.mirrorsDir, { recursive: true });
    const temp = join(this.mirrorsDir, ownName(`${mirrorDirName(url)}.tmp`));
    try {
      this.logger?.info({ repo, mirror: dir }, "cloning mirror");
      try {
        await runGit(["clone", "--mirror", "--quiet", "--", url, temp], { cwd: this.mirrorsDir, env: this.remoteEnv(url), signal: this.bounded(signal) });
      } catch (error) {
        const message = this.message(error);
        this.logger?.warn({ repo, err: message }, "clone failed");
        throw new SourceUnreachableError(`cannot clone ${repo}: ${message}`);
      }
      await restoreMirrorConfig(temp); // the clone's config (remote "origin") becomes Driftwatch's own
      try {
        await rename(temp, dir);
      } catch (error) {
        // Another process finished the same clone first; its mirror is as fresh as ours.
        if (!(await isDirectory(dir))) throw error;
      }
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
    this.logger?.info({ repo, durationMs: Date.now() - started }, "cloned mirror");
    return { dir, commits: new Map() };
  }

  /**
   * Starts `git gc --auto` in the mirror when the last one started more than a day ago (or never), and does not wait
   * for it: git lets fetches and checkouts read a repository while it is being packed. What the fetches of a day
   * brought (loose objects, small packs) is packed once it passes git's own thresholds, as a fetch's automatic
   * maintenance would, without a process after every fetch. prune waits for it.
   */
  private async maintainWhenDue(dir: string, repo: string): Promise<void> {
    const stamp = join(dir, MAINTENANCE_STAMP);
    try {
      if (Date.now() - (await stat(stamp)).mtimeMs < MAINTENANCE_INTERVAL_MS) return;
    } catch {
      // never maintained by Driftwatch
    }
    try {
      await writeFile(stamp, "");
    } catch {
      return; // not ours to write: git's own thresholds apply to whoever maintains it
    }
    const run = this.inMirror(dir, repo, ["gc", "--auto", "--quiet"], this.localEnv(), this.bounded(undefined))
      .then(() => this.logger?.debug({ repo }, "mirror maintained (git gc --auto)"))
      .catch((error: unknown) => this.logger?.warn({ repo, err: this.message(error) }, "git gc --auto failed in a mirror; the next day's tries again"))
      .finally(() => this.maintenance.delete(run));
    this.maintenance.add(run);
  }

  /** The worktree the current runs at `commit` share, or a new one (checked out by its SharedWork). */
  private checkoutFor(mirrorDir: string, commit: string, repo: string): Checkout {
    const current = this.checkouts.get(commit);
    if (current) return current;
    const dir = join(this.worktreesDir, ownName(commit));
    const checkout: Checkout = { commit, dir, mirrorDir, repo, work: new SharedWork((signal) => this.checkOut(mirrorDir, commit, dir, repo, signal)) };
    this.checkouts.set(commit, checkout);
    return checkout;
  }

  /**
   * Writes the commit's files into `dir` (new): `git read-tree -u` from the mirror through an index of the
   * checkout's own beside it, deleted once the files are written. Nothing inside `dir` refers to the mirror.
   */
  private async checkOut(mirrorDir: string, commit: string, dir: string, repo: string, signal: AbortSignal): Promise<void> {
    await mkdir(dir, { recursive: true });
    const index = `${dir}.index`;
    try {
      await this.ownMirror(mirrorDir, repo);
      const env = { ...this.localEnv(), GIT_DIR: mirrorDir, GIT_WORK_TREE: dir, GIT_INDEX_FILE: index };
      await runGit(["read-tree", "-u", "--reset", commit], { cwd: dir, env, signal: this.bounded(signal) });
    } catch (error) {
      throw new DriftwatchError(`cannot check out ${commit} of ${repo}: ${this.message(error)}`);
    } finally {
      await rm(index, { force: true });
    }
    this.logger?.info({ repo, commit, worktree: dir }, "checked out commit");
  }

  /** Once nobody holds `checkout`: forgets it (the next run at its commit gets a fresh one) and removes it. */
  private async retire(checkout: Checkout): Promise<void> {
    if (checkout.work.users > 0) return;
    if (this.checkouts.get(checkout.commit) === checkout) this.checkouts.delete(checkout.commit);
    await checkout.work.result.catch(() => undefined); // a checkout nobody waits for any more is being stopped
    try {
      await rm(checkout.dir, { recursive: true, force: true });
      this.logger?.debug({ commit: checkout.commit, worktree: checkout.dir }, "removed checkout");
    } catch (error) {
      this.unremoved.add(checkout.dir);
      this.logger?.warn({ worktree: checkout.dir, err: this.message(error) }, "cannot remove a checkout; prune tries again");
    }
  }

  /** `spec.path` inside the worktree: must exist as a directory and stay inside the worktree. */
  private async projectDir(worktree: string, path: string, commit: string, repo: string): Promise<string> {
    const notFound = () => new SourceNotFoundError(`path '${path}' is not a directory at commit ${commit} of ${repo}`);
    const dir = resolve(worktree, path);
    if (!isInside(worktree, dir)) throw notFound();
    let inside = false;
    try {
      const [real, root] = await Promise.all([realpath(dir), realpath(worktree)]);
      inside = isInside(root, real) && (await stat(real)).isDirectory();
    } catch {
      inside = false;
    }
    if (!inside) throw notFound();
    return dir;
  }

  /** `signal` (if any) and this instance's limit for one git command. */
  private bounded(signal: AbortSignal | undefined): AbortSignal {
    const limit = AbortSignal.timeout(this.timeoutMs);
    return signal ? AbortSignal.any([signal, limit]) : limit;
  }

  /** What a failed git call means to its caller: its own signal ended it, or `wrap` of git's (redacted) message. */
  private failure(error: unknown, signal: AbortSignal | undefined, doing: string, wrap: (message: string) => DriftwatchError): DriftwatchError {
    if (signal?.aborted) return callerStopped(signal, doing);
    return wrap(this.message(error));
  }

  /** The environment for git commands that never talk to a remote. */
  private localEnv(): Record<string, string> {
    return gitEnvironment(this.env);
  }

  /** The environment for fetch, clone and ls-remote of `url`: the token, scoped to tokenHosts, when it is https. */
  private remoteEnv(url: string): Record<string, string> {
    return gitEnvironment(this.env, /^https:\/\//i.test(url) ? this.tokenHosts : []);
  }

  /**
   * Runs `git <args>` in the mirror at `dir` (GIT_DIR, so nothing but the mirror is looked at) once the mirror
   * holds exactly the configuration Driftwatch wrote (see ownMirror).
   */
  private async inMirror(dir: string, repo: string, args: readonly string[], env: Record<string, string>, signal: AbortSignal): Promise<string> {
    await this.ownMirror(dir, repo);
    return runGit(args, { cwd: dir, env: { ...env, GIT_DIR: dir }, signal });
  }

  /** Restores what a program changed of a mirror's configuration (mirror-config.ts), with a warning naming the repository. */
  private async ownMirror(dir: string, repo: string): Promise<void> {
    const restored = await restoreMirrorConfig(dir);
    if (restored.length > 0) {
      this.logger?.warn({ repo, mirror: dir, restored }, "a mirror's repository configuration was not the one Driftwatch wrote (changed by a program, or made by an earlier version): restored it");
    }
  }

  private redact(text: string): string {
    return this.masker.text(text);
  }

  private message(error: unknown): string {
    if (error instanceof GitStopped) {
      return error.timedOut ? `git ${error.command} did not finish within ${this.timeoutMs / 1000} s (git.timeoutSeconds)` : `git ${error.command} was cancelled`;
    }
    const text = (error instanceof Error ? error.message : String(error)).trim();
    return this.redact(text) || "git failed without a message";
  }
}
