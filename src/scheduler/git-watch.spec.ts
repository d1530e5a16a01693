// The Git-change trigger against real git: local repositories, and a remote that accepts connections and never
// answers. Each ref is polled on its own, every git call is bounded, and stop() ends the polls under way.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { commitFiles, git } from "../../test/support/git.ts";
import { silentRemote } from "../../test/support/git-remotes.ts";
import { processesUnder, until } from "../../test/support/processes.ts";
import { tempDir } from "../../test/support/tempdir.ts";
import type { StackConfig } from "../config/types.ts";
import { GitSource } from "../sources/git/index.ts";
import { GitWatch } from "./git-watch.ts";

/** What GitWatch reads of a stack: its name and source. */
function watchedStack(name: string, repo: string, path: string): StackConfig {
  return { name, source: { repo, ref: "main", path } } as StackConfig;
}

function localRepo(root: string): string {
  const repo = join(root, "repo");
  mkdirSync(repo);
  git(repo, "init", "-q", "-b", "main");
  commitFiles(repo, { "app/main.tf": "# v1\n" }, "first");
  return repo;
}

describe("GitWatch", () => {
  it("polls each ref on its own: a stalled remote holds up neither other refs' polls nor their webhooks, and is polled again", async () => {
    const root = tempDir();
    const repo = localRepo(root);
    const silent = await silentRemote();
    const source = new GitSource({ dataDir: join(root, "data"), timeoutMs: 5_000, fetchMaxAgeMs: 0 });
    const triggered: string[] = [];
    const watch = new GitWatch({
      stacks: [watchedStack("local", repo, "app"), watchedStack("stalled", silent.url("org/stalled.git"), ".")],
      source,
      intervalMs: 0,
      trigger: (stack, reason) => triggered.push(`${stack}:${reason}`),
      logger: pino({ level: "silent" }),
    });
    const starting = watch.start();
    await until(() => silent.connections() === 1, 60_000, "the first poll of the stalled remote under way");

    // While that poll hangs, the other repository's new commits are seen, by a poll and by a webhook.
    commitFiles(repo, { "app/main.tf": "# v2\n" }, "second");
    await watch.poll((w) => w.repo === repo);
    expect(triggered).toEqual(["local:git"]);
    commitFiles(repo, { "app/main.tf": "# v3\n" }, "third");
    expect(await watch.onPush({ ref: "refs/heads/main", repository: { clone_url: repo } })).toEqual(["local"]);
    expect(triggered).toEqual(["local:git", "local:webhook"]);
    expect(silent.connections()).toBe(1);

    // The stalled poll ends at git's time limit, git's helpers with it; the next poll asks that remote again.
    await starting;
    expect(processesUnder(root)).toEqual([]);
    await watch.poll();
    expect(silent.connections()).toBe(2);
    watch.stop();
  });

  it("has a webhook for a commit a poll saw first check the stacks that commit touched, not every stack", async () => {
    const root = tempDir();
    const repo = localRepo(root);
    commitFiles(repo, { "other/main.tf": "# v1\n" }, "another stack");
    const source = new GitSource({ dataDir: join(root, "data"), timeoutMs: 30_000, fetchMaxAgeMs: 0 });
    const triggered: string[] = [];
    const watch = new GitWatch({
      stacks: [watchedStack("app", repo, "app"), watchedStack("other", repo, "other")],
      source,
      intervalMs: 0,
      trigger: (stack, reason) => triggered.push(`${stack}:${reason}`),
      logger: pino({ level: "silent" }),
    });
    await watch.start();
    // At first sight there is nothing to compare with: a webhook checks every stack of the repository.
    await watch.onPush({ ref: "refs/heads/main", repository: { clone_url: repo } });
    expect(triggered.splice(0)).toEqual(["app:webhook", "other:webhook"]);
    // A commit touching app: the poll sees it first, then its webhook arrives. Both are about app alone.
    commitFiles(repo, { "app/main.tf": "# v2\n" }, "app only");
    await watch.poll();
    await watch.onPush({ ref: "refs/heads/main", repository: { clone_url: repo } });
    expect(triggered.splice(0)).toEqual(["app:git", "app:webhook"]);
    // The webhook first, then a poll: the webhook finds the commit, the poll nothing new.
    commitFiles(repo, { "other/main.tf": "# v2\n" }, "other only");
    await watch.onPush({ ref: "refs/heads/main", repository: { clone_url: repo } });
    await watch.poll();
    expect(triggered).toEqual(["other:webhook"]);
    watch.stop();
  });

  it("stop() ends the polls under way, with their git processes", async () => {
    const root = tempDir();
    const silent = await silentRemote();
    const source = new GitSource({ dataDir: join(root, "data"), timeoutMs: 600_000 });
    const watch = new GitWatch({ stacks: [watchedStack("stalled", silent.url("org/stalled.git"), ".")], source, intervalMs: 0, trigger: () => undefined, logger: pino({ level: "silent" }) });
    const starting = watch.start();
    await until(() => silent.connections() === 1 && processesUnder(root).length > 0, 60_000, "a poll of the stalled remote under way");
    watch.stop();
    await starting;
    await until(() => processesUnder(root).length === 0, 30_000, "the poll's git processes gone");
  });
});
