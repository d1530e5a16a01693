// Fingerprints of resource changes: equal when two runs found the same divergence (same resources, actions,
// property paths and values), so an unchanged drift is recognised and never alerted twice.
import { createHash } from "node:crypto";
import type { ResourceChange } from "./types.ts";

/** Identifies a resource within a result: the same resource seen as drift and as pending are two entries. */
export function changeKey(change: Pick<ResourceChange, "kind" | "address">): string {
  return `${change.kind} ${change.address}`;
}

/** JSON with object keys sorted, so equal values always serialise the same way. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

function normalized(change: ResourceChange): unknown {
  const properties = [...change.properties]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((p) => [p.path, p.desired ?? null, p.actual ?? null]);
  return [change.kind, change.address, change.type, change.action, properties, [...(change.replacePaths ?? [])].sort()];
}

/** The fingerprint of one resource's change. */
export function changeFingerprint(change: ResourceChange): string {
  return createHash("sha256").update(canonical(normalized(change))).digest("hex");
}

/** The fingerprint of a set of changes, independent of their order. */
export function fingerprintChanges(changes: readonly ResourceChange[]): string {
  const parts = changes.map((c) => `${changeKey(c)}\n${changeFingerprint(c)}`).sort();
  return createHash("sha256").update(parts.join("\n")).digest("hex");
}
