// `npm pack` (prepack): puts this platform's driftwatch-sandbox into prebuilt/, with the cache key of the sources
// it was built from, so that an installed Driftwatch runs without Go (sandbox.ts takes it while the key matches).
// Taken from the tool cache when it holds the build of these sources, built with Go otherwise.
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname } from "node:path";
import { goBuild } from "./go.ts";
import { toolsDir } from "./paths.ts";
import { checkRuns, prebuiltSandbox, sandboxEntry } from "./sandbox.ts";
import { loadPinnedVersions } from "./versions.ts";

/** Writes prebuilt/driftwatch-sandbox-<platform>-<arch> and its key file; says where it came from. */
export async function prebuildSandbox(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const pin = loadPinnedVersions().sandbox;
  const { moduleDir, bin: cached, key } = sandboxEntry(toolsDir(env), pin.version, pin.goModule);
  const { bin, keyFile } = prebuiltSandbox();
  rmSync(dirname(bin), { recursive: true, force: true });
  mkdirSync(dirname(bin), { recursive: true });
  const fromCache = existsSync(cached);
  if (fromCache) {
    copyFileSync(cached, bin);
    chmodSync(bin, 0o755);
  } else await goBuild({ tool: "driftwatch-sandbox", moduleDir, pkg: pin.package, out: bin, env });
  await checkRuns(bin, "the prebuilt");
  writeFileSync(keyFile, `${key}\n`);
  return `${basename(bin)} (${fromCache ? "from the tool cache" : "built"})`;
}
