// Ignore rules on resource changes: by type and path glob; an update with nothing left is no change.
import { describe, expect, it } from "vitest";
import type { ResourceChange } from "../core/types.ts";
import { applyIgnoreRules, ignoredProperties, withoutIgnored } from "./ignore.ts";

const vm: ResourceChange = {
  kind: "drift",
  address: "aws_instance.web",
  type: "aws_instance",
  action: "update",
  properties: [
    { path: "tags.LastScanned", desired: "a", actual: "b" },
    { path: "tags.owner", desired: "team-a", actual: "team-b" },
  ],
};
const scanned: ResourceChange = { ...vm, address: "aws_instance.db", properties: [vm.properties[0]!] };
const gone: ResourceChange = { ...vm, address: "aws_instance.old", action: "delete", properties: [] };

describe("ignore rules", () => {
  it("drops ignored properties, and updates left with none", () => {
    const rules = [{ type: "aws_instance", paths: ["tags.LastScanned"] }];
    expect(withoutIgnored(rules, [vm, scanned, gone])).toEqual([{ ...vm, properties: [vm.properties[1]] }, gone]);
    expect(applyIgnoreRules(rules, { drift: [scanned], pending: [scanned] })).toEqual({ drift: [], pending: [] });
  });

  it("applies a rule only to its type, and a typeless rule to every type, with globs", () => {
    expect(withoutIgnored([{ type: "aws_s3_bucket", paths: ["tags.**"] }], [vm])).toEqual([vm]);
    expect(withoutIgnored([{ paths: ["tags.*"] }], [vm])).toEqual([]);
    expect(ignoredProperties([{ paths: ["**.owner"] }], vm)).toEqual(["tags.owner"]);
    expect(withoutIgnored([], [vm])).toEqual([vm]);
  });
});
