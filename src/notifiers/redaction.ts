// Masking for alerts, on top of what every result already has (every secret value Driftwatch knows and the
// built-in credential patterns, core/redact.ts): the configured patterns, and an optional allow-list of the
// property paths whose values may be shown at all. Applied once, before an alert is written to the outbox.
//
// `showValuesOf` globs are matched against a property diff's whole path, segment by segment:
//   - segments are separated by "." or written as `[n]` (an array index) or `["odd key"]` (a quoted key);
//     an index is a segment like any other: `ingress[2].port`, `ingress.2.port` are the same glob;
//   - `*` (or `[*]`) is exactly one segment, key or index: `tags.*` matches `tags.env`, not `tags` nor `tags.a.b`;
//   - `**` is any number of segments, none included: `tags.**` matches `tags`, `tags.env` and `tags.a[0].b`,
//     `**.port` matches `port` and `ingress[0].port`, `**` matches everything;
//   - anything else is literal (`tag*` is the key "tag*", not a prefix).
// A diff whose path matches no glob shows HIDDEN_VALUE for its values (an absent side stays absent: that a value
// appeared or disappeared is no secret); its path stays visible. `showValuesOf: []` hides every value.
import { parseGlob, pathMatches } from "../core/path-glob.ts";
import { BUILT_IN_PATTERNS, SECRET_MASK } from "../core/redact.ts";
import type { PropertyDiff, ResourceChange } from "../core/types.ts";
import type { AlertEvent } from "../core/alerts.ts";

/** Shown instead of a value whose path is not in `showValuesOf`. */
export const HIDDEN_VALUE = "[hidden]";


export interface AlertRedaction {
  /** Global regular expressions; every match in every string of an alert becomes SECRET_MASK. */
  patterns: RegExp[];
  /** Globs over property paths (see above); undefined: every value may be shown. */
  showValuesOf?: string[];
}

/** A configured pattern or glob that cannot be used; `pattern` is the offending text as written. */
export class RedactionPatternError extends Error {
  override name = "RedactionPatternError";
  readonly field: "patterns" | "showValuesOf";
  readonly pattern: string;
  constructor(field: "patterns" | "showValuesOf", pattern: string, reason: string) {
    super(`alerts.redact.${field}: ${JSON.stringify(pattern)} ${reason}`);
    this.field = field;
    this.pattern = pattern;
  }
}

// --- compiling the configuration ----------------------------------------------------------------------------------

/** Unicode-aware (no match splits a character) when the pattern is valid as such, else as written. */
function compilePattern(source: string): RegExp {
  try {
    return new RegExp(source, "gu");
  } catch {
    try {
      return new RegExp(source, "g");
    } catch (error) {
      throw new RedactionPatternError("patterns", source, `is not a valid regular expression: ${(error as Error).message}`);
    }
  }
}

function checkGlob(glob: string): string {
  if (parseGlob(glob) === undefined) {
    throw new RedactionPatternError("showValuesOf", glob, 'is not a valid path glob (e.g. tags.*, ingress[*].port, **.port, tags["a.b"])');
  }
  return glob;
}

/** The built-in patterns plus the configured ones, compiled; the globs checked. Throws RedactionPatternError. */
export function compileRedaction(options: { patterns?: readonly string[]; showValuesOf?: readonly string[] }): AlertRedaction {
  const patterns = [...BUILT_IN_PATTERNS, ...(options.patterns ?? [])].map(compilePattern);
  return options.showValuesOf ? { patterns, showValuesOf: options.showValuesOf.map(checkGlob) } : { patterns };
}

// --- applying it --------------------------------------------------------------------------------------------------

function maskText(text: string, patterns: readonly RegExp[]): string {
  // An empty match (a pattern like `x*` between two characters) masks nothing.
  return patterns.reduce((out, pattern) => out.replace(pattern, (match) => (match === "" ? match : SECRET_MASK)), text);
}

/**
 * The fields whose values are a fixed vocabulary the notifiers act on (event type, verdict, change kind and
 * action): never secrets, and a pattern that happens to match one must not make the event unreadable.
 */
function isVocabulary(path: readonly string[]): boolean {
  if (path.length === 1) return path[0] === "type";
  if (path.length === 2) return path[0] === "subject" && path[1] === "verdict";
  const inList = path.length === 3 && ["changes", "added", "removed", "modified"].includes(path[0]!);
  return inList && (path[2] === "kind" || path[2] === "action");
}

/** A deep copy of `value` with every pattern match in every string (object keys included) masked. */
function maskDeep(value: unknown, patterns: readonly RegExp[], path: readonly string[]): unknown {
  if (typeof value === "string") return isVocabulary(path) ? value : maskText(value, patterns);
  if (Array.isArray(value)) return value.map((v, i) => maskDeep(v, patterns, [...path, String(i)]));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [maskText(k, patterns), maskDeep(v, patterns, [...path, k])]));
  }
  return value;
}

function hideValue(value: unknown): unknown {
  return value === null || value === undefined ? value : HIDDEN_VALUE;
}

function hideValues(changes: readonly ResourceChange[], globs: readonly string[]): ResourceChange[] {
  const hide = (p: PropertyDiff): PropertyDiff => (pathMatches(globs, p.path) ? p : { ...p, desired: hideValue(p.desired), actual: hideValue(p.actual) });
  return changes.map((c) => ({ ...c, properties: c.properties.map(hide) }));
}

/** A copy of the event as it may be shown: values outside `showValuesOf` hidden, then every pattern masked everywhere. */
export function redactEvent(event: AlertEvent, redaction: AlertRedaction): AlertEvent {
  const globs = redaction.showValuesOf;
  const shown = globs && "changes" in event ? { ...event, changes: hideValues(event.changes, globs) } : event;
  return maskDeep(shown, redaction.patterns, []) as AlertEvent;
}
