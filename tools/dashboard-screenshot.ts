// Makes docs/dashboard.png, the README's picture: the embedded demo after a converge and a hand edit (one Pulumi
// and one OpenTofu stack drifted), its dashboard shot in the toolchain's headless Chromium. Run with the
// toolchain's environment, as the tests are: `npm run provision`, then
//   DRIFTWATCH_TOOLCHAIN=~/.cache/driftwatch/tools/toolchain.json node tools/dashboard-screenshot.ts
import { spawnSync } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { readToolchainManifest, toolchainEnv } from "../src/toolchain/manifest.ts";
import { manifestPath, repoRoot } from "../src/toolchain/paths.ts";
import { launchChromium } from "../test/support/chromium.ts";
import { demoCopy } from "../test/support/demo.ts";
import { startServeChild, stopServeChild } from "../test/support/serve-process.ts";

const cli = join(repoRoot, "src", "cli", "main.ts");
const toolchainFile = process.env.DRIFTWATCH_TOOLCHAIN ?? manifestPath();
const env = { ...toolchainEnv(readToolchainManifest(toolchainFile)), DRIFTWATCH_TOOLCHAIN: toolchainFile, KUBECONFIG: "", AWS_PROFILE: "", AWS_ACCESS_KEY_ID: "", AWS_WEB_IDENTITY_TOKEN_FILE: "" };

function driftwatch(config: string, ...args: string[]): void {
  const run = spawnSync(process.execPath, [cli, "--config", config, ...args], { env, encoding: "utf8" });
  if (run.status !== 0 && run.status !== 2) throw new Error(`driftwatch ${args.join(" ")} exited ${run.status}: ${run.stderr}`);
}

const dir = mkdtempSync(join(tmpdir(), "driftwatch-screenshot-"));
try {
  const config = demoCopy(dir);
  driftwatch(config, "check");
  driftwatch(config, "converge", "demo-files");
  driftwatch(config, "converge", "demo-files-tf");
  appendFileSync(join(dir, "data", "world", "demo-files", "motd.txt"), "edited by hand\n");
  rmSync(join(dir, "data", "world", "demo-files-tf", "settings.ini"));
  driftwatch(config, "check");
  // The service shows what the checks above recorded (no check of its own at start), on any free port.
  const doc = parseDocument(readFileSync(config, "utf8"));
  doc.setIn(["service", "runOnStart"], false);
  doc.setIn(["service", "http", "port"], 0);
  writeFileSync(config, doc.toString());
  const service = await startServeChild(config, { ...env, DRIFTWATCH_SERVICE_FLAGS: "off" });
  try {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 600 } });
      await page.goto(service.url);
      await page.waitForSelector("table");
      await page.screenshot({ path: join(repoRoot, "docs", "dashboard.png"), fullPage: true });
    } finally {
      await browser.close();
    }
  } finally {
    await stopServeChild(service);
  }
  process.stdout.write(`wrote ${join(repoRoot, "docs", "dashboard.png")}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
