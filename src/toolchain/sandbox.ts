// driftwatch-sandbox, the launcher every process tree of repository code starts through (src/sandbox/): built from
// tools/sandbox (a small Go program on github.com/landlock-lsm/go-landlock) into the cache, keyed by its sources, or
// the one DRIFTWATCH_SANDBOX names (an operator's own build of the same sources).
import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { cacheKey, ensureCacheEntry, fileKeyParts } from "./cache.ts";
import { BuildError, ProvisionError } from "./errors.ts";
import { exec } from "./exec.ts";
import { goBuild } from "./go.ts";
import type { Tool } from "./manifest.ts";
import { repoRoot } from "./paths.ts";
import type { ToolSearch } from "./pulumi.ts";

/** The launcher's cache entry for its current sources (go.mod, go.sum, every .go file). */
export function sandboxEntry(tools: string, version: string, goModule: string): { moduleDir: string; root: string; bin: string } {
  const moduleDir = resolve(repoRoot, goModule);
  const sources = readdirSync(moduleDir)
    .filter((file) => file === "go.mod" || file === "go.sum" || file.endsWith(".go"))
    .sort();
  const key = cacheKey([version, `${process.platform}-${process.arch}`, ...sources.flatMap((file) => [file, ...fileKeyParts([join(moduleDir, file)])])]);
  const root = join(tools, `sandbox-${version}-${key}`);
  return { moduleDir, root, bin: join(root, "bin", "driftwatch-sandbox") };
}

/** `probe` answers with JSON: the launcher runs on this machine. */
async function checkRuns(bin: string, origin: string): Promise<void> {
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
  const { moduleDir, root, bin } = sandboxEntry(search.tools, pin.version, pin.goModule);
  const cached = await ensureCacheEntry(root, async (staging) => {
    const out = join(staging, "bin", "driftwatch-sandbox");
    await search.progress.timed(`building driftwatch-sandbox ${pin.version} (go-landlock)`, () => goBuild({ tool: "driftwatch-sandbox", moduleDir, pkg: pin.package, out }));
    await checkRuns(out, "the built");
  });
  if (cached) search.progress.info(`driftwatch-sandbox ${pin.version}: cached in ${root}`);
  return { bin, version: pin.version, origin: "built" };
}
