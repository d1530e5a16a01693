// Comparing two objects on the fields one manager owns, as server-side apply records them in managedFields
// (fieldsV1). Walking the field set rather than the objects is what keeps server defaults, normalised quantities,
// webhook mutations and other managers' fields out of the comparison: only what we apply is judged.
import { diffProperties, joinPath } from "../../core/property-diff.ts";
import { isPlainObject, type FieldSet, type KubeObject, type ManagedFieldsEntry } from "./objects.ts";

/** One owned field whose values differ: the property path for people, the field-set keys for ownership lookups. */
export interface FieldDifference {
  path: string;
  keys: string[];
  desired: unknown;
  actual: unknown;
}

/** The field set `manager` owns through apply (merged across versions and subresources of the main resource). */
export function appliedFields(object: KubeObject | undefined, manager: string): FieldSet | undefined {
  const entries = (object?.metadata.managedFields ?? []).filter((e) => e.manager === manager && e.operation === "Apply" && !e.subresource && e.fieldsV1);
  if (entries.length === 0) return undefined;
  return entries.map((e) => e.fieldsV1!).reduce(mergeFieldSets, {});
}

export function mergeFieldSets(a: FieldSet, b: FieldSet): FieldSet {
  const merged: FieldSet = { ...a };
  for (const [key, child] of Object.entries(b)) merged[key] = merged[key] ? mergeFieldSets(merged[key], child) : child;
  return merged;
}

/** Fields Kubernetes sets itself and that never count, wherever a manager's set names them. */
const SERVER_FIELDS = new Set(["f:status"]);
const SERVER_METADATA = new Set(["f:managedFields", "f:resourceVersion", "f:uid", "f:generation", "f:creationTimestamp", "f:selfLink", "f:deletionTimestamp", "f:deletionGracePeriodSeconds"]);

function isLeaf(set: FieldSet): boolean {
  return Object.keys(set).every((k) => k === ".");
}

function itemMatches(item: unknown, keys: Record<string, unknown>): boolean {
  return isPlainObject(item) && Object.entries(keys).every(([k, v]) => JSON.stringify(item[k]) === JSON.stringify(v));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Where `desired` and `actual` differ on the fields of `set`. Lists keyed by `k:` are matched by key (indexes may
 * differ between the two objects; paths use desired's index), set items (`v:`) by value. A field present in
 * desired and absent in actual differs with `actual: undefined`.
 */
export function differingFields(set: FieldSet, desired: unknown, actual: unknown, path = "", keys: string[] = []): FieldDifference[] {
  const found: FieldDifference[] = [];
  for (const [key, child] of Object.entries(set)) {
    if (key === ".") continue;
    if (path === "" && SERVER_FIELDS.has(key)) continue;
    if (path === "metadata" && SERVER_METADATA.has(key)) continue;
    const chain = [...keys, key];
    if (key.startsWith("f:")) {
      const name = key.slice(2);
      const d = isPlainObject(desired) ? desired[name] : undefined;
      const a = isPlainObject(actual) ? actual[name] : undefined;
      const at = joinPath(path, name);
      found.push(...(isLeaf(child) ? leafDifferences(d, a, at, chain) : differingFields(child, d, a, at, chain)));
    } else if (key.startsWith("k:")) {
      const match = parseJson(key.slice(2));
      if (!isPlainObject(match)) continue;
      const index = Array.isArray(desired) ? desired.findIndex((item) => itemMatches(item, match)) : -1;
      if (index < 0) {
        // An item the desired side no longer has (a container Git removed): a difference at actual's index.
        const at = Array.isArray(actual) ? actual.findIndex((item) => itemMatches(item, match)) : -1;
        if (at >= 0) found.push({ path: joinPath(path, at), keys: chain, desired: undefined, actual: (actual as unknown[])[at] });
        continue;
      }
      const d: unknown = (desired as unknown[])[index];
      const a = Array.isArray(actual) ? actual.find((item) => itemMatches(item, match)) : undefined;
      const at = joinPath(path, index);
      if (a === undefined) found.push({ path: at, keys: chain, desired: d, actual: undefined });
      else found.push(...(isLeaf(child) ? leafDifferences(d, a, at, chain) : differingFields(child, d, a, at, chain)));
    } else if (key.startsWith("v:")) {
      const value = parseJson(key.slice(2));
      const same = (item: unknown) => JSON.stringify(item) === JSON.stringify(value);
      const index = Array.isArray(desired) ? desired.findIndex(same) : -1;
      const at = Array.isArray(actual) ? actual.findIndex(same) : -1;
      if (index >= 0 && at < 0) found.push({ path: joinPath(path, index), keys: chain, desired: value, actual: undefined });
      if (index < 0 && at >= 0) found.push({ path: joinPath(path, at), keys: chain, desired: undefined, actual: value });
    } else if (key.startsWith("i:")) {
      const index = Number(key.slice(2));
      const d = Array.isArray(desired) ? desired[index] : undefined;
      const a = Array.isArray(actual) ? actual[index] : undefined;
      const at = joinPath(path, index);
      found.push(...(isLeaf(child) ? leafDifferences(d, a, at, chain) : differingFields(child, d, a, at, chain)));
    }
  }
  return found;
}

/** A leaf field compared whole (an atomic map or list is one value); reported at its sub-paths when both are objects. */
function leafDifferences(desired: unknown, actual: unknown, path: string, keys: string[]): FieldDifference[] {
  if (JSON.stringify(desired) === JSON.stringify(actual)) return [];
  if (desired === undefined && actual === undefined) return [];
  if ((isPlainObject(desired) && isPlainObject(actual)) || (Array.isArray(desired) && Array.isArray(actual))) {
    return diffProperties(desired, actual, path).map((d) => ({ path: d.path, keys, desired: d.desired, actual: d.actual }));
  }
  return [{ path, keys, desired, actual }];
}

/** `object` without the leaf fields of `set` (the fields another manager owns and we leave to it). */
export function withoutFields(object: unknown, set: FieldSet): unknown {
  if (isPlainObject(object)) {
    const copy: Record<string, unknown> = { ...object };
    for (const [key, child] of Object.entries(set)) {
      if (!key.startsWith("f:")) continue;
      const name = key.slice(2);
      if (!(name in copy)) continue;
      if (isLeaf(child)) delete copy[name];
      else copy[name] = withoutFields(copy[name], child);
    }
    return copy;
  }
  if (Array.isArray(object)) {
    return object.flatMap((item) => {
      const entry = Object.entries(set).find(([key]) => {
        const match = key.startsWith("k:") ? parseJson(key.slice(2)) : undefined;
        return isPlainObject(match) && itemMatches(item, match);
      });
      if (!entry) return [item];
      // The item itself is theirs only when they own it whole; else only the fields below it.
      return isLeaf(entry[1]) ? [] : [withoutFields(item, entry[1])];
    });
  }
  return object;
}

/** Whether `set` holds the field at the end of `keys` (the field itself or anything below it). */
export function ownsField(set: FieldSet | undefined, keys: readonly string[]): boolean {
  let current = set;
  for (const key of keys) {
    current = current?.[key];
    if (!current) return false;
  }
  return true;
}

/** The managedFields entries of `object` that own the field at `keys`, newest first. */
export function ownersOf(object: KubeObject | undefined, keys: readonly string[]): ManagedFieldsEntry[] {
  return (object?.metadata.managedFields ?? [])
    .filter((e) => !e.subresource || e.subresource === "scale" || e.subresource === "status")
    .filter((e) => ownsField(e.fieldsV1, keys))
    .sort((a, b) => (b.time ?? "").localeCompare(a.time ?? ""));
}
