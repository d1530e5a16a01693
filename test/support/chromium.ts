// The headless Chromium of the toolchain (the Debian package), driven by playwright-core, for the browser tests.
import { chromium, type Browser } from "playwright-core";
import { readToolchainManifest } from "../../src/toolchain/manifest.ts";
import { manifestPath } from "../../src/toolchain/paths.ts";

export async function launchChromium(): Promise<Browser> {
  const toolchain = readToolchainManifest(process.env.DRIFTWATCH_TOOLCHAIN ?? manifestPath());
  if (!toolchain.chromium) throw new Error("no chromium in the toolchain: run `npm run provision` (it installs the Debian package)");
  return chromium.launch({
    executablePath: toolchain.chromium.bin,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}
