import { describe, expect, it } from "vitest";
import { diffProperties, secretPaths, valueAt } from "./property-diff.ts";

describe("diffProperties", () => {
  it("reports leaf paths with both values", () => {
    const desired = { content: "a", tags: { env: "prod", team: "x" }, ports: [80, 443] };
    const actual = { content: "b", tags: { env: "dev", team: "x" }, ports: [80], extra: true };
    expect(diffProperties(desired, actual)).toEqual([
      { path: "content", desired: "a", actual: "b" },
      { path: "extra", desired: null, actual: true },
      { path: "ports[1]", desired: 443, actual: null },
      { path: "tags.env", desired: "prod", actual: "dev" },
    ]);
  });

  it("quotes keys that are not identifiers and finds them again", () => {
    const diffs = diffProperties({ "a b": { "x/y": 1 } }, { "a b": { "x/y": 2 } });
    expect(diffs).toEqual([{ path: '["a b"]["x/y"]', desired: 1, actual: 2 }]);
    expect(valueAt({ "a b": { "x/y": 2 } }, diffs[0]!.path)).toBe(2);
    expect(valueAt({ rules: [{ port: 22 }] }, "rules[0].port")).toBe(22);
    expect(valueAt({}, "missing.deep")).toBeUndefined();
  });

  it("finds masked secrets on either side", () => {
    expect(secretPaths({ a: "[secret]", b: { c: "x" } }, { b: { c: "[secret]" } })).toEqual(["a", "b.c"]);
  });
});
