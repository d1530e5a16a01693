import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (where package.json and toolchain/versions.json live). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The tool cache: DRIFTWATCH_TOOLS_DIR, else $XDG_CACHE_HOME/driftwatch/tools, else ~/.cache/driftwatch/tools. */
export function toolsDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DRIFTWATCH_TOOLS_DIR) return resolve(env.DRIFTWATCH_TOOLS_DIR);
  const cacheHome = env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(cacheHome, "driftwatch", "tools");
}

/** Where the provisioner writes what it produced; read by the CLI and the tests. */
export function manifestPath(tools: string = toolsDir()): string {
  return join(tools, "toolchain.json");
}
