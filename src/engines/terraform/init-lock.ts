// One `init` at a time per provider plugin cache, across processes too (a `driftwatch check` next to `serve`):
// the cache is not safe for concurrent inits (HashiCorp documents it; OpenTofu 1.12.6 panics in
// LinkFromOtherCache). Inside a process a queue; between processes a lock file naming its holder (`host:pid`),
// taken with O_EXCL, and taken over when its holder is gone.
import { open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pLimit from "p-limit";
import { processId, processIsGone } from "../../core/liveness.ts";

const POLL_MS = 200;
const queues = new Map<string, ReturnType<typeof pLimit>>();

async function readHolder(file: string): Promise<string | undefined> {
  return readFile(file, "utf8").catch(() => undefined);
}

/** An empty lock file that stays empty: its writer died between creating and writing it. */
async function stillEmpty(file: string, signal: AbortSignal): Promise<boolean> {
  await sleep(POLL_MS, undefined, { signal });
  return (await readHolder(file)) === "";
}

async function acquireFile(file: string, signal: AbortSignal): Promise<void> {
  for (;;) {
    try {
      const handle = await open(file, "wx", 0o600);
      await handle.writeFile(processId());
      await handle.close();
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = await readHolder(file);
    if (holder === undefined) continue; // released meanwhile
    if (processIsGone(holder) || (holder === "" && (await stillEmpty(file, signal)))) {
      await rm(file, { force: true });
      continue;
    }
    await sleep(POLL_MS, undefined, { signal });
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
