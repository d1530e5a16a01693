// Three replicas of `driftwatch serve` (real processes) on one real PostgreSQL database, sharing a queue of checks
// over 30 Terraform stacks: every schedule tick checks each stack exactly once whichever replica's clock fires
// first; a webhook to one replica and the leader's Git poll of the same commit run the stack once; a replica
// killed with kill -9 in the middle of a check loses nothing: another replica runs the stack again once the
// dead one's heartbeat stops, and the cut-off run is recorded as interrupted.
import { execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, rmSync, writeSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunSummary, Store } from "../src/store/api.ts";
import { openPostgresStore } from "../src/store/postgres/index.ts";
import { commitFiles, git } from "./support/git.ts";
import { type LocalPostgres, queryDatabase, startPostgres } from "./support/postgres.ts";
import { until } from "./support/processes.ts";
import { killReplica as killFleetReplica, replicaConfigHead, type Replica, startReplica as startFleetReplica } from "./support/replicas.ts";
import { engineTimeout } from "./support/timeouts.ts";

const STACKS = Array.from({ length: 30 }, (_, i) => `s${String(i + 1).padStart(2, "0")}`);
const API_TOKEN = "api-token-for-replica-tests";
const HOOK_SECRET = "webhook-secret-for-replica-tests";

/** No provider at all: init and plan take a moment, so 30 stacks a minute fit a busy 2-core machine. */
const QUICK = (n: number) => `variable "dir" { type = string }\noutput "n" { value = ${n} }\n`;
/** Reading a FIFO blocks until the test writes to it: a check that stays in the middle as long as the test wants. */
const GATED = `terraform {
  required_providers {
    local = { source = "hashicorp/local" }
  }
}
variable "dir" { type = string }
data "local_file" "gate" {
  filename = "\${var.dir}/gate"
}
`;

let server: LocalPostgres;
let databaseUrl: string;
let root: string;
let repo: string;
let store: Store;
const replicas = new Map<string, Replica>();

function configFor(name: string): string {
  const file = join(root, `${name}.yaml`);
  const lines = [
    ...replicaConfigHead(join(root, name)),
    "service:",
    '  schedule: "* * * * *"',
    "  jitterSeconds: 0",
    "  runOnStart: false",
    "  gitPollSeconds: 2",
    "  concurrency: 2",
    "  stopGraceSeconds: 60",
    "  http: { port: 0 }",
    "stacks:",
    ...STACKS.map((s) => `  - { name: ${s}, engine: terraform, source: { repo: ${repo}, path: ${s} }, terraform: { binary: tofu, vars: { dir: ${join(root, "world")} } } }`),
    // On a schedule that never comes during the test: checked when a webhook or the API asks.
    `  - { name: hooked, engine: terraform, schedule: "0 0 1 1 *", source: { repo: ${repo}, path: hooked }, terraform: { binary: tofu, vars: { dir: ${join(root, "world")} } } }`,
    // Its plan reads the gate (a FIFO the test writes to): the one file outside its own its sandbox may read.
    `  - { name: gated, engine: terraform, schedule: "0 0 1 1 *", source: { repo: ${repo}, path: gated }, terraform: { binary: tofu, vars: { dir: ${join(root, "world")} } }, sandbox: { readOnly: [${join(root, "world", "gate")}] } }`,
  ];
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

async function startReplica(name: string): Promise<Replica> {
  const env = { DATABASE_URL: databaseUrl, DRIFTWATCH_API_TOKEN: API_TOKEN, DRIFTWATCH_WEBHOOK_SECRET: HOOK_SECRET };
  const replica = await startFleetReplica({ name, config: configFor(name), dataDir: join(root, name), env });
  replicas.set(name, replica);
  return replica;
}

/** kill -9 of the replica and of every process it started (a machine going away takes them all). */
async function killReplica(replica: Replica): Promise<void> {
  await killFleetReplica(replica);
  replicas.delete(replica.name);
}

/** A query straight on the database, for what the store does not show (which process ran a run). */
const sql = (query: string) => queryDatabase(databaseUrl, query);

/** Writes to the gate once a reader (the plan) has it open; false while nobody reads it yet. */
function openGate(fifo: string): boolean {
  let fd: number;
  try {
    fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENXIO") return false;
    throw error;
  }
  try {
    writeSync(fd, "open\n");
  } finally {
    closeSync(fd);
  }
  return true;
}

const runsOf = async (stack?: string): Promise<RunSummary[]> => store.listRuns({ limit: 10_000, ...(stack ? { stack } : {}) });

beforeAll(async () => {
  server = await startPostgres();
  databaseUrl = await server.createDatabase("replicas");
  root = mkdtempSync(join(tmpdir(), "driftwatch-replicas-"));
  repo = join(root, "repo");
  mkdirSync(join(root, "world"), { recursive: true });
  execFileSync("mkfifo", [join(root, "world", "gate")]);
  mkdirSync(repo, { recursive: true });
  git(repo, "init", "-q", "-b", "main");
  commitFiles(repo, { ...Object.fromEntries(STACKS.map((s, i) => [`${s}/main.tf`, QUICK(i)])), "hooked/main.tf": QUICK(0), "gated/main.tf": GATED }, "stacks");
  // The schema first, as a deploy pipeline's `driftwatch db migrate` would: the replicas then start on it together.
  store = await openPostgresStore(databaseUrl);
  await Promise.all(["a", "b", "c"].map(startReplica));
}, engineTimeout(60));

afterAll(async () => {
  await Promise.all([...replicas.values()].map(killReplica));
  await store?.close();
  await server?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("three replicas on one database", () => {
  it("check every stack exactly once per schedule tick, whichever replica runs it", async () => {
    // Two ticks checked in full by the fleet; the runs of a tick start within its minute (jitter 0).
    const tickOf = (run: RunSummary) => run.startedAt.slice(0, 16);
    const ticksDone = async () => {
      const runs = (await runsOf()).filter((r) => r.trigger === "schedule");
      const perTick = new Map<string, Set<string>>();
      for (const run of runs) perTick.set(tickOf(run), (perTick.get(tickOf(run)) ?? new Set()).add(run.stack));
      return [...perTick.values()].filter((stacks) => stacks.size === STACKS.length).length;
    };
    await until(async () => (await ticksDone()) >= 2, engineTimeout(150), "two ticks with every stack checked");
    const runs = (await runsOf()).filter((r) => r.trigger === "schedule");
    const counts = new Map<string, number>();
    for (const run of runs) counts.set(`${run.stack} ${tickOf(run)}`, (counts.get(`${run.stack} ${tickOf(run)}`) ?? 0) + 1);
    expect([...counts].filter(([, n]) => n !== 1)).toEqual([]);
    expect(runs.every((r) => r.verdict === "in-sync")).toBe(true);
    // The replicas shared the work: not all done by whichever clock fired first.
    const processes = await sql("SELECT DISTINCT process FROM runs WHERE trigger = 'schedule'");
    expect(processes.length).toBeGreaterThanOrEqual(2);
    // The modules declare no backend: each replica said, once per stack it ran, that its state is its own.
    for (const replica of replicas.values()) {
      const warned = replica.log.filter((line) => line.includes("kept under this replica's dataDir")).map((line) => (JSON.parse(line) as { stack: string }).stack);
      expect(new Set(warned).size).toBe(warned.length);
    }
    expect([...replicas.values()].some((r) => r.log.some((line) => line.includes("kept under this replica's dataDir")))).toBe(true);
  }, engineTimeout(150));

  it("runs a stack once for a commit a webhook to one replica names and the leader's poll sees", async () => {
    // A stack no schedule checks during the test: every run of it here is the commit's.
    const commit = commitFiles(repo, { "hooked/main.tf": `${QUICK(0)}output "changed" { value = true }\n` }, "change hooked");
    const payload = JSON.stringify({ ref: "refs/heads/main", repository: { clone_url: repo } });
    const signature = `sha256=${createHmac("sha256", HOOK_SECRET).update(payload).digest("hex")}`;
    const target = replicas.get("b")!;
    const response = await fetch(new URL("/api/hooks/git", target.url), { method: "POST", body: payload, headers: { "content-type": "application/json", "x-hub-signature-256": signature } });
    expect(response.status).toBe(202);
    await until(async () => (await runsOf("hooked")).length >= 1, 120_000, "hooked checked at the new commit");
    // The leader polls every 2 s: give it several polls to (wrongly) run the stack a second time.
    const polled = Date.now();
    await until(() => Date.now() - polled > 10_000, 20_000);
    const runs = await runsOf("hooked");
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ commit, verdict: "in-sync", trigger: expect.stringMatching(/^(git|webhook)$/) });
    // The commit touched no other stack: none was checked but by its schedule.
    expect((await runsOf()).filter((r) => r.stack !== "hooked" && r.stack !== "gated" && r.trigger !== "schedule")).toEqual([]);
  }, engineTimeout(60));

  it("runs a check a killed replica left again on another, recording the cut-off run as interrupted", async () => {
    const response = await fetch(new URL("/api/stacks/gated/check", replicas.get("a")!.url), { method: "POST", headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(response.status).toBe(202);
    // The check is in the middle (its plan waits on the gate): find the replica running it, and kill it.
    let running: { runId: string; process: string } | undefined;
    await until(
      async () => {
        const rows = await sql("SELECT run_id, process FROM runs WHERE stack = 'gated' AND status = 'running'");
        running = rows[0] ? { runId: String(rows[0].run_id), process: String(rows[0].process) } : undefined;
        return running !== undefined;
      },
      120_000,
      "the gated check running",
    );
    const pid = Number(running!.process.split(":")[1]);
    const victim = [...replicas.values()].find((r) => r.child.pid === pid)!;
    expect(victim).toBeDefined();
    await killReplica(victim);
    const killedAt = Date.now();
    // Another replica takes the job once the dead one's heartbeat (10 s) is missed, and notes the cut-off run.
    await until(
      async () => (await runsOf("gated")).some((r) => r.runId === running!.runId && r.error?.kind === "InterruptedError"),
      120_000,
      "the cut-off run recorded as interrupted",
    );
    await until(async () => (await sql("SELECT 1 FROM runs WHERE stack = 'gated' AND status = 'running'")).length === 1, 120_000, "the check running again");
    const tookOverAfter = Date.now() - killedAt;
    // Let the plan through: the gate is read, and the check finishes.
    await until(() => openGate(join(root, "world", "gate")), 120_000, "the rerun's plan reading the gate");
    await until(async () => (await runsOf("gated")).some((r) => r.verdict === "in-sync"), 120_000, "the rerun finished");
    const gated = await runsOf("gated");
    expect(gated.map((r) => r.verdict).sort()).toEqual(["error", "in-sync"]);
    expect(gated.find((r) => r.verdict === "error")).toMatchObject({ runId: running!.runId, error: { kind: "InterruptedError", message: expect.stringContaining("replica") } });
    // Within the expiry: the heartbeat, plus a maintenance pass or two.
    expect(tookOverAfter).toBeLessThan(120_000);
  }, engineTimeout(60));
});
