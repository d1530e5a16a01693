// One replica for bench/replicas.ts, started by it as a child process (with an IPC channel). Not a benchmark of its
// own: the `support` prefix keeps `npm run bench` (src/toolchain/main.ts) from running it on its own.
//
//   node support-replica.ts fleet  <database url>   a FleetScheduler (pg-boss queue) + the PostgreSQL store + the
//                                                    leader's connection, as `serve` builds them on PostgreSQL
//   node support-replica.ts sqlite <database file>  the in-memory Scheduler + the SQLite store, as `serve` on SQLite
//
// BENCH_STACKS synthetic Terraform stacks (never checked by an engine), a yearly schedule so that no real cron tick
// fires while measuring: the parent sends the tick. A check is only its bookkeeping in the store: startRun, then
// recordRun of an in-sync result.
//
// Messages from the parent: { type: "tick", round, tickAt, tick } (fire at wall time tickAt: every stack triggered,
// as the replica's cron would), { type: "report", round }, { type: "rss" }, { type: "stop" }.
// To the parent: ready, sent, progress, report, rss, stopped, error (see the `Message` types in replicas.ts).
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../src/config/load.ts";
import type { StackConfig } from "../src/config/types.ts";
import { createLogger } from "../src/core/logger.ts";
import { FleetScheduler } from "../src/scheduler/fleet.ts";
import { Leadership } from "../src/scheduler/leader.ts";
import { type CheckScheduler, Scheduler, type TriggerOutcome, type TriggerReason } from "../src/scheduler/scheduler.ts";
import type { Store } from "../src/store/api.ts";
import { openPostgresStore } from "../src/store/postgres/index.ts";
import { openSqliteStore } from "../src/store/sqlite/index.ts";

const STACKS = Number(process.env.BENCH_STACKS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
/** `database.poolSize` and `heartbeatSeconds` as the configuration defaults them (src/config/schema.ts). */
const POOL_SIZE = 10;
const HEARTBEAT_SECONDS = 30;
const [mode, location] = process.argv.slice(2);
if (!process.send) {
  process.stderr.write("support-replica.ts is started by bench/replicas.ts (it needs an IPC channel)\n");
  process.exit(2);
}
if ((mode !== "fleet" && mode !== "sqlite") || !location) {
  process.stderr.write("usage: support-replica.ts fleet <database url> | sqlite <database file>\n");
  process.exit(2);
}
const send = (message: Record<string, unknown>) => process.send!(message);

/** The stacks as `serve` would have them: parsed from a configuration (as bench/report.ts does). */
function stacks(dataDir: string): StackConfig[] {
  const lines = [`dataDir: ${dataDir}`, "service: { schedule: '0 0 1 1 *' }", "alerts: { log: false }", "stacks:"];
  for (let i = 0; i < STACKS; i++) lines.push(`  - { name: stack-${String(i).padStart(4, "0")}, engine: terraform, source: { repo: /nowhere, path: s${i} } }`);
  return parseConfig(`${lines.join("\n")}\n`, join(dataDir, "driftwatch.yaml"), { env: {} }).stacks;
}

interface Round {
  id: number;
  tickAt: number;
  /** ms from the tick to each job's start (run called), to its end (recorded). */
  starts: number[];
  ends: number[];
  /** ms each run took: startRun + recordRun. */
  runMs: number[];
  stacks: string[];
  outcomes: Partial<Record<TriggerOutcome, number>>;
  /** ms from the tick until every trigger of this replica settled (sent, or refused). */
  sendMs?: number;
}

const logger = createLogger({ level: "warn", pretty: false });
const dataDir = mkdtempSync(join(tmpdir(), "driftwatch-bench-replica-"));
const configured = stacks(dataDir);
let round: Round | undefined;
/** Jobs run outside any round (none expected). */
let strays = 0;
let progressTimer: NodeJS.Timeout | undefined;

function progress(): void {
  progressTimer ??= setTimeout(() => {
    progressTimer = undefined;
    if (round) send({ type: "progress", round: round.id, done: round.starts.length, finished: round.ends.length });
  }, 100);
}

const store: Store = mode === "fleet" ? await openPostgresStore(location, { poolSize: POOL_SIZE }) : await openSqliteStore(location);

async function run(stack: StackConfig, reason: TriggerReason): Promise<void> {
  const current = round;
  const startedAt = new Date();
  if (!current) strays++;
  else {
    current.starts.push(startedAt.getTime() - current.tickAt);
    current.stacks.push(stack.name);
  }
  const began = performance.now();
  const runId = `t${current?.id ?? 0}-${stack.name}-${randomUUID()}`;
  await store.startRun({ runId, stack: stack.name, engine: stack.engine, startedAt: startedAt.toISOString() });
  const finishedAt = new Date();
  await store.recordRun({
    runId,
    stack: stack.name,
    engine: stack.engine,
    verdict: "in-sync",
    commit: "0000000000000000000000000000000000000000",
    trigger: reason,
    changes: [],
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - startedAt.getTime(),
  });
  if (current) {
    current.runMs.push(performance.now() - began);
    current.ends.push(Date.now() - current.tickAt);
    progress();
  }
}

let leadership: Leadership | undefined;
const scheduler: CheckScheduler =
  mode === "fleet"
    ? new FleetScheduler({
        stacks: configured,
        concurrency: CONCURRENCY,
        jitterMs: 0,
        databaseUrl: location,
        // As serve.ts sizes the queue's pool.
        poolSize: Math.max(2, Math.min(POOL_SIZE, CONCURRENCY + 2)),
        heartbeatSeconds: HEARTBEAT_SECONDS,
        logger: logger.child({ component: "queue" }),
        run,
        onRetry: async (stack) => {
          await store.interruptRunningRuns("the replica running the check stopped before it finished", () => true, { stack: stack.name });
        },
      })
    : new Scheduler({ stacks: configured, concurrency: CONCURRENCY, jitterMs: 0, logger, run });

const started = performance.now();
await scheduler.start(false);
if (mode === "fleet") {
  // serve.ts runs this beside the queue on PostgreSQL (one connection per replica, the Git poll's lock).
  leadership = new Leadership({ databaseUrl: location, intervalMs: 10_000, logger });
  await leadership.start();
}
send({ type: "ready", pid: process.pid, startMs: performance.now() - started });

async function fire(id: number, tickAt: number, tick: Date): Promise<void> {
  const current: Round = { id, tickAt, starts: [], ends: [], runMs: [], stacks: [], outcomes: {} };
  round = current;
  // As the cron tick does: the fleet queues a tick's jobs in a few multi-row inserts; the single process triggers
  // every stack at once.
  if (scheduler instanceof FleetScheduler) {
    const queued = await scheduler.queueTick(tick);
    current.outcomes = { queued, skipped: configured.length - queued };
  } else {
    const outcomes = await Promise.all(configured.map((stack) => Promise.resolve(scheduler.trigger(stack.name, "schedule", { tick }))));
    for (const outcome of outcomes) current.outcomes[outcome] = (current.outcomes[outcome] ?? 0) + 1;
  }
  current.sendMs = Date.now() - tickAt;
  send({ type: "sent", round: id, outcomes: current.outcomes, sendMs: current.sendMs });
}

async function stop(): Promise<void> {
  const summary = await scheduler.stop(10_000);
  await leadership?.stop();
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
  send({ type: "stopped", summary });
  process.disconnect();
}

const gc = (globalThis as { gc?: () => void }).gc;

process.on("message", (message: { type: string; round?: number; tickAt?: number; tick?: string }) => {
  const failed = (error: unknown) => send({ type: "error", message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  switch (message.type) {
    case "tick":
      setTimeout(() => void fire(message.round!, message.tickAt!, new Date(message.tick!)).catch(failed), Math.max(0, message.tickAt! - Date.now()));
      break;
    case "report": {
      const current = round?.id === message.round ? round : undefined;
      send({ type: "report", round: message.round, ...(current ?? {}), strays });
      break;
    }
    case "rss":
      // A short settle and two full collections, so what is left is what the replica holds.
      void (async () => {
        gc?.();
        await new Promise((resolve) => setTimeout(resolve, 500));
        gc?.();
        const usage = process.memoryUsage();
        send({ type: "rss", rss: usage.rss, heapUsed: usage.heapUsed, external: usage.external, gc: gc !== undefined });
      })().catch(failed);
      break;
    case "stop":
      void stop().catch(failed);
      break;
  }
});
// The parent went away: nothing more to measure.
process.on("disconnect", () => {
  if (!scheduler.running) return;
  void scheduler.stop(0).finally(() => process.exit(0));
});
