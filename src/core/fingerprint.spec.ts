import { describe, expect, it } from "vitest";
import { changeFingerprint, fingerprintChanges } from "./fingerprint.ts";
import type { ResourceChange } from "./types.ts";

const a: ResourceChange = { kind: "drift", address: "local_file.a", type: "local_file", action: "update", properties: [{ path: "content", desired: "x", actual: "y" }] };
const b: ResourceChange = { kind: "drift", address: "local_file.b", type: "local_file", action: "delete", properties: [] };

describe("fingerprints", () => {
  it("ignore the order of changes, properties and object keys", () => {
    expect(fingerprintChanges([a, b])).toBe(fingerprintChanges([b, a]));
    const twoProps = { ...a, properties: [{ path: "x", desired: { p: 1, q: 2 }, actual: null }, ...a.properties] };
    const reordered = { ...a, properties: [...a.properties, { path: "x", desired: { q: 2, p: 1 }, actual: null }] };
    expect(changeFingerprint(twoProps)).toBe(changeFingerprint(reordered));
  });

  it("change with any value, action, kind or resource", () => {
    const base = fingerprintChanges([a]);
    expect(fingerprintChanges([{ ...a, properties: [{ path: "content", desired: "x", actual: "z" }] }])).not.toBe(base);
    expect(fingerprintChanges([{ ...a, action: "replace" }])).not.toBe(base);
    expect(fingerprintChanges([{ ...a, kind: "pending" }])).not.toBe(base);
    expect(fingerprintChanges([a, b])).not.toBe(base);
    expect(fingerprintChanges([])).not.toBe(base);
  });

  it("treat an absent value like null, as the store does", () => {
    expect(changeFingerprint({ ...a, properties: [{ path: "p", desired: undefined, actual: 1 }] })).toBe(
      changeFingerprint({ ...a, properties: [{ path: "p", desired: null, actual: 1 }] }),
    );
  });
});
