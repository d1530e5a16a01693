// The remediation audit log (append-only: the schema refuses UPDATE and DELETE), leases, applies in flight, the
// backoff state of failed remediations, and what engines applied last.
import type { ApplyInFlight, AuditEntry, AuditStore, BackoffStore, EngineStateStore, ListAuditOptions } from "../api.ts";
import type { Row, SqlDb, SqlExecutor } from "./db.ts";

function optional<T>(value: unknown, as: (v: unknown) => T): T | undefined {
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

export function sqlAuditStore(db: SqlDb): AuditStore {
  return {
    async appendAudit(entry): Promise<number> {
      const row = await db.get(
        `INSERT INTO audit_log (at, stack, run_id, triggered_by, actor, commit_sha, mode, plan_fingerprint, plan_changes, guards_json, decision, reason, outcome, duration_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
        [
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
        ],
      );
      return Number(row!.id);
    },

    async listAudit(options: ListAuditOptions = {}): Promise<AuditEntry[]> {
      const limit = options.limit ?? 50;
      const rows =
        options.stack === undefined
          ? await db.all("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", [limit])
          : await db.all("SELECT * FROM audit_log WHERE stack = ? ORDER BY id DESC LIMIT ?", [options.stack, limit]);
      return rows.map(entryOf);
    },

    async acquireLease(name, holder, ttlMs): Promise<boolean> {
      // Taken when free, expired, or already ours (renewal); one statement, so two processes cannot both win. The
      // database's clock, not this host's: holders on hosts whose clocks disagree still agree when a lease expired.
      const now = db.dialect.nowMs;
      const changed = await db.run(
        `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ${now} + ?)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
         WHERE leases.expires_at <= ${now} OR leases.holder = excluded.holder`,
        [name, holder, ttlMs],
      );
      return changed > 0;
    },

    async releaseLease(name, holder): Promise<void> {
      await db.run("DELETE FROM leases WHERE name = ? AND holder = ?", [name, holder]);
    },

    async leaseHolder(name): Promise<string | undefined> {
      const row = await db.get("SELECT holder FROM leases WHERE name = ?", [name]);
      return row ? String(row.holder) : undefined;
    },

    async takeOverLease(name, from, to, ttlMs): Promise<boolean> {
      return (await db.run(`UPDATE leases SET holder = ?, expires_at = ${db.dialect.nowMs} + ? WHERE name = ? AND holder = ?`, [to, ttlMs, name, from])) > 0;
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

/** Notes an apply in flight inside the caller's transaction (beginApply, in store.ts, notes its re-check run too). */
export async function insertApply(tx: SqlExecutor, apply: ApplyInFlight): Promise<void> {
  await tx.run("INSERT INTO remediation_applies (stack, engine, holder, run_id, started_at, approval_id, entry_json) VALUES (?, ?, ?, ?, ?, ?, ?)", [
    apply.stack,
    apply.engine,
    apply.holder,
    apply.runId,
    apply.startedAt,
    apply.approvalId ?? null,
    JSON.stringify(apply.entry),
  ]);
}

/** Applies in flight, but for beginApply. */
export function sqlApplyMarkers(db: SqlDb) {
  return {
    async endApply(stack: string, holder: string): Promise<void> {
      await db.run("DELETE FROM remediation_applies WHERE stack = ? AND holder = ?", [stack, holder]);
    },
    async applyInFlight(stack: string): Promise<ApplyInFlight | undefined> {
      const row = await db.get("SELECT * FROM remediation_applies WHERE stack = ?", [stack]);
      return row ? applyOf(row) : undefined;
    },
    async appliesInFlight(): Promise<ApplyInFlight[]> {
      return (await db.all("SELECT * FROM remediation_applies ORDER BY started_at")).map(applyOf);
    },
  };
}

export function sqlEngineStateStore(db: SqlDb): EngineStateStore {
  return {
    async engineState(stack, engine) {
      const row = await db.get("SELECT * FROM engine_state WHERE stack = ? AND engine = ?", [stack, engine]);
      if (!row) return undefined;
      const commit = row.commit_sha;
      return { stack, engine, ...(typeof commit === "string" ? { commit } : {}), value: String(row.state_json), updatedAt: String(row.updated_at) };
    },
    async saveEngineState(record) {
      await db.run(
        `INSERT INTO engine_state (stack, engine, commit_sha, state_json, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (stack, engine) DO UPDATE SET commit_sha = excluded.commit_sha, state_json = excluded.state_json, updated_at = excluded.updated_at`,
        [record.stack, record.engine, record.commit ?? null, record.value, record.updatedAt],
      );
    },
  };
}

export function sqlBackoffStore(db: SqlDb): BackoffStore {
  return {
    async remediationBackoff(stack) {
      const row = await db.get("SELECT * FROM remediation_state WHERE stack = ?", [stack]);
      if (!row) return undefined;
      return {
        stack,
        failures: Number(row.failures),
        lastFailureAt: String(row.last_failure_at),
        nextAttemptAt: String(row.next_attempt_at),
        needsAttention: Number(row.needs_attention) === 1,
      };
    },
    async saveRemediationBackoff(state) {
      await db.run(
        `INSERT INTO remediation_state (stack, failures, last_failure_at, next_attempt_at, needs_attention) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (stack) DO UPDATE SET failures = excluded.failures, last_failure_at = excluded.last_failure_at,
           next_attempt_at = excluded.next_attempt_at, needs_attention = excluded.needs_attention`,
        [state.stack, state.failures, state.lastFailureAt, state.nextAttemptAt, state.needsAttention ? 1 : 0],
      );
    },
    async clearRemediationBackoff(stack) {
      await db.run("DELETE FROM remediation_state WHERE stack = ?", [stack]);
    },
  };
}
