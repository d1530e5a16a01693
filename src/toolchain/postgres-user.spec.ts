// Whether the user that runs PostgreSQL can reach a directory: by the mode bits of every directory above it.
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { traversableBy } from "./postgres-user.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("traversableBy", () => {
  it("needs the search bit for the user on every directory from / down", () => {
    const top = mkdtempSync(join(tmpdir(), "driftwatch-traverse-")); // 0700, this user's
    dirs.push(top);
    const inner = join(top, "a", "b");
    mkdirSync(inner, { recursive: true, mode: 0o755 });
    const me = { uid: process.getuid!(), gid: process.getgid!() };
    const other = { uid: me.uid + 1000, gid: me.gid + 1000 };
    expect(traversableBy(inner, me)).toBe(true);
    expect(traversableBy(inner, other)).toBe(false);
    chmodSync(top, 0o711); // search, not list: enough to pass through
    expect(traversableBy(inner, other)).toBe(true);
    chmodSync(join(top, "a"), 0o750);
    expect(traversableBy(inner, other)).toBe(false);
    expect(traversableBy(inner, { uid: other.uid, gid: me.gid })).toBe(true); // through its primary group
    expect(traversableBy(join(top, "missing"), me)).toBe(false);
  });
});
