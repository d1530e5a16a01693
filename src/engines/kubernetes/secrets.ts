// Secret values never leave the engine. Secret `data`/`stringData` and the last-applied annotation (a copy of a
// whole manifest, Secrets included) are `[secret]` in every change; a change of them still shows as a change. The
// stored baseline keeps a keyed digest of each Secret value instead of the value, so the database can tell a
// changed Secret from an unchanged one and never holds (or lets anyone guess) the value. Digests are never sent
// to the cluster: Secrets are dry-run without their data, and their data is compared by digest.
import { createHmac } from "node:crypto";
import { SECRET_MASK } from "../../core/redact.ts";
import type { PropertyDiff } from "../../core/types.ts";
import { idOf, isPlainObject, isSecret, type KubeObject, type ObjectId } from "./objects.ts";

export const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

const DIGEST_PREFIX = "hmac-sha256:";

/** Whether a property path of an object of this type holds a secret value. */
export function isSecretPath(id: Pick<ObjectId, "group" | "kind">, path: string): boolean {
  if (path === `metadata.annotations["${LAST_APPLIED}"]` || path.startsWith(`metadata.annotations["${LAST_APPLIED}"]`)) return true;
  if (path === "metadata.annotations" || path === "metadata") return true; // a whole map that may hold the annotation
  return isSecret(id) && /^(data|stringData)([.[]|$)/.test(path);
}

/** The property with its values masked where its path is secret. */
export function maskedProperty(id: Pick<ObjectId, "group" | "kind">, property: PropertyDiff): PropertyDiff {
  if (!isSecretPath(id, property.path)) return property;
  const mask = (v: unknown) => (v === undefined || v === null ? null : property.path.startsWith("metadata") && !property.path.includes(LAST_APPLIED) ? maskAnnotations(v) : SECRET_MASK);
  return { ...property, desired: mask(property.desired), actual: mask(property.actual) };
}

function maskAnnotations(value: unknown): unknown {
  if (!isPlainObject(value)) return value;
  const copy = structuredClone(value);
  const annotations = isPlainObject(copy.annotations) ? copy.annotations : copy;
  if (LAST_APPLIED in annotations) annotations[LAST_APPLIED] = SECRET_MASK;
  return copy;
}

/** The object as it may be shown or stored: Secret values and the last-applied annotation masked. */
export function maskedObject(object: KubeObject): KubeObject {
  const copy = structuredClone(object);
  const annotations = copy.metadata.annotations;
  if (annotations && LAST_APPLIED in annotations) annotations[LAST_APPLIED] = SECRET_MASK;
  if (isSecret(idOf(copy))) {
    for (const field of ["data", "stringData"] as const) {
      const values = copy[field];
      if (isPlainObject(values)) copy[field] = Object.fromEntries(Object.keys(values).map((k) => [k, SECRET_MASK]));
    }
  }
  return copy;
}

/** A Secret's values as the server stores them: `data` (base64) with `stringData` encoded and laid over it. */
export function secretData(object: KubeObject): Record<string, string> {
  const values: Record<string, string> = {};
  if (isPlainObject(object.data)) for (const [k, v] of Object.entries(object.data)) if (typeof v === "string") values[k] = v;
  if (isPlainObject(object.stringData)) for (const [k, v] of Object.entries(object.stringData)) values[k] = Buffer.from(String(v), "utf8").toString("base64");
  return values;
}

/** The Secret without its values: what is dry-run, so a value (or a digest) never goes to the cluster for a check. */
export function withoutData(object: KubeObject): KubeObject {
  const { data: _data, stringData: _stringData, ...rest } = object;
  return rest as KubeObject;
}

export function isDigest(value: unknown): boolean {
  return typeof value === "string" && value.startsWith(DIGEST_PREFIX);
}

/** Keyed digests of Secret values: equal values, equal digests; the key never leaves the data directory. */
export class SecretDigester {
  readonly #key: Buffer;
  constructor(key: Buffer) {
    this.#key = key;
  }

  digest(id: ObjectId, field: string, base64Value: string): string {
    const mac = createHmac("sha256", this.#key);
    mac.update(`${id.namespace ?? ""}\0${id.name}\0${field}\0${base64Value}`);
    return `${DIGEST_PREFIX}${mac.digest("hex")}`;
  }

  /** The object to store: a Secret's values become digests under `data` (stringData folded in). */
  storable(object: KubeObject, id: ObjectId): KubeObject {
    const masked = maskedObject(object);
    if (!isSecret(id)) return masked;
    const data = secretData(object);
    const { stringData: _s, ...rest } = masked;
    return { ...rest, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, isDigest(v) ? v : this.digest(id, k, v)])) } as KubeObject;
  }

  /** Digests of a Secret's values (stored digests pass through). */
  digests(object: KubeObject, id: ObjectId): Record<string, string> {
    return Object.fromEntries(Object.entries(secretData(object)).map(([k, v]) => [k, isDigest(v) ? v : this.digest(id, k, v)]));
  }
}
