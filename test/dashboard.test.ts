// The dashboard in a real headless Chromium (the Debian package, driven by playwright-core): the stack table
// lists the stacks with their status, a drifted Pulumi stack's page shows the property that drifted with its
// desired and actual values, the page refreshes itself, and a screenshot is kept in test-artifacts/.
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load.ts";
import { startService, type Service } from "../src/service/serve.ts";
import { readToolchainManifest } from "../src/toolchain/manifest.ts";
import { manifestPath, repoRoot } from "../src/toolchain/paths.ts";
import { createProgramRepo } from "./support/git.ts";
import { until } from "./support/processes.ts";
import { sharedCacheDir, tempDir } from "./support/tempdir.ts";
import { engineTimeout } from "./support/timeouts.ts";

const toolchain = readToolchainManifest(process.env.DRIFTWATCH_TOOLCHAIN ?? manifestPath());
const artifacts = join(repoRoot, "test-artifacts");
/** Waits for what the page will show (after its own refresh, or a navigation), on a machine that may be busy. */
const PATIENT = { timeout: 60_000, interval: 250 };

let browser: Browser;
beforeAll(async () => {
  if (!toolchain.chromium) throw new Error("no chromium in the toolchain: run `npm run provision` (it installs the Debian package)");
  browser = await chromium.launch({
    executablePath: toolchain.chromium.bin,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
});
afterAll(async () => {
  await browser?.close();
});

describe("the dashboard in a browser", () => {
  let service: Service | undefined;
  afterAll(async () => {
    await service?.stop();
  });

  it("lists the stacks, shows a drifted property, and refreshes itself", async () => {
    const root = tempDir();
    const repo = createProgramRepo(join(root, "repo"));
    const world = join(root, "world");
    const file = join(root, "driftwatch.yaml");
    writeFileSync(
      file,
      [
        `dataDir: ${join(root, "data")}`,
        `cacheDir: ${sharedCacheDir}`,
        // Once a year: only the checks the test starts (a scheduled tick would race the converge below).
        'service: { runOnStart: false, schedule: "0 0 1 1 *", gitPollSeconds: 0, jitterSeconds: 0, http: { port: 0 } }',
        "stacks:",
        "  - name: web-files",
        "    engine: pulumi",
        `    source: { repo: ${repo}, path: stacks/app }`,
        "    pulumi: { stack: dev }",
        `    env: { PULUMI_CONFIG_PASSPHRASE: dashboard-test, DEMO_FILES_DIR: ${world} }`,
        "",
      ].join("\n"),
    );
    const config = loadConfig(file, { env: process.env });
    service = await startService({ config, toolchain, logger: pino({ level: "warn" }), env: process.env });
    const stack = config.stacks[0]!;
    expect((await service.runner.run(stack, "converge")).verdict).toBe("in-sync");

    const page = await browser.newPage();
    await page.goto(service.url);
    const row = page.getByRole("row", { name: /web-files/ });
    await expect.poll(() => row.textContent(), PATIENT).toContain("in-sync");

    appendFileSync(join(world, "motd.txt"), "edited by hand\n");
    service.scheduler.trigger("web-files", "api");
    await until(() => service!.runner.store.listRuns({ stack: "web-files" }).length === 2, 120_000, "the triggered check recorded");
    // No reload: the page fetches itself again every few seconds.
    await expect.poll(() => row.textContent(), PATIENT).toContain("drifted");

    await page.getByRole("link", { name: "web-files" }).click();
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent(), PATIENT).toContain("drifted");
    const diff = page.getByRole("row", { name: /content/ });
    await expect.poll(() => diff.textContent(), PATIENT).toContain("edited by hand");
    expect(await page.locator("svg[role=img] rect").count()).toBe(2); // the timeline: converge, then the drift
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, "dashboard-stack.png"), fullPage: true });
    await page.goto(service.url);
    await page.screenshot({ path: join(artifacts, "dashboard.png"), fullPage: true });
  }, engineTimeout(21));
});
