// An approval given on one replica is applied once: three `driftwatch serve` replicas (real processes) on one real
// PostgreSQL database watch an OpenTofu stack whose remediation waits for approval, with its state in a backend the
// replicas share. Real drift (a managed file edited by hand) makes a check request an approval; the same approval
// is then POSTed to two replicas at once while the winner's apply is held open, and to a third afterwards: one
// request applies the plan, the others are refused with 409 and a message that names the approval; the audit log
// holds one apply, the world converged once, the next check is in sync, and the API token is in no response or log.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import type { StackResult } from "../src/core/types.ts";
import { leaseName } from "../src/run/remediation-run.ts";
import type { ApprovalRecord, AuditEntry, Store } from "../src/store/api.ts";
import { openPostgresStore } from "../src/store/postgres/index.ts";
import { driftwatch } from "./support/cli.ts";
import { commitFiles, git } from "./support/git.ts";
import { type LocalPostgres, queryDatabase, startPostgres } from "./support/postgres.ts";
import { until } from "./support/processes.ts";
import { killReplica, replicaConfigHead, type Replica, startReplica } from "./support/replicas.ts";
import { localFilesModule } from "./support/terraform-modules.ts";
import { engineTimeout } from "./support/timeouts.ts";

const API_TOKEN = "api-token-for-replica-approval-tests";
const STACK = "files";

/**
 * Replaced whenever local_file.a is (re)created: its provisioner logs every apply to apply.log, and holds the apply
 * while the file `hold` exists.
 */
const GATE = `resource "terraform_data" "gate" {
  triggers_replace = [local_file.a.id]
  provisioner "local-exec" {
    command = "echo applied >> \${var.dir}/apply.log; while [ -e \${var.dir}/hold ]; do sleep 0.2; done"
  }
}
`;
/** The state in a backend every replica reaches (a local path here; S3 or the like in production). */
const MODULE = localFilesModule({ a: "alpha\n", b: "bravo\n" }, GATE).replace("terraform {\n", 'terraform {\n  backend "local" {}\n');

let server: LocalPostgres;
let databaseUrl: string;
let root: string;
let world: string;
let store: Store;
const replicas: Replica[] = [];
/** Every response body the test read, for the leak check. */
const responses: string[] = [];

function configFor(name: string): string {
  const file = join(root, `${name}.yaml`);
  const lines = [
    ...replicaConfigHead(join(root, name)),
    "service:",
    '  schedule: "0 0 1 1 *"', // no tick during the test: the stack is checked when the API asks
    "  runOnStart: false",
    "  gitPollSeconds: 0",
    "  concurrency: 1",
    "  http: { port: 0, publicRead: false }",
    "stacks:",
    `  - name: ${STACK}`,
    "    engine: terraform",
    `    source: { repo: ${join(root, "repo")}, path: ${STACK} }`,
    `    terraform: { binary: tofu, vars: { dir: ${world} }, backendConfig: { path: ${join(root, "state", "terraform.tfstate")} } }`,
    // Its world, and the folder of the state every replica reaches (a bucket's stand-in): its own to write.
    `    sandbox: { readWrite: [${world}, ${join(root, "state")}] }`,
    "    remediation: { mode: approve, approvalHours: 1, allow: { replaces: true } }",
  ];
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

async function api<T>(replica: Replica, path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: T }> {
  const response = await fetch(new URL(path, replica.url), {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${API_TOKEN}`, ...(init.body === undefined ? {} : { "content-type": "application/json" }) },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  responses.push(text);
  return { status: response.status, body: JSON.parse(text) as T };
}

const approvalsOf = async (replica: Replica, state?: string) =>
  (await api<{ approvals: ApprovalRecord[] }>(replica, `/api/approvals?stack=${STACK}${state ? `&state=${state}` : ""}`)).body.approvals;
const auditOf = async (replica: Replica) => (await api<{ entries: AuditEntry[] }>(replica, `/api/audit?stack=${STACK}&limit=500`)).body.entries;
/** Lines of apply.log: one per apply that re-created local_file.a (the provisioner runs at the start of it). */
const applies = () => (existsSync(join(world, "apply.log")) ? readFileSync(join(world, "apply.log"), "utf8").split("\n").filter(Boolean).length : 0);
const runsOf = () => store.listRuns({ stack: STACK, limit: 1000 });

beforeAll(async () => {
  server = await startPostgres();
  databaseUrl = await server.createDatabase("replica_approvals");
  root = mkdtempSync(join(tmpdir(), "driftwatch-replica-approvals-"));
  world = join(root, "world");
  mkdirSync(world, { recursive: true });
  mkdirSync(join(root, "state"), { recursive: true });
  git(root, "init", "-q", "-b", "main", "repo");
  commitFiles(join(root, "repo"), { [`${STACK}/main.tf`]: MODULE }, "a stack that asks for approval");
  // Deployed once by a person at a terminal, on the same database and state; then the replicas start.
  const deployed = await driftwatch(["--config", configFor("deploy"), "converge", STACK], { DATABASE_URL: databaseUrl });
  expect(deployed.code, deployed.stderr).toBe(0);
  expect(applies()).toBe(1);
  store = await openPostgresStore(databaseUrl);
  const env = { DATABASE_URL: databaseUrl, DRIFTWATCH_API_TOKEN: API_TOKEN };
  replicas.push(...(await Promise.all(["a", "b", "c"].map((name) => startReplica({ name, config: configFor(name), dataDir: join(root, name), env })))));
}, engineTimeout(60));

afterAll(async () => {
  if (root) rmSync(join(root, "world", "hold"), { force: true });
  await Promise.all(replicas.map(killReplica));
  await store?.close();
  await server?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("an approval on a fleet of replicas", () => {
  it("applies an approval POSTed to two replicas at once exactly once, and refuses the others clearly", async () => {
    // A failure says what the replicas were doing: their last log lines.
    onTestFailed(() => {
      for (const replica of replicas) process.stderr.write(`--- replica ${replica.name}, last log lines:\n${replica.log.slice(-40).join("\n")}\n`);
    });
    const [a, b, c] = replicas as [Replica, Replica, Replica];
    writeFileSync(join(world, "a.txt"), "edited by hand\n");

    // A check through the queue (whichever replica runs it) finds the drift and requests an approval.
    expect((await api(c, `/api/stacks/${STACK}/check`, { method: "POST" })).status).toBe(202);
    await until(async () => (await approvalsOf(c, "pending")).length === 1, engineTimeout(30), "an approval requested");
    // The check asks for the approval while it holds the stack's remediation lease, and lets go of it only after its
    // audit entry: an approval given before then is refused as busy on every replica, which is not what this tests.
    await until(async () => (await store.leaseHolder(leaseName({ name: STACK }))) === undefined, engineTimeout(30), "the check let go of the remediation lease");
    const [approval] = await approvalsOf(a, "pending");
    expect(approval).toMatchObject({ stack: STACK, state: "pending", plan: expect.arrayContaining([expect.objectContaining({ action: "create", address: "local_file.a" })]) });
    const id = approval!.id;
    expect(readFileSync(join(world, "a.txt"), "utf8")).toBe("edited by hand\n"); // nothing applied without a person
    expect(applies()).toBe(1);

    // The same approval to two replicas at once; the apply that wins is held open until the other has its answer.
    writeFileSync(join(world, "hold"), "");
    const answers: ({ replica: string; status: number; body: StackResult & { error?: string } } | undefined)[] = [undefined, undefined];
    const both = Promise.all(
      [a, b].map(async (replica, i) => {
        const answer = await api<StackResult & { error?: string }>(replica, `/api/approvals/${id}`, { method: "POST", body: { approver: `approver-${replica.name}` } });
        answers[i] = { replica: replica.name, ...answer };
      }),
    );
    // Both answered and nothing applied is a failure now, with what they said, not after the wait runs out.
    await until(() => applies() === 2 || answers.every((x) => x !== undefined), engineTimeout(30), "the winner's apply started");
    expect(applies(), `no apply started; the answers: ${JSON.stringify(answers)}`).toBe(2);
    await until(() => answers.some((x) => x !== undefined), engineTimeout(10), "the other request answered while the apply runs");
    const early = answers.find((x) => x !== undefined)!;
    expect(early.status).toBe(409);
    rmSync(join(world, "hold"));
    await both;

    const won = answers.filter((x) => x!.status === 200);
    const refused = answers.filter((x) => x!.status !== 200);
    expect(won).toHaveLength(1);
    expect(refused).toEqual([early]);
    const winner = won[0]!;
    expect(winner.body).toMatchObject({ stack: STACK, verdict: "in-sync", trigger: "remediation", remediation: { decision: "applied" } });
    expect(early.body.remediation).toMatchObject({ decision: "busy", reason: expect.stringContaining(`approval ${id}`) });

    // Once more afterwards, on the third replica: the approval is spent.
    const again = await api<{ error: string }>(c, `/api/approvals/${id}`, { method: "POST", body: { approver: "approver-c" } });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatch(new RegExp(`^approval ${id} is applied: applied the plan`));

    // One apply: in the audit log (read on any replica), in the world, and in the approval.
    const audit = await auditOf(b);
    expect(audit.filter((e) => e.decision === "applied")).toEqual([
      expect.objectContaining({ actor: `approver-${winner.replica}`, triggeredBy: "api", decision: "applied", outcome: "in-sync", planFingerprint: approval!.planFingerprint }),
    ]);
    expect(audit.map((e) => e.decision).sort()).toEqual(["applied", "approval-requested", "busy"]);
    expect(await queryDatabase(databaseUrl, "SELECT decision FROM audit_log WHERE decision = 'applied'")).toHaveLength(1);
    expect(applies()).toBe(2);
    expect(readFileSync(join(world, "a.txt"), "utf8")).toBe("alpha\n");
    expect(readFileSync(join(world, "b.txt"), "utf8")).toBe("bravo\n");
    expect(await approvalsOf(c)).toEqual([expect.objectContaining({ id, state: "applied", decidedBy: `approver-${winner.replica}` })]);

    // The next check, wherever the queue runs it, finds the stack in sync and asks for nothing.
    const before = (await runsOf()).length;
    expect((await api(a, `/api/stacks/${STACK}/check`, { method: "POST" })).status).toBe(202);
    await until(async () => (await runsOf()).filter((r) => r.trigger === "api").length === 2, engineTimeout(30), "the next check finished");
    const runs = await runsOf();
    expect(runs.length).toBe(before + 1);
    expect(runs[0]).toMatchObject({ trigger: "api", verdict: "in-sync" });
    expect(await approvalsOf(b, "pending")).toEqual([]);
    expect((await auditOf(c)).length).toBe(audit.length);
    expect(applies()).toBe(2);

    // Nothing leaks: neither the API token nor the database's password, in any answer or any replica's log.
    const password = new URL(databaseUrl).password;
    expect(password.length).toBeGreaterThan(0);
    for (const text of [...responses, ...replicas.flatMap((r) => r.log)]) {
      expect(text).not.toContain(API_TOKEN);
      expect(text).not.toContain(password);
    }
  }, engineTimeout(60));
});
