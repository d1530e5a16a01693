// Reports: the records of produced reports (one per name and tick), when each schedule was armed, and the range
// reads reports are computed from. Every read here is served by an index (migrations 1 and 13).
import type { Verdict } from "../../core/types.ts";
import type { ReportDigest } from "../../core/report-digest.ts";
import type { ReportRecord, ReportSource, ReportStore, RunPoint } from "../api.ts";
import { EPISODE_COLUMNS, enqueueAlert, episodeOf } from "./alerts.ts";
import { APPROVAL_COLUMNS, approvalOf } from "./approvals.ts";
import { entryOf } from "./audit.ts";
import type { Row, SqlDb } from "./db.ts";

const POINT_COLUMNS = "run_id, engine, verdict, started_at, finished_at, duration_ms, drift_count, pending_count, error_kind";
const REPORT_COLUMNS = "id, name, tick_at, period_from, period_to, created_at, digest_json";

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

/** The report half of the store; a digest's outbox entries are written in the transaction that records its report. */
export function sqlReportStore(db: SqlDb): ReportStore & ReportSource {
  const order = db.dialect.recordOrder;
  return {
    recordReport(record, digest) {
      return db.transaction(async (tx) => {
        const inserted = await tx.run(`INSERT INTO reports (${REPORT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, [
          record.id,
          record.name,
          record.tickAt,
          record.periodFrom,
          record.periodTo,
          record.createdAt,
          JSON.stringify(record.digest),
        ]);
        if (inserted === 0) return false;
        if (digest) await enqueueAlert(tx, `report:${record.name}`, digest.event, digest.notifiers);
        return true;
      });
    },
    async getReport(id) {
      const row = await db.get(`SELECT ${REPORT_COLUMNS} FROM reports WHERE id = ?`, [id]);
      return row ? recordOf(row) : undefined;
    },
    async listReports(options = {}) {
      const limit = options.limit ?? 50;
      const rows =
        options.name === undefined
          ? await db.all(`SELECT ${REPORT_COLUMNS} FROM reports ORDER BY tick_at DESC, id DESC LIMIT ?`, [limit])
          : await db.all(`SELECT ${REPORT_COLUMNS} FROM reports WHERE name = ? ORDER BY tick_at DESC, id DESC LIMIT ?`, [options.name, limit]);
      return rows.map(recordOf);
    },
    pruneReports(name, keep) {
      return db.transaction(async (tx) => {
        const ids = (await tx.all("SELECT id FROM reports WHERE name = ? ORDER BY tick_at DESC, id DESC", [name])).slice(keep).map((row) => String(row.id));
        for (const id of ids) await tx.run("DELETE FROM reports WHERE id = ?", [id]);
        return ids;
      });
    },
    async armReportSchedule(name, at) {
      await db.run("INSERT INTO report_schedules (name, armed_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", [name, at]);
      const row = await db.get("SELECT armed_at FROM report_schedules WHERE name = ?", [name]);
      return String(row?.armed_at ?? at);
    },

    async runPoints(stack, from, to) {
      const rows = await db.all(
        `SELECT ${POINT_COLUMNS} FROM runs WHERE stack = ? AND started_at >= ? AND started_at < ? AND status != 'running' ORDER BY started_at, ${order}`,
        [stack, from, to],
      );
      return rows.map(pointOf);
    },
    async lastRunPoint(stack, before, options = {}) {
      const condition = options.successful ? "status = 'finished' AND verdict != 'error'" : "status != 'running'";
      const row = await db.get(`SELECT ${POINT_COLUMNS} FROM runs WHERE stack = ? AND started_at < ? AND ${condition} ORDER BY started_at DESC, ${order} DESC LIMIT 1`, [
        stack,
        before,
      ]);
      return row ? pointOf(row) : undefined;
    },
    async episodesOverlapping(from, to) {
      // Open episodes, and those closed at or after `from`; opened before `to`.
      const rows = await db.all(
        `SELECT ${EPISODE_COLUMNS} FROM episodes WHERE opened_at < ? AND closed_at IS NULL
         UNION ALL SELECT ${EPISODE_COLUMNS} FROM episodes WHERE closed_at >= ? AND opened_at < ? ORDER BY opened_at, id`,
        [to, from, to],
      );
      return rows.map(episodeOf);
    },
    async auditBetween(from, to) {
      return (await db.all("SELECT * FROM audit_log WHERE at >= ? AND at < ? ORDER BY id DESC", [from, to])).map(entryOf);
    },
    async approvalsRequestedBetween(from, to) {
      const rows = await db.all(`SELECT ${APPROVAL_COLUMNS} FROM approvals WHERE requested_at >= ? AND requested_at < ? ORDER BY requested_at DESC, ${order} DESC`, [from, to]);
      return rows.map(approvalOf);
    },
    async stacksNeedingAttention() {
      return (await db.all("SELECT stack FROM remediation_state WHERE needs_attention = 1 ORDER BY stack")).map((row) => String(row.stack));
    },
  };
}
