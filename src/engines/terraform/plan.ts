// `show -json` of a plan → Driftwatch resource changes. Sensitive values are masked here, before anything
// leaves the engine: Terraform's JSON carries them in clear text and only marks them in *_sensitive.
import { diffProperties, joinPath, valueAt } from "../../core/property-diff.ts";
import { SECRET_MASK } from "../../core/redact.ts";
import type { ChangeKind, ResourceAction, ResourceChange } from "../../core/types.ts";

export const UNKNOWN_VALUE = "(known after apply)";

interface ChangeJson {
  actions: string[];
  before?: unknown;
  after?: unknown;
  after_unknown?: unknown;
  before_sensitive?: unknown;
  after_sensitive?: unknown;
  replace_paths?: (string | number)[][];
}

interface ResourceChangeJson {
  address: string;
  type: string;
  mode?: string;
  change: ChangeJson;
}

export interface PlanJson {
  resource_drift?: ResourceChangeJson[];
  resource_changes?: ResourceChangeJson[];
}

/** Replaces every value the marker tree flags (true at a leaf or above it) with the secret mask. */
export function maskSensitive(value: unknown, marker: unknown): unknown {
  if (marker === true) return value === null || value === undefined ? value : SECRET_MASK;
  if (marker === null || marker === undefined || marker === false) return value;
  if (Array.isArray(value)) return value.map((v, i) => maskSensitive(v, (marker as unknown[])[i]));
  if (typeof value === "object" && value !== null) {
    const flags = marker as Record<string, unknown>;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskSensitive(v, flags[k])]));
  }
  // A scalar under a structured marker: be safe.
  return typeof marker === "object" ? SECRET_MASK : value;
}

/** Fills in the values Terraform only knows after apply, as a readable placeholder. */
export function markUnknown(value: unknown, unknown: unknown): unknown {
  if (unknown === true) return UNKNOWN_VALUE;
  if (unknown === null || unknown === undefined || unknown === false) return value;
  if (Array.isArray(unknown)) {
    const base = Array.isArray(value) ? value : [];
    return Array.from({ length: Math.max(base.length, unknown.length) }, (_, i) => markUnknown(base[i], unknown[i]));
  }
  if (typeof unknown === "object") {
    const base = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
    const flags = unknown as Record<string, unknown>;
    const keys = new Set([...Object.keys(base), ...Object.keys(flags)]);
    return Object.fromEntries([...keys].map((k) => [k, markUnknown(base[k], flags[k])]));
  }
  return value;
}

function actionOf(actions: readonly string[]): ResourceAction | undefined {
  const set = new Set(actions);
  if (set.has("create") && set.has("delete")) return "replace";
  if (set.has("create")) return "create";
  if (set.has("update")) return "update";
  if (set.has("delete")) return "delete";
  return undefined; // no-op, read, forget
}

function changeOf(kind: ChangeKind, entry: ResourceChangeJson): ResourceChange | undefined {
  if (entry.mode === "data") return undefined;
  const action = actionOf(entry.change.actions);
  if (!action) return undefined;
  const rawBefore = entry.change.before ?? {};
  const rawAfter = markUnknown(entry.change.after ?? {}, entry.change.after_unknown);
  const before = maskSensitive(rawBefore, entry.change.before_sensitive);
  const after = maskSensitive(rawAfter, entry.change.after_sensitive);
  // drift: the state (desired) against what refresh read (actual). pending: the configuration's plan (desired)
  // against the state (actual). Which paths differ is decided on the clear values, so a changed secret is still
  // reported; what is reported comes from the masked ones only.
  const [rawDesired, rawActual, desired, actual] = kind === "drift" ? [rawBefore, rawAfter, before, after] : [rawAfter, rawBefore, after, before];
  const properties =
    action === "delete"
      ? []
      : diffProperties(rawDesired, rawActual)
          // Terraform has no difference between a null attribute and an absent one.
          .filter((diff) => diff.desired !== null || diff.actual !== null)
          // An attribute the provider will compute, where there was none, says nothing a reader can act on.
          .filter((diff) => !(diff.actual === null && valueAt(rawDesired, diff.path) === UNKNOWN_VALUE))
          .map(({ path }) => ({ path, desired: valueAt(desired, path) ?? null, actual: valueAt(actual, path) ?? null }));
  const change: ResourceChange = { kind, address: entry.address, type: entry.type, action, properties };
  if (action === "replace" && entry.change.replace_paths?.length) {
    change.replacePaths = entry.change.replace_paths.map((path) => path.reduce<string>((acc, key) => joinPath(acc, key), ""));
  }
  return change;
}

/** Drift from a refresh-only plan (resource_drift) or pending changes from a normal plan (resource_changes). */
export function changesFromPlan(kind: ChangeKind, plan: PlanJson): ResourceChange[] {
  const entries = (kind === "drift" ? plan.resource_drift : plan.resource_changes) ?? [];
  return entries.flatMap((entry) => changeOf(kind, entry) ?? []);
}
