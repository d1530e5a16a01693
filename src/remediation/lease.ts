// Remediation leases: one remediation per stack at a time, across every process sharing the store. A holder is
// named host:pid:nonce, so a lease left by a process of this host that no longer exists (killed, crashed) is taken
// over at once instead of blocking the stack until the lease expires. A holder on another host, or a live one, is
// only ever outwaited.
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { AuditStore } from "../store/api.ts";

/** A new holder name for this process. */
export function newLeaseHolder(): string {
  return `${hostname()}:${process.pid}:${randomUUID()}`;
}

/** Whether `holder` was a process of this host that is gone (a pid reused since is taken as alive: we wait). */
export function holderIsGone(holder: string): boolean {
  const parts = holder.split(":");
  if (parts.length < 3) return false;
  const pid = Number(parts.at(-2));
  const host = parts.slice(0, -2).join(":");
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/** Takes the lease when free, expired, or left by a process that is gone. */
export function takeLease(store: AuditStore, name: string, holder: string, ttlMs: number): boolean {
  if (store.acquireLease(name, holder, ttlMs)) return true;
  const current = store.leaseHolder(name);
  return current !== undefined && current !== holder && holderIsGone(current) && store.takeOverLease(name, current, holder, ttlMs);
}
