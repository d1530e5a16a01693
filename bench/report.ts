// What `driftwatch report --since 30d` costs on a large history: 1,000 stacks checked hourly for 30 days (720,000
// runs), each drifting now and then (an episode every few days, open for a few hours; some still open). Prints the
// time to compute the report (median of BENCH_RUNS), to render each format, the HTML's size, and the process's peak
// memory (max RSS) after computing it.
//
//   npm run bench -- report
//
// The history is written straight into the schema the store creates (one transaction, the store's own columns),
// since recording 720,000 runs one transaction at a time would take longer than everything measured here.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { parseConfig } from "../src/config/load.ts";
import { computeReport } from "../src/reports/compute.ts";
import { renderReport, REPORT_FORMATS } from "../src/reports/render.ts";
import { openSqliteStore } from "../src/store/sqlite/index.ts";

const STACKS = Number(process.env.BENCH_STACKS ?? 1000);
const DAYS = 30;
const HOUR = 3_600_000;
const SAMPLES = Number(process.env.BENCH_RUNS ?? 3);
const ENGINES = ["terraform", "pulumi", "cloudformation", "kubernetes"] as const;
const end = Date.parse("2026-11-27T00:00:00.000Z");
const start = end - DAYS * 24 * HOUR;

function configText(dir: string): string {
  const lines = [`dataDir: ${dir}`, "service: { schedule: '0 * * * *' }", "stacks:"];
  for (let i = 0; i < STACKS; i++) {
    const engine = ENGINES[i % ENGINES.length]!;
    const name = `stack-${String(i).padStart(4, "0")}`;
    const source = `source: { repo: /nowhere, path: s${i} }`;
    const settings =
      engine === "pulumi" ? ", pulumi: { stack: dev }" : engine === "cloudformation" ? `, cloudformation: { stackName: s${i}, region: eu-west-1, template: t.yaml }` : "";
    lines.push(`  - { name: ${name}, engine: ${engine}, ${source}${settings} }`);
  }
  return `${lines.join("\n")}\n`;
}

/** Hourly runs of every stack; stack i drifts every (3 + i % 5) days for (1 + i % 12) hours. */
async function writeHistory(file: string): Promise<{ runs: number; episodes: number }> {
  await (await openSqliteStore(file)).close(); // the schema, as the store makes it
  const db = new DatabaseSync(file);
  const run = db.prepare(
    "INSERT INTO runs (run_id, stack, engine, verdict, commit_sha, error_kind, error_message, drift_count, pending_count, started_at, finished_at, duration_ms, trigger, status) " +
      "VALUES (?, ?, ?, ?, 'c0ffee', ?, ?, ?, 0, ?, ?, ?, 'schedule', 'finished')",
  );
  const episode = db.prepare(
    "INSERT INTO episodes (stack, opened_at, opened_run_id, last_run_id, last_seen_at, seen_count, fingerprint, changes_json, closed_at) VALUES (?, ?, ?, ?, ?, ?, 'f', ?, ?)",
  );
  let runs = 0;
  let episodes = 0;
  db.exec("BEGIN");
  for (let i = 0; i < STACKS; i++) {
    const stack = `stack-${String(i).padStart(4, "0")}`;
    const engine = ENGINES[i % ENGINES.length]!;
    const every = (3 + (i % 5)) * 24;
    const lasts = 1 + (i % 12);
    const type = `${engine}:resource/${i % 7}`;
    const changes = JSON.stringify([{ kind: "drift", address: `${type}.r${i}`, type, action: "update", properties: [{ path: `tags.k${i % 3}`, desired: null, actual: null }] }]);
    let open: { at: string; runId: string; seen: number } | undefined;
    for (let h = 0; h < DAYS * 24; h++) {
      const at = start + h * HOUR + (i % 60) * 1000;
      const runId = `r-${i}-${h}`;
      const drifted = h % every >= every - lasts - (i % 10 === 0 ? every : 0) && h > every / 2;
      const error = !drifted && (h + i) % 97 === 0;
      const duration = 2000 + ((i * 7919 + h * 104729) % 30_000);
      const startedAt = new Date(at).toISOString();
      const finishedAt = new Date(at + duration).toISOString();
      run.run(runId, stack, engine, error ? "error" : drifted ? "drifted" : "in-sync", error ? "EngineError" : null, error ? "boom" : null, drifted ? 1 : 0, startedAt, finishedAt, duration);
      runs++;
      if (drifted && !open) open = { at: finishedAt, runId, seen: 0 };
      if (open && drifted) open.seen++;
      if (open && !drifted && !error) {
        episode.run(stack, open.at, open.runId, runId, finishedAt, open.seen, changes, finishedAt);
        episodes++;
        open = undefined;
      }
    }
    if (open) {
      episode.run(stack, open.at, open.runId, open.runId, open.at, open.seen, changes, null);
      episodes++;
    }
  }
  db.exec("COMMIT");
  db.close();
  return { runs, episodes };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

const dir = mkdtempSync(join(tmpdir(), "driftwatch-bench-report-"));
try {
  const file = join(dir, "driftwatch.db");
  const writing = performance.now();
  const written = await writeHistory(file);
  console.log(`history: ${STACKS} stacks, ${written.runs} runs, ${written.episodes} episodes (written in ${((performance.now() - writing) / 1000).toFixed(1)} s)`);
  const configFile = join(dir, "driftwatch.yaml");
  writeFileSync(configFile, configText(dir));
  const config = parseConfig(configText(dir), configFile, { env: {} });
  const store = await openSqliteStore(file);
  const from = new Date(end - DAYS * 24 * HOUR);
  const to = new Date(end);
  const rssBefore = process.resourceUsage().maxRSS / 1024;
  const times: number[] = [];
  let report = await computeReport({ store, stacks: config.stacks, from, to, generatedAt: to });
  for (let i = 0; i < SAMPLES; i++) {
    const began = performance.now();
    report = await computeReport({ store, stacks: config.stacks, from, to, generatedAt: to });
    times.push(performance.now() - began);
  }
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  console.log(`peak RSS before computing ${rssBefore.toFixed(0)} MB (writing the history, the configuration), after ${maxRssMb.toFixed(0)} MB`);
  console.log(
    `report --since 30d: ${(median(times) / 1000).toFixed(2)} s median of ${SAMPLES} (worst ${(Math.max(...times) / 1000).toFixed(2)} s); ` +
      `peak RSS ${maxRssMb.toFixed(0)} MB; ${report.checks.runs} runs, ${report.episodes.list.length} episodes in the period`,
  );
  for (const format of REPORT_FORMATS) {
    const began = performance.now();
    const text = renderReport(report, format, { baseUrl: "https://driftwatch.example.com" });
    console.log(`  render ${format}: ${(performance.now() - began).toFixed(0)} ms, ${(Buffer.byteLength(text) / 1024).toFixed(0)} KiB`);
  }
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
