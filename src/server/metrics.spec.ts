// /metrics as Prometheus reads it. A single process (SQLite): the series of before, no `replica` label, the
// stacks' gauges read from the store at each scrape (two queries, whatever the number of stacks). A fleet (a real
// PostgreSQL shared by two replicas, each with its own store and its own Leadership): every per-process series
// names its replica, the fleet gauges come only from the replica holding the lead (so summing over replicas counts
// each stack once), and they move with the lead when its holder stops.
import { Writable } from "node:stream";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import type { StackConfig } from "../config/types.ts";
import type { StackResult } from "../core/types.ts";
import { Leadership } from "../scheduler/leader.ts";
import type { Store } from "../store/api.ts";
import { openPostgresStore } from "../store/postgres/index.ts";
import { openSqliteStore } from "../store/sqlite/index.ts";
import { drift, pending, recordHistory } from "../../test/support/history.ts";
import { type LocalPostgres, startPostgres } from "../../test/support/postgres.ts";
import { until } from "../../test/support/processes.ts";
import { nowhereStacksConfig } from "../../test/support/nowhere-stacks.ts";
import { tempDir } from "../../test/support/tempdir.ts";
import { createMetrics, type ServiceMetrics } from "./metrics.ts";

const silent = pino({ level: "silent" });
const NOW = Date.parse("2026-05-01T12:00:00.000Z");
const FLEET_GAUGES = ["driftwatch_stack_status", "driftwatch_drifted_resources", "driftwatch_last_check_timestamp_seconds", "driftwatch_drift_episode_open_seconds"];

function stacksOf(dir: string): StackConfig[] {
  return nowhereStacksConfig(dir).stacks;
}

/** The samples of one metric in an exposition: labels as written (`{…}` or "") → value. */
function samples(text: string, name: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const match of text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, "gm"))) found.set(match[1] ?? "", Number(match[2]));
  return found;
}

/** Every sample line's metric name and labels. */
function sampleLines(text: string): { name: string; labels: string }[] {
  return text
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? /.exec(line);
      if (!match) throw new Error(`not a sample line: ${line}`);
      return { name: match[1]!, labels: match[2] ?? "" };
    });
}

const scrape = async (metrics: ServiceMetrics) => [...(await metrics.scrape())].join("");

/** A run of the pipeline as `observe` gets it. */
function finished(stack: string, verdict: StackResult["verdict"], durationMs: number): StackResult {
  return { runId: `obs-${stack}`, stack, engine: "terraform", verdict, changes: [], startedAt: "2026-05-01T11:00:00.000Z", finishedAt: "2026-05-01T11:00:05.000Z", durationMs };
}

/** The stacks' history both modes are tested on: app drifted (an episode open since its first drifted run), web in sync, idle never checked. */
async function recordFleetHistory(appStore: Store, webStore: Store, stacks: StackConfig[]): Promise<void> {
  const [app, web] = stacks;
  await recordHistory(appStore, app!, [
    { startedAt: "2026-05-01T09:00:00.000Z", changes: [drift("local_file.a", "local_file", "content")] },
    { startedAt: "2026-05-01T11:00:00.000Z", changes: [drift("local_file.a", "local_file", "content"), drift("local_file.b", "local_file", "content"), pending("local_file.c", "local_file")] },
  ]);
  await recordHistory(webStore, web!, [{ startedAt: "2026-05-01T10:00:00.000Z" }]);
}

/** The fleet gauges of the history above, as the exporting process shows them. */
function expectFleetGauges(text: string): void {
  const status = samples(text, "driftwatch_stack_status");
  expect(status.get('{stack="app",engine="terraform",status="drifted+pending"}')).toBe(1);
  expect(status.get('{stack="app",engine="terraform",status="drifted"}')).toBe(0);
  expect(status.get('{stack="web",engine="pulumi",status="in-sync"}')).toBe(1);
  expect(status.get('{stack="idle",engine="kubernetes",status="unknown"}')).toBe(1);
  expect(status.size).toBe(3 * 6); // every stack, every status
  expect([...status.values()].filter((v) => v === 1)).toHaveLength(3);
  expect(samples(text, "driftwatch_drifted_resources")).toEqual(new Map([['{stack="app"}', 2], ['{stack="web"}', 0], ['{stack="idle"}', 0]]));
  // When the last check finished (started + the 30 s recordHistory gives each run); a stack never checked has none.
  expect(samples(text, "driftwatch_last_check_timestamp_seconds")).toEqual(
    new Map([
      ['{stack="app"}', Date.parse("2026-05-01T11:00:30.000Z") / 1000],
      ['{stack="web"}', Date.parse("2026-05-01T10:00:30.000Z") / 1000],
    ]),
  );
  // Open since the first drifted run finished (09:00:30), three hours before NOW less 30 s.
  expect(samples(text, "driftwatch_drift_episode_open_seconds")).toEqual(new Map([['{stack="app"}', 3 * 3600 - 30], ['{stack="web"}', 0], ['{stack="idle"}', 0]]));
}

/** None of the fleet gauges has a sample (their HELP and TYPE stay). */
function expectNoFleetGauges(text: string): void {
  for (const name of FLEET_GAUGES) {
    expect(samples(text, name).size, name).toBe(0);
    expect(text).toContain(`# TYPE ${name} gauge`);
  }
}

describe("metrics of a single process", () => {
  it("keeps the series of before (no replica label) and reads the stacks' state from the store at each scrape, in two queries", async () => {
    const dir = tempDir();
    const stacks = stacksOf(dir);
    const store = await openSqliteStore(join(dir, "driftwatch.db"));
    onTestFinished(() => store.close());
    const calls: string[] = [];
    const counted: Pick<Store, "latestRuns" | "openEpisodeSummaries"> = {
      latestRuns: (names) => (calls.push(`latestRuns(${names.length})`), store.latestRuns(names)),
      openEpisodeSummaries: () => (calls.push("openEpisodeSummaries"), store.openEpisodeSummaries()),
    };
    const metrics = createMetrics({ stacks, store: counted, logger: silent, now: () => NOW });
    expect(calls).toEqual([]); // nothing read before the first scrape

    const empty = await scrape(metrics);
    expect(samples(empty, "driftwatch_stack_status").get('{stack="app",engine="terraform",status="unknown"}')).toBe(1);
    expect(samples(empty, "driftwatch_last_check_timestamp_seconds").size).toBe(0);
    expect(samples(empty, "driftwatch_check_duration_seconds_count")).toEqual(new Map([["", 0]]));
    expect(samples(empty, "driftwatch_scheduler_skipped_total")).toEqual(new Map([["", 0]]));
    expect(samples(empty, "driftwatch_leader")).toEqual(new Map([["", 1]]));

    // Written by this process or another one (a `driftwatch check` beside the service): the next scrape shows it.
    await recordFleetHistory(store, store, stacks);
    metrics.observe(finished("app", "drifted+pending", 30_000));
    metrics.observe(finished("web", "in-sync", 4_000));
    metrics.skipped();
    calls.length = 0;
    const text = await scrape(metrics);
    expect(calls.sort()).toEqual(["latestRuns(3)", "openEpisodeSummaries"]);
    expectFleetGauges(text);
    expect(samples(text, "driftwatch_checks_total")).toEqual(new Map([['{outcome="drifted+pending"}', 1], ['{outcome="in-sync"}', 1]]));
    expect(samples(text, "driftwatch_check_duration_seconds_count")).toEqual(new Map([["", 2]]));
    expect(samples(text, "driftwatch_check_duration_seconds_sum")).toEqual(new Map([["", 34]]));
    expect(samples(text, "driftwatch_check_duration_seconds_bucket").get('{le="5"}')).toBe(1);
    expect(samples(text, "driftwatch_scheduler_skipped_total")).toEqual(new Map([["", 1]]));
    expect(text).toMatch(/^process_resident_memory_bytes \d+$/m);
    expect(text).not.toContain("replica=");

    // Scrapes at once share one read.
    calls.length = 0;
    const [first, second] = await Promise.all([scrape(metrics), scrape(metrics)]);
    expect(calls).toHaveLength(2);
    expectFleetGauges(first);
    expectFleetGauges(second);
  });

  it("writes a large fleet's gauges a hundred stacks at a time, as the response is read", async () => {
    const [template] = stacksOf(tempDir());
    const stacks = Array.from({ length: 1_000 }, (_, i) => ({ ...template!, name: `stack-${i}` }));
    const store: Pick<Store, "latestRuns" | "openEpisodeSummaries"> = {
      latestRuns: () => Promise.resolve([]),
      openEpisodeSummaries: () => Promise.resolve([]),
    };
    const chunks = [...(await createMetrics({ stacks, store, logger: silent }).scrape())];
    const text = chunks.join("");
    expect(samples(text, "driftwatch_stack_status").size).toBe(6_000);
    expect([...samples(text, "driftwatch_stack_status").entries()].filter(([labels, v]) => labels.endsWith('status="unknown"}') && v === 1)).toHaveLength(1_000);
    expect(samples(text, "driftwatch_drifted_resources").size).toBe(1_000);
    expect(samples(text, "driftwatch_drift_episode_open_seconds").size).toBe(1_000);
    expect(samples(text, "driftwatch_last_check_timestamp_seconds").size).toBe(0);
    // Each gauge's HELP and TYPE once, then its samples in chunks of 100 stacks; no chunk near the whole.
    expect(chunks.length).toBeGreaterThan(40);
    expect(Math.max(...chunks.slice(1).map((chunk) => chunk.length))).toBeLessThan(text.length / 10);
    for (const name of FLEET_GAUGES) expect(text.split(`# TYPE ${name} gauge\n`)).toHaveLength(2);
  });

  it("still answers when the store cannot be read: its own series, no fleet gauges, and a warning", async () => {
    const dir = tempDir();
    const lines: string[] = [];
    const logger = pino({ level: "warn" }, new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) }));
    const broken: Pick<Store, "latestRuns" | "openEpisodeSummaries"> = {
      latestRuns: () => Promise.reject(new Error("database is locked")),
      openEpisodeSummaries: () => Promise.resolve([]),
    };
    const metrics = createMetrics({ stacks: stacksOf(dir), store: broken, logger });
    metrics.observe(finished("app", "in-sync", 1_000));
    const text = await scrape(metrics);
    expectNoFleetGauges(text);
    expect(samples(text, "driftwatch_checks_total")).toEqual(new Map([['{outcome="in-sync"}', 1]]));
    expect(samples(text, "driftwatch_leader")).toEqual(new Map([["", 1]]));
    expect(lines.map((line) => JSON.parse(line) as { msg: string; err: string })).toEqual([
      expect.objectContaining({ msg: "cannot read the stacks' state from the store: this scrape has no fleet gauges", err: "database is locked" }),
    ]);
  });
});

describe("metrics of a fleet on PostgreSQL", () => {
  let server: LocalPostgres;
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(() => server?.stop());

  it("labels each replica's own series; only the leader exports the fleet gauges, and they follow the lead", async () => {
    const dir = tempDir();
    const stacks = stacksOf(dir);
    const url = await server.createDatabase("metrics_fleet");
    const replicas = await Promise.all(
      (["host-a:101", "host-b:202"] as const).map(async (name) => {
        const store = await openPostgresStore(url, { poolSize: 2 });
        const leadership = new Leadership({ databaseUrl: url, intervalMs: 100, logger: silent });
        onTestFinished(async () => {
          await leadership.stop();
          await store.close();
        });
        return { name, store, leadership, metrics: createMetrics({ stacks, store, logger: silent, replica: name, leading: () => leadership.leading, now: () => NOW }) };
      }),
    );
    const [a, b] = replicas as [(typeof replicas)[0], (typeof replicas)[0]];
    await a.leadership.start();
    expect(a.leadership.leading).toBe(true);
    await b.leadership.start();
    expect(b.leadership.leading).toBe(false);

    // app is checked by a, web by b: both land in the one database.
    await recordFleetHistory(a.store, b.store, stacks);
    a.metrics.observe(finished("app", "drifted+pending", 30_000));
    b.metrics.observe(finished("web", "in-sync", 4_000));

    const [leader, follower] = await Promise.all([scrape(a.metrics), scrape(b.metrics)]);
    expectFleetGauges(leader);
    expectNoFleetGauges(follower);
    expect(samples(leader, "driftwatch_leader")).toEqual(new Map([['{replica="host-a:101"}', 1]]));
    expect(samples(follower, "driftwatch_leader")).toEqual(new Map([['{replica="host-b:202"}', 0]]));
    expect(samples(leader, "driftwatch_checks_total")).toEqual(new Map([['{outcome="drifted+pending",replica="host-a:101"}', 1]]));
    expect(samples(follower, "driftwatch_checks_total")).toEqual(new Map([['{outcome="in-sync",replica="host-b:202"}', 1]]));
    expect(samples(follower, "driftwatch_check_duration_seconds_count")).toEqual(new Map([['{replica="host-b:202"}', 1]]));
    expect(samples(follower, "driftwatch_scheduler_skipped_total")).toEqual(new Map([['{replica="host-b:202"}', 0]]));
    expect(follower).toMatch(/^process_resident_memory_bytes\{replica="host-b:202"\} \d+$/m);
    // Every per-process series names its replica; no fleet gauge does (it is the fleet's, whoever exports it).
    for (const [text, name] of [
      [leader, a.name],
      [follower, b.name],
    ] as const) {
      for (const line of sampleLines(text)) {
        if (FLEET_GAUGES.includes(line.name)) expect(line.labels, line.name).not.toContain("replica=");
        else expect(line.labels, line.name).toContain(`replica="${name}"`);
      }
    }
    // What a query over both replicas sums counts each stack once.
    const both = `${leader}\n${follower}`;
    expect([...samples(both, "driftwatch_stack_status").entries()].filter(([labels, v]) => labels.includes('status="drifted+pending"') && v === 1)).toHaveLength(1);
    expect([...samples(both, "driftwatch_drifted_resources").values()].reduce((sum, v) => sum + v, 0)).toBe(2);

    // The leader goes: the other replica takes the lead and the fleet gauges with it, the same values.
    await a.leadership.stop();
    await until(() => b.leadership.leading, 30_000, "the other replica takes the lead");
    const [former, current] = await Promise.all([scrape(a.metrics), scrape(b.metrics)]);
    expectFleetGauges(current);
    expectNoFleetGauges(former);
    expect(samples(current, "driftwatch_leader")).toEqual(new Map([['{replica="host-b:202"}', 1]]));
    expect(samples(former, "driftwatch_leader")).toEqual(new Map([['{replica="host-a:101"}', 0]]));
    // A replica's own counters stay its own.
    expect(samples(current, "driftwatch_checks_total")).toEqual(new Map([['{outcome="in-sync",replica="host-b:202"}', 1]]));
  });
});
