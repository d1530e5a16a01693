// Bounds on a run's result: values, names, messages, changes per list, diffs per change, and the notes saying so.
import { describe, expect, it } from "vitest";
import { capResultSize, capText, capValue, RESULT_LIMITS, type ResultLimits } from "./result-size.ts";
import type { PropertyDiff, ResourceChange, StackResult } from "./types.ts";

const KiB = 1024;
const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value), "utf8");

const change = (i: number, properties: PropertyDiff[] = [{ path: "tags.env", desired: "prod", actual: "dev" }], kind: ResourceChange["kind"] = "drift"): ResourceChange => ({
  kind,
  address: `aws_s3_bucket.b${i}`,
  type: "aws_s3_bucket",
  action: "update",
  properties,
});

const result = (extra: Partial<StackResult> = {}): StackResult => ({
  runId: "run-1",
  stack: "web",
  engine: "terraform",
  verdict: "drifted",
  commit: "0123456789abcdef0123456789abcdef01234567",
  changes: [change(1)],
  startedAt: "2026-01-01T00:00:00.000Z",
  finishedAt: "2026-01-01T00:00:01.000Z",
  durationMs: 1000,
  ...extra,
});

describe("capResultSize", () => {
  it("leaves a result within the limits as it is", () => {
    const r = result({
      changes: [change(1, [{ path: "spec.replicas", desired: 2, actual: null, changedBy: { manager: "kubectl-edit", operation: "Update" } }]), change(2, [], "pending")],
      error: { kind: "EngineError", message: "plan failed" },
      notes: ["drift is judged against the last apply"],
      unchecked: [{ address: "a", type: "t" }],
      applied: [change(3)],
      flapping: [{ address: "a", type: "t", times: 3, since: "2026-01-01T00:00:00.000Z", paths: ["tags.env"] }],
      staleSource: { error: "remote unreachable" },
    });
    expect(capResultSize(r)).toEqual(r);
  });

  it("truncates a long property value to the start of its JSON and a marker with its whole size", () => {
    const big = { document: "x".repeat(200 * KiB), more: [1, 2, 3] };
    const capped = capResultSize(result({ changes: [change(1, [{ path: "policy", desired: big, actual: "short" }])] }));
    const { desired, actual } = capped.changes[0]!.properties[0]!;
    expect(actual).toBe("short");
    expect(typeof desired).toBe("string");
    expect(desired as string).toMatch(/^\{"document":"xxxx/);
    expect(desired as string).toMatch(new RegExp(`… \\(truncated: ${bytes(big)} bytes\\)$`));
    expect(bytes(desired)).toBeLessThanOrEqual(RESULT_LIMITS.valueBytes);
    expect(bytes(desired)).toBeGreaterThan(RESULT_LIMITS.valueBytes - 64);
  });

  it("keeps a truncated value within the limit however much its JSON escapes, and never splits a character", () => {
    for (const unit of ['"\n', "\u0001", "é", "😀", "\uD800x"]) {
      const value = unit.repeat(100 * KiB);
      const { value: capped } = capValue(value, 4 * KiB);
      expect(bytes(capped), JSON.stringify(unit)).toBeLessThanOrEqual(4 * KiB);
      expect(capped as string).toMatch(/… \(truncated: \d+ bytes\)$/);
      // The start is whole characters of the JSON text (a lone surrogate is escaped by JSON, so it stays text).
      expect((capped as string).includes("\uFFFD"), JSON.stringify(unit)).toBe(false);
    }
  });

  it("keeps the first 5,000 changes, says how many there were, and keeps the verdict", () => {
    const changes = Array.from({ length: 6_001 }, (_, i) => change(i, undefined, i < 3_000 ? "drift" : "pending"));
    const capped = capResultSize(result({ verdict: "drifted+pending", changes }));
    expect(capped.changes).toHaveLength(5_000);
    expect(capped.changes[4_999]!.address).toBe("aws_s3_bucket.b4999");
    expect(capped.verdict).toBe("drifted+pending");
    expect(capped.notes).toEqual([expect.stringMatching(/^only the first 5000 of 6001 changes are kept/)]);
  });

  it("cuts a change's property diffs past its share, and a list past its whole size, saying so", () => {
    const limits: ResultLimits = { ...RESULT_LIMITS, valueBytes: 1 * KiB, changeBytes: 10 * KiB, listBytes: 50 * KiB };
    const value = "v".repeat(4 * KiB);
    // Each change: 20 properties of two 1 KiB values (once capped): about 40 KiB, cut at 10 KiB.
    const properties = Array.from({ length: 20 }, (_, i) => ({ path: `data.key${i}`, desired: value, actual: `${value}!` }));
    const changes = Array.from({ length: 10 }, (_, i) => change(i, properties));
    const capped = capResultSize(result({ changes, notes: ["an engine note"] }), limits);
    const kept = capped.changes[0]!.properties.length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(20);
    expect(capped.changes.length).toBeGreaterThan(1);
    expect(capped.changes.length).toBeLessThan(10);
    expect(bytes(capped.changes)).toBeLessThanOrEqual(limits.listBytes);
    expect(capped.notes).toEqual([
      "an engine note",
      `only the first ${capped.changes.length} of 10 changes are kept: a run keeps at most 5000 changes and 50 KiB of their property diffs`,
      `${capped.changes.length * (20 - kept)} property diffs of ${capped.changes.length} of the changes are left out: a change keeps at most 10 KiB of them`,
    ]);
  });

  it("keeps the start and the end of a long error message, and bounds every other text", () => {
    const message = `stack web: kustomize build failed:\n${"noise\n".repeat(100_000)}the last line says why`;
    const capped = capResultSize(
      result({
        verdict: "error",
        changes: [],
        error: { kind: "ManifestError", message },
        staleSource: { error: "e".repeat(100 * KiB) },
        notes: Array.from({ length: 150 }, () => "n".repeat(100 * KiB)),
        unchecked: Array.from({ length: 6_000 }, (_, i) => ({ address: `a${i}${"a".repeat(10 * KiB)}`, type: "t" })),
      }),
    );
    const text = capped.error!.message;
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(RESULT_LIMITS.textBytes);
    expect(text.startsWith("stack web: kustomize build failed:\nnoise\n")).toBe(true);
    expect(text.endsWith("noise\nthe last line says why")).toBe(true);
    expect(text).toContain(`… (truncated: ${Buffer.byteLength(message)} bytes)`);
    expect(capped.error!.kind).toBe("ManifestError");
    expect(Buffer.byteLength(capped.staleSource!.error)).toBeLessThanOrEqual(RESULT_LIMITS.textBytes);
    expect(capped.notes).toHaveLength(100);
    expect(capped.notes!.at(-1)).toBe("51 more notes are left out");
    expect(capped.notes!.every((n) => Buffer.byteLength(n) <= RESULT_LIMITS.textBytes)).toBe(true);
    expect(capped.unchecked).toHaveLength(5_000);
    expect(capped.unchecked!.every((u) => Buffer.byteLength(u.address) <= RESULT_LIMITS.nameBytes)).toBe(true);
  });

  it("bounds a hostile result as a whole: long names, many long values, many changes, applied changes too", () => {
    const limits: ResultLimits = { valueBytes: 256, nameBytes: 64, textBytes: 512, changes: 40, changeBytes: 2 * KiB, listBytes: 16 * KiB, notes: 5 };
    const long = "\u0007😀".repeat(5_000);
    const hostile = (i: number): ResourceChange => ({
      kind: "drift",
      address: `${long}${i}`,
      type: long,
      action: "replace",
      previousAddress: long,
      replacePaths: Array.from({ length: 5_000 }, () => long),
      properties: Array.from({ length: 500 }, () => ({ path: long, desired: { nested: [long, long] }, actual: long })),
    });
    const changes = Array.from({ length: 100 }, (_, i) => hostile(i));
    const capped = capResultSize(result({ changes, applied: changes, error: { kind: "EngineError", message: long }, notes: [long, long] }), limits);
    expect(capped.changes.length).toBeGreaterThan(0);
    expect(capped.changes[0]!.replacePaths!.length).toBeGreaterThan(0);
    // Names and messages are measured as UTF-8 text; JSON may escape a control character to six bytes.
    expect(bytes(capped)).toBeLessThan(6 * (2 * limits.listBytes + 4 * limits.textBytes));
    // Capping what is capped changes nothing.
    expect(capResultSize(capped, limits)).toEqual(capped);
  });

  it("leaves what JSON cannot hold for the store to refuse, as before", () => {
    const capped = capResultSize(result({ changes: [change(1, [{ path: "n", desired: 10n, actual: 1 }])] }));
    expect(capped.changes[0]!.properties[0]!.desired).toBe(10n);
  });
});

describe("capText", () => {
  it("measures in UTF-8 bytes and cuts between characters", () => {
    expect(capText("ééé", 6)).toBe("ééé");
    const cut = capText("é".repeat(1_000), 100);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(100);
    expect(cut).toMatch(/^é+… \(truncated: 2000 bytes\)$/);
  });
});
