// The run history store, written once over the SqlDb seam: SQLite and PostgreSQL run the same statements.
import type { ChangeKind, FlappingResource, PropertyDiff, ResourceAction, ResourceChange, RunDrift, StackResult, Verdict } from "../../core/types.ts";
import type { ListRunsOptions, OpenEpisodeSummary, RunSummary, Store } from "../api.ts";
import { errorMessage } from "../../core/errors.ts";
import { processId } from "../../core/liveness.ts";
import { StoreWriteError } from "../errors.ts";
import { marksOf, sqlAlertStore } from "./alerts.ts";
import { sqlApprovalStore } from "./approvals.ts";
import { insertApply, sqlApplyMarkers, sqlAuditStore, sqlBackoffStore, sqlEngineStateStore } from "./audit.ts";
import type { Row, SqlDb, SqlExecutor } from "./db.ts";
import { sqlDeliveryLog } from "./deliveries.ts";
import { sqlReportStore } from "./reports.ts";
import { sqlRequestLog } from "./requests.ts";

const DEFAULT_LIMIT = 50;

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
  const sandbox = optionalText(row, "sandbox") as RunSummary["sandbox"];
  return {
    runId: text(row, "run_id"),
    stack: text(row, "stack"),
    engine: text(row, "engine"),
    verdict: text(row, "verdict") as Verdict,
    ...(commit !== undefined ? { commit } : {}),
    ...(staleSourceError !== undefined ? { staleSource: { error: staleSourceError } } : {}),
    ...(trigger !== undefined ? { trigger } : {}),
    ...(sandbox !== undefined ? { sandbox } : {}),
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
  "run_id, stack, engine, verdict, commit_sha, stale_source_error, error_kind, error_message, drift_count, pending_count, started_at, finished_at, duration_ms, trigger, sandbox";
/** What reading a run selects: the recorded columns plus what later steps add to the record. */
const RUN_READ_COLUMNS = `${RUN_COLUMNS}, alert_error`;

const INSERT_RUNNING =
  "INSERT INTO runs (run_id, stack, engine, verdict, drift_count, pending_count, started_at, finished_at, duration_ms, status, process) VALUES (?, ?, ?, 'running', 0, 0, ?, ?, 0, 'running', ?)";

/** Marks a running run interrupted (no-op when it is not running any more); true when it was. */
async function interruptOne(db: SqlExecutor, runId: string, message: string): Promise<boolean> {
  const row = await db.get("SELECT started_at FROM runs WHERE run_id = ? AND status = 'running'", [runId]);
  if (!row) return false;
  const now = new Date();
  const durationMs = Math.max(0, now.getTime() - Date.parse(text(row, "started_at")));
  const changed = await db.run(
    "UPDATE runs SET status = 'interrupted', verdict = 'error', error_kind = 'InterruptedError', error_message = ?, finished_at = ?, duration_ms = ? WHERE run_id = ? AND status = 'running'",
    [message, now.toISOString(), Number.isFinite(durationMs) ? durationMs : 0, runId],
  );
  return changed > 0;
}

/** The store over an open database whose schema is up to date. Closing the store closes the database. */
export function sqlStore(db: SqlDb): Store {
  /** This process, on the runs it notes as running. */
  const self = processId();
  const order = db.dialect.recordOrder;
  let open = true;

  return {
    ...sqlAlertStore(db),
    ...sqlAuditStore(db),
    ...sqlBackoffStore(db),
    ...sqlEngineStateStore(db),
    ...sqlApprovalStore(db),
    ...sqlReportStore(db),
    ...sqlApplyMarkers(db),
    ...sqlRequestLog(db),
    ...sqlDeliveryLog(db),

    async recordRun(result: StackResult): Promise<void> {
      try {
        await db.transaction(async (tx) => {
          // A run another process took for dead (interrupted) and that finished after all gets its real result.
          await tx.run("DELETE FROM runs WHERE run_id = ? AND status IN ('running', 'interrupted')", [result.runId]);
          const driftCount = result.changes.filter((c) => c.kind === "drift").length;
          const pendingCount = result.changes.filter((c) => c.kind === "pending").length;
          // The process that ran it stays on the record: in a fleet, which replica (host:pid) did.
          await tx.run(`INSERT INTO runs (${RUN_COLUMNS}, process) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
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
            result.sandbox ?? null,
            self,
          ]);
          for (const change of result.changes) {
            await tx.run("INSERT INTO resource_changes (run_id, kind, address, type, action, properties_json, previous_address) VALUES (?, ?, ?, ?, ?, ?, ?)", [
              result.runId,
              change.kind,
              change.address,
              change.type,
              change.action,
              propertiesJson(change.properties),
              change.previousAddress ?? null,
            ]);
          }
        });
      } catch (error) {
        throw new StoreWriteError(db.location, result.runId, errorMessage(error), { cause: error });
      }
    },

    async startRun(run): Promise<void> {
      await db.run(INSERT_RUNNING, [run.runId, run.stack, run.engine, run.startedAt, run.startedAt, self]);
    },

    async beginApply(apply): Promise<void> {
      await db.transaction(async (tx) => {
        await insertApply(tx, apply);
        await tx.run(INSERT_RUNNING, [apply.runId, apply.stack, apply.engine, apply.startedAt, apply.startedAt, self]);
      });
    },

    interruptRun(runId: string, message: string): Promise<boolean> {
      return interruptOne(db, runId, message);
    },

    async interruptRunningRuns(message, isGone, options = {}) {
      const running =
        options.stack === undefined
          ? await db.all("SELECT run_id, stack, process FROM runs WHERE status = 'running'")
          : await db.all("SELECT run_id, stack, process FROM runs WHERE status = 'running' AND stack = ?", [options.stack]);
      const interrupted: { runId: string; stack: string }[] = [];
      for (const row of running) {
        if (typeof row.process === "string" && !isGone(row.process)) continue;
        if (await interruptOne(db, String(row.run_id), message)) interrupted.push({ runId: String(row.run_id), stack: String(row.stack) });
      }
      return interrupted;
    },

    async driftHistory(stack: string, since: string, addresses: readonly string[]): Promise<RunDrift[]> {
      const baseline = await db.get(
        `SELECT started_at FROM runs WHERE stack = ? AND status = 'finished' AND verdict != 'error' AND started_at < ? ORDER BY started_at DESC, ${order} DESC LIMIT 1`,
        [stack, since],
      );
      // One row per drifted resource of interest, or one with NULL for a run without.
      const wanted = db.dialect.inList("c.address", addresses);
      const rows = await db.all(
        "SELECT r.run_id, r.started_at, c.address FROM runs r " +
          `LEFT JOIN resource_changes c ON c.run_id = r.run_id AND c.kind = 'drift' AND ${wanted.sql} ` +
          `WHERE r.stack = ? AND r.status = 'finished' AND r.verdict != 'error' AND r.started_at >= ? ORDER BY r.started_at, r.${order}, c.id`,
        [wanted.param, stack, baseline ? text(baseline, "started_at") : since],
      );
      const runs: RunDrift[] = [];
      for (const row of rows) {
        const runId = text(row, "run_id");
        if (runs.at(-1)?.runId !== runId) runs.push({ runId, startedAt: text(row, "started_at"), addresses: [] });
        if (row.address !== null) runs.at(-1)!.addresses.push(text(row, "address"));
      }
      return runs;
    },

    async listRuns(options: ListRunsOptions = {}): Promise<RunSummary[]> {
      const limit = options.limit ?? DEFAULT_LIMIT;
      if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`limit must be a whole number >= 0, got ${limit}`);
      // ISO 8601 timestamps compare as text (byte order on both databases); "~" sorts after every one of them.
      const before = options.before ?? "~";
      // The recording order breaks ties between runs started in the same millisecond: the one recorded later first.
      // Runs still in progress have no result yet: history lists results only.
      const rows =
        options.stack === undefined
          ? await db.all(`SELECT ${RUN_READ_COLUMNS} FROM runs WHERE status != 'running' AND started_at < ? ORDER BY started_at DESC, ${order} DESC LIMIT ?`, [before, limit])
          : await db.all(`SELECT ${RUN_READ_COLUMNS} FROM runs WHERE stack = ? AND status != 'running' AND started_at < ? ORDER BY started_at DESC, ${order} DESC LIMIT ?`, [
              options.stack,
              before,
              limit,
            ]);
      return rows.map(summaryOf);
    },

    async latestRuns(stacks: readonly string[]): Promise<RunSummary[]> {
      if (stacks.length === 0) return [];
      // One index lookup per stack (runs_stack_started_at, newest first), whatever the length of the history: the
      // newest finished run's id of each listed stack, then those runs by their primary key.
      const list = db.dialect.listTable("s", stacks);
      const rows = await db.all(
        `SELECT ${RUN_READ_COLUMNS} FROM runs WHERE run_id IN (` +
          `SELECT (SELECT x.run_id FROM runs x WHERE x.stack = s.value AND x.status != 'running' ORDER BY x.started_at DESC, x.${order} DESC LIMIT 1) FROM ${list.sql}` +
          ") ORDER BY stack",
        [list.param],
      );
      return rows.map(summaryOf);
    },

    async openEpisodeSummaries(): Promise<OpenEpisodeSummary[]> {
      // The open episodes are what the partial index episodes_open_stack holds: one per stack at most.
      const rows = await db.all("SELECT stack, opened_at, seen_count, flapping_json, acknowledged_json, snooze_json FROM episodes WHERE closed_at IS NULL ORDER BY stack");
      return rows.map((row) => ({
        stack: text(row, "stack"),
        openedAt: text(row, "opened_at"),
        seenCount: Number(row.seen_count),
        ...(typeof row.flapping_json === "string" ? { flapping: JSON.parse(row.flapping_json) as FlappingResource[] } : {}),
        ...marksOf(row),
      }));
    },

    async getRun(runId: string): Promise<StackResult | undefined> {
      const row = await db.get(`SELECT ${RUN_READ_COLUMNS} FROM runs WHERE run_id = ? AND status != 'running'`, [runId]);
      if (!row) return undefined;
      const { driftCount: _drift, pendingCount: _pending, alertError: _alertError, ...summary } = summaryOf(row);
      const changes = (await db.all("SELECT kind, address, type, action, properties_json, previous_address FROM resource_changes WHERE run_id = ? ORDER BY id", [runId])).map(
        changeOf,
      );
      // Same key order as a StackResult built by the pipeline, for readable JSON output.
      const { startedAt, finishedAt, durationMs, error, ...head } = summary;
      return { ...head, changes, ...(error ? { error } : {}), startedAt, finishedAt, durationMs };
    },

    async close(): Promise<void> {
      if (!open) return;
      open = false;
      await db.close();
    },
  };
}
