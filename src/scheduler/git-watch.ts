// The Git-change trigger: polls each watched repository's ref with `git ls-remote` (cheap: nothing is fetched),
// and when it moved, checks right away the stacks whose folder the new commits touch. A push webhook polls the
// pushed repository at once instead of waiting for the interval. Each ref is polled on its own: a remote that
// stalls (until git's time limit ends the call) delays only its own ref, never the others' polls or webhooks.
import type { Logger } from "pino";
import type { StackConfig } from "../config/types.ts";
import type { GitSource } from "../sources/git/index.ts";

export interface GitWatchOptions {
  stacks: readonly StackConfig[];
  source: Pick<GitSource, "remoteCommit" | "changedPaths">;
  /** 0 turns the periodic poll off (webhooks still work). */
  intervalMs: number;
  /** `commit`: the ref's commit the trigger is about (a fleet makes one job of it, whoever saw it). */
  trigger(stack: string, reason: "git" | "webhook", commit: string): void;
  /** Whether the periodic poll runs in this process now (in a fleet: on the leader only). Default always. */
  polls?: () => boolean;
  logger: Logger;
}

/** `git@github.com:Org/Repo.git`, `https://github.com/org/repo`, `ssh://git@github.com/org/repo.git` → `github.com/org/repo`. */
export function repoIdentity(url: string): string {
  const trimmed = url.trim().replace(/\/+$/, "").replace(/\.git$/i, "");
  const scp = /^(?:[^@\s/:]+@)?([^@\s/:]+):(?!\/\/)(.+)$/.exec(trimmed);
  if (scp && !/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) return `${scp[1]!.toLowerCase()}/${scp[2]!.replace(/^\/+/, "").toLowerCase()}`;
  if (/^(https?|ssh|git):\/\//i.test(trimmed) && URL.canParse(trimmed)) {
    const u = new URL(trimmed);
    return `${u.hostname.toLowerCase()}${u.pathname.toLowerCase()}`.replace(/\/+$/, "");
  }
  return trimmed.replace(/^file:\/\//i, "");
}

/** Whether a changed file lies in a stack's folder (the repository root holds everything). */
export function touches(stackPath: string, changed: readonly string[]): boolean {
  if (stackPath === ".") return changed.length > 0;
  return changed.some((file) => file === stackPath || file.startsWith(`${stackPath}/`));
}

interface Watched {
  repo: string;
  ref: string;
  stacks: StackConfig[];
  last?: string;
  /**
   * The stacks `last` was found to touch: those its new commits changed, or all of them when it was the ref's first
   * sight (nothing to compare with). A webhook for a commit a poll saw first checks these, not every stack.
   */
  touched?: StackConfig[];
  /** The poll of this ref under way, if any. */
  polling?: Promise<void>;
}

export class GitWatch {
  readonly #options: GitWatchOptions;
  readonly #watched = new Map<string, Watched>();
  /** Aborted by stop(): ends the git commands of polls under way. */
  readonly #stopping = new AbortController();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: GitWatchOptions) {
    this.#options = options;
    for (const stack of options.stacks) {
      const key = `${stack.source.repo}\n${stack.source.ref}`;
      const watched = this.#watched.get(key) ?? { repo: stack.source.repo, ref: stack.source.ref, stacks: [] };
      watched.stacks.push(stack);
      this.#watched.set(key, watched);
    }
  }

  /** Learns every ref's current commit, then polls every interval. */
  async start(): Promise<void> {
    await this.poll();
    if (this.#options.intervalMs > 0) {
      this.#timer = setInterval(() => {
        if (this.#options.polls?.() ?? true) void this.poll();
      }, this.#options.intervalMs);
    }
  }

  /** No more polls; the git commands of polls under way are stopped. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#stopping.abort();
  }

  /** Polls the refs (all, or those of the given repositories); a ref whose poll is under way is not polled twice. */
  poll(only?: (w: Watched) => boolean, reason: "git" | "webhook" = "git"): Promise<void> {
    const targets = [...this.#watched.values()].filter((w) => !only || only(w));
    return Promise.all(targets.map((w) => this.#pollOnce(w, reason))).then(() => undefined);
  }

  #pollOnce(watched: Watched, reason: "git" | "webhook"): Promise<void> {
    if (this.#stopping.signal.aborted) return Promise.resolve();
    watched.polling ??= this.#pollOne(watched, reason).finally(() => {
      watched.polling = undefined;
    });
    return watched.polling;
  }

  /**
   * A push webhook: polls the configured repositories the payload names (by clone/ssh/web URL, GitHub or GitLab
   * shape) on the pushed branch. Returns the stacks of the repositories it matched.
   */
  async onPush(payload: unknown): Promise<string[]> {
    const urls = pushUrls(payload);
    const ref = pushBranch(payload);
    const identities = new Set(urls.map(repoIdentity));
    const matches = (w: Watched) => identities.has(repoIdentity(w.repo)) && (ref === undefined || w.ref === ref);
    const matched = [...this.#watched.values()].filter(matches);
    if (matched.length === 0) return [];
    // A poll of these refs that started before the push may have missed it: wait it out, then poll again.
    await Promise.all(matched.map((w) => w.polling?.catch(() => undefined)));
    await this.poll(matches, "webhook");
    return matched.flatMap((w) => w.stacks.map((s) => s.name));
  }

  async #pollOne(watched: Watched, reason: "git" | "webhook"): Promise<void> {
    const log = this.#options.logger.child({ ref: watched.ref });
    const signal = this.#stopping.signal;
    let commit: string | undefined;
    let changed: string[] | undefined;
    const previous = watched.last;
    try {
      commit = await this.#options.source.remoteCommit(watched.repo, watched.ref, { signal });
      if (commit && previous && previous !== commit) changed = await this.#options.source.changedPaths(watched.repo, previous, commit, { signal });
    } catch (error) {
      if (!signal.aborted) log.warn({ err: error instanceof Error ? error.message : String(error) }, "cannot poll the repository");
      return;
    }
    if (!commit) return;
    watched.last = commit;
    if (!previous || previous === commit) {
      // First sight of the ref (the start-up check covers it) or nothing new. A webhook still checks the stacks the
      // commit touches: all of them at first sight; after a poll that saw it first, those that poll found (the
      // same commit, so one job per stack in a fleet), not every stack of the repository.
      if (!previous || !watched.touched) watched.touched = watched.stacks;
      if (reason === "webhook") for (const s of watched.touched) this.#options.trigger(s.name, reason, commit);
      return;
    }
    const stacks = watched.stacks.filter((s) => changed === undefined || touches(s.source.path, changed));
    watched.touched = stacks;
    log.info({ from: previous.slice(0, 12), to: commit.slice(0, 12), files: changed?.length, stacks: stacks.map((s) => s.name) }, "new commit");
    for (const s of stacks) this.#options.trigger(s.name, reason, commit);
  }
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
}

/** Every repository URL a GitHub or GitLab push payload carries. */
function pushUrls(payload: unknown): string[] {
  const p = record(payload);
  const repo = { ...record(p.repository), ...record(p.project) };
  return ["clone_url", "ssh_url", "git_url", "html_url", "url", "git_http_url", "git_ssh_url", "web_url", "homepage"]
    .map((k) => repo[k])
    .filter((v): v is string => typeof v === "string" && v.length > 0);
}

/** The pushed branch (`refs/heads/main` → `main`), or undefined (a tag, or no ref). */
function pushBranch(payload: unknown): string | undefined {
  const ref = record(payload).ref;
  return typeof ref === "string" && ref.startsWith("refs/heads/") ? ref.slice("refs/heads/".length) : undefined;
}
