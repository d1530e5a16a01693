// The judgement of one object: where a dry run of what we would apply differs from another state of it, on the
// fields our manager owns (or owned), minus the fields of trusted managers, with who set each differing field.
import { diffProperties } from "../../core/property-diff.ts";
import type { FieldChanger, PropertyDiff } from "../../core/types.ts";
import { isMembershipPath } from "./applyset.ts";
import { appliedFields, differingFields, mergeFieldSets, ownersOf, type FieldDifference } from "./fields.ts";
import { isPlainObject, isSecret, type KubeObject, type ObjectId } from "./objects.ts";
import { maskedProperty, type SecretDigester } from "./secrets.ts";

export interface CompareOptions {
  fieldManager: string;
  trustedManagers: readonly string[];
  /** Leave the ApplySet membership label out (drift judged against Git, which has no label). */
  ignoreMembership?: boolean;
}

/** Who owns the field at `keys` in the live object now, besides us: the newest such managedFields entry. */
function changerOf(live: KubeObject | undefined, keys: readonly string[], fieldManager: string): FieldChanger | undefined {
  const owner = ownersOf(live, keys).find((e) => e.manager && e.manager !== fieldManager);
  if (!owner?.manager) return undefined;
  return { manager: owner.manager, ...(owner.operation ? { operation: owner.operation } : {}), ...(owner.time ? { time: owner.time } : {}) };
}

function isTrusted(live: KubeObject | undefined, difference: FieldDifference, trusted: readonly string[]): boolean {
  return ownersOf(live, difference.keys).some((e) => e.manager !== undefined && trusted.includes(e.manager));
}

/**
 * Where `actual` differs from `desired` (a dry-run result) on the fields our manager owns in `desired`, and on the
 * fields it owned in `owned` (an earlier state: what Git dropped is a change too). `live` says who owns what now.
 */
export function compareOwned(id: ObjectId, desired: KubeObject, actual: KubeObject | undefined, live: KubeObject | undefined, options: CompareOptions, owned?: KubeObject): PropertyDiff[] {
  const ours = appliedFields(desired, options.fieldManager) ?? {};
  const before = owned ? appliedFields(owned, options.fieldManager) : undefined;
  const set = before ? mergeFieldSets(ours, before) : ours;
  const differences = differingFields(set, desired, actual)
    .filter((d) => !(isSecret(id) && /^(data|stringData)([.[]|$)/.test(d.path)))
    .filter((d) => !(options.ignoreMembership && isMembershipPath(d.path)))
    .filter((d) => !isTrusted(live, d, options.trustedManagers));
  const unique = new Map<string, PropertyDiff>();
  for (const d of differences) {
    if (unique.has(d.path)) continue;
    const changedBy = changerOf(live, d.keys, options.fieldManager);
    unique.set(d.path, maskedProperty(id, { path: d.path, desired: d.desired ?? null, actual: d.actual ?? null, ...(changedBy ? { changedBy } : {}) }));
  }
  return [...unique.values()];
}

/** A Secret's values compared by digest: each differing key is a change, both sides masked. */
export function compareSecretData(id: ObjectId, desired: KubeObject, actual: KubeObject | undefined, live: KubeObject | undefined, digester: SecretDigester, fieldManager: string): PropertyDiff[] {
  if (!isSecret(id)) return [];
  const want = digester.digests(desired, id);
  const have = actual ? digester.digests(actual, id) : {};
  const keys = Object.keys(want).sort();
  return keys
    .filter((k) => want[k] !== have[k])
    .map((k) => {
      const changedBy = changerOf(live, ["f:data", `f:${k}`], fieldManager);
      return maskedProperty(id, { path: `data.${k}`, desired: want[k], actual: have[k] ?? null, ...(changedBy ? { changedBy } : {}) });
    });
}

/** Every value a new object would get, for a create (no dry run possible or needed to show it): masked. */
export function createProperties(id: ObjectId, object: KubeObject): PropertyDiff[] {
  const shown = structuredClone(object) as Record<string, unknown>;
  delete shown.apiVersion;
  delete shown.kind;
  if (isPlainObject(shown.metadata)) {
    delete shown.metadata.name;
    delete shown.metadata.namespace;
  }
  return diffProperties(shown, {}).map((p) => maskedProperty(id, { ...p, actual: null }));
}

/** Two manifests compared as written (when no dry run can refine it: the namespace or the CRD is not there yet). */
export function compareManifests(id: ObjectId, desired: KubeObject, actual: KubeObject): PropertyDiff[] {
  return diffProperties(desired, actual).map((p) => maskedProperty(id, p));
}
