// Ignore rules: properties that are never drift, never pending, and never reverted by remediation (tags a
// scanner stamps, annotations a controller owns, a replica count an autoscaler moves).
import type { IgnoreRule } from "../config/types.ts";
import { pathMatches } from "../core/path-glob.ts";
import type { Detection, ResourceChange } from "../core/types.ts";

/** The path globs that apply to resources of `type`. */
function globsFor(rules: readonly IgnoreRule[], type: string): string[] {
  return rules.filter((r) => r.type === undefined || r.type === type).flatMap((r) => r.paths);
}

/** The properties of `change` the rules ignore. */
export function ignoredProperties(rules: readonly IgnoreRule[], change: ResourceChange): string[] {
  const globs = globsFor(rules, change.type);
  return globs.length === 0 ? [] : change.properties.filter((p) => pathMatches(globs, p.path)).map((p) => p.path);
}

/**
 * The changes without their ignored properties; an update left with no property is no change at all. Creations,
 * deletions and replacements stay: a rule ignores properties, not whether a resource exists.
 */
export function withoutIgnored(rules: readonly IgnoreRule[], changes: readonly ResourceChange[]): ResourceChange[] {
  if (rules.length === 0) return [...changes];
  return changes.flatMap((change) => {
    const ignored = new Set(ignoredProperties(rules, change));
    if (ignored.size === 0) return [change];
    const properties = change.properties.filter((p) => !ignored.has(p.path));
    if (change.action === "update" && properties.length === 0) return [];
    return [{ ...change, properties }];
  });
}

export function applyIgnoreRules(rules: readonly IgnoreRule[], detection: Detection): Detection {
  return { ...detection, drift: withoutIgnored(rules, detection.drift), pending: withoutIgnored(rules, detection.pending) };
}
