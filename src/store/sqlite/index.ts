// The run history store on SQLite (node:sqlite, built into Node ≥ 22.5): one file, WAL, migrations applied on open.
import { chmodSync, closeSync, constants, openSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { SQLOutputValue, StatementSync } from "node:sqlite";
import type { ChangeKind, PropertyDiff, ResourceAction, ResourceChange, RunDrift, StackResult, Verdict } from "../../core/types.ts";
import type { ListRunsOptions, RunSummary, Store } from "../api.ts";
import { errorMessage } from "../../core/errors.ts";
import { processId } from "../../core/liveness.ts";
import { preparePrivateDir } from "../../core/private-dir.ts";
import { StoreError, StoreSchemaError, StoreWriteError } from "../errors.ts";
import { outboxWriter, sqliteAlertStore } from "./alerts.ts";
import { sqliteReportStore } from "./reports.ts";
import { sqliteApprovalStore } from "./approvals.ts";
import { sqliteApplyMarkers, sqliteAuditStore, sqliteBackoffStore, sqliteEngineStateStore } from "./audit.ts";
import { latestVersion, MIGRATIONS } from "./migrations.ts";
import type { Migration } from "./migrations.ts";

export { StoreError, StoreSchemaError, StoreWriteError } from "../errors.ts";
export { MIGRATIONS } from "./migrations.ts";
export type { Migration } from "./migrations.ts";

const DEFAULT_LIMIT = 50;
const BUSY_TIMEOUT_MS = 5000;

export interface SqliteStoreOptions {
  /** The schema to bring the database to; tests only. Default: MIGRATIONS. */
  migrations?: readonly Migration[];
  /**
   * Open an existing database for reading only (a report computed on a worker thread beside the service): nothing
   * is created, migrated or written, and its schema must be the one this code knows. Writes fail.
   */
  readOnly?: boolean;
}

type Row = Record<string, SQLOutputValue>;

/** Runs `fn` in a write transaction (taken at once, so a concurrent writer waits on the busy timeout, not mid-way). */
function transaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = fn();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}

/** The highest applied schema version, read without writing anything (0 for a new database). */
function schemaVersion(db: DatabaseSync): number {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
  if (!table) return 0;
  const row = db.prepare("SELECT MAX(version) AS version FROM schema_migrations").get();
  return typeof row?.version === "number" ? row.version : 0;
}

function checkMigrations(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration "${m.name}" has version ${m.version}, expected ${i + 1} (versions run 1, 2, 3, … in order)`);
  });
}

/** Applies every migration the database lacks, each in its own transaction together with its schema_migrations row. */
function migrate(db: DatabaseSync, migrations: readonly Migration[]): void {
  checkMigrations(migrations);
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at TEXT)");
  const applied = db.prepare("SELECT 1 FROM schema_migrations WHERE version = ?");
  const record = db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)");
  for (const migration of migrations) {
    transaction(db, () => {
      // Checked inside the transaction: another process may have applied it since we looked.
      if (applied.get(migration.version)) return;
      db.exec(migration.sql);
      record.run(migration.version, migration.name, new Date().toISOString());
    });
  }
}

/**
 * Property diffs as JSON. `undefined` desired/actual are stored as null (so they read back as null); inside a value,
 * JSON's own rules apply (an undefined member is dropped, an undefined array element becomes null). A value JSON
 * cannot represent faithfully (bigint, function, symbol, NaN, ±Infinity) is an error rather than silently altered.
 */
function propertiesJson(properties: readonly PropertyDiff[]): string {
  const plain = properties.map((p) => ({ path: p.path, desired: p.desired ?? null, actual: p.actual ?? null, ...(p.changedBy ? { changedBy: p.changedBy } : {}) }));
  return JSON.stringify(plain, (key, value: unknown) => {
    const kind = typeof value;
    if (kind === "bigint" || kind === "function" || kind === "symbol" || (kind === "number" && !Number.isFinite(value))) {
      throw new TypeError(`property value${key ? ` at "${key}"` : ""} is not JSON-serializable (${kind === "number" ? String(value) : kind})`);
    }
    return value;
  });
}

function parseProperties(json: string): PropertyDiff[] {
  const parsed = JSON.parse(json) as PropertyDiff[];
  return parsed.map((p) => ({ path: p.path, desired: p.desired, actual: p.actual, ...(p.changedBy ? { changedBy: p.changedBy } : {}) }));
}

function text(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== "string") throw new TypeError(`column ${column}: expected text, got ${value === null ? "null" : typeof value}`);
  return value;
}

function optionalText(row: Row, column: string): string | undefined {
  const value = row[column];
  return typeof value === "string" ? value : undefined;
}

function integer(row: Row, column: string): number {
  const value = row[column];
  if (typeof value !== "number") throw new TypeError(`column ${column}: expected a number, got ${value === null ? "null" : typeof value}`);
  return value;
}

function summaryOf(row: Row): RunSummary {
  const commit = optionalText(row, "commit_sha");
  const staleSourceError = optionalText(row, "stale_source_error");
  const errorKind = optionalText(row, "error_kind");
  const alertError = optionalText(row, "alert_error");
  const trigger = optionalText(row, "trigger");
  return {
    runId: text(row, "run_id"),
    stack: text(row, "stack"),
    engine: text(row, "engine"),
    verdict: text(row, "verdict") as Verdict,
    ...(commit !== undefined ? { commit } : {}),
    ...(staleSourceError !== undefined ? { staleSource: { error: staleSourceError } } : {}),
    ...(trigger !== undefined ? { trigger } : {}),
    ...(errorKind !== undefined ? { error: { kind: errorKind, message: optionalText(row, "error_message") ?? "" } } : {}),
    driftCount: integer(row, "drift_count"),
    pendingCount: integer(row, "pending_count"),
    startedAt: text(row, "started_at"),
    finishedAt: text(row, "finished_at"),
    durationMs: integer(row, "duration_ms"),
    ...(alertError !== undefined ? { alertError } : {}),
  };
}

function changeOf(row: Row): ResourceChange {
  const previousAddress = optionalText(row, "previous_address");
  return {
    kind: text(row, "kind") as ChangeKind,
    address: text(row, "address"),
    type: text(row, "type"),
    action: text(row, "action") as ResourceAction,
    properties: parseProperties(text(row, "properties_json")),
    ...(previousAddress !== undefined ? { previousAddress } : {}),
  };
}

const RUN_COLUMNS =
  "run_id, stack, engine, verdict, commit_sha, stale_source_error, error_kind, error_message, drift_count, pending_count, started_at, finished_at, duration_ms, trigger";
/** What reading a run selects: the recorded columns plus what later steps add to the record. */
const RUN_READ_COLUMNS = `${RUN_COLUMNS}, alert_error`;

interface Statements {
  insertRun: StatementSync;
  insertChange: StatementSync;
  listAll: StatementSync;
  listStack: StatementSync;
  getRun: StatementSync;
  getChanges: StatementSync;
  insertRunning: StatementSync;
  dropRunning: StatementSync;
  runningRuns: StatementSync;
  interruptOne: StatementSync;
  lastRunBefore: StatementSync;
  driftSince: StatementSync;
}

function prepare(db: DatabaseSync): Statements {
  return {
    insertRun: db.prepare(`INSERT INTO runs (${RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    insertChange: db.prepare("INSERT INTO resource_changes (run_id, kind, address, type, action, properties_json, previous_address) VALUES (?, ?, ?, ?, ?, ?, ?)"),
    // rowid breaks ties between runs started in the same millisecond: the one recorded later comes first.
    // Runs still in progress have no result yet: history lists results only.
    listAll: db.prepare(`SELECT ${RUN_READ_COLUMNS} FROM runs WHERE status != 'running' AND started_at < ? ORDER BY started_at DESC, rowid DESC LIMIT ?`),
    listStack: db.prepare(
      `SELECT ${RUN_READ_COLUMNS} FROM runs WHERE stack = ? AND status != 'running' AND started_at < ? ORDER BY started_at DESC, rowid DESC LIMIT ?`,
    ),
    getRun: db.prepare(`SELECT ${RUN_READ_COLUMNS} FROM runs WHERE run_id = ? AND status != 'running'`),
    insertRunning: db.prepare(
      "INSERT INTO runs (run_id, stack, engine, verdict, drift_count, pending_count, started_at, finished_at, duration_ms, status, process) VALUES (?, ?, ?, 'running', 0, 0, ?, ?, 0, 'running', ?)",
    ),
    // A run another process took for dead (interrupted) and that finished after all gets its real result.
    dropRunning: db.prepare("DELETE FROM runs WHERE run_id = ? AND status IN ('running', 'interrupted')"),
    runningRuns: db.prepare("SELECT run_id, stack, process FROM runs WHERE status = 'running'"),
    interruptOne: db.prepare(
      "UPDATE runs SET status = 'interrupted', verdict = 'error', error_kind = 'InterruptedError', error_message = ?, finished_at = ?, " +
        "duration_ms = MAX(0, CAST((julianday(?) - julianday(started_at)) * 86400000 AS INTEGER)) WHERE run_id = ? AND status = 'running'",
    ),
    lastRunBefore: db.prepare(
      "SELECT started_at FROM runs WHERE stack = ? AND status = 'finished' AND verdict != 'error' AND started_at < ? ORDER BY started_at DESC, rowid DESC LIMIT 1",
    ),
    // One row per drifted resource of interest (a JSON array of addresses), or one with NULL for a run without.
    driftSince: db.prepare(
      "SELECT r.run_id, r.started_at, c.address FROM runs r " +
        "LEFT JOIN resource_changes c ON c.run_id = r.run_id AND c.kind = 'drift' AND c.address IN (SELECT value FROM json_each(?)) " +
        "WHERE r.stack = ? AND r.status = 'finished' AND r.verdict != 'error' AND r.started_at >= ? ORDER BY r.started_at, r.rowid, c.id",
    ),
    getChanges: db.prepare("SELECT kind, address, type, action, properties_json, previous_address FROM resource_changes WHERE run_id = ? ORDER BY id"),
  };
}

/**
 * The database file and its folder, readable by the service's user only (0600, 0700): runs and alerts describe the
 * infrastructure. SQLite gives its -wal and -shm files the database file's mode. An existing file is tightened.
 */
function createPrivately(file: string): void {
  preparePrivateDir(dirname(resolve(file)));
  closeSync(openSync(file, constants.O_CREAT | constants.O_RDWR, 0o600));
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
}

/**
 * Opens (creating it and its parent directory if needed) the run history database at `file` and brings its schema up
 * to date. A database whose schema is newer than this code knows is refused with StoreSchemaError before anything
 * is written to it. Other failures to open are StoreError.
 */
export function openSqliteStore(file: string, options: SqliteStoreOptions = {}): Store {
  const migrations = options.migrations ?? MIGRATIONS;
  const readOnly = options.readOnly === true;
  let db: DatabaseSync;
  try {
    if (file !== ":memory:" && !readOnly) createPrivately(file);
    db = new DatabaseSync(file, { readOnly });
  } catch (error) {
    throw new StoreError(file, `cannot open database at ${file}: ${errorMessage(error)}`, { cause: error });
  }
  try {
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.exec("PRAGMA foreign_keys = ON");
    // Before anything that writes (journal mode, schema_migrations): a newer database is left exactly as it was.
    const current = schemaVersion(db);
    const known = latestVersion(migrations);
    if (current > known) throw new StoreSchemaError(file, current, known);
    if (readOnly && current < known) throw new StoreError(file, `cannot read database at ${file}: its schema is version ${current}, not ${known} (open it for writing once to migrate it)`);
    if (!readOnly) {
      db.exec("PRAGMA journal_mode = WAL");
      migrate(db, migrations);
    }
  } catch (error) {
    db.close();
    if (error instanceof StoreError) throw error;
    throw new StoreError(file, `cannot open database at ${file}: ${errorMessage(error)}`, { cause: error });
  }

  const statements = prepare(db);
  /** This process, on the runs it notes as running. */
  const self = processId();
  const { insertApply, ...applies } = sqliteApplyMarkers(db);
  let open = true;

  return {
    ...sqliteAlertStore(db, (fn) => transaction(db, fn)),
    ...sqliteAuditStore(db),
    ...sqliteBackoffStore(db),
    ...sqliteEngineStateStore(db),
    ...sqliteApprovalStore(db, (fn) => transaction(db, fn)),
    ...sqliteReportStore(db, (fn) => transaction(db, fn), outboxWriter(db)),

    recordRun(result: StackResult): void {
      try {
        transaction(db, () => {
          statements.dropRunning.run(result.runId);
          const driftCount = result.changes.filter((c) => c.kind === "drift").length;
          const pendingCount = result.changes.filter((c) => c.kind === "pending").length;
          statements.insertRun.run(
            result.runId,
            result.stack,
            result.engine,
            result.verdict,
            result.commit ?? null,
            result.staleSource?.error ?? null,
            result.error?.kind ?? null,
            result.error?.message ?? null,
            driftCount,
            pendingCount,
            result.startedAt,
            result.finishedAt,
            result.durationMs,
            result.trigger ?? null,
          );
          for (const change of result.changes) {
            statements.insertChange.run(result.runId, change.kind, change.address, change.type, change.action, propertiesJson(change.properties), change.previousAddress ?? null);
          }
        });
      } catch (error) {
        throw new StoreWriteError(file, result.runId, errorMessage(error), { cause: error });
      }
    },

    startRun(run: { runId: string; stack: string; engine: string; startedAt: string }): void {
      statements.insertRunning.run(run.runId, run.stack, run.engine, run.startedAt, run.startedAt, self);
    },

    ...applies,

    beginApply(apply): void {
      transaction(db, () => {
        insertApply(apply);
        statements.insertRunning.run(apply.runId, apply.stack, apply.engine, apply.startedAt, apply.startedAt, self);
      });
    },

    interruptRun(runId: string, message: string): boolean {
      const now = new Date().toISOString();
      return Number(statements.interruptOne.run(message, now, now, runId).changes) > 0;
    },

    interruptRunningRuns(message: string, isGone: (process: string) => boolean): { runId: string; stack: string }[] {
      const now = new Date().toISOString();
      return statements.runningRuns
        .all()
        .filter((row) => typeof row.process !== "string" || isGone(row.process))
        .filter((row) => Number(statements.interruptOne.run(message, now, now, String(row.run_id)).changes) > 0)
        .map((row) => ({ runId: String(row.run_id), stack: String(row.stack) }));
    },

    driftHistory(stack: string, since: string, addresses: readonly string[]): RunDrift[] {
      const baseline = statements.lastRunBefore.get(stack, since);
      const runs: RunDrift[] = [];
      for (const row of statements.driftSince.all(JSON.stringify(addresses), stack, baseline ? text(baseline, "started_at") : since)) {
        const runId = text(row, "run_id");
        if (runs.at(-1)?.runId !== runId) runs.push({ runId, startedAt: text(row, "started_at"), addresses: [] });
        if (row.address !== null) runs.at(-1)!.addresses.push(text(row, "address"));
      }
      return runs;
    },

    listRuns(options: ListRunsOptions = {}): RunSummary[] {
      const limit = options.limit ?? DEFAULT_LIMIT;
      if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`limit must be a whole number >= 0, got ${limit}`);
      // ISO 8601 timestamps compare as text; "~" sorts after every one of them.
      const before = options.before ?? "~";
      const rows = options.stack === undefined ? statements.listAll.all(before, limit) : statements.listStack.all(options.stack, before, limit);
      return rows.map(summaryOf);
    },

    getRun(runId: string): StackResult | undefined {
      const row = statements.getRun.get(runId);
      if (!row) return undefined;
      const { driftCount: _drift, pendingCount: _pending, alertError: _alertError, ...summary } = summaryOf(row);
      const changes = statements.getChanges.all(runId).map(changeOf);
      // Same key order as a StackResult built by the pipeline, for readable JSON output.
      const { startedAt, finishedAt, durationMs, error, ...head } = summary;
      return { ...head, changes, ...(error ? { error } : {}), startedAt, finishedAt, durationMs };
    },

    close(): void {
      if (!open) return;
      open = false;
      db.close();
    },
  };
}
