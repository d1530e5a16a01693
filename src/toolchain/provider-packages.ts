// Provider packages as OpenTofu and Terraform lay them out unpacked, in a filesystem mirror, a plugin cache or a
// TF_DATA_DIR: <hostname>/<namespace>/<type>/<version>/<os_arch>/, each file's SHA-256. Provisioning records what
// it laid out in its mirrors (toolchain manifest, terraform.providerPackages); the Terraform engine checks a
// stack's providers against that record before a plan runs them (src/engines/terraform/provider-integrity.ts).
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import { ProvisionError } from "./errors.ts";
import type { TerraformProviderPackage } from "./manifest.ts";

/** hostname, namespace, type, version, os_arch: a package is the directory that many levels down. */
export const PACKAGE_DEPTH = 5;

/** Where one package sits under a providers tree. */
export interface PackagePlace {
  /** "registry.opentofu.org/hashicorp/random": the provider's address. */
  source: string;
  version: string;
  /** OS_ARCH: "linux_amd64". */
  platform: string;
  /** The five path segments, hostname first. */
  segments: readonly string[];
}

export function packagePlace(segments: readonly string[]): PackagePlace {
  const [hostname, namespace, type, version, platform] = segments as [string, string, string, string, string];
  return { source: `${hostname}/${namespace}/${type}`, version, platform, segments };
}

/** "registry.opentofu.org/hashicorp/random 3.9.0 (linux_amd64)": how messages name a package. */
export function packageName(p: Pick<PackagePlace, "source" | "version" | "platform">): string {
  return `${p.source} ${p.version} (${p.platform})`;
}

export function packageKey(p: Pick<PackagePlace, "source" | "version" | "platform">): string {
  return `${p.source}/${p.version}/${p.platform}`;
}

/** The SHA-256 of a file's content, read in chunks (a provider is tens of MB). */
export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(path, { highWaterMark: 1 << 20 })
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("hex")));
  });
}

/**
 * The packages of a mirror: the directories PACKAGE_DEPTH levels below `root` (packed .zip archives, which sit
 * higher up, and anything else that is not a directory are left out).
 */
export async function mirrorPackagePlaces(root: string): Promise<PackagePlace[]> {
  const found: PackagePlace[] = [];
  async function walk(dir: string, segments: string[]): Promise<void> {
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      if (!entry.isDirectory()) continue;
      const next = [...segments, entry.name];
      if (next.length === PACKAGE_DEPTH) found.push(packagePlace(next));
      else await walk(join(dir, entry.name), next);
    }
  }
  await walk(root, []);
  return found;
}

async function hashOnce(path: string, seen: Map<string, string> | undefined): Promise<string> {
  if (!seen) return sha256File(path);
  const { dev, ino } = await lstat(path);
  const key = `${dev}:${ino}`;
  const known = seen.get(key);
  if (known !== undefined) return known;
  const sha256 = await sha256File(path);
  seen.set(key, sha256);
  return sha256;
}

/** A package's files by "/"-separated relative path, and whatever in it is neither a directory nor a regular file. */
export interface PackageFiles {
  files: Map<string, string>;
  irregular: string[];
}

/**
 * Every regular file under `dir` (recursively) with its SHA-256; links and other kinds are listed, never followed.
 * `seen` (by device and inode) hashes a file that several packages hard-link once, as in a mirror laid out for both
 * registries.
 */
export async function hashPackage(dir: string, seen?: Map<string, string>): Promise<PackageFiles> {
  const files = new Map<string, string>();
  const irregular: string[] = [];
  async function walk(at: string, prefix: string): Promise<void> {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(path, relative);
      else if (entry.isFile()) files.set(relative, await hashOnce(path, seen));
      else irregular.push(relative);
    }
  }
  if (!(await lstat(dir)).isDirectory()) return { files, irregular: ["."] };
  await walk(dir, "");
  return { files, irregular };
}

/** Every package laid out in the unpacked mirror at `mirror`, with the SHA-256 of each of its files. */
export async function mirrorPackages(mirror: string): Promise<TerraformProviderPackage[]> {
  const packages: TerraformProviderPackage[] = [];
  const seen = new Map<string, string>();
  for (const place of await mirrorPackagePlaces(mirror)) {
    const { files, irregular } = await hashPackage(join(mirror, ...place.segments), seen);
    // Provisioning lays out regular files only: anything else would be a package no stack's copy can be held to.
    if (irregular.length > 0) {
      throw new ProvisionError("terraform providers", `${packageName(place)} in ${mirror} holds something other than files and folders: ${irregular.join(", ")}`);
    }
    const sorted = Object.fromEntries([...files].sort(([a], [b]) => a.localeCompare(b)));
    packages.push({ source: place.source, version: place.version, platform: place.platform, mirror, files: sorted });
  }
  return packages;
}
