// Episodes, the alert outbox and failure-alert state on SQLite. The transition of a stack's alert state and the
// outbox entries it produces are written in one transaction, so an alert is never lost between the two, and the
// outbox is delivered in order, so a thread's root message always comes before its replies.
import type { DatabaseSync, SQLOutputValue } from "node:sqlite";
import type { FlappingResource, ResourceChange } from "../../core/types.ts";
import type { AlertEvent, DeliveryReceipt } from "../../notifiers/api.ts";
import type { AlertStore, AlertTransition, EpisodeRecord, FailureAlertState, OutboxEntry } from "../api.ts";

type Row = Record<string, SQLOutputValue>;

export const EPISODE_COLUMNS =
  "id, stack, opened_at, opened_run_id, last_run_id, last_seen_at, seen_count, fingerprint, changes_json, closed_at, slack_channel, slack_ts, flapping_json";

function str(row: Row, column: string): string {
  return String(row[column]);
}

function optionalStr(row: Row, column: string): string | undefined {
  const value = row[column];
  return typeof value === "string" ? value : undefined;
}

export function episodeOf(row: Row): EpisodeRecord {
  const closedAt = optionalStr(row, "closed_at");
  const channel = optionalStr(row, "slack_channel");
  const ts = optionalStr(row, "slack_ts");
  const flapping = optionalStr(row, "flapping_json");
  return {
    id: Number(row.id),
    stack: str(row, "stack"),
    openedAt: str(row, "opened_at"),
    openedRunId: str(row, "opened_run_id"),
    lastRunId: str(row, "last_run_id"),
    lastSeenAt: str(row, "last_seen_at"),
    seenCount: Number(row.seen_count),
    fingerprint: str(row, "fingerprint"),
    changes: JSON.parse(str(row, "changes_json")) as ResourceChange[],
    ...(closedAt === undefined ? {} : { closedAt }),
    ...(channel !== undefined && ts !== undefined ? { slackThread: { channel, ts } } : {}),
    ...(flapping === undefined ? {} : { flapping: JSON.parse(flapping) as FlappingResource[] }),
  };
}

function flappingJson(flapping: EpisodeRecord["flapping"]): string | null {
  return flapping && flapping.length > 0 ? JSON.stringify(flapping) : null;
}

function outboxEntryOf(row: Row): OutboxEntry {
  const lastError = optionalStr(row, "last_error");
  const episodeId = row.episode_id;
  return {
    id: Number(row.id),
    notifier: str(row, "notifier"),
    event: JSON.parse(str(row, "event_json")) as AlertEvent,
    ...(typeof episodeId === "number" ? { episodeId } : {}),
    createdAt: str(row, "created_at"),
    attempts: Number(row.attempts),
    ...(lastError === undefined ? {} : { lastError }),
  };
}

/** Writes one event to the outbox, one entry per notifier in this order (inside the caller's transaction). */
export function outboxWriter(db: DatabaseSync): (stack: string, event: AlertEvent, notifiers: readonly string[]) => void {
  const enqueue = db.prepare("INSERT INTO alert_outbox (notifier, stack, episode_id, event_type, event_json, created_at) VALUES (?, ?, ?, ?, ?, ?)");
  return (stack, event, notifiers) => {
    const json = JSON.stringify(event);
    const episodeId = "episode" in event && event.episode ? event.episode.id : null;
    const now = new Date().toISOString();
    for (const notifier of notifiers) enqueue.run(notifier, stack, episodeId, event.type, json, now);
  };
}

/** The alert half of the store; `transaction` runs a function in one write transaction. */
export function sqliteAlertStore(db: DatabaseSync, transaction: <T>(fn: () => T) => T): AlertStore {
  const enqueue = outboxWriter(db);
  const statements = {
    openEpisode: db.prepare(`SELECT ${EPISODE_COLUMNS} FROM episodes WHERE stack = ? AND closed_at IS NULL`),
    getEpisode: db.prepare(`SELECT ${EPISODE_COLUMNS} FROM episodes WHERE id = ?`),
    insertEpisode: db.prepare(
      "INSERT INTO episodes (stack, opened_at, opened_run_id, last_run_id, last_seen_at, seen_count, fingerprint, changes_json, flapping_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    updateEpisode: db.prepare(
      "UPDATE episodes SET last_run_id = ?, last_seen_at = ?, seen_count = ?, fingerprint = ?, changes_json = ?, closed_at = ?, flapping_json = ? WHERE id = ? AND closed_at IS NULL",
    ),
    setThread: db.prepare("UPDATE episodes SET slack_channel = ?, slack_ts = ? WHERE id = ?"),
    failureState: db.prepare("SELECT stack, last_alert_at, last_kind, suppressed FROM failure_alerts WHERE stack = ?"),
    upsertFailure: db.prepare(
      "INSERT INTO failure_alerts (stack, last_alert_at, last_kind, suppressed) VALUES (?, ?, ?, ?) " +
        "ON CONFLICT (stack) DO UPDATE SET last_alert_at = excluded.last_alert_at, last_kind = excluded.last_kind, suppressed = excluded.suppressed",
    ),
    pending: db.prepare(
      "SELECT id, notifier, episode_id, event_json, created_at, attempts, last_error FROM alert_outbox WHERE notifier = ? AND state = 'pending' ORDER BY id LIMIT ?",
    ),
    entryEpisode: db.prepare("SELECT episode_id FROM alert_outbox WHERE id = ?"),
    delivered: db.prepare("UPDATE alert_outbox SET state = 'delivered', attempts = attempts + 1, finished_at = ? WHERE id = ?"),
    attempt: db.prepare("UPDATE alert_outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?"),
    failed: db.prepare("UPDATE alert_outbox SET state = 'failed', attempts = attempts + 1, last_error = ?, finished_at = ? WHERE id = ?"),
    runAlertError: db.prepare("UPDATE runs SET alert_error = ? WHERE run_id = ?"),
  };

  function writeEpisode(transition: AlertTransition): number | undefined {
    const change = transition.episode;
    if (!change) return undefined;
    const e = change.episode;
    if (change.op === "open") {
      const inserted = statements.insertEpisode.run(e.stack, e.openedAt, e.openedRunId, e.lastRunId, e.lastSeenAt, e.seenCount, e.fingerprint, JSON.stringify(e.changes), flappingJson(e.flapping));
      return Number(inserted.lastInsertRowid);
    }
    const closedAt = change.op === "close" ? change.episode.closedAt : null;
    const updated = statements.updateEpisode.run(e.lastRunId, e.lastSeenAt, e.seenCount, e.fingerprint, JSON.stringify(e.changes), closedAt, flappingJson(e.flapping), change.episode.id);
    if (Number(updated.changes) !== 1) throw new Error(`episode ${change.episode.id} of stack ${e.stack} is not open (changed by another process?)`);
    return change.episode.id;
  }

  return {
    openEpisode(stack) {
      const row = statements.openEpisode.get(stack);
      return row ? episodeOf(row) : undefined;
    },

    getEpisode(id) {
      const row = statements.getEpisode.get(id);
      return row ? episodeOf(row) : undefined;
    },

    failureAlertState(stack): FailureAlertState | undefined {
      const row = statements.failureState.get(stack);
      if (!row) return undefined;
      return { stack: str(row, "stack"), lastAlertAt: str(row, "last_alert_at"), lastKind: str(row, "last_kind"), suppressed: Number(row.suppressed) };
    },

    applyAlertTransition(transition) {
      return transaction(() => {
        const episodeId = writeEpisode(transition);
        const f = transition.failure;
        if (f) statements.upsertFailure.run(f.stack, f.lastAlertAt, f.lastKind, f.suppressed);
        return transition.events.map((original) => {
          const event = (episodeId !== undefined && "episode" in original && original.episode ? { ...original, episode: { ...original.episode, id: episodeId } } : original) as AlertEvent;
          enqueue(transition.stack, event, transition.notifiers);
          return event;
        });
      });
    },

    pendingAlerts(notifier, limit = 100) {
      return statements.pending.all(notifier, limit).map(outboxEntryOf);
    },

    markAlertDelivered(entryId, receipt: DeliveryReceipt) {
      transaction(() => {
        statements.delivered.run(new Date().toISOString(), entryId);
        const row = statements.entryEpisode.get(entryId);
        const episodeId = row?.episode_id;
        if (receipt.thread && typeof episodeId === "number") statements.setThread.run(receipt.thread.channel, receipt.thread.ts, episodeId);
      });
    },

    markAlertAttempt(entryId, error) {
      statements.attempt.run(error, entryId);
    },

    markAlertFailed(entryId, error) {
      statements.failed.run(error, new Date().toISOString(), entryId);
    },

    noteRunAlertError(runId, message) {
      statements.runAlertError.run(message, runId);
    },
  };
}
