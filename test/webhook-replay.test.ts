// A push webhook's delivery is taken once for good: real `driftwatch serve` processes remember the deliveries they
// accepted in the store, so the same delivery again is answered as a duplicate and starts nothing — after the service
// restarts on the same SQLite file, and on another replica sharing the PostgreSQL database (also when both replicas
// get it at the same moment: exactly one of them takes it).
import { createHmac, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { commitFiles, git } from "./support/git.ts";
import { type LocalPostgres, startPostgres } from "./support/postgres.ts";
import { until } from "./support/processes.ts";
import { killReplica, replicaConfigHead, type Replica, startReplica, stopReplica } from "./support/replicas.ts";
import { sharedCacheDir } from "./support/tempdir.ts";
import { engineTimeout } from "./support/timeouts.ts";

const HOOK_SECRET = "webhook-secret-for-replay-tests";
/** No provider at all: a check takes a moment. */
const MODULE = 'variable "dir" { type = string }\noutput "n" { value = 1 }\n';

let root: string;
let repo: string;
let server: LocalPostgres | undefined;
const running = new Set<Replica>();

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "driftwatch-webhook-replay-"));
  repo = join(root, "repo");
  mkdirSync(join(root, "world"), { recursive: true });
  mkdirSync(repo, { recursive: true });
  git(repo, "init", "-q", "-b", "main");
  commitFiles(repo, { "hooked/main.tf": MODULE }, "a stack");
});

afterEach(async () => {
  await Promise.all([...running].map(killReplica));
  running.clear();
});

afterAll(async () => {
  await server?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** A config whose one stack no schedule or poll checks: only the webhook does. */
function configFile(name: string, head: string[]): string {
  const file = join(root, `${name}.yaml`);
  const lines = [
    ...head,
    "service:",
    '  schedule: "0 0 1 1 *"',
    "  runOnStart: false",
    "  gitPollSeconds: 0",
    "  stopGraceSeconds: 30",
    "  http: { port: 0 }",
    "stacks:",
    `  - { name: hooked, engine: terraform, source: { repo: ${repo}, path: hooked }, terraform: { binary: tofu, vars: { dir: ${join(root, "world")} } } }`,
  ];
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

async function start(name: string, config: string, dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<Replica> {
  const replica = await startReplica({ name, config, dataDir, env: { DRIFTWATCH_WEBHOOK_SECRET: HOOK_SECRET, ...env } });
  running.add(replica);
  return replica;
}

async function stop(replica: Replica): Promise<void> {
  running.delete(replica);
  await stopReplica(replica);
}

/** A signed GitHub push naming the repository: a body of its own (`after` differs), under the delivery id given. */
function push(): { body: string; signature: string } {
  const body = JSON.stringify({ ref: "refs/heads/main", after: randomBytes(20).toString("hex"), repository: { clone_url: repo } });
  return { body, signature: `sha256=${createHmac("sha256", HOOK_SECRET).update(body).digest("hex")}` };
}

async function deliver(replica: Replica, delivery: { body: string; signature: string }, id: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(new URL("/api/hooks/git", replica.url), {
    method: "POST",
    body: delivery.body,
    headers: { "content-type": "application/json", "x-hub-signature-256": delivery.signature, "x-github-delivery": id },
  });
  return { status: response.status, body: await response.json() };
}

const ACCEPTED = { status: 202, body: { stacks: ["hooked"] } };
const DUPLICATE = { status: 200, body: { stacks: [], duplicate: true } };

async function runsOf(replica: Replica): Promise<{ runId: string }[]> {
  return ((await (await fetch(new URL("/api/runs?stack=hooked", replica.url))).json()) as { runs: { runId: string }[] }).runs;
}

/** idle, queued or running. */
async function stateOf(replica: Replica): Promise<string> {
  return ((await (await fetch(new URL("/api/stacks/hooked", replica.url))).json()) as { state: string }).state;
}

describe("a webhook delivery taken once", () => {
  it("is refused after the service restarts on the same SQLite file, and starts no check", async () => {
    const dataDir = join(root, "single");
    const config = configFile("single", [`dataDir: ${dataDir}`, `cacheDir: ${sharedCacheDir}`]);
    const delivery = push();
    const first = await start("single", config, dataDir);
    expect(await deliver(first, delivery, "d-restart")).toEqual(ACCEPTED);
    await until(async () => (await runsOf(first)).length === 1 && (await stateOf(first)) === "idle", engineTimeout(20), "the delivery's check recorded");
    await stop(first);

    const second = await start("single-again", config, dataDir);
    // GitHub's "Redeliver" (the same id and body), then the captured body under a fresh id.
    expect(await deliver(second, delivery, "d-restart")).toEqual(DUPLICATE);
    expect(await deliver(second, delivery, "an-id-made-up-later")).toEqual(DUPLICATE);
    expect(await stateOf(second)).toBe("idle"); // a trigger would have queued the stack at once
    expect(await runsOf(second)).toHaveLength(1);
    // A new delivery is taken as ever.
    expect(await deliver(second, push(), "d-new")).toEqual(ACCEPTED);
    await stop(second);
  }, engineTimeout(40));

  it("is refused by another replica on the same PostgreSQL database; of two replicas getting it at once, one takes it", async () => {
    server = await startPostgres();
    const databaseUrl = await server.createDatabase("webhook_replay");
    const replicas = await Promise.all(
      ["a", "b"].map((name) => {
        const dataDir = join(root, name);
        return start(name, configFile(name, replicaConfigHead(dataDir)), dataDir, { DATABASE_URL: databaseUrl });
      }),
    );
    const [a, b] = replicas as [Replica, Replica];

    // Sent to both at the same moment (a sender retrying on a timeout, a load balancer duplicating): one 202.
    const both = push();
    const answers = await Promise.all([deliver(a, both, "d-both"), deliver(b, both, "d-both")]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 202]);
    expect(answers).toContainEqual(ACCEPTED);
    expect(answers).toContainEqual(DUPLICATE);

    // Taken by a; then to b: the same delivery, and the captured body under a fresh id.
    const delivery = push();
    expect(await deliver(a, delivery, "d-one")).toEqual(ACCEPTED);
    expect(await deliver(b, delivery, "d-one")).toEqual(DUPLICATE);
    expect(await deliver(b, delivery, "another-made-up-id")).toEqual(DUPLICATE);
    await Promise.all(replicas.map(stop));
  }, engineTimeout(40));
});
