// Reports on SQLite: the records of produced reports (one per name and tick), when each schedule was armed, and
// the range reads reports are computed from. Every read here is served by an index (migrations 1 and 13).
import type { DatabaseSync, SQLOutputValue } from "node:sqlite";
import type { Verdict } from "../../core/types.ts";
import type { AlertEvent } from "../../notifiers/api.ts";
import type { ReportDigest } from "../../reports/model.ts";
import type { ReportRecord, ReportSource, ReportStore, RunPoint } from "../api.ts";
import { EPISODE_COLUMNS, episodeOf } from "./alerts.ts";
import { approvalOf } from "./approvals.ts";
import { entryOf } from "./audit.ts";

type Row = Record<string, SQLOutputValue>;

const POINT_COLUMNS = "run_id, engine, verdict, started_at, finished_at, duration_ms, drift_count, pending_count, error_kind";

function pointOf(row: Row): RunPoint {
  const errorKind = row.error_kind;
  return {
    runId: String(row.run_id),
    engine: String(row.engine),
    verdict: String(row.verdict) as Verdict,
    startedAt: String(row.started_at),
    finishedAt: String(row.finished_at),
    durationMs: Number(row.duration_ms),
    driftCount: Number(row.drift_count),
    pendingCount: Number(row.pending_count),
    ...(typeof errorKind === "string" ? { errorKind } : {}),
  };
}

function recordOf(row: Row): ReportRecord {
  return {
    id: String(row.id),
    name: String(row.name),
    tickAt: String(row.tick_at),
    periodFrom: String(row.period_from),
    periodTo: String(row.period_to),
    createdAt: String(row.created_at),
    digest: JSON.parse(String(row.digest_json)) as ReportDigest,
  };
}

/** The report half of the store; `enqueue` writes a digest's outbox entries inside the caller's transaction. */
export function sqliteReportStore(
  db: DatabaseSync,
  transaction: <T>(fn: () => T) => T,
  enqueue: (stack: string, event: AlertEvent, notifiers: readonly string[]) => void,
): ReportStore & ReportSource {
  const statements = {
    insert: db.prepare(
      "INSERT INTO reports (id, name, tick_at, period_from, period_to, created_at, digest_json) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
    ),
    get: db.prepare("SELECT * FROM reports WHERE id = ?"),
    list: db.prepare("SELECT * FROM reports WHERE (?1 IS NULL OR name = ?1) ORDER BY tick_at DESC, id DESC LIMIT ?2"),
    beyond: db.prepare("SELECT id FROM reports WHERE name = ? ORDER BY tick_at DESC, id DESC LIMIT -1 OFFSET ?"),
    remove: db.prepare("DELETE FROM reports WHERE id = ?"),
    arm: db.prepare("INSERT INTO report_schedules (name, armed_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING"),
    armedAt: db.prepare("SELECT armed_at FROM report_schedules WHERE name = ?"),
    points: db.prepare(`SELECT ${POINT_COLUMNS} FROM runs WHERE stack = ? AND started_at >= ? AND started_at < ? AND status != 'running' ORDER BY started_at, rowid`),
    lastPoint: db.prepare(`SELECT ${POINT_COLUMNS} FROM runs WHERE stack = ? AND started_at < ? AND status != 'running' ORDER BY started_at DESC, rowid DESC LIMIT 1`),
    lastGoodPoint: db.prepare(
      `SELECT ${POINT_COLUMNS} FROM runs WHERE stack = ? AND started_at < ? AND status = 'finished' AND verdict != 'error' ORDER BY started_at DESC, rowid DESC LIMIT 1`,
    ),
    // Open episodes, and those closed at or after `from`; opened before `to`.
    episodes: db.prepare(
      `SELECT ${EPISODE_COLUMNS} FROM episodes WHERE opened_at < ?2 AND closed_at IS NULL
       UNION ALL SELECT ${EPISODE_COLUMNS} FROM episodes WHERE closed_at >= ?1 AND opened_at < ?2 ORDER BY opened_at, id`,
    ),
    audit: db.prepare("SELECT * FROM audit_log WHERE at >= ? AND at < ? ORDER BY id DESC"),
    approvals: db.prepare("SELECT * FROM approvals WHERE requested_at >= ? AND requested_at < ? ORDER BY requested_at DESC, rowid DESC"),
    attention: db.prepare("SELECT stack FROM remediation_state WHERE needs_attention = 1 ORDER BY stack"),
  };

  return {
    recordReport(record, digest) {
      return transaction(() => {
        const inserted = statements.insert.run(record.id, record.name, record.tickAt, record.periodFrom, record.periodTo, record.createdAt, JSON.stringify(record.digest));
        if (Number(inserted.changes) === 0) return false;
        if (digest) enqueue(`report:${record.name}`, digest.event, digest.notifiers);
        return true;
      });
    },
    getReport(id) {
      const row = statements.get.get(id);
      return row ? recordOf(row) : undefined;
    },
    listReports(options = {}) {
      return statements.list.all(options.name ?? null, options.limit ?? 50).map(recordOf);
    },
    pruneReports(name, keep) {
      return transaction(() => {
        const ids = statements.beyond.all(name, keep).map((row) => String(row.id));
        for (const id of ids) statements.remove.run(id);
        return ids;
      });
    },
    armReportSchedule(name, at) {
      statements.arm.run(name, at);
      return String(statements.armedAt.get(name)?.armed_at ?? at);
    },

    runPoints(stack, from, to) {
      return statements.points.all(stack, from, to).map(pointOf);
    },
    lastRunPoint(stack, before, options = {}) {
      const row = (options.successful ? statements.lastGoodPoint : statements.lastPoint).get(stack, before);
      return row ? pointOf(row) : undefined;
    },
    episodesOverlapping(from, to) {
      return statements.episodes.all(from, to).map(episodeOf);
    },
    auditBetween(from, to) {
      return statements.audit.all(from, to).map(entryOf);
    },
    approvalsRequestedBetween(from, to) {
      return statements.approvals.all(from, to).map(approvalOf);
    },
    stacksNeedingAttention() {
      return statements.attention.all().map((row) => String(row.stack));
    },
  };
}
