// A stack's providers, out of reach of other stacks' inits.
//
// With a plugin cache, `init` leaves each provider in the stack's TF_DATA_DIR as a symlink into the shared cache
// (whose entry may itself be a symlink into a filesystem mirror). Another stack's init may replace that cache
// entry at any moment: OpenTofu and Terraform install a package by removing the entry and linking or unpacking it
// again, so a plan that starts a provider through the link in that instant gets ENOENT. Right after its init, and
// still under the init lock (nothing writes the cache meanwhile), each such link is replaced by a directory of the
// stack's own holding hard links to the package's files (copies where the cache lives on another filesystem).
// Whatever an init does to the cache's directory entries afterwards, the stack's plans run their own files. Those
// files are still the mirror's (a cache entry links to the mirror's package folder, and a hard link is the same
// file): provider-integrity.ts holds them to the checksums provisioning recorded, right after this and before plans.
import { copyFile, link, mkdir, readdir, readlink, realpath, rename, rm, stat, symlink, unlink } from "node:fs/promises";
import { join } from "node:path";

/** Hard-links (else copies) the regular files of the tree at `from` to `to`, which must not exist; links stay links. */
async function cloneTree(from: string, to: string): Promise<void> {
  await mkdir(to, { mode: 0o755 });
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) await cloneTree(source, target);
    else if (entry.isSymbolicLink()) await symlink(await readlink(source), target);
    else await link(source, target).catch(() => copyFile(source, target));
  }
}

/** Replaces the symlink `entry` by a private clone of what it points to, built in `staging` and moved in place. */
async function detach(entry: string, staging: string): Promise<void> {
  const target = await realpath(entry);
  const clone = join(staging, "package");
  await rm(clone, { recursive: true, force: true });
  if ((await stat(target)).isDirectory()) {
    await cloneTree(target, clone);
  } else {
    await link(target, clone).catch(() => copyFile(target, clone));
  }
  await unlink(entry);
  await rename(clone, entry);
}

/** Packages sit at providers/<hostname>/<namespace>/<type>/<version>/<os_arch>. */
const PACKAGE_DEPTH = 5;

/**
 * Makes every provider package under `providersDir` (TF_DATA_DIR/providers) the stack's own: each package that is
 * a symlink becomes a private directory with the same content. `staging` is a scratch directory on the same
 * filesystem as `providersDir`; it is removed afterwards. Returns how many packages were detached.
 */
export async function detachProviders(providersDir: string, staging: string): Promise<number> {
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true, mode: 0o700 });
  try {
    return await walk(providersDir, 1, staging);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function walk(dir: string, depth: number, staging: string): Promise<number> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [];
    throw error;
  });
  let detached = 0;
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (depth === PACKAGE_DEPTH) {
      if (entry.isSymbolicLink()) {
        await detach(path, staging);
        detached += 1;
      }
    } else if (entry.isDirectory()) {
      detached += await walk(path, depth + 1, staging);
    }
  }
  return detached;
}
