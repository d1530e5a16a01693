// A stack's providers are what provisioning built, checked before a plan runs them.
//
// Every stack's init installs providers through one shared plugin cache, and detachProviders
// (private-providers.ts) gives the stack its own copy: hard links to the files. With the provisioned mirror's
// CLI configuration (the demo's and the tests'), OpenTofu and Terraform make each cache entry a link to the mirror's package
// folder, so a mirror file, "its" cache entry and every stack's copy of it are one inode: a previous run's code that
// wrote to any of them changed what every stack runs, and an init without a lock file installs it unverified.
// Provisioning records the SHA-256 of every file of every package it laid out (toolchain manifest,
// terraform.providerPackages; src/toolchain/provider-packages.ts), and here a stack's packages are held to it:
//
// - after every init (verifyInstalledProviders, under the init lock, right after detachProviders): each package is
//   hashed and must match the record file for file (none missing, added or changed). A package that does not is a
//   ProviderIntegrityError for the stack; the cache entry it came from and the stack's copies are removed, so the
//   next init installs it again from the mirror, and the message says whether the mirror itself changed (then only
//   provisioning it again helps: every stack using the provider fails until then);
// - before every plan whose init was skipped (providersStillVerified, see init-memo.ts): the copies are the stack's
//   own, but they share inodes with the mirror and every other stack's, so they are checked again, cheaply when the
//   check can be trusted (below), by hashing otherwise.
//
// A package no provisioned mirror holds is not refused: a registry's, or one from the operator's own mirrors,
// installed as the operator's CLI configuration says (cli-config.ts). With a lock file, init
// checked it against the lock file's hashes; without one, OpenTofu and Terraform install it afresh at every init
// (neither reuses a cache entry no lock file vouches for: a changed cache entry is replaced, as seen with both), and
// a registry's package is checked against the registry's signed checksums. Its files are hashed after init, and a
// skipped-init plan holds the package to that as it does provisioned ones; a process that did not see it installed
// (a new `driftwatch check`) runs init instead of skipping it.
//
// Why the cheap check is sound. Hashing costs tens of milliseconds per init (hashicorp/local and random are 36 MB;
// bench/provider-verification.ts), so a skipped-init plan first compares each file's state with the one recorded
// when its content was last found right: device, inode, size and change time (ctime), and the package's listing.
// - Any write to a file (write, truncate) sets its ctime to the current time, and no system call sets ctime to a
//   chosen value (utimensat sets atime and mtime, and moves ctime to now); only root could bring an old one back
//   (setting the clock, writing the block device). Size and mtime are not enough: the owner sets mtime back at will.
// - Replacing a file (a rename over it, delete and create) puts another inode at its path; a file added or removed
//   changes the listing; a link anywhere in the providers tree is refused (init leaves none once detached).
// - ctime has the clock's granularity (a kernel tick; one second on some filesystems): a write in the same tick as
//   the change recorded could leave it as it was. So a state is trusted only when every file last changed strictly
//   before a reading of the filesystem's clock taken before hashing (the ctime of a file created next to them, as
//   git does with its index): any later write gets a later ctime. The state is read before and after hashing and
//   must agree, so a write during the hash is never taken for the hashed content.
// - Linking and unlinking change the ctime of the inode too: every other stack's init (detachProviders linking,
//   init removing a stack's old copy) moves the ctime of files all stacks share, and a state taken right after a
//   stack's own init is never trusted. That costs a hash; it never passes a changed file as unchanged.
// - States live in this process's memory only: a file holding them would be as writable as the providers.
// What no check before a plan closes is a write between the check and the CLI starting the provider: the sandbox
// (a plan cannot write its data directory, the plugin cache or the toolchain) is the first line for that.
import { randomUUID } from "node:crypto";
import { lstat, readdir, rm, unlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Logger } from "pino";
import { EngineError, errorMessage } from "../../core/errors.ts";
import type { EngineToolchain, TerraformProviderPackage } from "../../toolchain/manifest.ts";
import { hashPackage, mirrorPackages, PACKAGE_DEPTH, packageKey, packageName, packagePlace, type PackageFiles, type PackagePlace } from "../../toolchain/provider-packages.ts";
import { ProviderIntegrityError } from "./errors.ts";

/** What the checks read of the toolchain manifest. */
export type ProviderToolchain = { terraform: Pick<EngineToolchain["terraform"], "providerMirror" | "fixtureProvider" | "providerPackages"> };

export interface ProviderCheck {
  toolchain: ProviderToolchain;
  stack: string;
  /** The stack's TF_DATA_DIR/providers. */
  providersDir: string;
  logger: Logger;
}

/** What a package must hold: its files' SHA-256 by path (several when more than one mirror holds the package). */
type Expected = readonly ReadonlyMap<string, string>[];

// --- what provisioning recorded

const indexed = new WeakMap<readonly TerraformProviderPackage[], Map<string, TerraformProviderPackage[]>>();
const hashedMirrors = new Map<string, Promise<Map<string, TerraformProviderPackage[]>>>();

function byPackage(packages: readonly TerraformProviderPackage[]): Map<string, TerraformProviderPackage[]> {
  const index = new Map<string, TerraformProviderPackage[]>();
  for (const p of packages) index.set(packageKey(p), [...(index.get(packageKey(p)) ?? []), p]);
  return index;
}

/**
 * The provisioned packages by packageKey. A manifest from before provisioning recorded them has none: the mirrors
 * are hashed as they are now, once per process, until provisioning runs again and records them.
 */
async function provisionedPackages(toolchain: ProviderToolchain, logger: Logger): Promise<Map<string, TerraformProviderPackage[]>> {
  const recorded = toolchain.terraform.providerPackages;
  if (recorded) {
    let index = indexed.get(recorded);
    if (!index) indexed.set(recorded, (index = byPackage(recorded)));
    return index;
  }
  const { providerMirror, fixtureProvider } = toolchain.terraform;
  const mirrors = [...(providerMirror ? [providerMirror] : []), ...(fixtureProvider ? [fixtureProvider.mirror] : [])];
  // An installed Driftwatch provisions no mirror: every provider comes as the operator's CLI configuration says.
  if (mirrors.length === 0) return new Map();
  const key = mirrors.join("\n");
  let hashed = hashedMirrors.get(key);
  if (!hashed) {
    logger.warn({ mirrors }, "the toolchain manifest records no provider checksums (an older provisioning): holding providers to the mirrors as they are now; provision again to record them");
    hashed = Promise.all(mirrors.map((mirror) => mirrorPackages(mirror))).then((all) => byPackage(all.flat()));
    hashedMirrors.set(key, hashed);
    hashed.catch(() => hashedMirrors.delete(key));
  }
  return hashed.catch((error: unknown) => {
    throw new EngineError(`could not read the provisioned provider mirrors (${mirrors.join(", ")}): ${errorMessage(error)}`);
  });
}

const filesOf = (packages: readonly TerraformProviderPackage[]): Expected => packages.map((p) => new Map(Object.entries(p.files)));

// --- a stack's providers tree

interface StackPackage {
  place: PackagePlace;
  dir: string;
}

/** The packages under `providersDir`, and every link in its tree (a link would lead a plan out of the stack's copy). */
async function stackPackages(providersDir: string): Promise<{ packages: StackPackage[]; links: string[] }> {
  const packages: StackPackage[] = [];
  const links: string[] = [];
  async function walk(dir: string, segments: readonly string[]): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT" && segments.length === 0) return [];
      throw error;
    });
    for (const entry of entries) {
      const next = [...segments, entry.name];
      if (entry.isSymbolicLink()) links.push(next.join("/"));
      else if (!entry.isDirectory()) continue; // a stray file is nothing a CLI runs
      else if (next.length === PACKAGE_DEPTH) packages.push({ place: packagePlace(next), dir: join(dir, entry.name) });
      else await walk(join(dir, entry.name), next);
    }
  }
  await walk(providersDir, []);
  return { packages, links };
}

/** A file's identity and last change: see "Why the cheap check is sound" above. */
interface FileState {
  dev: bigint;
  ino: bigint;
  size: bigint;
  ctimeNs: bigint;
}

/** A package folder's entries (kind and path, sorted) and its files' states. */
interface Listing {
  entries: string[];
  files: Map<string, FileState>;
}

async function listing(dir: string): Promise<Listing> {
  const entries: string[] = [];
  const files = new Map<string, FileState>();
  async function walk(at: string, prefix: string): Promise<void> {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
      const stats = await lstat(join(at, entry.name), { bigint: true });
      if (stats.isDirectory()) {
        entries.push(`dir ${relative}`);
        await walk(join(at, entry.name), relative);
      } else if (stats.isFile()) {
        entries.push(`file ${relative}`);
        files.set(relative, { dev: stats.dev, ino: stats.ino, size: stats.size, ctimeNs: stats.ctimeNs });
      } else {
        entries.push(`other ${relative}`);
      }
    }
  }
  const root = await lstat(dir, { bigint: true });
  if (!root.isDirectory()) return { entries: ["other ."], files };
  entries.push(`root ${root.dev}:${root.ino}`);
  await walk(dir, "");
  entries.sort();
  return { entries, files };
}

function sameListing(a: Listing, b: Listing): boolean {
  if (a.entries.length !== b.entries.length || a.entries.some((entry, i) => entry !== b.entries[i])) return false;
  for (const [path, x] of a.files) {
    const y = b.files.get(path);
    if (!y || x.dev !== y.dev || x.ino !== y.ino || x.size !== y.size || x.ctimeNs !== y.ctimeNs) return false;
  }
  return true;
}

/** The filesystem's clock as its timestamps read it: the ctime of a file created in `dir`, then removed. */
async function fileSystemNow(dir: string): Promise<bigint> {
  const probe = join(dir, `.driftwatch-clock-${process.pid}-${randomUUID()}`);
  await writeFile(probe, "", { flag: "wx", mode: 0o600 });
  try {
    return (await lstat(probe, { bigint: true })).ctimeNs;
  } finally {
    await unlink(probe).catch(() => {});
  }
}

/**
 * The package's content, and its listing when that listing may vouch for the content later: unchanged while it was
 * hashed, and every file last changed strictly before `clockNs`, a reading taken before this call.
 */
async function measure(dir: string, clockNs: bigint): Promise<{ content: PackageFiles; trusted?: Listing }> {
  const before = await listing(dir);
  const content = await hashPackage(dir);
  const after = await listing(dir);
  const settled = [...after.files.values()].every((state) => state.ctimeNs < clockNs);
  return content.irregular.length === 0 && settled && sameListing(before, after) ? { content, trusted: after } : { content };
}

// --- comparing

interface Difference {
  file: string;
  what: string;
}

function differencesFrom(content: PackageFiles, expected: ReadonlyMap<string, string>): Difference[] {
  const found: Difference[] = content.irregular.map((file) => ({ file, what: "is not a regular file" }));
  for (const [file, sha256] of expected) {
    const actual = content.files.get(file);
    if (actual === undefined) found.push({ file, what: "is missing" });
    else if (actual !== sha256) found.push({ file, what: `has changed (SHA-256 ${actual.slice(0, 16)}…, recorded ${sha256.slice(0, 16)}…)` });
  }
  for (const file of content.files.keys()) if (!expected.has(file)) found.push({ file, what: "was added" });
  return found;
}

/** The differences from the closest of the expected contents: none when the package matches one of them. */
function differences(content: PackageFiles, expected: Expected): Difference[] {
  let closest: Difference[] | undefined;
  for (const files of expected) {
    const found = differencesFrom(content, files);
    if (found.length === 0) return [];
    if (!closest || found.length < closest.length) closest = found;
  }
  return closest ?? [];
}

// --- what this process found intact

interface Verified {
  expected: Expected;
  /** The package's listing when its content last matched, when that listing can vouch for it. */
  trusted?: Listing;
}

/** Per providers folder: each package found intact there, by packageKey. */
const verifiedStacks = new Map<string, Map<string, Verified>>();

// --- failing

/** Whether the mirror's own copy of the package still matches the record (undefined: no mirror copy to look at). */
async function mirrorIntact(place: PackagePlace, provisioned: readonly TerraformProviderPackage[]): Promise<{ intact: boolean; dir: string; mirror: string } | undefined> {
  for (const record of provisioned) {
    const dir = join(record.mirror, ...place.segments);
    try {
      const content = await hashPackage(dir);
      return { intact: differences(content, filesOf([record])).length === 0, dir, mirror: record.mirror };
    } catch {
      continue; // gone: look at the next mirror holding it
    }
  }
  return undefined;
}

interface Failure {
  check: ProviderCheck;
  place: PackagePlace;
  found: Difference[];
  /** Absent: a package no provisioned mirror holds, held to what init installed. */
  provisioned?: readonly TerraformProviderPackage[];
  /** After init: the plugin cache entry the package came from, which was removed. */
  cacheEntry?: string;
  pluginCacheDir?: string;
}

async function integrityError(failure: Failure): Promise<ProviderIntegrityError> {
  const { check, place, found, provisioned } = failure;
  const provider = packageName(place);
  const listed = found.slice(0, 3).map((d) => `${d.file} ${d.what}`);
  if (found.length > 3) listed.push(`${found.length - 3} more`);
  const lines = [
    `stack ${check.stack}: provider ${provider} is not what ${provisioned ? "provisioning built" : "init installed"}, so no plan ran with it: ${listed.join("; ")}.`,
  ];
  const mirror = provisioned ? await mirrorIntact(place, provisioned) : undefined;
  if (mirror && !mirror.intact) {
    lines.push(
      `The provisioned mirror's own copy (${mirror.dir}) has changed too: plugin cache entries link to it and every stack's copy shares its files, so every stack using this provider fails until it is rebuilt.`,
      `Nothing in the stack's commit causes or fixes this. An operator removes ${dirname(mirror.mirror)} and provisions again (npm run provision, or a new image), and finds out what wrote there.`,
    );
  } else {
    const removed = failure.cacheEntry ? `The plugin cache's entry (${failure.cacheEntry}) and the stack's copy were removed` : "The stack's copy was removed";
    const source = provisioned ? "from the provisioned mirror, which is intact" : "from its origin";
    const cache = failure.pluginCacheDir ? ` (${failure.pluginCacheDir})` : "";
    lines.push(
      `${removed}: the next run installs it again ${source}.`,
      `Nothing in the stack's commit causes or fixes this. If it comes back, an operator clears the plugin cache${cache} and finds out what writes to it or to the stacks' data directories.`,
    );
  }
  return new ProviderIntegrityError(lines.join("\n"), { provider, file: found[0]?.file ?? "." });
}

function linkError(check: ProviderCheck, links: readonly string[]): ProviderIntegrityError {
  return new ProviderIntegrityError(
    `stack ${check.stack}: ${links.join(", ")} in its providers folder ${links.length > 1 ? "are links" : "is a link"}, not the stack's own copy, so no plan ran: its providers were removed and the next run installs them again. Nothing in the stack's commit causes or fixes this; an operator finds out what writes to the stacks' data directories.`,
    { provider: links[0]!, file: "." },
  );
}

async function discard(providersDir: string): Promise<void> {
  verifiedStacks.delete(providersDir);
  await rm(providersDir, { recursive: true, force: true });
}

// --- the two checks

/**
 * After init and detachProviders, under the init lock: every package in the stack's providers folder matches what
 * provisioning recorded for it (or, for a package no provisioned mirror holds, is remembered as installed). Throws
 * ProviderIntegrityError otherwise, having removed the package's plugin cache entry and the stack's providers.
 */
export async function verifyInstalledProviders(check: ProviderCheck & { pluginCacheDir: string }): Promise<void> {
  const started = performance.now();
  verifiedStacks.delete(check.providersDir);
  const { packages, links } = await stackPackages(check.providersDir);
  if (links.length > 0) {
    await discard(check.providersDir);
    throw linkError(check, links);
  }
  if (packages.length === 0) return;
  const references = await provisionedPackages(check.toolchain, check.logger);
  const clock = await fileSystemNow(check.providersDir);
  const verified = new Map<string, Verified>();
  // All at once: reading one file overlaps hashing another, and the init lock is held meanwhile.
  const measured = await Promise.all(packages.map(({ dir }) => measure(dir, clock)));
  for (const [i, { place }] of packages.entries()) {
    const provisioned = references.get(packageKey(place));
    const { content, trusted } = measured[i]!;
    if (!provisioned) {
      check.logger.info({ provider: packageName(place) }, "terraform provider not from a provisioned mirror: held to what init installed");
      const found = content.irregular.map((file) => ({ file, what: "is not a regular file" }));
      if (found.length > 0) {
        await discard(check.providersDir);
        throw await integrityError({ check, place, found });
      }
      verified.set(packageKey(place), { expected: [content.files], ...(trusted ? { trusted } : {}) });
      continue;
    }
    const expected = filesOf(provisioned);
    const found = differences(content, expected);
    if (found.length > 0) {
      const cacheEntry = join(check.pluginCacheDir, ...place.segments);
      await rm(cacheEntry, { recursive: true, force: true });
      await discard(check.providersDir);
      throw await integrityError({ check, place, found, provisioned, cacheEntry, pluginCacheDir: check.pluginCacheDir });
    }
    verified.set(packageKey(place), { expected, ...(trusted ? { trusted } : {}) });
  }
  verifiedStacks.set(check.providersDir, verified);
  check.logger.debug({ packages: packages.length, durationMs: Math.round(performance.now() - started) }, "terraform providers verified after init");
}

/**
 * Before a plan whose init is skipped: true when every package in the stack's providers folder is still what it
 * must be (by its state where that can vouch for it, else by hashing it again); false when this process cannot
 * tell (a package no provisioned mirror holds that it did not see installed): then init runs. Throws
 * ProviderIntegrityError when a package differs, having removed the stack's providers (so the next run inits).
 */
export async function providersStillVerified(check: ProviderCheck): Promise<boolean> {
  const started = performance.now();
  const known = verifiedStacks.get(check.providersDir);
  const { packages, links } = await stackPackages(check.providersDir);
  if (links.length > 0) {
    await discard(check.providersDir);
    throw linkError(check, links);
  }
  const verified = new Map<string, Verified>();
  const toHash: { place: PackagePlace; dir: string; expected: Expected; provisioned?: readonly TerraformProviderPackage[] }[] = [];
  for (const { place, dir } of packages) {
    const key = packageKey(place);
    const seen = known?.get(key);
    if (seen?.trusted && sameListing(seen.trusted, await listing(dir))) {
      verified.set(key, seen);
      continue;
    }
    const provisioned = (await provisionedPackages(check.toolchain, check.logger)).get(key);
    const expected = provisioned ? filesOf(provisioned) : seen?.expected;
    if (!expected) {
      check.logger.debug({ provider: packageName(place) }, "terraform provider not from a provisioned mirror and not seen installed: running init");
      return false;
    }
    toHash.push({ place, dir, expected, ...(provisioned ? { provisioned } : {}) });
  }
  if (toHash.length > 0) {
    const clock = await fileSystemNow(check.providersDir);
    const measured = await Promise.all(toHash.map(({ dir }) => measure(dir, clock)));
    for (const [i, { place, expected, provisioned }] of toHash.entries()) {
      const { content, trusted } = measured[i]!;
      const found = differences(content, expected);
      if (found.length > 0) {
        await discard(check.providersDir);
        throw await integrityError({ check, place, found, ...(provisioned ? { provisioned } : {}) });
      }
      verified.set(packageKey(place), { expected, ...(trusted ? { trusted } : {}) });
    }
  }
  verifiedStacks.set(check.providersDir, verified);
  check.logger.debug({ packages: packages.length, hashed: toHash.length, durationMs: Math.round(performance.now() - started) }, "terraform providers verified before a plan");
  return true;
}
