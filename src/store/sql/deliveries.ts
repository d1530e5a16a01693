// Push webhook deliveries already accepted: every key a delivery is known by (see server/webhook-deliveries.ts),
// kept in the database every replica shares for as long as a replay must be refused, so the same delivery again (to
// any replica, after a restart) starts nothing.
//
// A claim notes all of its keys or none, in one transaction: each key is an INSERT that conflicts on the primary
// key, so of two replicas claiming the same delivery at once, the second waits for the first's transaction and then
// finds the key taken (PostgreSQL), or runs after it (SQLite, one writer at a time). Keys go in sorted order, so two
// claims sharing several keys never wait for each other in a circle.
import type { DeliveryLog } from "../api.ts";
import type { SqlDb } from "./db.ts";

/** A key of the claim was taken already: the claim's transaction is rolled back. */
class DeliveryTaken extends Error {
  override name = "DeliveryTaken";
}

export function sqlDeliveryLog(db: SqlDb): DeliveryLog {
  const now = db.dialect.nowMs;
  return {
    async claimDelivery(keys, { ttlMs, max }) {
      if (!Number.isInteger(max) || max < 1) throw new RangeError(`max must be a whole number >= 1, got ${max}`);
      const unique = [...new Set(keys)].sort();
      if (unique.length === 0) return true;
      // Keys past their time go first, then those older than the newest `max`: days of deliveries, never more. A
      // statement of its own, before the claim: it waits for no claim (claims insert only keys that are not here).
      await db.run(
        `DELETE FROM webhook_deliveries WHERE expires_at <= ${now} OR expires_at < (SELECT expires_at FROM webhook_deliveries ORDER BY expires_at DESC LIMIT 1 OFFSET ?)`,
        [max - 1],
      );
      try {
        await db.transaction(async (tx) => {
          for (const key of unique) {
            const inserted = await tx.run(`INSERT INTO webhook_deliveries (delivery_key, expires_at) VALUES (?, ${now} + ?) ON CONFLICT (delivery_key) DO NOTHING`, [key, ttlMs]);
            if (inserted === 0) throw new DeliveryTaken(key);
          }
        });
        return true;
      } catch (error) {
        if (error instanceof DeliveryTaken) return false;
        throw error;
      }
    },
    async releaseDelivery(keys) {
      if (keys.length === 0) return;
      const list = db.dialect.inList("delivery_key", [...new Set(keys)]);
      await db.run(`DELETE FROM webhook_deliveries WHERE ${list.sql}`, [list.param]);
    },
  };
}
