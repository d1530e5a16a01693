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

  it("reads a plain integer with a leading zero as octal, as kubectl does (0400 is 256), and quoted ones as strings", () => {
    const text = "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\nmode: 0400\nnegative: -010\nzero: 0\nnine: 09\nplain: 400\nquoted: '0400'\n";
    const object = parseManifests(text, "modes.yaml")[0]!.object;
    expect([object.mode, object.negative, object.zero, object.nine, object.plain, object.quoted]).toEqual([256, -8, 0, 9, 400, "0400"]);
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
