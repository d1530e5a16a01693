import { describe, expect, it } from "vitest";
import { backendConfigFile, hclString } from "./hcl.ts";

describe("hclString", () => {
  it("escapes quotes, backslashes and control characters", () => {
    expect(hclString('a "b" \\ c\nd\te\u0001')).toBe('"a \\"b\\" \\\\ c\\nd\\te\\u0001"');
  });

  it("keeps template sequences literal", () => {
    expect(hclString("${var.x} %{if} $x %x")).toBe('"$${var.x} %%{if} $x %x"');
  });
});

describe("backendConfigFile", () => {
  it("writes one attribute per setting", () => {
    expect(backendConfigFile({ bucket: "state", key: "a/b.tfstate" })).toBe('bucket = "state"\nkey = "a/b.tfstate"\n');
  });
});
