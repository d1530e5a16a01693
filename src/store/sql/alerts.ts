// Episodes, the alert outbox and failure-alert state. The transition of a stack's alert state and the outbox entries
// it produces are written in one transaction, so an alert is never lost between the two, and the outbox is delivered
// in order, so a thread's root message always comes before its replies.
import type { FlappingResource, ResourceChange } from "../../core/types.ts";
import type { AlertEvent, DeliveryReceipt, EpisodeMark, EpisodeSnooze } from "../../core/alerts.ts";
import type { AlertStore, AlertTransition, EpisodeRecord, FailureAlertState, OutboxEntry } from "../api.ts";
import type { Row, SqlDb, SqlExecutor } from "./db.ts";

export const EPISODE_COLUMNS =
  "id, stack, opened_at, opened_run_id, last_run_id, last_seen_at, seen_count, fingerprint, changes_json, closed_at, slack_channel, slack_ts, flapping_json, acknowledged_json, snooze_json";

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
    ...marksOf(row),
  };
}

/** An episode row's acknowledgement and snooze (columns acknowledged_json, snooze_json). */
export function marksOf(row: Row): { acknowledged?: EpisodeMark; snooze?: EpisodeSnooze } {
  const acknowledged = optionalStr(row, "acknowledged_json");
  const snooze = optionalStr(row, "snooze_json");
  return {
    ...(acknowledged === undefined ? {} : { acknowledged: JSON.parse(acknowledged) as EpisodeMark }),
    ...(snooze === undefined ? {} : { snooze: JSON.parse(snooze) as EpisodeSnooze }),
  };
}

function flappingJson(flapping: EpisodeRecord["flapping"]): string | null {
  return flapping && flapping.length > 0 ? JSON.stringify(flapping) : null;
}

function outboxEntryOf(row: Row): OutboxEntry {
  const lastError = optionalStr(row, "last_error");
  const postStartedAt = optionalStr(row, "post_started_at");
  const postedChannel = optionalStr(row, "posted_channel");
  const postedTs = optionalStr(row, "posted_ts");
  const episodeId = row.episode_id;
  return {
    id: Number(row.id),
    notifier: str(row, "notifier"),
    event: JSON.parse(str(row, "event_json")) as AlertEvent,
    ...(episodeId === null || episodeId === undefined ? {} : { episodeId: Number(episodeId) }),
    createdAt: str(row, "created_at"),
    attempts: Number(row.attempts),
    ...(lastError === undefined ? {} : { lastError }),
    ...(postStartedAt === undefined ? {} : { postStartedAt }),
    ...(postedChannel !== undefined && postedTs !== undefined ? { posted: { channel: postedChannel, ts: postedTs } } : {}),
  };
}

/** Writes one event to the outbox, one entry per notifier in this order (inside the caller's transaction). */
export async function enqueueAlert(tx: SqlExecutor, stack: string, event: AlertEvent, notifiers: readonly string[]): Promise<void> {
  const json = JSON.stringify(event);
  const episodeId = "episode" in event && event.episode ? event.episode.id : null;
  const now = new Date().toISOString();
  for (const notifier of notifiers) {
    await tx.run("INSERT INTO alert_outbox (notifier, stack, episode_id, event_type, event_json, created_at) VALUES (?, ?, ?, ?, ?, ?)", [
      notifier,
      stack,
      episodeId,
      event.type,
      json,
      now,
    ]);
  }
}

async function writeEpisode(tx: SqlExecutor, transition: AlertTransition): Promise<number | undefined> {
  const change = transition.episode;
  if (!change) return undefined;
  const e = change.episode;
  if (change.op === "open") {
    const inserted = await tx.get(
      "INSERT INTO episodes (stack, opened_at, opened_run_id, last_run_id, last_seen_at, seen_count, fingerprint, changes_json, flapping_json) " +
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
      [e.stack, e.openedAt, e.openedRunId, e.lastRunId, e.lastSeenAt, e.seenCount, e.fingerprint, JSON.stringify(e.changes), flappingJson(e.flapping)],
    );
    return Number(inserted!.id);
  }
  const closedAt = change.op === "close" ? change.episode.closedAt : null;
  // The acknowledgement and the snooze are people's, set while the run was going: an update never writes them back,
  // it only ends the snooze when the drift changed.
  const endSnooze = change.op === "update" && change.endSnooze ? ", snooze_json = NULL" : "";
  const updated = await tx.run(
    `UPDATE episodes SET last_run_id = ?, last_seen_at = ?, seen_count = ?, fingerprint = ?, changes_json = ?, closed_at = ?, flapping_json = ?${endSnooze} WHERE id = ? AND closed_at IS NULL`,
    [e.lastRunId, e.lastSeenAt, e.seenCount, e.fingerprint, JSON.stringify(e.changes), closedAt, flappingJson(e.flapping), change.episode.id],
  );
  if (updated !== 1) throw new Error(`episode ${change.episode.id} of stack ${e.stack} is not open (changed by another process?)`);
  return change.episode.id;
}

/** The alert half of the store. */
export function sqlAlertStore(db: SqlDb): AlertStore {
  return {
    async openEpisode(stack) {
      const row = await db.get(`SELECT ${EPISODE_COLUMNS} FROM episodes WHERE stack = ? AND closed_at IS NULL`, [stack]);
      return row ? episodeOf(row) : undefined;
    },

    async getEpisode(id) {
      const row = await db.get(`SELECT ${EPISODE_COLUMNS} FROM episodes WHERE id = ?`, [id]);
      return row ? episodeOf(row) : undefined;
    },

    async acknowledgeEpisode(id, mark) {
      const changed = await db.run("UPDATE episodes SET acknowledged_json = ? WHERE id = ? AND closed_at IS NULL AND acknowledged_json IS NULL", [JSON.stringify(mark), id]);
      const row = await db.get(`SELECT ${EPISODE_COLUMNS} FROM episodes WHERE id = ? AND closed_at IS NULL`, [id]);
      if (!row) return undefined;
      const episode = episodeOf(row);
      return changed > 0 || !episode.acknowledged ? { episode } : { episode, already: episode.acknowledged };
    },

    async snoozeEpisode(id, snooze) {
      const changed = await db.run("UPDATE episodes SET snooze_json = ? WHERE id = ? AND closed_at IS NULL", [JSON.stringify(snooze), id]);
      if (changed === 0) return undefined;
      const row = await db.get(`SELECT ${EPISODE_COLUMNS} FROM episodes WHERE id = ?`, [id]);
      return row ? episodeOf(row) : undefined;
    },

    async failureAlertState(stack): Promise<FailureAlertState | undefined> {
      const row = await db.get("SELECT stack, last_alert_at, last_kind, suppressed FROM failure_alerts WHERE stack = ?", [stack]);
      if (!row) return undefined;
      return { stack: str(row, "stack"), lastAlertAt: str(row, "last_alert_at"), lastKind: str(row, "last_kind"), suppressed: Number(row.suppressed) };
    },

    applyAlertTransition(transition) {
      return db.transaction(async (tx) => {
        const episodeId = await writeEpisode(tx, transition);
        const f = transition.failure;
        if (f) {
          await tx.run(
            "INSERT INTO failure_alerts (stack, last_alert_at, last_kind, suppressed) VALUES (?, ?, ?, ?) " +
              "ON CONFLICT (stack) DO UPDATE SET last_alert_at = excluded.last_alert_at, last_kind = excluded.last_kind, suppressed = excluded.suppressed",
            [f.stack, f.lastAlertAt, f.lastKind, f.suppressed],
          );
        }
        const events: AlertEvent[] = [];
        for (const original of transition.events) {
          const event = (episodeId !== undefined && "episode" in original && original.episode ? { ...original, episode: { ...original.episode, id: episodeId } } : original) as AlertEvent;
          await enqueueAlert(tx, transition.stack, event, transition.notifiers);
          events.push(event);
        }
        return events;
      });
    },

    async pendingAlerts(notifier, limit = 100) {
      const rows = await db.all(
        "SELECT id, notifier, episode_id, event_json, created_at, attempts, last_error, post_started_at, posted_channel, posted_ts FROM alert_outbox WHERE notifier = ? AND state = 'pending' ORDER BY id LIMIT ?",
        [notifier, limit],
      );
      return rows.map(outboxEntryOf);
    },

    async markAlertDelivered(entryId, receipt: DeliveryReceipt) {
      await db.transaction(async (tx) => {
        await tx.run("UPDATE alert_outbox SET state = 'delivered', attempts = attempts + 1, finished_at = ? WHERE id = ?", [new Date().toISOString(), entryId]);
        const row = await tx.get("SELECT episode_id FROM alert_outbox WHERE id = ?", [entryId]);
        const episodeId = row?.episode_id;
        if (receipt.thread && episodeId !== null && episodeId !== undefined) {
          await tx.run("UPDATE episodes SET slack_channel = ?, slack_ts = ? WHERE id = ?", [receipt.thread.channel, receipt.thread.ts, Number(episodeId)]);
        }
      });
    },

    async markAlertPosting(entryId) {
      await db.run("UPDATE alert_outbox SET post_started_at = COALESCE(post_started_at, ?) WHERE id = ?", [new Date().toISOString(), entryId]);
    },

    async recordAlertPost(entryId, message) {
      await db.run("UPDATE alert_outbox SET posted_channel = ?, posted_ts = ? WHERE id = ?", [message.channel, message.ts, entryId]);
    },

    async markAlertAttempt(entryId, error) {
      await db.run("UPDATE alert_outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?", [error, entryId]);
    },

    async markAlertFailed(entryId, error) {
      await db.run("UPDATE alert_outbox SET state = 'failed', attempts = attempts + 1, last_error = ?, finished_at = ? WHERE id = ?", [error, new Date().toISOString(), entryId]);
    },

    async noteRunAlertError(runId, message) {
      await db.run("UPDATE runs SET alert_error = ? WHERE run_id = ?", [message, runId]);
    },

    deliveringAlone(notifier, deliver) {
      return db.ifNobodyElse(`driftwatch:outbox:${notifier}`, deliver);
    },
  };
}
