// Remediation approvals on SQLite: at most one pending per stack (a partial unique index), decided exactly once
// (an update only from `pending`).
import type { DatabaseSync, SQLOutputValue } from "node:sqlite";
import type { ResourceChange } from "../../core/types.ts";
import type { ApprovalRecord, ApprovalState, ApprovalStore } from "../api.ts";

type Row = Record<string, SQLOutputValue>;

export function approvalOf(row: Row): ApprovalRecord {
  const text = (column: string) => (typeof row[column] === "string" ? (row[column] as string) : undefined);
  const decidedBy = text("decided_by");
  const decidedAt = text("decided_at");
  const reason = text("reason");
  return {
    id: String(row.id),
    stack: String(row.stack),
    runId: String(row.run_id),
    commit: String(row.commit_sha),
    planFingerprint: String(row.plan_fingerprint),
    plan: JSON.parse(String(row.plan_json)) as ResourceChange[],
    requestedAt: String(row.requested_at),
    expiresAt: String(row.expires_at),
    state: String(row.state) as ApprovalState,
    ...(decidedBy === undefined ? {} : { decidedBy }),
    ...(decidedAt === undefined ? {} : { decidedAt }),
    ...(reason === undefined ? {} : { reason }),
  };
}

export function sqliteApprovalStore(db: DatabaseSync, transaction: <T>(fn: () => T) => T): ApprovalStore {
  const statements = {
    pendingFor: db.prepare("SELECT * FROM approvals WHERE stack = ? AND state = 'pending'"),
    insert: db.prepare(
      `INSERT INTO approvals (id, stack, run_id, commit_sha, plan_fingerprint, plan_json, requested_at, expires_at, state)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending')`,
    ),
    get: db.prepare("SELECT * FROM approvals WHERE id = ?"),
    settle: db.prepare("UPDATE approvals SET state = ?, decided_by = ?, decided_at = ?, reason = ? WHERE id = ? AND state = 'pending'"),
    voidStack: db.prepare("UPDATE approvals SET state = 'void', decided_by = 'driftwatch', decided_at = ?, reason = ? WHERE stack = ? AND state = 'pending'"),
    list: db.prepare(
      `SELECT * FROM approvals WHERE (?1 IS NULL OR stack = ?1) AND (?2 IS NULL OR state = ?2)
       ORDER BY requested_at DESC, rowid DESC LIMIT ?3`,
    ),
  };

  return {
    requestApproval(request) {
      return transaction(() => {
        const pendingRow = statements.pendingFor.get(request.stack);
        const pending = pendingRow ? approvalOf(pendingRow) : undefined;
        const now = new Date().toISOString();
        if (pending && pending.planFingerprint === request.planFingerprint && pending.expiresAt > now) return { approval: pending, existing: true };
        if (pending) {
          const why = pending.expiresAt <= now ? "expired" : `the plan changed; superseded by approval ${request.id}`;
          statements.settle.run(pending.expiresAt <= now ? "expired" : "void", "driftwatch", now, why, pending.id);
        }
        statements.insert.run(request.id, request.stack, request.runId, request.commit, request.planFingerprint, JSON.stringify(request.plan), request.requestedAt, request.expiresAt);
        return { approval: approvalOf(statements.get.get(request.id)!), existing: false };
      });
    },

    getApproval(id) {
      const row = statements.get.get(id);
      return row ? approvalOf(row) : undefined;
    },

    listApprovals(options = {}) {
      return statements.list.all(options.stack ?? null, options.state ?? null, options.limit ?? 50).map(approvalOf);
    },

    settleApproval(id, state, by, reason) {
      return Number(statements.settle.run(state, by, new Date().toISOString(), reason, id).changes) === 1;
    },

    voidPendingApproval(stack, reason) {
      statements.voidStack.run(new Date().toISOString(), reason, stack);
    },
  };
}
