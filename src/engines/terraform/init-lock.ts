// One `init` at a time per provider plugin cache, across processes too (a `driftwatch check` next to `serve`):
// the cache is not safe for concurrent inits (HashiCorp documents it; OpenTofu 1.12.6 panics in
// LinkFromOtherCache). Inside a process a queue; between processes a lock file naming its holder (`host:pid`),
// taken over when its holder is gone. The file appears with its holder already in it (written to a private file
// first, then hard-linked to the lock's name, which fails if the lock exists): a lock created and written in two
// steps is empty in between, and on a busy machine "in between" lasted long enough for a waiter to take an empty
// lock for a dead writer's and start a second init beside the first (OpenTofu's panic, seen under load).
import { randomUUID } from "node:crypto";
import { link, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pLimit from "p-limit";
import { processId, processIsGone } from "../../core/liveness.ts";

const POLL_MS = 200;
const queues = new Map<string, ReturnType<typeof pLimit>>();

async function readHolder(file: string): Promise<string | undefined> {
  return readFile(file, "utf8").catch(() => undefined);
}

/**
 * An empty lock file this long untouched is a leftover (of a version that created the file and wrote it in two
 * steps, and died in between): this version never makes an empty one.
 */
const EMPTY_LEFTOVER_MS = 60_000;

async function emptyLeftover(file: string): Promise<boolean> {
  const info = await stat(file).catch(() => undefined);
  return info !== undefined && info.size === 0 && Date.now() - info.mtimeMs > EMPTY_LEFTOVER_MS;
}

async function acquireFile(file: string, signal: AbortSignal): Promise<void> {
  const mine = `${file}.${randomUUID()}`;
  await writeFile(mine, processId(), { mode: 0o600 });
  try {
    for (;;) {
      signal.throwIfAborted();
      try {
        await link(mine, file);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const holder = await readHolder(file);
      if (holder === undefined) continue; // released meanwhile
      if ((holder !== "" && processIsGone(holder)) || (holder === "" && (await emptyLeftover(file)))) {
        await rm(file, { force: true });
        continue;
      }
      await sleep(POLL_MS, undefined, { signal });
    }
  } finally {
    await rm(mine, { force: true });
  }
}

/** Runs `fn` holding the init lock of `cacheDir`; waits for it until `signal` aborts. */
export function withInitLock<T>(cacheDir: string, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  let queue = queues.get(cacheDir);
  if (!queue) queues.set(cacheDir, (queue = pLimit(1)));
  const file = join(cacheDir, ".driftwatch-init.lock");
  return queue(async () => {
    await acquireFile(file, signal);
    try {
      return await fn();
    } finally {
      await rm(file, { force: true });
    }
  });
}
