// Makes docs/dashboard.png, the README's picture: the embedded demo after a converge and a hand edit (one Pulumi
// and one OpenTofu stack drifted), its dashboard shot in the toolchain's headless Chromium. Run with the
// toolchain's environment, as the tests are: `npm run provision`, then
//   DRIFTWATCH_TOOLCHAIN=~/.cache/driftwatch/tools/toolchain.json node tools/dashboard-screenshot.ts
import { spawn, spawnSync } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { readToolchainManifest, toolchainEnv } from "../src/toolchain/manifest.ts";
import { manifestPath, repoRoot } from "../src/toolchain/paths.ts";
import { launchChromium } from "../test/support/chromium.ts";
import { demoCopy } from "../test/support/demo.ts";

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
  // The service shows what the checks above recorded: no check of its own at start.
  const doc = parseDocument(readFileSync(config, "utf8"));
  doc.setIn(["service", "runOnStart"], false);
  writeFileSync(config, doc.toString());
  const served = spawn(process.execPath, [cli, "--config", config, "--log-level", "error", "serve", "--port", "0"], { env: { ...env, DRIFTWATCH_SERVICE_FLAGS: "off" }, stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise((resolve) => served.once("exit", resolve));
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    served.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const found = /dashboard: (\S+)/.exec(out);
      if (found) resolve(found[1]!);
    });
    served.on("exit", (code) => reject(new Error(`serve exited with ${code}`)));
  });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 600 } });
    await page.goto(url);
    await page.waitForSelector("table");
    await page.screenshot({ path: join(repoRoot, "docs", "dashboard.png"), fullPage: true });
  } finally {
    await browser.close();
    served.kill("SIGTERM");
    await exited;
  }
  process.stdout.write(`wrote ${join(repoRoot, "docs", "dashboard.png")}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
