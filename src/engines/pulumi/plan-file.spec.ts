// The update plan's private directory: 0700 while a remediation uses it, gone afterwards whether it succeeded or threw.
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test/support/tempdir.ts";
import { withPlanFile } from "./plan-file.ts";

describe("withPlanFile", () => {
  it("hands out a file in a fresh directory only its owner can enter, and removes it afterwards", async () => {
    const home = join(tempDir(), "pulumi", "web");
    const seen = await withPlanFile(home, async (file) => {
      writeFileSync(file, "{}");
      expect(statSync(dirname(file)).mode & 0o777).toBe(0o700);
      return file;
    });
    expect(statSync(home).mode & 0o777).toBe(0o700);
    expect(existsSync(seen)).toBe(false);
    expect(readdirSync(home)).toEqual([]);
  });

  it("removes the directory when the remediation fails", async () => {
    const home = tempDir();
    await expect(
      withPlanFile(home, async (file) => {
        writeFileSync(file, "{}");
        throw new Error("up failed");
      }),
    ).rejects.toThrow("up failed");
    expect(readdirSync(home)).toEqual([]);
  });
});
