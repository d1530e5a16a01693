// One schedule tick that finds every stack due (target: 10,000 stacks queued in under a second, before any engine
// starts), as `serve` has it on each store: on SQLite the single-process Scheduler (its queue is in memory), on
// PostgreSQL the FleetScheduler (one job per stack in the pg-boss queue, a multi-row insert per 500 stacks). The
// stacks are parsed from a configuration as `serve` reads it; the clock is a ManualClock moved to the next
// minute, which fires the scheduler's real cron callback. A check's `run` only notes that it was called and then
// waits until the end: no engine, no store write competes with the queueing. Prints, for each, the time from the
// tick to every stack queued (SQLite: in the Scheduler's phases; PostgreSQL: rows in the queue's table) and how
// many checks had started by then (at most the concurrency).
//
//   npm run bench -- scheduler-tick        BENCH_STACKS=N to change the count (default 10000)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { parseConfig } from "../src/config/load.ts";
import type { StackConfig } from "../src/config/types.ts";
import { createLogger } from "../src/core/logger.ts";
import { ManualClock } from "../src/scheduler/clock.ts";
import { CHECK_QUEUE, FleetScheduler, QUEUE_SCHEMA } from "../src/scheduler/fleet.ts";
import { Scheduler } from "../src/scheduler/scheduler.ts";
import { startPostgres } from "../test/support/postgres.ts";
import { sleep } from "./support.ts";

const STACKS = Number(process.env.BENCH_STACKS ?? 10_000);
/** `service.concurrency`: how many checks may start at once. */
const CONCURRENCY = 4;
const logger = createLogger({ level: "warn", pretty: false });
const root = mkdtempSync(join(tmpdir(), "driftwatch-bench-tick-"));

function stacks(): StackConfig[] {
  const lines = [`dataDir: ${join(root, "data")}`, "service: { schedule: '* * * * *', jitterSeconds: 0 }", "alerts: { log: false }", "stacks:"];
  for (let i = 0; i < STACKS; i++) lines.push(`  - { name: stack-${String(i).padStart(5, "0")}, engine: terraform, source: { repo: /nowhere, path: s${i} } }`);
  return parseConfig(`${lines.join("\n")}\n`, join(root, "driftwatch.yaml"), { env: {} }).stacks;
}

/** A check that never gets to its engine: it counts itself and waits for the end of the benchmark. */
function blockedRuns(): { run: () => Promise<void>; started: () => number; release: () => void } {
  let started = 0;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  return { run: () => ((started += 1), gate), started: () => started, release };
}

/** 30 s into a minute: the next tick is half a minute away, well clear of the start. */
function clockAtHalfMinute(): ManualClock {
  return new ManualClock(new Date(Math.floor(Date.now() / 60_000) * 60_000 + 30_000));
}

async function sqliteTick(configured: StackConfig[]): Promise<{ ms: number; started: number }> {
  const clock = clockAtHalfMinute();
  const runs = blockedRuns();
  const scheduler = new Scheduler({ stacks: configured, concurrency: CONCURRENCY, jitterMs: 0, logger, run: runs.run, clock });
  scheduler.start(false);
  const began = performance.now();
  clock.advance(30_000);
  const queued = () => Object.values(scheduler.phases()).filter((phase) => phase !== "idle").length;
  while (queued() < configured.length) await sleep(1);
  const ms = performance.now() - began;
  const started = runs.started();
  runs.release();
  await scheduler.stop(10_000);
  return { ms, started };
}

async function postgresTick(configured: StackConfig[]): Promise<{ ms: number; started: number }> {
  const server = await startPostgres();
  const url = await server.createDatabase("bench_tick");
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const runs = blockedRuns();
  const clock = clockAtHalfMinute();
  const scheduler = new FleetScheduler({
    stacks: configured,
    concurrency: CONCURRENCY,
    jitterMs: 0,
    databaseUrl: url,
    poolSize: CONCURRENCY + 2,
    heartbeatSeconds: 30,
    logger,
    run: runs.run,
    onRetry: async () => {},
    clock,
  });
  try {
    await scheduler.start(false);
    const began = performance.now();
    clock.advance(30_000);
    const queued = async () => (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${QUEUE_SCHEMA}.job WHERE name = $1`, [CHECK_QUEUE])).rows[0]!.n;
    while ((await queued()) < configured.length) await sleep(5);
    const ms = performance.now() - began;
    return { ms, started: runs.started() };
  } finally {
    runs.release();
    await scheduler.stop(10_000);
    await client.end();
    await server.stop();
  }
}

try {
  const configured = stacks();
  console.log(`stacks due at one tick: ${configured.length}; concurrency ${CONCURRENCY}; no jitter (target: all queued < 1 s)`);
  const sqlite = await sqliteTick(configured);
  console.log(`  SQLite (in-memory Scheduler):      all queued ${sqlite.ms.toFixed(1)} ms after the tick; checks started by then: ${sqlite.started}`);
  const postgres = await postgresTick(configured);
  console.log(`  PostgreSQL (FleetScheduler, pg-boss): all queued ${postgres.ms.toFixed(1)} ms after the tick; checks started by then: ${postgres.started}`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
