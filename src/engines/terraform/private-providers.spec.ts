// Detaching a stack's providers from the shared plugin cache: what init linked (data dir → cache → mirror)
// becomes the stack's own files, which survive another init replacing or removing the cache's entry.
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test/support/tempdir.ts";
import { detachProviders } from "./private-providers.ts";

const PACKAGE = join("registry.opentofu.org", "hashicorp", "local", "2.9.0", "linux_amd64");
const BINARY = "terraform-provider-local_v2.9.0";

/** A provider package in `root`'s mirror, linked into the cache, linked into a stack's data dir, as init leaves it. */
function linkedLikeInit(root: string, mirrorRoot = join(root, "mirror")) {
  const mirror = join(mirrorRoot, PACKAGE);
  const cache = join(root, "cache", PACKAGE);
  const providers = join(root, "stack", "data", "providers");
  mkdirSync(mirror, { recursive: true });
  writeFileSync(join(mirror, BINARY), "#!/bin/sh\necho provider\n");
  chmodSync(join(mirror, BINARY), 0o755);
  mkdirSync(join(mirror, "docs"));
  writeFileSync(join(mirror, "docs", "README"), "readme\n");
  symlinkSync(".", join(mirror, "docs", "loop")); // a link inside a package is copied as a link, never followed
  mkdirSync(join(cache, ".."), { recursive: true });
  symlinkSync(mirror, cache);
  mkdirSync(join(providers, PACKAGE, ".."), { recursive: true });
  symlinkSync(cache, join(providers, PACKAGE));
  return { mirror, cache, providers, staging: join(root, "stack", "staging") };
}

describe("detachProviders", () => {
  it("replaces each link into the cache by hard links of the package's files, which outlive the cache entry", async () => {
    const root = tempDir();
    const { mirror, cache, providers, staging } = linkedLikeInit(root);
    expect(await detachProviders(providers, staging)).toBe(1);

    const own = join(providers, PACKAGE);
    expect(lstatSync(own).isDirectory()).toBe(true);
    expect(statSync(join(own, BINARY)).ino).toBe(statSync(join(mirror, BINARY)).ino);
    expect(statSync(join(own, BINARY)).mode & 0o777).toBe(0o755);
    expect(readFileSync(join(own, "docs", "README"), "utf8")).toBe("readme\n");
    expect(readlinkSync(join(own, "docs", "loop"))).toBe(".");
    expect(existsSync(staging)).toBe(false);

    // Another stack's init removes the cache entry (and the mirror's files, for good measure): nothing changes here.
    rmSync(cache);
    rmSync(mirror, { recursive: true });
    expect(readFileSync(join(own, BINARY), "utf8")).toBe("#!/bin/sh\necho provider\n");

    // A second pass finds nothing to do; a data dir without providers is fine too.
    expect(await detachProviders(providers, staging)).toBe(0);
    expect(await detachProviders(join(root, "nothing"), staging)).toBe(0);
  });

  it("copies where the package lives on another filesystem", async (context) => {
    const elsewhere = existsSync("/dev/shm") ? mkdtempSync("/dev/shm/driftwatch-mirror-") : undefined;
    const root = tempDir();
    if (!elsewhere || statSync(elsewhere).dev === statSync(root).dev) {
      if (elsewhere) rmSync(elsewhere, { recursive: true, force: true });
      context.skip("no second filesystem to put the mirror on");
      return;
    }
    try {
      const { mirror, providers, staging } = linkedLikeInit(root, elsewhere);
      expect(await detachProviders(providers, staging)).toBe(1);
      const own = join(providers, PACKAGE, BINARY);
      expect(statSync(own).ino).not.toBe(statSync(join(mirror, BINARY)).ino);
      expect(statSync(own).mode & 0o777).toBe(0o755);
      rmSync(mirror, { recursive: true });
      expect(readFileSync(own, "utf8")).toBe("#!/bin/sh\necho provider\n");
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it("fails, changing nothing, when a link leads nowhere", async () => {
    const root = tempDir();
    const { cache, providers, staging } = linkedLikeInit(root);
    rmSync(cache);
    await expect(detachProviders(providers, staging)).rejects.toThrow(/ENOENT/);
    expect(lstatSync(join(providers, PACKAGE)).isSymbolicLink()).toBe(true);
  });
});
