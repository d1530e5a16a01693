// Alerts from a fleet of `driftwatch serve` replicas (real processes on one real PostgreSQL database) to the local
// Slack stand-in, through a Slack outage while replicas are killed with -9 and others start, one of them killed
// while Slack had taken its post and not yet answered: every alert reaches Slack exactly once, each episode's
// root before its replies, in the order the alerts were recorded.
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "../src/store/api.ts";
import { openPostgresStore } from "../src/store/postgres/index.ts";
import { driftwatch } from "./support/cli.ts";
import { commitFiles, git } from "./support/git.ts";
import { type LocalPostgres, queryDatabase, startPostgres } from "./support/postgres.ts";
import { until } from "./support/processes.ts";
import { killReplica, replicaConfigHead, type Replica, startReplica } from "./support/replicas.ts";
import { SlackServer, type StoredMessage } from "./support/slack-server.ts";
import { engineTimeout } from "./support/timeouts.ts";

const STACKS = ["s1", "s2", "s3", "s4"];
const SLACK_TOKEN = "xoxb-replicas-slack-5b71e0";
const API_TOKEN = "api-token-for-replica-slack-tests";
const CHANNEL = "#fleet";

/** Files whose state lives in one file per stack that every replica reads (a backend they all share). */
const FILES_MODULE = `terraform {
  backend "local" {}
  required_providers {
    local = { source = "hashicorp/local" }
  }
}
variable "dir" { type = string }
resource "local_file" "f" {
  for_each = toset(["a", "b"])
  filename = "\${var.dir}/\${each.key}.txt"
  content  = "file \${each.key}\\n"
}
`;

let postgres: LocalPostgres;
let databaseUrl: string;
let slack: SlackServer;
let root: string;
let store: Store;
const live = new Set<Replica>();

const env = () => ({ DATABASE_URL: databaseUrl, SLACK_BOT_TOKEN: SLACK_TOKEN, DRIFTWATCH_API_TOKEN: API_TOKEN });
const world = (stack: string, file: string) => join(root, "world", stack, file);

function configFor(name: string): string {
  const file = join(root, `${name}.yaml`);
  const lines = [
    ...replicaConfigHead(join(root, name)),
    "alerts:",
    "  log: false",
    `  slack: { channel: "${CHANNEL}", apiUrl: "${slack.url}", retries: 1, timeoutSeconds: 2, maxRateLimitWaitSeconds: 5 }`,
    "service:",
    // No tick during the test: every check is asked for through the API.
    '  schedule: "0 0 1 1 *"',
    "  runOnStart: false",
    "  concurrency: 2",
    "  http: { port: 0 }",
    "stacks:",
    // Each stack's state in a folder of its own that every replica reaches (a bucket's stand-in), which its sandbox
    // may write, as it may its world.
    ...STACKS.map(
      (s) =>
        `  - { name: ${s}, engine: terraform, source: { repo: ${join(root, "repo")}, path: files }, terraform: { binary: tofu, vars: { dir: ${join(root, "world", s)} }, backendConfig: { path: ${join(root, "state", s, "terraform.tfstate")} } }, sandbox: { readWrite: [${join(root, "world", s)}, ${join(root, "state", s)}] } }`,
    ),
  ];
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

async function start(name: string): Promise<Replica> {
  const replica = await startReplica({ name, config: configFor(name), dataDir: join(root, name), env: env() });
  live.add(replica);
  return replica;
}

async function kill(replica: Replica): Promise<void> {
  await killReplica(replica);
  live.delete(replica);
}

/**
 * Asks `replica` to check every stack, and waits until each has a run with that verdict that started after it was
 * asked. Not just any newer run: a job that a killed replica left is run again by another (after its heartbeat
 * stops), and that run may have read the stacks' files before the test changed them.
 */
async function checkAll(replica: Replica, verdict: string): Promise<void> {
  const asked = new Map<string, number>();
  for (const stack of STACKS) {
    asked.set(stack, Date.now());
    const response = await fetch(new URL(`/api/stacks/${stack}/check`, replica.url), { method: "POST", headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(response.status).toBe(202);
  }
  await until(
    async () => {
      const runs = await Promise.all(STACKS.map((s) => store.listRuns({ stack: s, limit: 1000 })));
      return runs.every((r, i) => r.some((run) => Date.parse(run.startedAt) >= asked.get(STACKS[i]!)! && run.verdict === verdict));
    },
    engineTimeout(120),
    `every stack checked (${verdict})`,
  );
}

const outbox = async () =>
  (await queryDatabase(databaseUrl, "SELECT id, stack, event_type, state, created_at FROM alert_outbox WHERE notifier = 'slack' ORDER BY id")).map((row) => ({
    id: Number(row.id),
    stack: String(row.stack),
    type: String(row.event_type),
    state: String(row.state),
    key: `${Number(row.id)}@${String(row.created_at)}`,
  }));

beforeAll(async () => {
  postgres = await startPostgres();
  databaseUrl = await postgres.createDatabase("replicas_slack");
  slack = await SlackServer.start(SLACK_TOKEN);
  root = mkdtempSync(join(tmpdir(), "driftwatch-replicas-slack-"));
  for (const dir of ["repo", ...STACKS.flatMap((s) => [join("state", s), join("world", s)])]) mkdirSync(join(root, dir), { recursive: true });
  git(join(root, "repo"), "init", "-q", "-b", "main");
  commitFiles(join(root, "repo"), { "files/main.tf": FILES_MODULE }, "files module");
  store = await openPostgresStore(databaseUrl);
  // The stacks' files exist, and their state says so: in sync before the test begins (nothing to alert yet).
  const config = configFor("setup");
  for (const stack of STACKS) {
    const converged = await driftwatch(["--config", config, "converge", stack, "--json"], env());
    expect(converged.code, converged.stderr).toBe(0);
  }
}, engineTimeout(240));

afterAll(async () => {
  await Promise.all([...live].map(killReplica));
  await store?.close();
  await slack?.close();
  await postgres?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("alerts from replicas through a Slack outage", () => {
  it("reach Slack exactly once each, roots before replies, in the order they were recorded", async () => {
    slack.setMode({ kind: "status", status: 503 });
    const a = await start("a");
    await start("b");

    // Round 1, during the outage: a file of each stack is deleted; four episodes open, none can be posted.
    for (const stack of STACKS) unlinkSync(world(stack, "a.txt"));
    await checkAll(a, "drifted");
    await until(async () => (await queryDatabase(databaseUrl, "SELECT 1 FROM alert_outbox WHERE attempts > 0")).length > 0, 60_000, "a delivery tried and failed");

    // A replica goes away (kill -9) and another comes.
    await kill(a);
    const c = await start("c");

    // Round 2, still in the outage: each stack's other file changes; the episodes change.
    for (const stack of STACKS) writeFileSync(world(stack, "b.txt"), "edited by hand\n");
    await checkAll(c, "drifted");
    expect((await outbox()).map((e) => e.type)).toEqual([...STACKS.map(() => "episode-opened"), ...STACKS.map(() => "episode-changed")]);

    // Slack is back, but the first post's answer never comes: the replica making it (whichever it is) dies with
    // the post taken and unrecorded, and so does every other replica.
    let posted!: () => void;
    const firstPost = new Promise<void>((resolve) => (posted = resolve));
    slack.onRequest = (request) => {
      if (request.method !== "chat.postMessage") return;
      slack.onRequest = undefined;
      slack.failNext(1, { kind: "lost-answer" });
      posted();
    };
    slack.setMode(undefined);
    await firstPost;
    await until(() => slack.messages(CHANNEL).length === 1, 10_000, "the first post taken");
    await Promise.all([...live].map(kill));
    expect(slack.messages(CHANNEL)).toHaveLength(1);

    // New replicas deliver what is left; round 3: the files are restored, the episodes resolve.
    const d = await start("d");
    await start("e");
    for (const stack of STACKS) {
      writeFileSync(world(stack, "a.txt"), "file a\n");
      writeFileSync(world(stack, "b.txt"), "file b\n");
    }
    await checkAll(d, "in-sync");
    await until(async () => (await outbox()).every((e) => e.state === "delivered"), engineTimeout(120), "the outbox delivered");

    // Exactly once: every entry's key on one message, and no message without one.
    const entries = await outbox();
    expect(entries).toHaveLength(STACKS.length * 3);
    const messages = slack.messages(CHANNEL);
    const byKey = new Map<string, StoredMessage[]>();
    for (const message of messages) {
      const key = String(message.metadata?.event_payload.key);
      byKey.set(key, [...(byKey.get(key) ?? []), message]);
    }
    expect([...byKey].filter(([, posts]) => posts.length !== 1).map(([key]) => key)).toEqual([]);
    expect([...byKey.keys()].sort()).toEqual(entries.map((e) => e.key).sort());

    // In order: per stack a root (the opening) and then its replies in its thread, as recorded; and Slack received
    // the posts in the outbox's order.
    for (const stack of STACKS) {
      const [opened, changed, resolved] = entries.filter((e) => e.stack === stack).map((e) => byKey.get(e.key)![0]!);
      expect(opened!.threadTs).toBeUndefined();
      expect([changed!.threadTs, resolved!.threadTs]).toEqual([opened!.ts, opened!.ts]);
    }
    expect(messages.map((m) => String(m.metadata?.event_payload.key))).toEqual(entries.map((e) => e.key));
    // The tokens went nowhere near Slack's messages.
    expect(JSON.stringify(messages)).not.toContain(SLACK_TOKEN);
  }, engineTimeout(600));
});
