// Holding a stack's providers to what provisioning recorded: after init (hash every file), and before a plan whose
// init was skipped (by the files' states where they can vouch for the content, else by hashing again).
import { cpSync, existsSync, linkSync, lstatSync, mkdirSync, openSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync, writeSync, closeSync, chmodSync } from "node:fs";
import { dirname, join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test/support/tempdir.ts";
import { mirrorPackages } from "../../toolchain/provider-packages.ts";
import { ProviderIntegrityError } from "./errors.ts";
import { detachProviders } from "./private-providers.ts";
import { providersStillVerified, verifyInstalledProviders, type ProviderToolchain } from "./provider-integrity.ts";

const PACKAGE = join("registry.opentofu.org", "hashicorp", "random", "3.9.0", "linux_amd64");
const BINARY = "terraform-provider-random_v3.9.0";
const PROVIDER = "registry.opentofu.org/hashicorp/random 3.9.0 (linux_amd64)";

/** A logger whose lines the test reads. */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: "debug" }, stream), lines };
}

/** Writes one byte in place, as a program writing through any of the file's links would. */
function changeByte(file: string, at = 3): void {
  const fd = openSync(file, "r+");
  try {
    writeSync(fd, "X", at);
  } finally {
    closeSync(fd);
  }
}

/** Until the filesystem's clock has moved past the file's last change (a coarse tick, or a second on some filesystems). */
async function afterLastChange(file: string, scratch: string): Promise<void> {
  const changed = lstatSync(file, { bigint: true }).ctimeNs;
  const probe = join(scratch, "clock-probe");
  for (;;) {
    writeFileSync(probe, "");
    const now = lstatSync(probe, { bigint: true }).ctimeNs;
    unlinkSync(probe);
    if (now > changed) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** A provisioned mirror with one package (an executable and a readme), and what provisioning recorded of it. */
async function provisioned(root: string): Promise<ProviderToolchain & { terraform: { providerMirror: string } }> {
  const mirror = join(root, "tools", "terraform-providers-abc", "mirror");
  const mirrorPackage = join(mirror, PACKAGE);
  mkdirSync(join(mirrorPackage, "docs"), { recursive: true });
  writeFileSync(join(mirrorPackage, BINARY), "#!/bin/sh\necho provider\n");
  chmodSync(join(mirrorPackage, BINARY), 0o755);
  writeFileSync(join(mirrorPackage, "docs", "README"), "readme\n");
  return { terraform: { providerMirror: mirror, providerPackages: await mirrorPackages(mirror) } };
}

/**
 * A stack whose init linked the mirror's package through the plugin cache and whose copy detachProviders made.
 * `cacheEntry: "link"` is what OpenTofu and Terraform do with an unpacked mirror (the entry links to the mirror's
 * folder); "copy" is a cache holding its own files (as a registry's unpacked zip would be).
 */
async function installed(root: string, cacheEntry: "link" | "copy" = "link", stack = "stack", toolchain?: Awaited<ReturnType<typeof provisioned>>) {
  toolchain ??= await provisioned(root);
  const mirror = toolchain.terraform.providerMirror;
  const mirrorPackage = join(mirror, PACKAGE);
  const pluginCacheDir = join(root, "cache");
  const cache = join(pluginCacheDir, PACKAGE);
  if (!existsSync(cache)) {
    mkdirSync(dirname(cache), { recursive: true });
    if (cacheEntry === "link") symlinkSync(mirrorPackage, cache);
    else cpSync(mirrorPackage, cache, { recursive: true });
  }
  const providersDir = join(root, stack, "data", "providers");
  mkdirSync(join(providersDir, PACKAGE, ".."), { recursive: true });
  rmSync(join(providersDir, PACKAGE), { recursive: true, force: true });
  symlinkSync(cache, join(providersDir, PACKAGE));
  await detachProviders(providersDir, join(root, stack, "staging"));
  const { logger, lines } = capturedLogger();
  const check = { toolchain, stack, providersDir, pluginCacheDir, logger };
  return { mirror, mirrorPackage, cache, providersDir, own: join(providersDir, PACKAGE), scratch: join(root, stack), check, lines };
}

function caught(error: unknown): ProviderIntegrityError {
  expect(error).toBeInstanceOf(ProviderIntegrityError);
  return error as ProviderIntegrityError;
}

const hashedCounts = (lines: Record<string, unknown>[]) => lines.filter((l) => l.msg === "terraform providers verified before a plan").map((l) => l.hashed);

describe("verifyInstalledProviders (after init)", () => {
  it("passes a stack's copy that is what provisioning recorded", async () => {
    const { check, own } = await installed(tempDir());
    await verifyInstalledProviders(check);
    expect(existsSync(join(own, BINARY))).toBe(true);
  });

  it("refuses a package whose cache entry changed, naming provider and file, and removes the entry and the stack's copy", async () => {
    const { check, cache, providersDir, mirrorPackage } = await installed(tempDir(), "copy");
    // What a previous run's code could have done to the cache's file, which the stack's copy shares.
    changeByte(join(cache, BINARY));
    const error = caught(await verifyInstalledProviders(check).catch((e: unknown) => e));
    expect(error.provider).toBe(PROVIDER);
    expect(error.file).toBe(BINARY);
    expect(error.message).toContain(`stack stack: provider ${PROVIDER} is not what provisioning built, so no plan ran with it: ${BINARY} has changed`);
    expect(error.message).toContain(`The plugin cache's entry (${cache}) and the stack's copy were removed: the next run installs it again from the provisioned mirror, which is intact.`);
    expect(error.message).toContain("Nothing in the stack's commit causes or fixes this.");
    expect(existsSync(cache)).toBe(false);
    expect(existsSync(providersDir)).toBe(false);
    expect(existsSync(join(mirrorPackage, BINARY))).toBe(true);
  });

  it("says when the provisioned mirror itself changed (a cache entry links to it): only provisioning again helps", async () => {
    const root = tempDir();
    const toolchain = await provisioned(root);
    const { check, cache, mirror } = await installed(root, "link", "stack", toolchain);
    changeByte(join(cache, BINARY)); // through the link: the mirror's file, and every stack's copy of it
    const error = caught(await verifyInstalledProviders(check).catch((e: unknown) => e));
    expect(error.message).toContain(`The provisioned mirror's own copy (${join(mirror, PACKAGE)}) has changed too`);
    expect(error.message).toContain(`An operator removes ${dirname(mirror)} and provisions again`);
    expect(existsSync(cache)).toBe(false);
    // Installing again from that mirror is refused again, until the mirror is rebuilt.
    const again = await installed(root, "link", "stack", toolchain);
    caught(await verifyInstalledProviders(again.check).catch((e: unknown) => e));
    writeFileSync(join(mirror, PACKAGE, `${BINARY}.new`), "#!/bin/sh\necho provider\n");
    renameSync(join(mirror, PACKAGE, `${BINARY}.new`), join(mirror, PACKAGE, BINARY));
    const rebuilt = await installed(root, "link", "stack", toolchain);
    await verifyInstalledProviders(rebuilt.check);
  });

  it("refuses a missing file, an added one, and a link in the providers tree", async () => {
    const missing = await installed(tempDir(), "copy");
    rmSync(join(missing.own, "docs", "README"));
    expect(caught(await verifyInstalledProviders(missing.check).catch((e: unknown) => e)).message).toContain("docs/README is missing");

    const added = await installed(tempDir(), "copy");
    writeFileSync(join(added.own, "docs", "extra"), "x");
    expect(caught(await verifyInstalledProviders(added.check).catch((e: unknown) => e)).message).toContain("docs/extra was added");

    const linked = await installed(tempDir(), "copy");
    rmSync(linked.own, { recursive: true });
    symlinkSync(linked.mirrorPackage, linked.own);
    const error = caught(await verifyInstalledProviders(linked.check).catch((e: unknown) => e));
    expect(error.message).toContain(`${PACKAGE} in its providers folder is a link, not the stack's own copy`);
    expect(existsSync(linked.providersDir)).toBe(false);
  });

  it("holds the packages to the mirrors as they are when the manifest recorded none (an older provisioning), and says so", async () => {
    const { check, lines } = await installed(tempDir());
    await verifyInstalledProviders({ ...check, toolchain: { terraform: { providerMirror: check.toolchain.terraform.providerMirror } } });
    expect(lines.some((l) => l.level === 40 && String(l.msg).includes("records no provider checksums"))).toBe(true);
  });
});

describe("providersStillVerified (a plan whose init was skipped)", () => {
  it("hashes while the files' states cannot vouch for them, then trusts the states until a file changes", async () => {
    const { check, own, scratch, lines } = await installed(tempDir(), "copy");
    await verifyInstalledProviders(check);
    // Right after init the copy was just linked (its ctime is about now): its state cannot vouch for it yet.
    expect(await providersStillVerified(check)).toBe(true);
    await afterLastChange(join(own, BINARY), scratch);
    expect(await providersStillVerified(check)).toBe(true); // hashed unless already settled; settled now
    expect(await providersStillVerified(check)).toBe(true); // the states vouch: nothing hashed
    expect(hashedCounts(lines).at(-1)).toBe(0);

    // Another stack's init links the same files (a hard link moves their ctime): hashed again, and still fine.
    linkSync(join(own, BINARY), join(dirname(check.providersDir), "another-stacks-copy"));
    expect(await providersStillVerified(check)).toBe(true);
    expect(hashedCounts(lines).at(-1)).toBe(1);

    // A file replaced by one with the same content (another inode): hashed, fine.
    await afterLastChange(join(own, BINARY), scratch);
    expect(await providersStillVerified(check)).toBe(true);
    writeFileSync(join(own, `${BINARY}.new`), "#!/bin/sh\necho provider\n");
    renameSync(join(own, `${BINARY}.new`), join(own, BINARY));
    expect(await providersStillVerified(check)).toBe(true);
    expect(hashedCounts(lines).at(-1)).toBe(1);

    // Changed in place once its state was trusted: refused, and the stack's providers are gone (the next run inits).
    await afterLastChange(join(own, BINARY), scratch);
    expect(await providersStillVerified(check)).toBe(true);
    expect(await providersStillVerified(check)).toBe(true);
    expect(hashedCounts(lines).at(-1)).toBe(0);
    changeByte(join(own, BINARY));
    const error = caught(await providersStillVerified(check).catch((e: unknown) => e));
    expect(error.message).toContain(`provider ${PROVIDER} is not what provisioning built, so no plan ran with it: ${BINARY} has changed`);
    expect(error.message).toContain("The stack's copy was removed: the next run installs it again from the provisioned mirror, which is intact.");
    expect(existsSync(check.providersDir)).toBe(false);
  });

  it("refuses a changed file in a process that has not verified the stack yet (a new driftwatch check)", async () => {
    const root = tempDir();
    const { check, own } = await installed(root, "copy", "fresh");
    changeByte(join(own, BINARY));
    caught(await providersStillVerified(check).catch((e: unknown) => e));
  });

  it("holds a package no provisioned mirror holds to what init installed, and runs init where this process never saw it installed", async () => {
    const root = tempDir();
    const { check, own } = await installed(root, "copy", "elsewhere");
    const unrecorded = { ...check, toolchain: { terraform: { ...check.toolchain.terraform, providerPackages: [] } } };
    // A process that did not see it installed cannot vouch for it: init runs.
    expect(await providersStillVerified(unrecorded)).toBe(false);
    await verifyInstalledProviders(unrecorded);
    expect(await providersStillVerified(unrecorded)).toBe(true);
    changeByte(join(own, BINARY));
    const error = caught(await providersStillVerified(unrecorded).catch((e: unknown) => e));
    expect(error.message).toContain(`provider ${PROVIDER} is not what init installed`);
    expect(error.message).toContain("the next run installs it again from its origin");
  });
});
