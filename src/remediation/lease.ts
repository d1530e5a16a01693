// Remediation leases: one remediation per stack at a time, across every process sharing the store. A holder is
// named host:pid:nonce, so a lease left by a process of this host that no longer exists (killed, crashed) is taken
// over at once instead of blocking the stack until the lease expires. A holder on another host, or a live one, is
// only ever outwaited.
import { randomUUID } from "node:crypto";
import { processId, processIsGone } from "../core/liveness.ts";
import type { AuditStore } from "../store/api.ts";

/** A new holder name for this process. */
export function newLeaseHolder(): string {
  return `${processId()}:${randomUUID()}`;
}

/** Whether `holder` was a process of this host that is gone (a pid reused since is taken as alive: we wait). */
export function holderIsGone(holder: string): boolean {
  return holder.split(":").length >= 3 && processIsGone(holder);
}

/** Takes the lease when free, expired, or left by a process that is gone. */
export async function takeLease(store: AuditStore, name: string, holder: string, ttlMs: number): Promise<boolean> {
  if (await store.acquireLease(name, holder, ttlMs)) return true;
  const current = await store.leaseHolder(name);
  return current !== undefined && current !== holder && holderIsGone(current) && (await store.takeOverLease(name, current, holder, ttlMs));
}
