// The remediation audit log (append-only: the schema refuses UPDATE and DELETE), leases, and the backoff state of
// failed remediations, on SQLite.
import type { DatabaseSync, SQLOutputValue } from "node:sqlite";
import type { ApplyInFlight, AuditEntry, AuditStore, BackoffStore, EngineStateStore, ListAuditOptions } from "../api.ts";

type Row = Record<string, SQLOutputValue>;

function optional<T>(value: SQLOutputValue | undefined, as: (v: SQLOutputValue) => T): T | undefined {
  return value === null || value === undefined ? undefined : as(value);
}

export function entryOf(row: Row): AuditEntry {
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
  const holderOf = db.prepare("SELECT holder FROM leases WHERE name = ?");
  const takeOver = db.prepare("UPDATE leases SET holder = ?, expires_at = ? WHERE name = ? AND holder = ?");

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

    leaseHolder(name): string | undefined {
      const row = holderOf.get(name);
      return row ? String(row.holder) : undefined;
    },

    takeOverLease(name, from, to, ttlMs): boolean {
      return Number(takeOver.run(to, Date.now() + ttlMs, name, from).changes) > 0;
    },
  };
}

function applyOf(row: Row): ApplyInFlight {
  const approvalId = optional(row.approval_id, String);
  return {
    stack: String(row.stack),
    engine: String(row.engine),
    holder: String(row.holder),
    runId: String(row.run_id),
    startedAt: String(row.started_at),
    ...(approvalId === undefined ? {} : { approvalId }),
    entry: JSON.parse(String(row.entry_json)) as AuditEntry,
  };
}

/** Applies in flight; `beginApply` (which also notes the re-check run) is composed in index.ts. */
export function sqliteApplyMarkers(db: DatabaseSync) {
  const insert = db.prepare("INSERT INTO remediation_applies (stack, engine, holder, run_id, started_at, approval_id, entry_json) VALUES (?, ?, ?, ?, ?, ?, ?)");
  const remove = db.prepare("DELETE FROM remediation_applies WHERE stack = ? AND holder = ?");
  const one = db.prepare("SELECT * FROM remediation_applies WHERE stack = ?");
  const all = db.prepare("SELECT * FROM remediation_applies ORDER BY started_at");
  return {
    insertApply(apply: ApplyInFlight): void {
      insert.run(apply.stack, apply.engine, apply.holder, apply.runId, apply.startedAt, apply.approvalId ?? null, JSON.stringify(apply.entry));
    },
    endApply(stack: string, holder: string): void {
      remove.run(stack, holder);
    },
    applyInFlight(stack: string): ApplyInFlight | undefined {
      const row = one.get(stack);
      return row ? applyOf(row) : undefined;
    },
    appliesInFlight(): ApplyInFlight[] {
      return all.all().map(applyOf);
    },
  };
}

export function sqliteEngineStateStore(db: DatabaseSync): EngineStateStore {
  const get = db.prepare("SELECT * FROM engine_state WHERE stack = ? AND engine = ?");
  const save = db.prepare(
    `INSERT INTO engine_state (stack, engine, commit_sha, state_json, updated_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (stack, engine) DO UPDATE SET commit_sha = excluded.commit_sha, state_json = excluded.state_json, updated_at = excluded.updated_at`,
  );
  return {
    engineState(stack, engine) {
      const row = get.get(stack, engine);
      if (!row) return undefined;
      const commit = row.commit_sha;
      return { stack, engine, ...(typeof commit === "string" ? { commit } : {}), value: String(row.state_json), updatedAt: String(row.updated_at) };
    },
    saveEngineState(record) {
      save.run(record.stack, record.engine, record.commit ?? null, record.value, record.updatedAt);
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
