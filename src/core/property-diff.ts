import { SECRET_MASK } from "./redact.ts";
import type { PropertyDiff } from "./types.ts";

type Json = unknown;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Appends a key to a property path: `a.b`, `a["odd key"]`, `a[0]`. */
export function joinPath(base: string, key: string | number): string {
  if (typeof key === "number") return `${base}[${key}]`;
  if (/^[A-Za-z_$][\w$-]*$/.test(key)) return base ? `${base}.${key}` : key;
  return `${base}[${JSON.stringify(key)}]`;
}

/** Whether property path `path` is `base` or lies under it (`tags.env` under `tags`, not under `tag`). */
export function isPathWithin(path: string, base: string): boolean {
  return path === base || path.startsWith(`${base}.`) || path.startsWith(`${base}[`);
}

/**
 * Every leaf path where `desired` and `actual` differ. Objects and arrays are walked; anything else is compared
 * by value. A value masked as a secret on either side is reported as changed only at its own path, masked.
 */
export function diffProperties(desired: Json, actual: Json, base = ""): PropertyDiff[] {
  if (desired === actual) return [];
  if (isPlainObject(desired) && isPlainObject(actual)) {
    const keys = [...new Set([...Object.keys(desired), ...Object.keys(actual)])].sort();
    return keys.flatMap((key) => diffProperties(desired[key], actual[key], joinPath(base, key)));
  }
  if (Array.isArray(desired) && Array.isArray(actual)) {
    const length = Math.max(desired.length, actual.length);
    return Array.from({ length }, (_, i) => diffProperties(desired[i], actual[i], joinPath(base, i))).flat();
  }
  if (JSON.stringify(desired) === JSON.stringify(actual)) return [];
  return [{ path: base, desired: desired ?? null, actual: actual ?? null }];
}

/** Paths of every value masked as a secret in either tree (used when an engine says "changed" but both sides are masked). */
export function secretPaths(a: Json, b: Json, base = ""): string[] {
  const paths = new Set<string>();
  const walk = (value: Json, path: string) => {
    if (value === SECRET_MASK) paths.add(path);
    else if (isPlainObject(value)) for (const [k, v] of Object.entries(value)) walk(v, joinPath(path, k));
    else if (Array.isArray(value)) value.forEach((v, i) => walk(v, joinPath(path, i)));
  };
  walk(a, base);
  walk(b, base);
  return [...paths].sort();
}

/**
 * Reads a value at a path produced by joinPath (`a.b[0]["odd key"]`); undefined when absent. A masked secret met
 * on the way is the answer: whatever lies below a secret is secret too.
 */
export function valueAt(root: Json, path: string): Json {
  const tokens = path.match(/[^.[\]]+|\[(\d+|"(?:[^"\\]|\\.)*")\]/g) ?? [];
  let current: Json = root;
  for (const token of tokens) {
    if (current === SECRET_MASK) return SECRET_MASK;
    if (current === null || current === undefined) return undefined;
    let key: string | number = token;
    if (token.startsWith("[")) {
      const inner = token.slice(1, -1);
      key = inner.startsWith('"') ? (JSON.parse(inner) as string) : Number(inner);
    }
    current = (current as Record<string | number, Json>)[key];
  }
  return current;
}
