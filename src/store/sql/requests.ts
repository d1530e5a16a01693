// Signed requests already taken (Slack interactions): the key of each is kept for as long as its signature could
// be accepted, in the database every replica shares, so the same bytes sent again (to any replica) are refused.
import type { RequestLog } from "../api.ts";
import type { SqlDb } from "./db.ts";

export function sqlRequestLog(db: SqlDb): RequestLog {
  const now = db.dialect.nowMs;
  return {
    async claimRequest(key, ttlMs) {
      // Keys past their lifetime go first: the table holds minutes of requests, never more.
      await db.run(`DELETE FROM seen_requests WHERE expires_at <= ${now}`);
      const inserted = await db.run(`INSERT INTO seen_requests (request_key, expires_at) VALUES (?, ${now} + ?) ON CONFLICT (request_key) DO NOTHING`, [key, ttlMs]);
      return inserted > 0;
    },
  };
}
