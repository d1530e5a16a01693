import { describe, expect, it } from "vitest";
import { ManifestError } from "./errors.ts";
import { parseManifests } from "./render.ts";

describe("parseManifests", () => {
  it("reads multi-document YAML, skips empty documents and expands Lists, each with its line", () => {
    const text = [
      "apiVersion: v1",
      "kind: ConfigMap",
      "metadata: { name: a }",
      "---",
      "# only a comment",
      "---",
      "apiVersion: v1",
      "kind: List",
      "items:",
      "  - { apiVersion: v1, kind: ConfigMap, metadata: { name: b } }",
      "  - { apiVersion: v1, kind: Secret, metadata: { name: c } }",
      "",
    ].join("\n");
    expect(parseManifests(text, "app.yaml").map((r) => [r.object.metadata.name, r.origin])).toEqual([
      ["a", "app.yaml line 1"],
      ["b", "app.yaml line 7"],
      ["c", "app.yaml line 7"],
    ]);
  });

  it("reads JSON", () => {
    expect(parseManifests('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"j"}}', "j.json")[0]!.object.kind).toBe("ConfigMap");
  });

  it.each([
    ["apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n", /^bad\.yaml line 5, column 3: Map keys must be unique/],
    ["apiVersion: v1\nkind: ConfigMap\ndata: [unclosed\n", /^bad\.yaml line \d+, column \d+: /],
    ["kind: ConfigMap\nmetadata: { name: a }\n", /^bad\.yaml line 1: apiVersion is missing$/],
    ["apiVersion: v1\nkind: ConfigMap\nmetadata: { generateName: a- }\n", /^bad\.yaml line 1: ConfigMap has no metadata.name/],
    ["- just\n- a list\n", /^bad\.yaml line 1: a manifest must be a mapping/],
  ])("names the file and line of a manifest it cannot use: %j", (text, message) => {
    const error = (() => {
      try {
        parseManifests(text, "bad.yaml");
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as Error).message).toMatch(message);
  });
});
