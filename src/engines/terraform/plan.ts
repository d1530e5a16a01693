// `show -json` of a plan → Driftwatch resource changes. Sensitive values are masked here, before anything
// leaves the engine: Terraform's JSON carries them in clear text and only marks them in *_sensitive.
//
// One plan with refresh answers both questions of a check (see pendingFromPlan): `resource_drift` holds the
// state as recorded against what refresh read, `resource_changes` the configuration against the refreshed state.
import { isDeepStrictEqual } from "node:util";
import { diffProperties, isPathWithin, joinPath, valueAt } from "../../core/property-diff.ts";
import { SECRET_MASK } from "../../core/redact.ts";
import type { ChangeKind, PropertyDiff, ResourceAction, ResourceChange } from "../../core/types.ts";

export const UNKNOWN_VALUE = "(known after apply)";

interface ChangeJson {
  actions: string[];
  before?: unknown;
  after?: unknown;
  after_unknown?: unknown;
  before_sensitive?: unknown;
  after_sensitive?: unknown;
  replace_paths?: (string | number)[][];
  /** Set when the plan imports the object (an `import` block). */
  importing?: unknown;
}

export interface ResourceChangeJson {
  /** Absent in Terraform 1.0's resource_drift, which has only the parts below. */
  address?: string;
  /** Set when a `moved` block (or a renamed module call) gave the resource a new address. */
  previous_address?: string;
  module_address?: string;
  mode?: string;
  type: string;
  name?: string;
  index?: string | number;
  change: ChangeJson;
}

interface ModuleConfigJson {
  resources?: { address: string; mode?: string; expressions?: Record<string, unknown> }[];
  module_calls?: Record<string, { module?: ModuleConfigJson }>;
}

export interface PlanJson {
  resource_drift?: ResourceChangeJson[];
  resource_changes?: ResourceChangeJson[];
  configuration?: { root_module?: ModuleConfigJson };
}

function containsTrue(marker: unknown): boolean {
  if (marker === true) return true;
  if (Array.isArray(marker)) return marker.some(containsTrue);
  if (typeof marker === "object" && marker !== null) return Object.values(marker).some(containsTrue);
  return false;
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
  // A scalar under a structured marker (an unknown value, shown as a placeholder, whose marker describes the
  // container it will be): secret if anything in the marker is, else "nothing secret in here" ([] or {}).
  return containsTrue(marker) ? SECRET_MASK : value;
}

/** Fills in the values Terraform only knows after apply, as a readable placeholder. */
export function markUnknown(value: unknown, unknown: unknown): unknown {
  if (unknown === true) return UNKNOWN_VALUE;
  if (unknown === null || unknown === undefined || unknown === false) return value;
  if (Array.isArray(unknown)) {
    // The list is as long as the value; markers past its end matter only where they flag something unknown.
    const base = Array.isArray(value) ? value : [];
    const length = Math.max(base.length, unknown.findLastIndex(containsTrue) + 1);
    if (length === 0) return value;
    return Array.from({ length }, (_, i) => markUnknown(base[i], unknown[i]));
  }
  if (typeof unknown === "object") {
    const base = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
    const flags = unknown as Record<string, unknown>;
    const keys = new Set([...Object.keys(base), ...Object.keys(flags).filter((k) => containsTrue(flags[k]))]);
    if (keys.size === 0) return value;
    return Object.fromEntries([...keys].map((k) => [k, markUnknown(base[k], flags[k])]));
  }
  return value;
}

/** `module.a["x"].aws_s3_bucket.b[0]`: the entry's own address, or built from its parts (Terraform 1.0's drift). */
export function addressOf(entry: ResourceChangeJson): string {
  if (entry.address) return entry.address;
  const resource = `${entry.mode === "data" ? "data." : ""}${entry.type}.${entry.name ?? ""}`;
  const index = entry.index === undefined ? "" : `[${JSON.stringify(entry.index)}]`;
  return `${entry.module_address ? `${entry.module_address}.` : ""}${resource}${index}`;
}

/** What the plan does to the resource, as one action; undefined when it does nothing a reader must know of. */
function actionOf(entry: ResourceChangeJson): ResourceAction | undefined {
  const set = new Set(entry.change.actions);
  if (set.has("create") && set.has("delete")) return "replace";
  if (entry.change.importing) return "import";
  if (set.has("create")) return "create";
  if (set.has("update")) return "update";
  if (set.has("delete")) return "delete";
  if (set.has("forget")) return "forget";
  if (entry.previous_address) return "move";
  return undefined; // no-op, read
}

/** The entry's values, unknowns filled in, raw (for comparing) and masked (for showing). */
function sides(change: ChangeJson) {
  const rawBefore = change.before ?? {};
  const rawAfter = markUnknown(change.after ?? {}, change.after_unknown);
  return { rawBefore, rawAfter, before: maskSensitive(rawBefore, change.before_sensitive), after: maskSensitive(rawAfter, change.after_sensitive) };
}

/** `[["ingress", 0, "port"]]` → `ingress[0].port`. */
function pathOf(keys: readonly (string | number)[]): string {
  return keys.reduce<string>((acc, key) => joinPath(acc, key), "");
}

/** Paths a marker tree flags as sensitive (true at the path or above it). */
function sensitivePaths(marker: unknown, base = ""): string[] {
  if (marker === true) return [base];
  if (Array.isArray(marker)) return marker.flatMap((m, i) => sensitivePaths(m, joinPath(base, i)));
  if (typeof marker === "object" && marker !== null) return Object.entries(marker).flatMap(([k, m]) => sensitivePaths(m, joinPath(base, k)));
  return [];
}

/** Properties whose value stays but whose sensitivity changes: shown masked on both sides. */
function sensitivityChanges(change: ChangeJson, known: readonly PropertyDiff[]): PropertyDiff[] {
  const before = new Set(sensitivePaths(change.before_sensitive));
  const after = new Set(sensitivePaths(change.after_sensitive));
  const changed = [...[...before].filter((p) => !after.has(p)), ...[...after].filter((p) => !before.has(p))].filter((path) => path !== "" && !known.some((p) => isPathWithin(path, p.path)));
  return changed.sort().map((path) => ({ path, desired: SECRET_MASK, actual: SECRET_MASK }));
}

/**
 * The properties that differ between `rawDesired` and `rawActual`, shown from their masked forms. Which paths
 * differ is decided on the clear values, so a changed secret is still reported; what is reported is masked.
 */
function propertiesBetween(raw: { desired: unknown; actual: unknown }, shown: { desired: unknown; actual: unknown }): PropertyDiff[] {
  return (
    diffProperties(raw.desired, raw.actual)
      // Terraform has no difference between a null attribute and an absent one.
      .filter((diff) => diff.desired !== null || diff.actual !== null)
      // An attribute the provider will compute, where there was none, says nothing a reader can act on.
      .filter((diff) => !(diff.actual === null && valueAt(raw.desired, diff.path) === UNKNOWN_VALUE))
      .map(({ path }) => ({ path, desired: valueAt(shown.desired, path) ?? null, actual: valueAt(shown.actual, path) ?? null }))
  );
}

/** What refresh can find: an object changed or gone. Moves, imports and forgets are the configuration's doing. */
const DRIFT_ACTIONS: ReadonlySet<ResourceAction> = new Set(["update", "delete"]);

function changeOf(kind: ChangeKind, entry: ResourceChangeJson): ResourceChange | undefined {
  if (entry.mode === "data") return undefined;
  const action = actionOf(entry);
  if (!action || (kind === "drift" && !DRIFT_ACTIONS.has(action))) return undefined;
  const { rawBefore, rawAfter, before, after } = sides(entry.change);
  // drift: the state (desired) against what refresh read (actual). pending: the configuration's plan (desired)
  // against the state (actual).
  const [raw, shown] =
    kind === "drift"
      ? [{ desired: rawBefore, actual: rawAfter }, { desired: before, actual: after }]
      : [{ desired: rawAfter, actual: rawBefore }, { desired: after, actual: before }];
  let properties: PropertyDiff[] = [];
  if (action !== "delete" && action !== "forget") {
    properties = propertiesBetween(raw, shown);
    if (action !== "create") properties.push(...sensitivityChanges(entry.change, properties));
  }
  return withDetails({ kind, address: addressOf(entry), type: entry.type, action, properties }, entry);
}

/** Adds what a reader needs besides the properties: the paths forcing a replacement, the address before a move. */
function withDetails(change: ResourceChange, entry: ResourceChangeJson): ResourceChange {
  if (change.action === "replace" && entry.change.replace_paths?.length) {
    change.replacePaths = entry.change.replace_paths.map(pathOf);
  }
  if (entry.previous_address && entry.previous_address !== change.address) change.previousAddress = entry.previous_address;
  return change;
}

/** Drift from a plan's resource_drift: the state as recorded (desired) against what refresh read (actual). */
export function driftFromPlan(plan: PlanJson): ResourceChange[] {
  return (plan.resource_drift ?? []).flatMap((entry) => changeOf("drift", entry) ?? []);
}

/**
 * Everything a plan would do (resource_changes), as pending changes: what an apply of this plan file makes real.
 * Remediation judges and converge reports this, drift reverts included.
 */
export function plannedChanges(plan: PlanJson): ResourceChange[] {
  return (plan.resource_changes ?? []).flatMap((entry) => changeOf("pending", entry) ?? []);
}

/** A resource block of the configuration: its module path (`module.a.`, "" at the root) and its attributes' expressions. */
interface ConfiguredBlock {
  modulePrefix: string;
  expressions: Record<string, unknown>;
}

/** The configuration's resource blocks by module path and resource address without instance keys. */
function configuredBlocks(plan: PlanJson): Map<string, ConfiguredBlock> {
  const blocks = new Map<string, ConfiguredBlock>();
  const visit = (module: ModuleConfigJson | undefined, prefix: string) => {
    for (const resource of module?.resources ?? []) blocks.set(`${prefix}${resource.address}`, { modulePrefix: prefix, expressions: resource.expressions ?? {} });
    for (const [name, call] of Object.entries(module?.module_calls ?? {})) visit(call.module, `${prefix}module.${name}.`);
  };
  visit(plan.configuration?.root_module, "");
  return blocks;
}

/** Every `references` entry in an expression tree (`local_file.a.id`, `var.x`, …). */
function referencesIn(expression: unknown): string[] {
  if (Array.isArray(expression)) return expression.flatMap(referencesIn);
  if (typeof expression !== "object" || expression === null) return [];
  const own = (expression as { references?: unknown }).references;
  const nested = Object.entries(expression).filter(([key]) => key !== "references").flatMap(([, value]) => referencesIn(value));
  return [...(Array.isArray(own) ? own.filter((r): r is string => typeof r === "string") : []), ...nested];
}

/** `module.a["x"].module.b[0]` → `module.a.module.b`: the module path of the configuration. */
function withoutInstanceKeys(moduleAddress: string): string {
  return moduleAddress.replace(/\[(?:\d+|"(?:[^"\\]|\\.)*")\]/g, "");
}

function configBlockOf(entry: ResourceChangeJson): string {
  const resource = `${entry.mode === "data" ? "data." : ""}${entry.type}.${entry.name ?? ""}`;
  return entry.module_address ? `${withoutInstanceKeys(entry.module_address)}.${resource}` : resource;
}

/**
 * Whether a reference of a block in `modulePrefix` (`local_file.a.id`, `local_file.a[0]`) names one of `blocks`
 * (resource blocks, instance keys stripped). Variables, locals, module outputs and the like name none.
 */
function refersTo(reference: string, modulePrefix: string, blocks: ReadonlySet<string>): boolean {
  const parts = withoutInstanceKeys(reference).split(".");
  const resource = parts[0] === "data" ? parts.slice(0, 3) : parts.slice(0, 2);
  return blocks.has(`${modulePrefix}${resource.join(".")}`);
}

/** The top-level attribute of a property path: `tags` of `tags.env`, `ingress` of `ingress[0].port`. */
function topLevel(path: string): string {
  const match = /^(?:([^.[\]]+)|\["((?:[^"\\]|\\.)*)"\])/.exec(path);
  return match?.[1] ?? (match?.[2] !== undefined ? (JSON.parse(`"${match[2]}"`) as string) : path);
}

/**
 * The pending change of a resource that also drifted: what the configuration changes relative to the state as it
 * was *before* refresh (`recorded`, the drift entry's `before`), from a plan made against the refreshed state.
 * Per property, with P the planned value, S0 the recorded one and S1 the refreshed one:
 * - P = S0: the plan only puts the drifted value back (a drift revert): not pending;
 * - P ≠ S0 and P ≠ S1: Git declares a value that is neither recorded nor real: pending;
 * - P = S1 ≠ S0: the plan leaves the world as it is. Pending only if the configuration sets that attribute (Git
 *   declares exactly what the world drifted to); otherwise the provider just keeps what refresh read (a computed
 *   or unmanaged attribute), which is drift, not Git's doing;
 * - values known only after apply count only beside a known pending property (the update is real then).
 */
function pendingBesideDrift(entry: ResourceChangeJson, drift: ResourceChangeJson, configured: ConfiguredBlock | undefined): ResourceChange | undefined {
  const planned = actionOf(entry);
  const address = addressOf(entry);
  if (planned === "delete" || planned === "forget") return withDetails({ kind: "pending", address, type: entry.type, action: planned, properties: [] }, entry);
  const { rawAfter, after } = sides(entry.change);
  const rawRecorded = drift.change.before ?? {};
  const recorded = maskSensitive(rawRecorded, drift.change.before_sensitive);
  const refreshed = entry.change.before ?? null;
  const candidates = propertiesBetween({ desired: rawAfter, actual: rawRecorded }, { desired: after, actual: recorded });
  const known: PropertyDiff[] = [];
  const unknown: PropertyDiff[] = [];
  for (const property of candidates) {
    const plannedValue = valueAt(rawAfter, property.path);
    if (plannedValue === UNKNOWN_VALUE) unknown.push(property);
    else if (!isDeepStrictEqual(plannedValue, valueAt(refreshed, property.path) ?? null) || (configured && topLevel(property.path) in configured.expressions)) known.push(property);
  }
  if (known.length === 0 && planned !== "import" && !entry.previous_address) return undefined;
  const properties = [...known, ...unknown].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  // Recreating an object deleted out of band with values Git changed replaces the object the state recorded.
  const replacing = planned === "create" || (planned === "replace" && (entry.change.replace_paths ?? []).some((keys) => known.some((k) => isPathWithin(k.path, pathOf(keys)))));
  const action: ResourceAction = planned === "import" ? "import" : replacing ? "replace" : known.length > 0 ? "update" : "move";
  return withDetails({ kind: "pending", address, type: entry.type, action, properties }, entry);
}

/**
 * A resource that did not drift, whose only changes are values known after apply, all set by expressions that
 * refer to resources the plan only puts back (drift reverts): a knock-on effect of reverting the drift (a
 * recreated object's new id), which a plan against the state as recorded would not show. Not pending.
 */
function onlyKnockOn(change: ResourceChange, block: ConfiguredBlock | undefined, reverted: ReadonlySet<string>): boolean {
  if (!block || reverted.size === 0 || change.properties.some((property) => property.desired !== UNKNOWN_VALUE)) return false;
  // Attributes the configuration does not set are computed: unknown because of the others.
  const configured = change.properties.filter((property) => topLevel(property.path) in block.expressions);
  return (
    configured.length > 0 &&
    configured.every((property) => {
      const references = referencesIn(block.expressions[topLevel(property.path)]);
      return references.length > 0 && references.every((reference) => refersTo(reference, block.modulePrefix, reverted));
    })
  );
}

/**
 * Pending changes from a plan made *with* refresh, meaning what a plan without refresh would show: the
 * configuration in Git against the state as recorded, so that drift is not counted twice. For drifted resources
 * see pendingBesideDrift; resources that did not drift are read as they are, except for knock-on effects of
 * drift reverts (onlyKnockOn). A resource deleted out of band that the configuration no longer declares has no
 * entry in resource_changes: Git removes it, which is pending.
 */
export function pendingFromPlan(plan: PlanJson): ResourceChange[] {
  const drifted = new Map<string, ResourceChangeJson>();
  for (const entry of plan.resource_drift ?? []) if (entry.mode !== "data") drifted.set(addressOf(entry), entry);
  const blocks = configuredBlocks(plan);
  const found: { entry: ResourceChangeJson; change: ResourceChange | undefined; drifted: boolean }[] = [];
  const seen = new Set<string>();
  for (const entry of plan.resource_changes ?? []) {
    if (entry.mode === "data") continue;
    const address = addressOf(entry);
    seen.add(address);
    if (entry.previous_address) seen.add(entry.previous_address);
    const drift = drifted.get(address) ?? (entry.previous_address ? drifted.get(entry.previous_address) : undefined);
    const change = drift ? pendingBesideDrift(entry, drift, blocks.get(configBlockOf(entry))) : changeOf("pending", entry);
    found.push({ entry, change, drifted: drift !== undefined });
  }
  // Blocks whose planned changes only revert drift, growing as knock-on effects are found (a chain of them).
  const reverted = new Set(found.filter((f) => f.drifted && !f.change && actionOf(f.entry)).map((f) => configBlockOf(f.entry)));
  for (let grew = true; grew; ) {
    grew = false;
    for (const f of found) {
      if (f.drifted || !f.change || !onlyKnockOn(f.change, blocks.get(configBlockOf(f.entry)), reverted)) continue;
      f.change = undefined;
      reverted.add(configBlockOf(f.entry));
      grew = true;
    }
  }
  const changes = found.flatMap((f) => f.change ?? []);
  for (const [address, drift] of drifted) {
    if (!seen.has(address) && drift.change.actions.includes("delete")) changes.push({ kind: "pending", address, type: drift.type, action: "delete", properties: [] });
  }
  return changes;
}
