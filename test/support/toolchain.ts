import { readToolchainManifest, toolchainEnv, type ToolchainManifest } from "../../src/toolchain/manifest.ts";
import { manifestPath } from "../../src/toolchain/paths.ts";

/** The toolchain `npm test` provisioned (DRIFTWATCH_TOOLCHAIN), or the default cache's. */
export function testToolchain(): { manifest: ToolchainManifest; env: NodeJS.ProcessEnv } {
  const manifest = readToolchainManifest(process.env.DRIFTWATCH_TOOLCHAIN ?? manifestPath());
  return { manifest, env: toolchainEnv(manifest) };
}
