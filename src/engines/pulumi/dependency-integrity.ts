// Whether a cached node_modules tree is still exactly what `npm` installed. Every Pulumi stack with the same
// lockfile runs its program from the same cache entry, and a program (code from a watched repository) runs as the
// service's user: it could rewrite a file there that the next stack's program then executes. Two fingerprints:
//
// - content: every path, its kind and mode, and the SHA-256 of each file (a link's target). Taken when the entry
//   is installed and kept in its marker; checked the first time this process uses the entry.
// - state: every path with its inode, size, mode and change time (ctime, which no unprivileged process can set
//   back). Taken once the content is known good, kept in memory, and checked before every later use: any write,
//   replacement, chmod, addition or removal since changes it, at the cost of one lstat per file.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, readdir, readlink } from "node:fs/promises";
import { join, relative } from "node:path";
import pLimit from "p-limit";

/** Files hashed or stat'ed at once. */
const PARALLEL = 16;

/** Every path under `root` (itself included, as ""), sorted so that fingerprints do not depend on readdir order. */
async function pathsUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return ["", ...entries.map((entry) => relative(root, join(entry.parentPath, entry.name)))].sort();
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(path)
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("hex")));
  });
}

async function fingerprint(root: string, describe: (path: string) => Promise<string>): Promise<string> {
  const limit = pLimit(PARALLEL);
  const paths = await pathsUnder(root);
  const lines = await Promise.all(paths.map((path) => limit(async () => `${JSON.stringify(path)} ${await describe(join(root, path))}`)));
  return createHash("sha256").update(lines.join("\n")).digest("hex");
}

/** The content fingerprint of the tree at `root`. */
export function contentFingerprint(root: string): Promise<string> {
  return fingerprint(root, async (path) => {
    const stats = await lstat(path);
    const mode = (stats.mode & 0o7777).toString(8);
    if (stats.isSymbolicLink()) return `link ${mode} ${await readlink(path)}`;
    if (stats.isFile()) return `file ${mode} ${await sha256File(path)}`;
    return `${stats.isDirectory() ? "dir" : "other"} ${mode}`;
  });
}

/** The state fingerprint of the tree at `root`. */
export function stateFingerprint(root: string): Promise<string> {
  return fingerprint(root, async (path) => {
    const stats = await lstat(path, { bigint: true });
    return `${stats.ino} ${stats.mode} ${stats.size} ${stats.ctimeNs}`;
  });
}
