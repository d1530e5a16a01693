// `driftwatch serve` for real: a Terraform stack in a temporary Git repository, the HTTP API, metrics, the
// dashboard pages, checks triggered by the API, by a signed webhook and by a new commit, a graceful stop that
// cancels a run that really hangs, and runs left "running" by a crash marked interrupted at start.
import { createHmac } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load.ts";
import type { StackResult } from "../src/core/types.ts";
import { startService, type Service } from "../src/service/serve.ts";
import type { RunSummary } from "../src/store/api.ts";
import { openStore } from "../src/store/open.ts";
import { openSqliteStore } from "../src/store/sqlite/index.ts";
import { readToolchainManifest } from "../src/toolchain/manifest.ts";
import { manifestPath, repoRoot } from "../src/toolchain/paths.ts";
import { commitFiles, git } from "./support/git.ts";
import { processesUnder, until } from "./support/processes.ts";
import { tempDir } from "./support/tempdir.ts";
import { localFilesModule, terraformStackYaml } from "./support/terraform-modules.ts";
import { engineTimeout } from "./support/timeouts.ts";

const toolchain = readToolchainManifest(process.env.DRIFTWATCH_TOOLCHAIN ?? manifestPath());
const API_TOKEN = "api-token-for-tests";
const HOOK_SECRET = "webhook-secret-for-tests";
const env = { ...process.env, DRIFTWATCH_API_TOKEN: API_TOKEN, DRIFTWATCH_WEBHOOK_SECRET: HOOK_SECRET };

const MODULE = (extra = "") => localFilesModule({ a: "alpha\n" }, extra);

const HANGING = `variable "dir" { type = string }
data "local_file" "wait" {
  filename = "\${var.dir}/fifo"
}
`;

const services: Service[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.stop()));
});

async function serve(files: Record<string, string>, stacks: { name: string; path: string; timeoutSeconds?: number }[], extra: string[] = []) {
  const root = tempDir();
  const repo = join(root, "repo");
  mkdirSync(repo, { recursive: true });
  git(repo, "init", "-q", "-b", "main");
  commitFiles(repo, files, "modules");
  const world = join(root, "world");
  const file = join(root, "driftwatch.yaml");
  const lines = [
    `dataDir: ${join(root, "data")}`,
    "service:",
    '  schedule: "0 0 1 1 *"', // once a year: only the triggers under test start checks
    "  jitterSeconds: 0",
    "  gitPollSeconds: 1",
    "  stopGraceSeconds: 1",
    "  http: { port: 0 }",
    ...extra,
    "stacks:",
  ];
  for (const s of stacks) {
    mkdirSync(join(world, s.name), { recursive: true });
    lines.push(...terraformStackYaml({ ...s, repo, dir: join(world, s.name) }));
  }
  writeFileSync(file, `${lines.join("\n")}\n`);
  const config = loadConfig(file, { env });
  const service = await startService({ config, toolchain, logger: pino({ level: "warn" }), env });
  services.push(service);
  const get = async <T>(path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(new URL(path, service.url), { headers });
    return { status: res.status, type: res.headers.get("content-type") ?? "", body: (res.headers.get("content-type") ?? "").includes("json") ? ((await res.json()) as T) : ((await res.text()) as T) };
  };
  const runs = async (stack: string) => (await get<{ runs: RunSummary[] }>(`/api/runs?stack=${stack}&limit=50`)).body.runs;
  return { root, repo, world, config, service, get, runs };
}

describe("driftwatch serve", () => {
  it("serves health, the API, metrics and the dashboard, and checks on API, webhook and new-commit triggers", async () => {
    const t = await serve({ "files/main.tf": MODULE(), "docs/README.md": "docs\n" }, [{ name: "files", path: "files" }]);
    await expectRuns(t.runs, "files", 1); // the check at start
    expect((await t.get("/healthz")).body).toEqual({ status: "ok" });
    expect((await t.get("/readyz")).body).toEqual({ status: "ready" });

    const [first] = await t.runs("files");
    expect(first).toMatchObject({ stack: "files", engine: "terraform", verdict: "pending", pendingCount: 1 });
    const listed = (await t.get<{ stacks: unknown[] }>("/api/stacks")).body;
    expect(listed.stacks).toEqual([
      { name: "files", engine: "terraform", schedule: { expression: "0 0 1 1 *", timezone: "UTC" }, state: "idle", lastRun: first, openEpisode: null },
    ]);
    const one = (await t.get<{ changes: StackResult["changes"] }>("/api/stacks/files")).body;
    expect(one.changes.map((c) => [c.kind, c.action, c.address])).toEqual([["pending", "create", "local_file.a"]]);
    const run = (await t.get<StackResult>(`/api/runs/${first!.runId}`)).body;
    expect(Object.keys(run)).toEqual(["runId", "stack", "engine", "verdict", "commit", "trigger", "sandbox", "changes", "startedAt", "finishedAt", "durationMs"]);
    expect(run.trigger).toBe("start"); // the service's first round (runOnStart)
    expect(run.sandbox).toBe("strict"); // confined, at the default level
    expect((await t.get("/api/runs/nope")).status).toBe(404);
    expect((await t.get("/api/runs?limit=-1")).status).toBe(400);
    expect((await t.get("/api/audit?stack=files")).body).toEqual({ entries: [] }); // remediation is off
    expect((await t.get("/api/approvals")).body).toEqual({ approvals: [] });
    const approval = new URL("/api/approvals/0123456789ab", t.service.url);
    expect((await fetch(approval, { method: "POST" })).status).toBe(401);
    expect((await fetch(approval, { method: "POST", headers: { authorization: `Bearer ${API_TOKEN}` } })).status).toBe(404);

    const metrics = (await t.get<string>("/metrics")).body;
    expect(metrics).toContain('driftwatch_stack_status{stack="files",engine="terraform",status="pending"} 1');
    expect(metrics).toContain('driftwatch_stack_status{stack="files",engine="terraform",status="in-sync"} 0');
    expect(metrics).toMatch(/^driftwatch_checks_total\{outcome="pending"\} 1$/m);
    expect(metrics).toMatch(/^driftwatch_check_duration_seconds_count 1$/m);
    expect(metrics).toMatch(/^driftwatch_last_check_timestamp_seconds\{stack="files"\} \d+/m);
    expect(metrics).toMatch(/^driftwatch_drift_episode_open_seconds\{stack="files"\} 0$/m);
    expect(metrics).toMatch(/^driftwatch_scheduler_skipped_total 0$/m);
    expect(metrics).toMatch(/^process_resident_memory_bytes \d+/m);

    const dashboard = await t.get<string>("/");
    expect(dashboard.type).toContain("text/html");
    expect(dashboard.body).toContain('<a href="/stacks/files">files</a>');
    expect(dashboard.body).toContain('<span class="badge pending">pending</span>');
    const stackPage = (await t.get<string>("/stacks/files")).body;
    expect(stackPage).toContain("<code>local_file.a</code>");
    expect(stackPage).toContain("&quot;alpha\\n&quot;");

    // The API trigger wants the token.
    const url = new URL("/api/stacks/files/check", t.service.url);
    expect((await fetch(url, { method: "POST" })).status).toBe(401);
    const triggered = await fetch(url, { method: "POST", headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(triggered.status).toBe(202);
    await expectRuns(t.runs, "files", 2);

    // A webhook: wrong signature refused, a signed GitHub push naming the repository checks its stacks.
    const payload = JSON.stringify({ ref: "refs/heads/main", repository: { clone_url: t.repo } });
    const hook = new URL("/api/hooks/git", t.service.url);
    const bad = await fetch(hook, { method: "POST", body: payload, headers: { "content-type": "application/json", "x-hub-signature-256": "sha256=00" } });
    expect(bad.status).toBe(401);
    const signature = `sha256=${createHmac("sha256", HOOK_SECRET).update(payload).digest("hex")}`;
    const good = await fetch(hook, { method: "POST", body: payload, headers: { "content-type": "application/json", "x-hub-signature-256": signature } });
    expect(good.status).toBe(202);
    expect(await good.json()).toEqual({ stacks: ["files"] });
    await expectRuns(t.runs, "files", 3);
    // GitLab's form: the shared secret in X-Gitlab-Token.
    const gitlab = JSON.stringify({ ref: "refs/heads/main", project: { git_http_url: t.repo } });
    const wrongToken = await fetch(hook, { method: "POST", body: gitlab, headers: { "content-type": "application/json", "x-gitlab-token": "guess" } });
    expect(wrongToken.status).toBe(401);
    const rightToken = await fetch(hook, { method: "POST", body: gitlab, headers: { "content-type": "application/json", "x-gitlab-token": HOOK_SECRET } });
    expect(await rightToken.json()).toEqual({ stacks: ["files"] });
    await expectRuns(t.runs, "files", 4);

    // Paging back through history: `before` the newest run's start gives the ones before it.
    const history = await t.runs("files");
    const page = (await t.get<{ runs: RunSummary[] }>(`/api/runs?stack=files&limit=2&before=${encodeURIComponent(history[0]!.startedAt)}`)).body;
    expect(page.runs.map((r) => r.runId)).toEqual(history.slice(1, 3).map((r) => r.runId));

    // A commit outside the stack's folder starts nothing; one inside starts a check of the new commit.
    await until(() => t.service.scheduler.phases().files === "idle", 120_000, "the webhook's check over");
    commitFiles(t.repo, { "docs/README.md": "more docs\n" }, "docs only");
    // A poll that starts now sees the new commit (one that started before the commit may be under way: wait it out).
    await t.service.gitWatch.poll();
    await t.service.gitWatch.poll();
    expect(t.service.scheduler.phases().files).toBe("idle"); // a trigger would have queued the stack at once
    expect(await t.runs("files")).toHaveLength(4);
    const sha = commitFiles(t.repo, { "files/main.tf": MODULE('resource "local_file" "b" {\n  filename = "${var.dir}/b.txt"\n  content = "b"\n}\n') }, "another file");
    await expectRuns(t.runs, "files", 5); // the periodic poll's trigger: the schedule is yearly
    const latest = (await t.runs("files"))[0]!;
    expect(latest.commit).toBe(sha);
    expect(latest.pendingCount).toBe(2);
  }, engineTimeout(8));

  it("stops gracefully: a hanging run is cancelled after the grace period and recorded as interrupted", async () => {
    const t = await serve({ "hang/main.tf": HANGING }, [{ name: "hang", path: "hang", timeoutSeconds: 300 }]);
    execFileSync("mkfifo", [join(t.world, "hang", "fifo")]);
    // Well into the plan: the provider is blocked reading the FIFO.
    await until(() => processesUnder(join(t.config.dataDir, "git", "worktrees"), /terraform-provider-local/).length > 0, 120_000, "the provider hanging");
    const summary = await t.service.stop();
    expect(summary).toEqual({ finished: 0, cancelled: 1 });
    const store = await openStore(t.config.database);
    const [run] = await store.listRuns({ stack: "hang" });
    await store.close();
    expect(run).toMatchObject({ verdict: "error", error: { kind: "InterruptedError" } });
    await until(() => processesUnder(join(t.config.dataDir, "git", "worktrees")).length === 0, 60_000, "the engine gone");
  }, engineTimeout(14));

  it("marks runs a crashed process left running as interrupted when it starts, and leaves a live process's alone", async () => {
    const root = tempDir();
    const dataDir = join(root, "data");
    const database = join(dataDir, "driftwatch.db");
    // A process notes a run as running and is gone before finishing it.
    const storeModule = pathToFileURL(join(repoRoot, "src", "store", "sqlite", "index.ts")).href;
    const crash = `const { openSqliteStore } = await import(${JSON.stringify(storeModule)}); const s = await openSqliteStore(process.argv[1]); await s.startRun({ runId: "crashed-run", stack: "files", engine: "terraform", startedAt: new Date(Date.now() - 60000).toISOString() });`;
    execFileSync(process.execPath, ["--input-type=module", "-e", crash, database]);
    // This (live) process has a run going on, say a `driftwatch check` next to the service.
    const store = await openSqliteStore(database);
    await store.startRun({ runId: "live-run", stack: "files", engine: "terraform", startedAt: new Date().toISOString() });
    expect(await store.listRuns()).toEqual([]); // runs in progress are not history yet
    await store.close();
    const file = join(root, "driftwatch.yaml");
    writeFileSync(file, `dataDir: ${dataDir}\nservice: { runOnStart: false, gitPollSeconds: 0, http: { port: 0 } }\nstacks: []\n`);
    const service = await startService({ config: loadConfig(file, { env }), toolchain, logger: pino({ level: "silent" }), env });
    services.push(service);
    const runs = (await (await fetch(new URL("/api/runs", service.url))).json()) as { runs: RunSummary[] };
    expect(runs.runs).toEqual([expect.objectContaining({ runId: "crashed-run", verdict: "error", error: { kind: "InterruptedError", message: "Driftwatch stopped before the run finished" } })]);
    rmSync(root, { recursive: true, force: true });
  });
});

/** Waits until `stack` has `count` recorded runs (never more). */
async function expectRuns(runs: (stack: string) => Promise<RunSummary[]>, stack: string, count: number): Promise<void> {
  await until(async () => (await runs(stack)).length >= count, 120_000, `${count} runs of ${stack}`);
  expect(await runs(stack)).toHaveLength(count);
}
