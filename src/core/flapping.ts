// Flapping: a resource that drifts, is put right (by remediation or by hand), and drifts again, over and over, is
// usually owned by something else as well: an autoscaler, a controller, a scanner stamping tags. Remediating it
// again and again is a fight nobody wins; an ignore rule ends it. A resource flaps when it *started* drifting
// (drifted in a run, not in the run before) `threshold` times within the window, the current run included.
import type { FlappingPolicy } from "../config/types.ts";
import type { FlappingResource, ResourceChange, RunDrift } from "./types.ts";

/** When the flapping window of a run started at `startedAt` opens (ISO 8601). */
export function windowStart(startedAt: string, policy: FlappingPolicy): string {
  return new Date(Date.parse(startedAt) - policy.windowMs).toISOString();
}

/**
 * The resources drifting in the current run (started at `startedAt`) that flap. `history` is the stack's earlier
 * runs, oldest first: those of the window, and the last one before it (so a drift already going on when the
 * window starts is not an onset).
 */
export function flappingResources(history: readonly RunDrift[], current: { startedAt: string; drift: readonly ResourceChange[] }, policy: FlappingPolicy): FlappingResource[] {
  if (policy.threshold === 0 || current.drift.length === 0) return [];
  const since = windowStart(current.startedAt, policy);
  const onsets = new Map<string, { times: number; since: string }>();
  let before = new Set<string>();
  const runs = [...history, { runId: "current", startedAt: current.startedAt, addresses: current.drift.map((c) => c.address) }];
  for (const run of runs) {
    if (run.startedAt >= since) {
      for (const address of run.addresses) {
        const entry = onsets.get(address) ?? { times: 0, since: run.startedAt };
        if (!before.has(address)) entry.times += 1;
        onsets.set(address, entry);
      }
    }
    before = new Set(run.addresses);
  }
  return current.drift
    .flatMap((c) => {
      const entry = onsets.get(c.address);
      return entry && entry.times >= policy.threshold ? [{ address: c.address, type: c.type, times: entry.times, since: entry.since, paths: c.properties.map((p) => p.path).sort() }] : [];
    })
    .sort((a, b) => b.times - a.times || a.address.localeCompare(b.address));
}

/** The `ignore:` entries that would stop the flapping: one per type, with the properties seen drifting. */
export function suggestedIgnoreRules(flapping: readonly FlappingResource[]): { type: string; paths: string[] }[] {
  const byType = new Map<string, Set<string>>();
  for (const f of flapping) {
    if (f.paths.length === 0) continue; // a resource deleted again and again: no property to ignore
    const paths = byType.get(f.type) ?? new Set<string>();
    f.paths.forEach((p) => paths.add(p));
    byType.set(f.type, paths);
  }
  return [...byType].map(([type, paths]) => ({ type, paths: [...paths].sort() }));
}

/** A suggestion as the YAML lines a stack's config would hold (flow style, every string JSON-quoted). */
export function ignoreRulesYaml(rules: readonly { type: string; paths: string[] }[]): string {
  return ["ignore:", ...rules.map((r) => `  - { type: ${JSON.stringify(r.type)}, paths: [${r.paths.map((p) => JSON.stringify(p)).join(", ")}] }`)].join("\n");
}
