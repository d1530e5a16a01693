// driftwatch-sandbox, the launcher every process tree of repository code starts through (src/sandbox/): the one
// DRIFTWATCH_SANDBOX names (an operator's own build of the same sources), else the one the npm package ships for
// this platform (prebuilt/, built by `npm pack` from the same sources: prebuild-sandbox.ts), else built from
// tools/sandbox (a small Go program on github.com/landlock-lsm/go-landlock) into the cache, keyed by its sources.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { cacheKey, ensureCacheEntry, fileKeyParts } from "./cache.ts";
import { BuildError, ProvisionError } from "./errors.ts";
import { exec } from "./exec.ts";
import { goBuild } from "./go.ts";
import type { Tool } from "./manifest.ts";
import { repoRoot } from "./paths.ts";
import type { ToolSearch } from "./pulumi.ts";

/** The launcher's cache entry for its current sources (go.mod, go.sum, every .go file), and that entry's key. */
export function sandboxEntry(tools: string, version: string, goModule: string): { moduleDir: string; root: string; bin: string; key: string } {
  const moduleDir = resolve(repoRoot, goModule);
  const sources = readdirSync(moduleDir)
    .filter((file) => file === "go.mod" || file === "go.sum" || file.endsWith(".go"))
    .sort();
  const key = cacheKey([version, `${process.platform}-${process.arch}`, ...sources.flatMap((file) => [file, ...fileKeyParts([join(moduleDir, file)])])]);
  const root = join(tools, `sandbox-${version}-${key}`);
  return { moduleDir, root, bin: join(root, "bin", "driftwatch-sandbox"), key };
}

/**
 * The package's prebuilt launcher for this platform: `bin` beside a `.key` file holding the cache key of the sources
 * it was built from. Used only while that key is the current sources' (a checkout edited since is built instead).
 */
export function prebuiltSandbox(): { bin: string; keyFile: string } {
  const bin = join(repoRoot, "prebuilt", `driftwatch-sandbox-${process.platform}-${process.arch}`);
  return { bin, keyFile: `${bin}.key` };
}

function matchingPrebuilt(key: string): string | undefined {
  const { bin, keyFile } = prebuiltSandbox();
  if (!existsSync(bin) || !existsSync(keyFile)) return undefined;
  return readFileSync(keyFile, "utf8").trim() === key ? bin : undefined;
}

/** `probe` answers with JSON: the launcher runs on this machine. */
export async function checkRuns(bin: string, origin: string): Promise<void> {
  const result = await exec(bin, ["probe"]);
  if (result.code !== 0 || !result.stdout.trim().startsWith("{")) {
    throw new BuildError("driftwatch-sandbox", "probe", `${origin} ${bin} does not run: ${result.output.trim()}`);
  }
}

export async function provisionSandbox(search: ToolSearch): Promise<Tool> {
  const pin = search.versions.sandbox;
  const named = search.env.DRIFTWATCH_SANDBOX;
  if (named) {
    await checkRuns(named, "DRIFTWATCH_SANDBOX=").catch((error: unknown) => {
      throw new ProvisionError("driftwatch-sandbox", (error as Error).message);
    });
    search.progress.info(`driftwatch-sandbox: using ${named} (env)`);
    return { bin: named, version: pin.version, origin: "env" };
  }
  const { moduleDir, root, bin, key } = sandboxEntry(search.tools, pin.version, pin.goModule);
  const prebuilt = existsSync(bin) ? undefined : matchingPrebuilt(key);
  if (prebuilt) return { bin: prebuilt, version: pin.version, origin: "installed" };
  const cached = await ensureCacheEntry(root, async (staging) => {
    const out = join(staging, "bin", "driftwatch-sandbox");
    await search.progress.timed(`building driftwatch-sandbox ${pin.version} (go-landlock)`, () => goBuild({ tool: "driftwatch-sandbox", moduleDir, pkg: pin.package, out }));
    await checkRuns(out, "the built");
  });
  if (cached) search.progress.info(`driftwatch-sandbox ${pin.version}: cached in ${root}`);
  return { bin, version: pin.version, origin: "built" };
}
