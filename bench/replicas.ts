// `serve` as a fleet: BENCH_REPLICAS (3) replicas, each a child process (bench/support-replica.ts) with a
// FleetScheduler over the same BENCH_STACKS (2,000) stacks on one PostgreSQL database, BENCH_CONCURRENCY (8) workers
// each. A check is only its bookkeeping in the store (startRun + recordRun of an in-sync result; no engine), so what
// is measured is the queue and the store. It prints:
//
//   1. tick → job start: every replica fires the same schedule tick at the same wall-clock moment (as their crons
//      would: FleetScheduler.queueTick, a multi-row insert per 500 stacks); p50/p99/max of the time from the tick to each
//      job's start, the drain (tick → last job recorded), and proof that each stack ran exactly once (the other
//      replicas' sends refused), split by replica. BENCH_TICKS (2) ticks: the first cold, the last warm.
//   2. cost per check, the fleet (warm tick) against one process on SQLite (the in-memory Scheduler, same stacks,
//      same `run`, same concurrency): wall ms per check, checks/s, CPU ms per check (replicas + PostgreSQL server).
//   3. PostgreSQL connections per replica (each replica's sockets are matched to pg_stat_activity's client_port, by
//      application_name: driftwatch = store, driftwatch-queue = pg-boss, driftwatch-leader = the Git poll's lock):
//      at peak during the drains, just after the last drain, and after BENCH_IDLE_SECONDS (40) of idleness (the
//      store's pool lets idle connections go after 30 s, pg-boss's after 10 s).
//   4. idle RSS per replica (process.memoryUsage().rss after two global.gc() and a 0.5 s settle), the replicas run
//      as `npm start` runs serve (SERVICE_NODE_FLAGS, MALLOC_ARENA_MAX=2) plus --expose-gc.
//
//   npm run bench -- replicas          (or node24 bench/replicas.ts; BENCH_STACKS=50 BENCH_REPLICAS=2 to smoke-test)
//
// The server is the test toolchain's PostgreSQL (test/support/postgres.ts), made durable (fsync, synchronous_commit
// and full_page_writes on, as in production and as SQLite commits: a WAL sync per commit); BENCH_PG_FAST=1 keeps the
// test settings (all three off).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import pg from "pg";
import { CHECK_QUEUE, jobId, QUEUE_SCHEMA } from "../src/scheduler/fleet.ts";
import { SERVICE_NODE_FLAGS, serviceRuntimeEnv } from "../src/service/runtime.ts";
import { repoRoot } from "../src/toolchain/paths.ts";
import { type LocalPostgres, startPostgres } from "../test/support/postgres.ts";
import { sum } from "./support.ts";

const STACKS = Number(process.env.BENCH_STACKS ?? 2000);
const REPLICAS = Number(process.env.BENCH_REPLICAS ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const TICKS = Math.max(1, Number(process.env.BENCH_TICKS ?? 2));
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 40);
const PG_FAST = process.env.BENCH_PG_FAST === "1";
/** The most any one wait may take (start-up, a drain, a stop). */
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_SECONDS ?? 600) * 1000;
const REPLICA_SCRIPT = join(repoRoot, "bench", "support-replica.ts");
const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
const APPS = ["driftwatch", "driftwatch-queue", "driftwatch-leader"] as const;

// ---------------------------------------------------------------------------------------------------------------
// Replicas: child processes and their messages.

interface RoundReport {
  round: number;
  tickAt: number;
  starts: number[];
  ends: number[];
  runMs: number[];
  stacks: string[];
  outcomes: Record<string, number>;
  sendMs: number;
  strays: number;
}
type Message = { type: string; [key: string]: unknown };

class Replica {
  readonly proc: ChildProcess;
  readonly label: string;
  readonly #inbox: Message[] = [];
  readonly #waiters = new Set<{ match: (m: Message) => boolean; resolve: (m: Message) => void; reject: (e: Error) => void }>();
  /** The latest progress per round: jobs finished. */
  readonly finished = new Map<number, number>();
  #exit: Error | undefined;
  exited: Promise<void>;

  constructor(label: string, mode: "fleet" | "sqlite", location: string) {
    this.label = label;
    this.proc = spawn(process.execPath, [...SERVICE_NODE_FLAGS, "--expose-gc", REPLICA_SCRIPT, mode, location], {
      cwd: repoRoot,
      env: serviceRuntimeEnv({ ...process.env, BENCH_STACKS: String(STACKS), BENCH_CONCURRENCY: String(CONCURRENCY) }),
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    for (const stream of [this.proc.stdout!, this.proc.stderr!]) {
      createInterface({ input: stream }).on("line", (line) => process.stderr.write(`[${label}] ${line}\n`));
    }
    this.proc.on("message", (message: Message) => {
      if (message.type === "progress") {
        this.finished.set(message.round as number, message.finished as number);
        return;
      }
      if (message.type === "error") process.stderr.write(`[${label}] error: ${String(message.message)}\n`);
      for (const waiter of this.#waiters) {
        if (waiter.match(message)) {
          this.#waiters.delete(waiter);
          waiter.resolve(message);
          return;
        }
      }
      this.#inbox.push(message);
    });
    this.exited = new Promise((resolve) => {
      this.proc.on("exit", (code, signal) => {
        this.#exit = new Error(`${label} exited (${signal ?? code})`);
        for (const waiter of this.#waiters) waiter.reject(this.#exit);
        this.#waiters.clear();
        resolve();
      });
    });
  }

  get pid(): number {
    return this.proc.pid!;
  }

  send(message: Message): void {
    this.proc.send(message);
  }

  /** The next message of this type (and round), or an error: the replica exited, reported an error, or took too long. */
  next(type: string, round?: number, timeoutMs = TIMEOUT_MS): Promise<Message> {
    const match = (m: Message) => m.type === "error" || (m.type === type && (round === undefined || m.round === round));
    const queued = this.#inbox.findIndex(match);
    const check = (m: Message) => {
      if (m.type === "error") throw new Error(`${this.label} failed: ${String(m.message)}`);
      return m;
    };
    if (queued >= 0) return Promise.resolve(this.#inbox.splice(queued, 1)[0]!).then(check);
    if (this.#exit) return Promise.reject(this.#exit);
    return new Promise<Message>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`${this.label}: no '${type}' message within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const waiter = {
        match,
        resolve: (m: Message) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.#waiters.add(waiter);
    }).then(check);
  }

  /** Asks it to stop (its scheduler, store, leader), then kills it if it has not exited in time. */
  async stop(): Promise<void> {
    if (this.#exit) return;
    try {
      this.send({ type: "stop" });
    } catch {
      // The channel is closed already.
    }
    const timer = setTimeout(() => this.kill(), 30_000);
    await this.exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (!this.#exit) this.proc.kill("SIGKILL");
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Measuring helpers.

/** Polls `condition` every `everyMs` until it holds; an error after TIMEOUT_MS saying what was awaited. */
async function until(what: string, condition: () => boolean | Promise<boolean>, everyMs = 50): Promise<void> {
  const deadline = Date.now() + TIMEOUT_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${TIMEOUT_MS / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Nearest-rank percentile. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
const mean = (values: readonly number[]) => sum(values) / values.length;
const ms = (value: number) => `${Math.round(value)} ms`;
const ms1 = (value: number) => `${value.toFixed(1)} ms`;

/** utime + stime (+ reaped children's) of a process, in ms; 0 when it is gone. */
function cpuOf(pid: number, withChildren: boolean): { ms: number; ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15, cutime 16, cstime 17.
    const ticks = Number(fields[11]) + Number(fields[12]) + (withChildren ? Number(fields[13]) + Number(fields[14]) : 0);
    return { ms: (ticks * 1000) / CLOCK_TICKS, ppid: Number(fields[1]) };
  } catch {
    return undefined;
  }
}

/** CPU time so far of a process tree (the server and its backends; reaped ones through their parent's cutime). */
function treeCpuMs(root: number, exclude: ReadonlySet<number> = new Set()): number {
  const parents = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const info = cpuOf(Number(entry), false);
    if (info) parents.set(Number(entry), info.ppid);
  }
  let total = 0;
  for (const pid of parents.keys()) {
    let at: number | undefined = pid;
    while (at !== undefined && at !== root && at > 1) at = parents.get(at);
    if (at === root && !exclude.has(pid)) total += cpuOf(pid, true)?.ms ?? 0;
  }
  return total;
}

/** Local TCP ports of a process's sockets connected to `port` (its connections to the server). */
function clientPorts(pid: number, port: number, byInode: Map<string, { local: number; remote: number }>): number[] {
  const ports: number[] = [];
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return ports;
  }
  for (const fd of fds) {
    let link = "";
    try {
      link = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
    const socket = inode ? byInode.get(inode) : undefined;
    if (socket && socket.remote === port) ports.push(socket.local);
  }
  return ports;
}

function tcpSockets(): Map<string, { local: number; remote: number }> {
  const byInode = new Map<string, { local: number; remote: number }>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const local = parseInt(cols[1]!.split(":")[1]!, 16);
      const remote = parseInt(cols[2]!.split(":")[1]!, 16);
      byInode.set(cols[9]!, { local, remote });
    }
  }
  return byInode;
}

type AppCounts = Record<string, number>;

/** Connections to the database per replica (by label) and application_name, from pg_stat_activity. */
async function connectionsByReplica(client: pg.Client, database: string, port: number, replicas: readonly Replica[]): Promise<Map<string, AppCounts>> {
  const { rows } = await client.query<{ application_name: string; client_port: number }>(
    "SELECT application_name, client_port FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
    [database],
  );
  const sockets = tcpSockets();
  const owner = new Map<number, string>();
  for (const replica of replicas) for (const p of clientPorts(replica.pid, port, sockets)) owner.set(p, replica.label);
  const counts = new Map<string, AppCounts>();
  for (const row of rows) {
    const label = owner.get(row.client_port) ?? "other";
    const app = row.application_name || "(none)";
    const entry = counts.get(label) ?? {};
    entry[app] = (entry[app] ?? 0) + 1;
    counts.set(label, entry);
  }
  return counts;
}

const total = (counts: AppCounts | undefined) => sum(Object.values(counts ?? {}));
const appLine = (counts: AppCounts | undefined) =>
  `${total(counts)} (${[...APPS, ...Object.keys(counts ?? {}).filter((a) => !(APPS as readonly string[]).includes(a))].map((a) => `${a} ${counts?.[a] ?? 0}`).join(", ")})`;

// ---------------------------------------------------------------------------------------------------------------
// One tick through the replicas.

interface RoundResult {
  round: number;
  reports: RoundReport[];
  starts: number[];
  drainMs: number;
  /** CPU ms spent in the interval: the replicas, and the PostgreSQL server. */
  replicaCpuMs: number;
  serverCpuMs: number;
  /** What went wrong: stacks not queued, run twice, jobs left in the queue. */
  problems: string[];
}

async function tickRound(
  replicas: readonly Replica[],
  round: number,
  server?: { pid: number; exclude: ReadonlySet<number>; queued: (tick: Date) => Promise<number>; check: (tick: Date, expected: number) => Promise<string[]> },
): Promise<RoundResult> {
  const tickAt = Date.now() + 300;
  const tick = new Date(tickAt);
  const cpuBefore = sum(replicas.map((r) => cpuOf(r.pid, true)?.ms ?? 0));
  const serverBefore = server ? treeCpuMs(server.pid, server.exclude) : 0;
  for (const replica of replicas) replica.send({ type: "tick", round, tickAt, tick: tick.toISOString() });
  const sent = await Promise.all(replicas.map((r) => r.next("sent", round)));
  // Every send has settled: the jobs the tick made are all in the queue (a send that failed made none).
  const expected = server ? await server.queued(tick) : sum(sent.map((m) => (m.outcomes as Record<string, number>).queued ?? 0));
  await until(`the tick's ${expected} checks`, () => sum(replicas.map((r) => r.finished.get(round) ?? 0)) >= expected);
  const problems = server ? await server.check(tick, expected) : [];
  if (expected !== STACKS) problems.push(`${STACKS - expected} of ${STACKS} stacks were never queued for the tick (every replica's send of them failed)`);
  const cpuAfter = sum(replicas.map((r) => cpuOf(r.pid, true)?.ms ?? 0));
  const serverAfter = server ? treeCpuMs(server.pid, server.exclude) : 0;
  // Asked after the drain: the reports hold every job of the round.
  const collected = await Promise.all(
    replicas.map((r) => {
      r.send({ type: "report", round });
      return r.next("report", round) as Promise<unknown> as Promise<RoundReport>;
    }),
  );
  const starts = collected.flatMap((r) => r.starts);
  const ran = collected.flatMap((r) => r.stacks);
  if (ran.length !== new Set(ran).size) problems.push(`${ran.length - new Set(ran).size} stacks ran more than once`);
  if (new Set(ran).size !== STACKS) problems.push(`${new Set(ran).size} distinct stacks ran, of ${STACKS}`);
  const strays = sum(collected.map((r) => r.strays));
  if (strays > 0) problems.push(`${strays} jobs ran outside any tick`);
  if (problems.length) process.exitCode = 1;
  return {
    problems,
    round,
    reports: collected,
    starts,
    drainMs: Math.max(...collected.flatMap((r) => r.ends)),
    replicaCpuMs: cpuAfter - cpuBefore,
    serverCpuMs: serverAfter - serverBefore,
  };
}

function latencyLines(result: RoundResult, labels: readonly string[], fleet: boolean): string[] {
  const lines = [
    `  tick → job start: p50 ${ms(percentile(result.starts, 50))}, p99 ${ms(percentile(result.starts, 99))}, max ${ms(Math.max(...result.starts))} (first ${ms(Math.min(...result.starts))})`,
    `  drain (tick → last check recorded): ${ms(result.drainMs)}; first job start → last recorded ${ms(result.drainMs - Math.min(...result.starts))}; ` +
      `sends settled ${result.reports.map((r, i) => `${labels[i]} ${ms(r.sendMs)}`).join(", ")}`,
    `  startRun + recordRun per check: mean ${ms1(mean(result.reports.flatMap((r) => r.runMs)))}, p99 ${ms1(percentile(result.reports.flatMap((r) => r.runMs), 99))}`,
  ];
  if (fleet) {
    const queued = sum(result.reports.map((r) => r.outcomes.queued ?? 0));
    const refused = sum(result.reports.map((r) => (r.outcomes.skipped ?? 0) + (r.outcomes.coalesced ?? 0)));
    const other = sum(result.reports.map((r) => sum(Object.entries(r.outcomes).filter(([k]) => !["queued", "skipped", "coalesced"].includes(k)).map(([, v]) => v))));
    lines.push(
      `  jobs: ${result.starts.length} ran, ${new Set(result.reports.flatMap((r) => r.stacks)).size} distinct stacks; sends: ${queued} queued, ${refused} refused (already sent by another replica)${other ? `, ${other} other` : ""}`,
      `  split: ${result.reports.map((r, i) => `${labels[i]} ran ${r.starts.length} (queued ${r.outcomes.queued ?? 0} of its ${STACKS} sends; its first start ${ms(Math.min(...r.starts))})`).join("; ")}`,
    );
  }
  for (const problem of result.problems) lines.push(`  PROBLEM: ${problem}`);
  return lines;
}

// ---------------------------------------------------------------------------------------------------------------

let server: LocalPostgres | undefined;
const started: Replica[] = [];
const root = mkdtempSync(join(tmpdir(), "driftwatch-bench-replicas-"));
let sampler: pg.Client | undefined;

async function cleanUp(): Promise<void> {
  for (const replica of started) replica.kill();
  await Promise.all(started.map((r) => r.exited));
  await sampler?.end().catch(() => undefined);
  await server?.stop();
  rmSync(root, { recursive: true, force: true });
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void cleanUp().finally(() => process.exit(130));
  });
}

try {
  const load = loadavg();
  process.stderr.write(`replicas: starting PostgreSQL (load average ${load.map((l) => l.toFixed(2)).join(" ")})\n`);
  server = await startPostgres(PG_FAST ? {} : { settings: { fsync: "on", synchronous_commit: "on", full_page_writes: "on" } });
  const database = "replicas";
  const url = await server.createDatabase(database);
  sampler = new pg.Client({ connectionString: url, application_name: "driftwatch-bench" });
  await sampler.connect();
  const db = sampler;
  // The bench's own backend (sampling, checking the queue) is left out of the server's CPU time.
  const own = new Set([(await db.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid]);

  // ---- the fleet
  process.stderr.write(`replicas: starting ${REPLICAS} replicas (${STACKS} stacks, ${CONCURRENCY} workers each)\n`);
  const fleet = Array.from({ length: REPLICAS }, (_, i) => new Replica(`replica ${i + 1}`, "fleet", url));
  started.push(...fleet);
  const ready = await Promise.all(fleet.map((r) => r.next("ready")));
  const labels = fleet.map((r) => r.label);

  // Connections per replica sampled all along the drains (every 200 ms): the peak of each pool, and of their sum.
  const peak = new Map<string, AppCounts>();
  const peakTotal = new Map<string, number>();
  let sampling = true;
  const samplingDone = (async () => {
    while (sampling) {
      const counts = await connectionsByReplica(db, database, server.port, fleet);
      for (const [label, apps] of counts) {
        const best = peak.get(label) ?? {};
        for (const [app, n] of Object.entries(apps)) best[app] = Math.max(best[app] ?? 0, n);
        peak.set(label, best);
        peakTotal.set(label, Math.max(peakTotal.get(label) ?? 0, total(apps)));
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  // Its failure is reported where it is awaited, after the ticks; not an unhandled rejection meanwhile.
  samplingDone.catch(() => undefined);

  /** The tick's jobs in the queue: exactly one per stack, each completed; no other job waiting or running. Problems found. */
  const tickIds = (tick: Date) => Array.from({ length: STACKS }, (_, i) => jobId(`stack-${String(i).padStart(4, "0")}@tick:${tick.toISOString()}`));
  const queued = async (tick: Date): Promise<number> =>
    (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${QUEUE_SCHEMA}.job WHERE name = $1 AND id = ANY($2::uuid[])`, [CHECK_QUEUE, tickIds(tick)])).rows[0]!.n;
  const checkQueue = async (tick: Date, expected: number): Promise<string[]> => {
    const ids = tickIds(tick);
    const states = async () =>
      (await db.query<{ state: string; n: number }>(`SELECT state, count(*)::int AS n FROM ${QUEUE_SCHEMA}.job WHERE name = $1 AND id = ANY($2::uuid[]) GROUP BY state`, [CHECK_QUEUE, ids])).rows;
    await until("the tick's jobs to complete in the queue", async () => (await states()).every((s) => s.state === "completed"), 250);
    const problems: string[] = [];
    const done = (await states()).find((s) => s.state === "completed")?.n ?? 0;
    if (done !== expected) problems.push(`${done} of the tick's ${expected} jobs completed`);
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${QUEUE_SCHEMA}.job WHERE name = $1 AND state IN ('created', 'retry', 'active')`, [CHECK_QUEUE]);
    if (rows[0]!.n !== 0) problems.push(`${rows[0]!.n} other jobs waiting or running`);
    return problems;
  };

  const rounds: RoundResult[] = [];
  for (let round = 1; round <= TICKS; round++) {
    process.stderr.write(`replicas: tick ${round} of ${TICKS}\n`);
    rounds.push(await tickRound(fleet, round, { pid: server.pid, exclude: own, queued, check: checkQueue }));
  }
  // The store's record: one finished run per stack and tick, and which replica (host:pid) ran each.
  const recorded = await db.query<{ round: string; process: string; n: number; stacks: number }>(
    "SELECT split_part(run_id, '-', 1) AS round, process, count(*)::int AS n, count(DISTINCT stack)::int AS stacks FROM runs WHERE status = 'finished' GROUP BY 1, 2 ORDER BY 1, 2",
  );
  const pidOf = (proc: string) => Number(proc.split(":").pop());
  sampling = false;
  await samplingDone;

  const justDrained = await connectionsByReplica(db, database, server.port, fleet);
  process.stderr.write(`replicas: idle for ${IDLE_SECONDS} s (connections sampled every second)\n`);
  const idleSamples: Map<string, AppCounts>[] = [];
  for (let s = 0; s < IDLE_SECONDS; s++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    idleSamples.push(await connectionsByReplica(db, database, server.port, fleet));
  }
  const idle = idleSamples.at(-1) ?? justDrained;
  const fleetRss = await Promise.all(
    fleet.map((r) => {
      r.send({ type: "rss" });
      return r.next("rss");
    }),
  );
  process.stderr.write("replicas: stopping the fleet\n");
  await Promise.all(fleet.map((r) => r.stop()));

  // ---- one process on SQLite
  process.stderr.write("replicas: the single process on SQLite\n");
  const single = new Replica("sqlite", "sqlite", join(root, "sqlite", "driftwatch.db"));
  started.push(single);
  await single.next("ready");
  const sqliteRounds: RoundResult[] = [];
  for (let round = 1; round <= TICKS; round++) sqliteRounds.push(await tickRound([single], round));
  single.send({ type: "rss" });
  const sqliteRss = await single.next("rss");
  await single.stop();

  // ---- the figures
  const warm = rounds.at(-1)!;
  const sqliteWarm = sqliteRounds.at(-1)!;
  const mb = (m: Message) => `${((m.rss as number) / 1e6).toFixed(1)} MB`;
  const loadAfter = loadavg();
  const out: string[] = [
    "",
    `replicas: ${REPLICAS} × serve on one PostgreSQL ${server.version.split(" ")[0]} (${PG_FAST ? "test settings: fsync, synchronous_commit off" : "durable: fsync, synchronous_commit on"}), ${STACKS} stacks each, ${CONCURRENCY} workers per replica (concurrency), jitter 0;`,
    `  a check = startRun + recordRun in the store (no engine). Replicas ready in ${ready.map((m) => ms(m.startMs as number)).join(", ")}.`,
    `  machine: load average ${load.map((l) => l.toFixed(2)).join(" ")} before, ${loadAfter.map((l) => l.toFixed(2)).join(" ")} after (CPU shared with anything else running)`,
    "",
    "1. one schedule tick fired by every replica at the same moment, workers free",
  ];
  for (const result of rounds) {
    out.push(` tick ${result.round}${result.round === 1 ? " (cold)" : ""}:`, ...latencyLines(result, labels, true));
  }
  out.push("  store's record (finished runs per tick and replica):");
  for (const row of recorded.rows) {
    const label = fleet.find((r) => r.pid === pidOf(row.process))?.label ?? row.process;
    out.push(`    tick ${row.round.slice(1)}: ${label} ${row.n} runs, ${row.stacks} stacks`);
  }
  const checks = (r: RoundResult) => r.starts.length;
  const cpuPerCheck = (r: RoundResult) => (r.replicaCpuMs + r.serverCpuMs) / checks(r);
  /** From the first job's start to the last one's end: the queue's claims and the checks, the sends mostly behind. */
  const running = (r: RoundResult) => r.drainMs - Math.min(...r.starts);
  const runMean = (r: RoundResult) => mean(r.reports.flatMap((x) => x.runMs));
  const costLines = (r: RoundResult, workers: number) => [
    `    tick → last recorded: ${(r.drainMs / checks(r)).toFixed(2)} ms wall per check, ${((checks(r) / r.drainMs) * 1000).toFixed(0)} checks/s`,
    `    first start → last recorded: ${(running(r) / checks(r)).toFixed(2)} ms wall per check, ${((checks(r) / running(r)) * 1000).toFixed(0)} checks/s; ` +
      `worker time per check ${((running(r) * workers) / checks(r)).toFixed(1)} ms (× ${workers} workers), of which startRun + recordRun ${ms1(runMean(r))}: ` +
      `${((running(r) * workers) / checks(r) - runMean(r)).toFixed(1)} ms claiming, completing, waiting`,
  ];
  out.push(
    "",
    `2. cost per check (last tick, warm; ${checks(warm)} checks, all triggered at once)`,
    `  fleet, ${REPLICAS} replicas × ${CONCURRENCY} workers:`,
    ...costLines(warm, REPLICAS * CONCURRENCY),
    `    CPU per check ${cpuPerCheck(warm).toFixed(2)} ms: replicas ${(warm.replicaCpuMs / checks(warm)).toFixed(2)} ms (${REPLICAS} sends, claim, run, complete, phases), PostgreSQL server ${(warm.serverCpuMs / checks(warm)).toFixed(2)} ms`,
    `  SQLite, 1 process × ${CONCURRENCY} concurrency (the in-memory Scheduler):`,
    ...costLines(sqliteWarm, CONCURRENCY),
    `    CPU per check ${(sqliteWarm.replicaCpuMs / checks(sqliteWarm)).toFixed(2)} ms; tick → start p50 ${ms(percentile(sqliteWarm.starts, 50))}, p99 ${ms(percentile(sqliteWarm.starts, 99))}, ` +
      `max ${ms(Math.max(...sqliteWarm.starts))}` + (sqliteRounds.length > 1 ? `; cold tick: tick → last recorded ${ms(sqliteRounds[0]!.drainMs)}` : ""),
    ...sqliteRounds.flatMap((r) => r.problems.map((problem) => `    PROBLEM (tick ${r.round}): ${problem}`)),
    `  the fleet against SQLite: ${(warm.drainMs / checks(warm) - sqliteWarm.drainMs / checks(sqliteWarm)).toFixed(2)} ms wall per check (tick → last recorded), ` +
      `${(cpuPerCheck(warm) - sqliteWarm.replicaCpuMs / checks(sqliteWarm)).toFixed(2)} ms CPU per check more`,
    "",
    "3. PostgreSQL connections per replica (store = driftwatch, queue = driftwatch-queue, leader = driftwatch-leader)",
  );
  for (const label of labels) {
    const perApp = peak.get(label) ?? {};
    const idleTotals = idleSamples.map((s) => total(s.get(label)));
    out.push(
      `  ${label}: peak during the drains ${peakTotal.get(label) ?? 0} (per pool, each at its own peak: ${APPS.map((a) => `${a} ${perApp[a] ?? 0}`).join(", ")})`,
      `    just drained ${appLine(justDrained.get(label))}; idle after ${IDLE_SECONDS} s ${appLine(idle.get(label))} (range over the idle window ${Math.min(...idleTotals)}–${Math.max(...idleTotals)})`,
    );
  }
  const others = total(idle.get("other"));
  out.push(
    `  all replicas, idle after ${IDLE_SECONDS} s: ${sum(labels.map((l) => total(idle.get(l))))} connections${others ? ` (+${others} not matched to a replica)` : ""}; the bound per replica is store poolSize 10 + queue pool ${Math.max(2, Math.min(10, CONCURRENCY + 2))} (+ pg-boss's LISTEN) + leader 1`,
    "",
    "4. RSS per replica when idle (after the drains and the idle window; global.gc() twice, 0.5 s settle)",
    `  ${fleet.map((r, i) => `${r.label} ${mb(fleetRss[i]!)} (heap used ${(((fleetRss[i]!.heapUsed as number) ?? 0) / 1e6).toFixed(1)} MB)`).join(", ")}`,
    `  the single process on SQLite, same stacks and runs: ${mb(sqliteRss)} (heap used ${((sqliteRss.heapUsed as number) / 1e6).toFixed(1)} MB)`,
    `  (flags: ${[...SERVICE_NODE_FLAGS, "--expose-gc"].join(" ")}, MALLOC_ARENA_MAX=2; a replica here has no HTTP server, metrics or Git watch, which bench/serve-idle-rss.ts's whole serve has)`,
    "",
  );
  process.stdout.write(`${out.join("\n")}\n`);
} finally {
  await cleanUp();
}
