// Reports end to end: real OpenTofu checks of fixture objects (one drifts, a sensitive attribute among them) make
// the history; `driftwatch report` reads it in every format; `serve` produces a scheduled report whose tick was
// missed while it was down, posts its digest to the local Slack server once through an outage and restarts, and
// serves the HTML. No secret from a drifted property appears in any of it.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load.ts";
import type { FleetReport } from "../src/reports/model.ts";
import { ManualClock } from "../src/scheduler/clock.ts";
import { startService, type Service } from "../src/service/serve.ts";
import { readToolchainManifest } from "../src/toolchain/manifest.ts";
import { manifestPath } from "../src/toolchain/paths.ts";
import { driftwatch } from "./support/cli.ts";
import { commitFiles, git } from "./support/git.ts";
import { until } from "./support/processes.ts";
import { SlackServer } from "./support/slack-server.ts";
import { editFixtureObject, fixtureObjectsModule } from "./support/terraform-modules.ts";
import { engineTimeout } from "./support/timeouts.ts";

const toolchain = readToolchainManifest(process.env.DRIFTWATCH_TOOLCHAIN ?? manifestPath());
const TOKEN = "xoxb-reports-test-51c2";
const SECRET = "s3cr3t-report-value-V1";
const TAMPERED = "tampered-report-value-V2";
const DAY = 86_400_000;

let slack: SlackServer;
const root = mkdtempSync(join(tmpdir(), "driftwatch-reports-"));
const configFile = join(root, "driftwatch.yaml");
const world = join(root, "world");
const env = { SLACK_BOT_TOKEN: TOKEN };

function writeConfig(reports: string[]): void {
  writeFileSync(
    configFile,
    [
      `dataDir: ${join(root, "data")}`,
      'service: { runOnStart: false, schedule: "0 0 1 1 *", gitPollSeconds: 0, jitterSeconds: 0, http: { port: 0 } }',
      "alerts:",
      "  deliveryTimeoutSeconds: 3",
      "  dashboardUrl: https://driftwatch.example.com",
      `  slack: { channel: "#drift", apiUrl: "${slack.url}", retries: 0, timeoutSeconds: 2 }`,
      "stacks:",
      ...["calm", "tampered"].flatMap((name) => [
        `  - name: ${name}`,
        "    engine: terraform",
        `    source: { repo: ${join(root, "repo")}, path: ${name} }`,
        `    terraform: { binary: tofu, vars: { dir: ${join(world, name)} } }`,
        `    sandbox: { readWrite: [${join(world, name)}] }`,
      ]),
      "reports:",
      ...reports,
      "",
    ].join("\n"),
  );
}

beforeAll(async () => {
  slack = await SlackServer.start(TOKEN);
  const repo = join(root, "repo");
  mkdirSync(repo, { recursive: true });
  git(repo, "init", "-q", "-b", "main");
  commitFiles(
    repo,
    {
      "calm/main.tf": fixtureObjectsModule({ c: { content: "steady" } }),
      "tampered/main.tf": fixtureObjectsModule({ a: { content: "alpha", tags: { team: "core" } }, s: { secret: SECRET } }),
    },
    "two stacks",
  );
  writeConfig(['  - { name: daily, schedule: "0 9 * * *", since: 7d, slack: { channel: "#reports" }, keep: 2 }']);
  for (const stack of ["calm", "tampered"]) {
    const converged = await driftwatch(["--config", configFile, "converge", "--json", stack], env);
    expect(converged.code, converged.stdout + converged.stderr).toBe(0);
  }
  editFixtureObject(join(world, "tampered"), "a", { content: "edited by hand" });
  editFixtureObject(join(world, "tampered"), "s", { secret: TAMPERED });
  const checked = await driftwatch(["--config", configFile, "check", "--json"], env);
  expect(checked.code, checked.stderr).toBe(2);
}, engineTimeout(240));

afterAll(async () => {
  await slack?.close();
  rmSync(root, { recursive: true, force: true });
});

function expectNoSecret(text: string): void {
  expect(text).not.toContain(SECRET);
  expect(text).not.toContain(TAMPERED);
  expect(text).not.toContain(TOKEN);
}

describe("driftwatch report", () => {
  it("reports the real runs' posture and episodes, in every format, without a secret", async () => {
    const json = await driftwatch(["--config", configFile, "report", "--since", "1d", "--format", "json"], env);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as FleetReport;
    expect(report.schemaVersion).toBe(1);
    expect(report.posture.byVerdict).toMatchObject({ "in-sync": 1, drifted: 1, error: 0, "never-checked": 0 });
    expect(report.posture.resourcesDrifted).toBe(2);
    expect(report.episodes).toMatchObject({ opened: 1, resolved: 0, stillOpen: 1 });
    // Two converges (each with its check after the apply) and one check of two stacks.
    expect(report.checks.runs).toBe(4);
    expect(report.checks.byEngine.map((e) => [e.engine, e.runs])).toEqual([["terraform", 4]]);
    expect(report.drift.topResourceTypes).toEqual([{ type: "fixture_object", episodes: 1, resources: 2 }]);
    expect(report.drift.topPropertyPaths.map((p) => p.path).sort()).toEqual(["content", "secret"]);
    expect(report.episodes.list[0]?.timeToDetectMs).toBeGreaterThan(0);
    expectNoSecret(json.stdout);

    // A short secret that is also a word of the markup ("span") is masked in the data, never in the markup.
    const withShortSecret = { ...env, REPORT_TEST_TOKEN: "span" };
    for (const format of ["text", "markdown", "html"]) {
      const out = join(root, `report.${format}`);
      const run = await driftwatch(["--config", configFile, "report", "tampered", "--from", new Date(Date.now() - DAY).toISOString(), "--format", format, "--out", out], withShortSecret);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toBe("");
      const text = readFileSync(out, "utf8");
      expect(text).toContain("tampered");
      if (format === "html") expect(text).toContain('<span class="badge drifted">drifted</span>');
      expectNoSecret(text);
    }
  });

  it("says what is wrong with the period or the stacks, and writes nothing", async () => {
    const both = await driftwatch(["--config", configFile, "report", "--since", "7d", "--from", "2026-01-01"], env);
    expect([both.code, both.stderr]).toEqual([1, "driftwatch: report: give --since or --from, not both\n"]);
    const since = await driftwatch(["--config", configFile, "report", "--since", "7 days"], env);
    expect(since.stderr).toMatch(/--since 7 days: expected a whole number and a unit/);
    const unknown = await driftwatch(["--config", configFile, "report", "nope", "--out", join(root, "never.md")], env);
    expect(unknown.stderr).toMatch(/report: no stack named 'nope'/);
    const glob = await driftwatch(["--config", configFile, "report", "zz*"], env);
    expect(glob.stderr).toBe("driftwatch: report: no configured stack matches 'zz*'\n");
    const backwards = await driftwatch(["--config", configFile, "report", "--from", "2026-11-02", "--to", "2026-11-01"], env);
    expect(backwards.stderr).toMatch(/the period must end after it starts/);
    expect(existsSync(join(root, "never.md"))).toBe(false);
  });
});

describe("scheduled reports in serve", () => {
  const logger = pino({ level: "silent" });
  const services: Service[] = [];
  afterAll(async () => {
    for (const s of services) await s.stop();
  });
  /** The service on a clock that moves only when the test moves it, from `at` (default now). */
  async function serve(at: Date | ManualClock = new Date()): Promise<Service> {
    const clock = at instanceof ManualClock ? at : new ManualClock(at);
    const service = await startService({ config: loadConfig(configFile, { env }), toolchain, logger, env, clock });
    services.push(service);
    return service;
  }
  const digests = () => slack.messages("#reports");

  it("produces a missed tick once at start, and posts its digest once through a Slack outage and restarts", async () => {
    const now = new Date();
    // First start: the schedule is armed; its earlier ticks were never due.
    let service = await serve(now);
    expect(await service.runner.store.listReports()).toEqual([]);
    await service.stop();

    // Down for two days, then back while Slack is out: yesterday's 09:00 tick is produced at start.
    slack.setMode({ kind: "status", status: 503 });
    const later = new Date(now.getTime() + 2 * DAY);
    service = await serve(later);
    const [record] = await service.runner.store.listReports();
    expect(record?.name).toBe("daily");
    expect(Date.parse(record!.tickAt)).toBeLessThanOrEqual(later.getTime());
    expect(Date.parse(record!.tickAt)).toBeGreaterThan(later.getTime() - DAY);
    expect(record!.digest.posture).toMatchObject({ stacks: 2, openEpisodes: 1 });
    expect(record!.digest.episodes.opened).toBe(1);

    // The HTML is served with the same rules as every read, and holds no secret.
    const page = await fetch(`${service.url}reports/${record!.id}`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain("tampered");
    expectNoSecret(html);
    expect((await fetch(`${service.url}reports/..%2Fdriftwatch.db`)).status).toBe(404);
    await until(() => slack.requests.some((r) => r.method === "chat.postMessage" && r.status === 503), 30_000, "a digest attempt during the outage");
    expect(await service.runner.store.pendingAlerts("slack")).toHaveLength(1);
    await service.stop();
    expect(digests()).toEqual([]);

    // Slack is back: the digest goes out at the next start, once; the tick is not produced again.
    slack.setMode(undefined);
    service = await serve(later);
    await until(() => digests().length > 0, 30_000, "the digest in #reports");
    await service.stop();
    service = await serve(new Date(later.getTime() + 60_000));
    expect(await service.runner.store.listReports()).toHaveLength(1);
    expect(await service.runner.store.pendingAlerts("slack")).toEqual([]);
    await service.stop();
    expect(digests()).toHaveLength(1);
    const digest = digests()[0]!;
    expect(digest.text).toMatch(/^Drift report daily: 50% of 2 stacks in sync, 1 episode opened, 1 open/);
    const blocks = JSON.stringify(digest.blocks);
    expect(blocks).toContain(`https://driftwatch.example.com/reports/${record!.id}`);
    expect(blocks).toContain("tampered");
    expectNoSecret(blocks);
  });

  it("produces a report at its cron tick, keeps the newest `keep`, and deletes the older files", async () => {
    writeConfig(['  - { name: minutely, schedule: "* * * * *", since: 1d, keep: 1 }']);
    const reportsDir = join(root, "data", "reports");
    const clock = new ManualClock(new Date());
    const service = await serve(clock);
    const minutely = async () => (await service.runner.store.listReports({ name: "minutely" })).map((r) => r.id);
    expect(await minutely()).toEqual([]); // armed now: no tick was due
    // The next minute's tick, as the service's cron fires it.
    clock.advance(60_000);
    await until(async () => (await minutely()).length > 0, 60_000, "the first minutely report");
    const first = (await service.runner.store.listReports({ name: "minutely" }))[0]!;
    expect(Date.parse(first.tickAt)).toBe(Math.floor(clock.now().getTime() / 60_000) * 60_000);
    expect(existsSync(join(reportsDir, `${first.id}.html`))).toBe(true);
    // The tick after it: only the newest stays.
    clock.advance(60_000);
    await until(async () => (await minutely())[0] !== first.id, 60_000, "the second minutely report");
    const [second] = await service.runner.store.listReports({ name: "minutely" });
    expect(Date.parse(second!.tickAt)).toBe(Date.parse(first.tickAt) + 60_000);
    await until(async () => (await minutely()).length === 1 && !existsSync(join(reportsDir, `${first.id}.html`)), 60_000, "the older report forgotten");
    expect(await minutely()).toEqual([second!.id]);
    expect(existsSync(join(reportsDir, `${second!.id}.html`))).toBe(true);
    await service.stop();
  });
});
