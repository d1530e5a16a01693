// Remediation approvals: at most one pending per stack (a partial unique index), decided exactly once (an update
// only from `pending`).
import type { ResourceChange } from "../../core/types.ts";
import type { ApprovalRecord, ApprovalState, ApprovalStore } from "../api.ts";
import type { Row, SqlDb } from "./db.ts";

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

export const APPROVAL_COLUMNS = "id, stack, run_id, commit_sha, plan_fingerprint, plan_json, requested_at, expires_at, state, decided_by, decided_at, reason";
const SETTLE = "UPDATE approvals SET state = ?, decided_by = ?, decided_at = ?, reason = ? WHERE id = ? AND state = 'pending'";

export function sqlApprovalStore(db: SqlDb): ApprovalStore {
  const get = `SELECT ${APPROVAL_COLUMNS} FROM approvals WHERE id = ?`;
  return {
    requestApproval(request) {
      return db.transaction(async (tx) => {
        // Two requests for one stack at once: the second waits for the first and finds its request pending.
        await tx.lock(`approval:${request.stack}`);
        const pendingRow = await tx.get(`SELECT ${APPROVAL_COLUMNS} FROM approvals WHERE stack = ? AND state = 'pending'`, [request.stack]);
        const pending = pendingRow ? approvalOf(pendingRow) : undefined;
        const now = new Date().toISOString();
        if (pending && pending.planFingerprint === request.planFingerprint && pending.expiresAt > now) return { approval: pending, existing: true };
        if (pending) {
          const why = pending.expiresAt <= now ? "expired" : `the plan changed; superseded by approval ${request.id}`;
          await tx.run(SETTLE, [pending.expiresAt <= now ? "expired" : "void", "driftwatch", now, why, pending.id]);
        }
        await tx.run(
          `INSERT INTO approvals (id, stack, run_id, commit_sha, plan_fingerprint, plan_json, requested_at, expires_at, state)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending')`,
          [request.id, request.stack, request.runId, request.commit, request.planFingerprint, JSON.stringify(request.plan), request.requestedAt, request.expiresAt],
        );
        return { approval: approvalOf((await tx.get(get, [request.id]))!), existing: false };
      });
    },

    async getApproval(id) {
      const row = await db.get(get, [id]);
      return row ? approvalOf(row) : undefined;
    },

    async listApprovals(options = {}) {
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (options.stack !== undefined) {
        where.push("stack = ?");
        params.push(options.stack);
      }
      if (options.state !== undefined) {
        where.push("state = ?");
        params.push(options.state);
      }
      const rows = await db.all(
        `SELECT ${APPROVAL_COLUMNS} FROM approvals ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY requested_at DESC, ${db.dialect.recordOrder} DESC LIMIT ?`,
        [...params, options.limit ?? 50],
      );
      return rows.map(approvalOf);
    },

    async settleApproval(id, state, by, reason) {
      return (await db.run(SETTLE, [state, by, new Date().toISOString(), reason, id])) === 1;
    },

    async voidPendingApproval(stack, reason) {
      await db.run("UPDATE approvals SET state = 'void', decided_by = 'driftwatch', decided_at = ?, reason = ? WHERE stack = ? AND state = 'pending'", [
        new Date().toISOString(),
        reason,
        stack,
      ]);
    },
  };
}
