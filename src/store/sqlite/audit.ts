// The remediation audit log (append-only: the schema refuses UPDATE and DELETE), leases, and the backoff state of
// failed remediations, on SQLite.
import type { DatabaseSync, SQLOutputValue } from "node:sqlite";
import type { AuditEntry, AuditStore, BackoffStore, ListAuditOptions } from "../api.ts";

type Row = Record<string, SQLOutputValue>;

function optional<T>(value: SQLOutputValue | undefined, as: (v: SQLOutputValue) => T): T | undefined {
  return value === null || value === undefined ? undefined : as(value);
}

function entryOf(row: Row): AuditEntry {
  const commit = optional(row.commit_sha, String);
  const fingerprint = optional(row.plan_fingerprint, String);
  const planChanges = optional(row.plan_changes, Number);
  const reason = optional(row.reason, String);
  const outcome = optional(row.outcome, String);
  return {
    id: Number(row.id),
    at: String(row.at),
    stack: String(row.stack),
    runId: String(row.run_id),
    triggeredBy: String(row.triggered_by),
    actor: String(row.actor),
    ...(commit === undefined ? {} : { commit }),
    mode: String(row.mode),
    ...(fingerprint === undefined ? {} : { planFingerprint: fingerprint }),
    ...(planChanges === undefined ? {} : { planChanges }),
    guards: JSON.parse(String(row.guards_json)) as AuditEntry["guards"],
    decision: String(row.decision) as AuditEntry["decision"],
    ...(reason === undefined ? {} : { reason }),
    ...(outcome === undefined ? {} : { outcome }),
    durationMs: Number(row.duration_ms),
  };
}

export function sqliteAuditStore(db: DatabaseSync): AuditStore {
  const insert = db.prepare(
    `INSERT INTO audit_log (at, stack, run_id, triggered_by, actor, commit_sha, mode, plan_fingerprint, plan_changes, guards_json, decision, reason, outcome, duration_ms)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const listAll = db.prepare("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?");
  const listStack = db.prepare("SELECT * FROM audit_log WHERE stack = ? ORDER BY id DESC LIMIT ?");
  // Taken when free, expired, or already ours (renewal); one statement, so two processes cannot both win.
  const takeLease = db.prepare(
    `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
     WHERE leases.expires_at <= ? OR leases.holder = excluded.holder`,
  );
  const dropLease = db.prepare("DELETE FROM leases WHERE name = ? AND holder = ?");

  return {
    appendAudit(entry): number {
      const row = insert.run(
        entry.at,
        entry.stack,
        entry.runId,
        entry.triggeredBy,
        entry.actor,
        entry.commit ?? null,
        entry.mode,
        entry.planFingerprint ?? null,
        entry.planChanges ?? null,
        JSON.stringify(entry.guards),
        entry.decision,
        entry.reason ?? null,
        entry.outcome ?? null,
        entry.durationMs,
      );
      return Number(row.lastInsertRowid);
    },

    listAudit(options: ListAuditOptions = {}): AuditEntry[] {
      const limit = options.limit ?? 50;
      const rows = options.stack === undefined ? listAll.all(limit) : listStack.all(options.stack, limit);
      return rows.map(entryOf);
    },

    acquireLease(name, holder, ttlMs): boolean {
      const now = Date.now();
      return Number(takeLease.run(name, holder, now + ttlMs, now).changes) > 0;
    },

    releaseLease(name, holder): void {
      dropLease.run(name, holder);
    },
  };
}

export function sqliteBackoffStore(db: DatabaseSync): BackoffStore {
  const get = db.prepare("SELECT * FROM remediation_state WHERE stack = ?");
  const save = db.prepare(
    `INSERT INTO remediation_state (stack, failures, last_failure_at, next_attempt_at, needs_attention) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (stack) DO UPDATE SET failures = excluded.failures, last_failure_at = excluded.last_failure_at,
       next_attempt_at = excluded.next_attempt_at, needs_attention = excluded.needs_attention`,
  );
  const clear = db.prepare("DELETE FROM remediation_state WHERE stack = ?");
  return {
    remediationBackoff(stack) {
      const row = get.get(stack);
      if (!row) return undefined;
      return {
        stack,
        failures: Number(row.failures),
        lastFailureAt: String(row.last_failure_at),
        nextAttemptAt: String(row.next_attempt_at),
        needsAttention: Number(row.needs_attention) === 1,
      };
    },
    saveRemediationBackoff(state) {
      save.run(state.stack, state.failures, state.lastFailureAt, state.nextAttemptAt, state.needsAttention ? 1 : 0);
    },
    clearRemediationBackoff(stack) {
      clear.run(stack);
    },
  };
}
