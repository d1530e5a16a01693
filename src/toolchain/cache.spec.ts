import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cacheKey, ensureCacheEntry } from "./cache.ts";

let root: string;
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("ensureCacheEntry", () => {
  it("fills an entry once and reuses it afterwards", async () => {
    root = mkdtempSync(join(tmpdir(), "driftwatch-cache-"));
    const entry = join(root, "tool-1.0.0");
    let fills = 0;
    const fill = async (staging: string) => {
      fills++;
      writeFileSync(join(staging, "bin"), "binary");
    };
    expect(await ensureCacheEntry(entry, fill)).toBe(false);
    expect(await ensureCacheEntry(entry, fill)).toBe(true);
    expect(fills).toBe(1);
    expect(readFileSync(join(entry, "bin"), "utf8")).toBe("binary");
  });

  it("leaves nothing behind when filling fails, so the next run starts clean", async () => {
    root = mkdtempSync(join(tmpdir(), "driftwatch-cache-"));
    const entry = join(root, "tool-1.0.0");
    await expect(
      ensureCacheEntry(entry, async (staging) => {
        writeFileSync(join(staging, "half"), "written");
        throw new Error("build broke");
      }),
    ).rejects.toThrow("build broke");
    expect(existsSync(entry)).toBe(false);
    expect(readdirSync(root)).toEqual([]);
  });
});

describe("cacheKey", () => {
  it("changes with any part and is stable otherwise", () => {
    expect(cacheKey(["a", "b"])).toBe(cacheKey(["a", "b"]));
    expect(cacheKey(["a", "b"])).not.toBe(cacheKey(["ab"]));
    expect(cacheKey(["a", "b"])).toMatch(/^[0-9a-f]{12}$/);
  });
});
