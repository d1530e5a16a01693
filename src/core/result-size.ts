// How big one run's result may be. What an engine reports comes from repositories and from the cloud or cluster
// (a ConfigMap value, a policy document, thousands of resources), and a result goes whole into the database,
// the episode and its alerts, and `check --json`: without bounds one stack could make any of them fail (a JSON
// text longer than a JavaScript string can be), for every stack. So a result keeps at most:
//   - each property's `desired` and `actual` at `valueBytes` of JSON; a longer one becomes a string: the start
//     of its JSON text and "… (truncated: N bytes)", N being the whole JSON's size;
//   - each name (address, type, property path) at `nameBytes`, each message (error, note) at `textBytes`;
//   - `changes` changes per list, and `changeBytes` of property diffs per change and `listBytes` per list (else
//     5,000 changes of 2 × 64 KiB would still be 640 MB); where a list or a change's diffs were cut, a note says so.
// The verdict is the engine's, judged on everything it found. Capping works on the masked result: a cut never
// splits a secret before the masker sees it whole.
import type { FlappingResource, PropertyDiff, ResourceChange, StackResult, UncheckedResource } from "./types.ts";

export interface ResultLimits {
  /** A property's `desired` or `actual`, as JSON. */
  valueBytes: number;
  /** An address, a type, a property path. */
  nameBytes: number;
  /** The error message, the stale-source message, each note. */
  textBytes: number;
  /** Changes per list (`changes`, `applied`); also unchecked and flapping resources. */
  changes: number;
  /** One change's property diffs, all together (values as capped, paths, a little for the structure). */
  changeBytes: number;
  /** One list's changes, all together. */
  listBytes: number;
  /** Notes per result. */
  notes: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;

export const RESULT_LIMITS: ResultLimits = {
  valueBytes: 64 * KiB,
  nameBytes: 4 * KiB,
  textBytes: 64 * KiB,
  changes: 5_000,
  changeBytes: 1 * MiB,
  listBytes: 16 * MiB,
  notes: 100,
};

/** Paths per list of paths (a change's replacePaths, a flapping resource's paths). */
const PATHS = 1_000;
/** What a property or a change costs beyond its strings and values (JSON punctuation, keys, kind, action). */
const PROPERTY_OVERHEAD = 48;
const CHANGE_OVERHEAD = 96;

const marker = (bytes: number | undefined) => (bytes === undefined ? "… (truncated: too large to measure)" : `… (truncated: ${bytes} bytes)`);

function isContinuation(byte: number | undefined): boolean {
  return byte !== undefined && (byte & 0xc0) === 0x80;
}

/** The longest start of `text` of at most `maxBytes` UTF-8 bytes that ends on a whole character. */
export function utf8Head(text: string, maxBytes: number): string {
  if (maxBytes <= 0) return "";
  // maxBytes characters are at least maxBytes bytes: no need to encode more.
  let slice = text.slice(0, maxBytes);
  if (/[\uD800-\uDBFF]$/.test(slice)) slice = slice.slice(0, -1); // half a surrogate pair
  const bytes = Buffer.from(slice, "utf8");
  if (bytes.length <= maxBytes) return slice;
  let end = maxBytes;
  while (end > 0 && isContinuation(bytes[end])) end--;
  return bytes.subarray(0, end).toString("utf8");
}

/** The longest end of `text` of at most `maxBytes` UTF-8 bytes that starts on a whole character. */
export function utf8Tail(text: string, maxBytes: number): string {
  if (maxBytes <= 0) return "";
  let slice = text.slice(-maxBytes);
  if (/^[\uDC00-\uDFFF]/.test(slice)) slice = slice.slice(1);
  const bytes = Buffer.from(slice, "utf8");
  if (bytes.length <= maxBytes) return slice;
  let start = bytes.length - maxBytes;
  while (start < bytes.length && isContinuation(bytes[start])) start++;
  return bytes.subarray(start).toString("utf8");
}

/**
 * `text` if it has at most `maxBytes` UTF-8 bytes; else its start and a marker with its size, within `maxBytes`.
 * `keepEnd`: the start and the end around the marker (an error message says what failed at its end).
 */
export function capText(text: string, maxBytes: number, options: { keepEnd?: boolean } = {}): string {
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes <= maxBytes) return text;
  const mark = marker(bytes);
  const room = maxBytes - Buffer.byteLength(mark, "utf8") - 2;
  if (!options.keepEnd) return `${utf8Head(text, room)}${mark}`;
  const half = Math.floor(room / 2);
  return `${utf8Head(text, half)}\n${mark}\n${utf8Tail(text, room - half)}`;
}

interface Capped<T> {
  value: T;
  /** What the capped value takes as JSON (approximately, for names and texts: their UTF-8 size). */
  bytes: number;
}

/**
 * A property value whose JSON is at most `maxBytes`, as it is; a longer one as a string holding the start of its
 * JSON text and a marker, whose own JSON is within `maxBytes`. A value JSON cannot hold (a bigint) is left for
 * the store to refuse, as before.
 */
export function capValue(value: unknown, maxBytes: number): Capped<unknown> {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    if (!(error instanceof RangeError)) return { value, bytes: 0 };
    // Longer than a string can be: nothing of it can be shown.
    return { value: marker(undefined), bytes: marker(undefined).length + 2 };
  }
  if (json === undefined) return { value, bytes: 4 };
  const bytes = Buffer.byteLength(json, "utf8");
  if (bytes <= maxBytes) return { value, bytes };
  const mark = marker(bytes);
  // The truncated form is stored as a JSON string, whose escapes (\" \n \u0001) make it longer: shrink until it fits.
  let room = maxBytes - Buffer.byteLength(mark, "utf8") - 2;
  for (;;) {
    const truncated = `${utf8Head(json, room)}${mark}`;
    const size = Buffer.byteLength(JSON.stringify(truncated), "utf8");
    if (size <= maxBytes || room <= 0) return { value: truncated, bytes: size };
    room = Math.floor((room * maxBytes) / size) - 8;
  }
}

function capName(name: string, limits: ResultLimits): Capped<string> {
  const value = capText(name, limits.nameBytes);
  return { value, bytes: Buffer.byteLength(value, "utf8") };
}

function capProperty(property: PropertyDiff, limits: ResultLimits): Capped<PropertyDiff> {
  const path = capName(property.path, limits);
  const desired = capValue(property.desired, limits.valueBytes);
  const actual = capValue(property.actual, limits.valueBytes);
  return {
    value: { ...property, path: path.value, desired: desired.value, actual: actual.value },
    bytes: path.bytes + desired.bytes + actual.bytes + PROPERTY_OVERHEAD + (property.changedBy ? 128 : 0),
  };
}

interface ChangeCap {
  change: ResourceChange;
  bytes: number;
  /** How many property diffs were left out. */
  droppedProperties: number;
  /** How many replace paths were left out. */
  droppedPaths: number;
}

/** One change within `changeBytes` for its replace paths and property diffs together, plus its names. */
function capChange(change: ResourceChange, limits: ResultLimits): ChangeCap {
  const address = capName(change.address, limits);
  const type = capName(change.type, limits);
  const previous = change.previousAddress === undefined ? undefined : capName(change.previousAddress, limits);
  let spent = 0;
  const replacePaths: string[] = [];
  for (const path of (change.replacePaths ?? []).slice(0, PATHS)) {
    const capped = capName(path, limits);
    if (spent + capped.bytes + 4 > limits.changeBytes) break;
    replacePaths.push(capped.value);
    spent += capped.bytes + 4;
  }
  const properties: PropertyDiff[] = [];
  for (const property of change.properties) {
    const capped = capProperty(property, limits);
    if (spent + capped.bytes > limits.changeBytes) break;
    properties.push(capped.value);
    spent += capped.bytes;
  }
  return {
    change: {
      ...change,
      address: address.value,
      type: type.value,
      properties,
      ...(change.replacePaths ? { replacePaths } : {}),
      ...(previous ? { previousAddress: previous.value } : {}),
    },
    bytes: CHANGE_OVERHEAD + address.bytes + type.bytes + (previous?.bytes ?? 0) + spent,
    droppedProperties: change.properties.length - properties.length,
    droppedPaths: (change.replacePaths?.length ?? 0) - replacePaths.length,
  };
}

/** A list of changes within the limits, and the notes on what was left out of it. */
function capChanges(changes: readonly ResourceChange[], limits: ResultLimits, what: string): { changes: ResourceChange[]; notes: string[] } {
  const kept: ResourceChange[] = [];
  let bytes = 0;
  let cutChanges = 0;
  let cutDiffs = 0;
  let cutPaths = 0;
  for (const change of changes) {
    if (kept.length >= limits.changes) break;
    const capped = capChange(change, limits);
    if (bytes + capped.bytes > limits.listBytes) break;
    kept.push(capped.change);
    bytes += capped.bytes;
    if (capped.droppedProperties > 0 || capped.droppedPaths > 0) cutChanges++;
    cutDiffs += capped.droppedProperties;
    cutPaths += capped.droppedPaths;
  }
  const notes: string[] = [];
  if (kept.length < changes.length) {
    notes.push(
      `only the first ${kept.length} of ${changes.length} ${what} are kept: a run keeps at most ${limits.changes} ${what} and ${sizeText(limits.listBytes)} of their property diffs`,
    );
  }
  if (cutChanges > 0) {
    const left = [cutDiffs > 0 ? `${cutDiffs} property diffs` : "", cutPaths > 0 ? `${cutPaths} replace paths` : ""].filter(Boolean).join(" and ");
    notes.push(`${left} of ${cutChanges} of the ${what} are left out: a change keeps at most ${sizeText(limits.changeBytes)} of them`);
  }
  return { changes: kept, notes };
}

function sizeText(bytes: number): string {
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= KiB && bytes % KiB === 0) return `${bytes / KiB} KiB`;
  return `${bytes} bytes`;
}

function capUnchecked(list: readonly UncheckedResource[], limits: ResultLimits): UncheckedResource[] {
  return list.slice(0, limits.changes).map((r) => ({ ...r, address: capName(r.address, limits).value, type: capName(r.type, limits).value }));
}

function capFlapping(list: readonly FlappingResource[], limits: ResultLimits): FlappingResource[] {
  return list.slice(0, limits.changes).map((r) => ({
    ...r,
    address: capName(r.address, limits).value,
    type: capName(r.type, limits).value,
    paths: r.paths.slice(0, PATHS).map((path) => capName(path, limits).value),
  }));
}

/**
 * `result` within `limits` (see the top of this file): a new result, `result` itself unchanged. Where changes or
 * property diffs were left out, a note says how many; a truncated value or message says so itself.
 */
export function capResultSize(result: StackResult, limits: ResultLimits = RESULT_LIMITS): StackResult {
  const changes = capChanges(result.changes, limits, "changes");
  const applied = result.applied ? capChanges(result.applied, limits, "applied changes") : undefined;
  // At most `limits.notes` in all, those saying what was cut here among them (so capping again changes nothing).
  const cuts = [...changes.notes, ...(applied?.notes ?? [])];
  const given = result.notes ?? [];
  const room = Math.max(0, limits.notes - cuts.length);
  const kept = given.length <= room ? given : room === 0 ? [] : [...given.slice(0, Math.max(0, room - 1)), `${given.length - Math.max(0, room - 1)} more notes are left out`];
  const notes = [...kept.map((note) => capText(note, limits.textBytes)), ...cuts];
  return {
    ...result,
    changes: changes.changes,
    ...(result.error ? { error: { kind: capText(result.error.kind, limits.nameBytes), message: capText(result.error.message, limits.textBytes, { keepEnd: true }) } } : {}),
    ...(result.staleSource ? { staleSource: { error: capText(result.staleSource.error, limits.textBytes, { keepEnd: true }) } } : {}),
    ...(result.unchecked ? { unchecked: capUnchecked(result.unchecked, limits) } : {}),
    ...(result.notes || notes.length > 0 ? { notes } : {}),
    ...(applied ? { applied: applied.changes } : {}),
    ...(result.flapping ? { flapping: capFlapping(result.flapping, limits) } : {}),
    ...(result.remediation ? { remediation: { ...result.remediation, reason: capText(result.remediation.reason, limits.textBytes, { keepEnd: true }) } } : {}),
  };
}
