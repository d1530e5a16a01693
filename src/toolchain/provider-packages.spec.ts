// What provisioning records of a provider mirror: every package (both registries), every file's SHA-256.
import { createHash } from "node:crypto";
import { linkSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../test/support/tempdir.ts";
import { ProvisionError } from "./errors.ts";
import { mirrorPackages } from "./provider-packages.ts";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

describe("mirrorPackages", () => {
  it("records each package of an unpacked mirror, for every registry, with each file's SHA-256", async () => {
    const mirror = join(tempDir(), "mirror");
    const opentofu = join(mirror, "registry.opentofu.org", "hashicorp", "random", "3.9.0", "linux_amd64");
    const terraform = join(mirror, "registry.terraform.io", "hashicorp", "random", "3.9.0", "linux_amd64");
    mkdirSync(join(opentofu, "docs"), { recursive: true });
    mkdirSync(terraform, { recursive: true });
    writeFileSync(join(opentofu, "terraform-provider-random_v3.9.0"), "binary");
    writeFileSync(join(opentofu, "docs", "README"), "readme");
    linkSync(join(opentofu, "terraform-provider-random_v3.9.0"), join(terraform, "terraform-provider-random_v3.9.0"));
    // A packed archive sits higher up and is no unpacked package; a stray file is nothing either.
    writeFileSync(join(mirror, "registry.opentofu.org", "hashicorp", "random", "terraform-provider-random_3.9.0_linux_amd64.zip"), "zip");
    writeFileSync(join(mirror, "notes.txt"), "notes");

    expect(await mirrorPackages(mirror)).toEqual([
      {
        source: "registry.opentofu.org/hashicorp/random",
        version: "3.9.0",
        platform: "linux_amd64",
        mirror,
        files: { "docs/README": sha256("readme"), "terraform-provider-random_v3.9.0": sha256("binary") },
      },
      { source: "registry.terraform.io/hashicorp/random", version: "3.9.0", platform: "linux_amd64", mirror, files: { "terraform-provider-random_v3.9.0": sha256("binary") } },
    ]);
  });

  it("refuses a package holding a link: no stack's copy could be held to it", async () => {
    const mirror = join(tempDir(), "mirror");
    const dir = join(mirror, "registry.opentofu.org", "hashicorp", "local", "2.9.0", "linux_amd64");
    mkdirSync(dir, { recursive: true });
    symlinkSync("/etc/passwd", join(dir, "terraform-provider-local_v2.9.0"));
    await expect(mirrorPackages(mirror)).rejects.toThrow(ProvisionError);
    await expect(mirrorPackages(mirror)).rejects.toThrow(/registry\.opentofu\.org\/hashicorp\/local 2\.9\.0 \(linux_amd64\) .* holds something other than files and folders: terraform-provider-local_v2\.9\.0/);
  });
});
