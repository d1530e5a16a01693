import { homedir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileCacheDir } from "./compile-cache.ts";

describe("compileCacheDir", () => {
  it("is in the user's cache directory for one-shot commands", () => {
    expect(compileCacheDir({}, "check")).toBe(join(homedir(), ".cache", "driftwatch", "node-compile-cache"));
    expect(compileCacheDir({ XDG_CACHE_HOME: "/var/cache/me" }, undefined)).toBe("/var/cache/me/driftwatch/node-compile-cache");
  });

  it("is none for serve and when the user set Node's own compile cache variables", () => {
    expect(compileCacheDir({}, "serve")).toBeUndefined();
    expect(compileCacheDir({ NODE_COMPILE_CACHE: "/elsewhere" }, "check")).toBeUndefined();
    expect(compileCacheDir({ NODE_DISABLE_COMPILE_CACHE: "1" }, "check")).toBeUndefined();
  });
});
