import { describe, expect, it } from "vitest";
import { atLeast, versionString } from "./semver.ts";

describe("versions", () => {
  it("reads the version out of CLI banners", () => {
    expect(versionString("v3.259.0\n")).toBe("3.259.0");
    expect(versionString("OpenTofu v1.12.6\non linux_amd64")).toBe("1.12.6");
    expect(versionString("unknown")).toBeUndefined();
  });

  it("compares numerically, not as text", () => {
    expect(atLeast("3.260.0", "3.259.0")).toBe(true);
    expect(atLeast("3.259.0", "3.259.0")).toBe(true);
    expect(atLeast("3.99.0", "3.259.0")).toBe(false);
    expect(atLeast("4.0.0", "3.259.0")).toBe(true);
    expect(atLeast("dev", "3.259.0")).toBe(false);
  });
});
