import { describe, expect, it } from "vitest";
import { changesFromPlan, maskSensitive, markUnknown } from "./plan.ts";

describe("terraform plan JSON", () => {
  it("masks everything marked sensitive, however deep", () => {
    const value = { a: "x", creds: { user: "u", pass: "p" }, list: ["s1", "ok"], whole: { k: 1 } };
    const marker = { creds: { pass: true }, list: [true, false], whole: true };
    expect(maskSensitive(value, marker)).toEqual({ a: "x", creds: { user: "u", pass: "[secret]" }, list: ["[secret]", "ok"], whole: "[secret]" });
    expect(maskSensitive("plain", true)).toBe("[secret]");
    expect(maskSensitive(null, true)).toBe(null);
  });

  it("shows values known only after apply", () => {
    expect(markUnknown({ id: null, name: "n" }, { id: true })).toEqual({ id: "(known after apply)", name: "n" });
  });

  it("turns drift and pending entries into changes with nested property paths", () => {
    const plan = {
      resource_drift: [
        {
          address: "aws_sg.web",
          type: "aws_sg",
          change: {
            actions: ["update"],
            before: { tags: { env: "prod" }, ingress: [{ cidr_blocks: ["10.0.0.0/8", "0.0.0.0/0"] }], secret: "old" },
            after: { tags: { env: "dev" }, ingress: [{ cidr_blocks: ["10.0.0.0/8", "1.2.3.4/32"] }], secret: "new" },
            before_sensitive: { secret: true },
            after_sensitive: { secret: true },
          },
        },
      ],
      resource_changes: [
        { address: "a.noop", type: "a", change: { actions: ["no-op"], before: {}, after: {} } },
        { address: "d.read", type: "d", mode: "data", change: { actions: ["read"] } },
        {
          address: "local_file.x",
          type: "local_file",
          change: { actions: ["delete", "create"], before: { content: "a", id: "1" }, after: { content: "b" }, after_unknown: { id: true }, replace_paths: [["content"]] },
        },
      ],
    };
    const drift = changesFromPlan("drift", plan);
    expect(drift).toEqual([
      {
        kind: "drift",
        address: "aws_sg.web",
        type: "aws_sg",
        action: "update",
        properties: [
          { path: "ingress[0].cidr_blocks[1]", desired: "0.0.0.0/0", actual: "1.2.3.4/32" },
          { path: "secret", desired: "[secret]", actual: "[secret]" },
          { path: "tags.env", desired: "prod", actual: "dev" },
        ],
      },
    ]);
    expect(JSON.stringify(drift)).not.toMatch(/"old"|"new"/);
    expect(changesFromPlan("pending", plan)).toEqual([
      {
        kind: "pending",
        address: "local_file.x",
        type: "local_file",
        action: "replace",
        properties: [
          { path: "content", desired: "b", actual: "a" },
          { path: "id", desired: "(known after apply)", actual: "1" },
        ],
        replacePaths: ["content"],
      },
    ]);
  });

  it("leaves out null-versus-absent attributes and values the provider computes on create", () => {
    const plan = {
      resource_changes: [
        {
          address: "local_file.new",
          type: "local_file",
          change: { actions: ["create"], before: null, after: { content: "c", source: null, id: null }, after_unknown: { id: true } },
        },
      ],
    };
    expect(changesFromPlan("pending", plan)[0]?.properties).toEqual([{ path: "content", desired: "c", actual: null }]);
  });
});
