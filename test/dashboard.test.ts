// The dashboard in a real headless Chromium (the Debian package, driven by playwright-core): the stack table
// lists the stacks with their status, a drifted Pulumi stack's page shows the property that drifted with its
// desired and actual values, the page refreshes itself, and a screenshot is kept in test-artifacts/. On a fleet
// whose history is recorded straight into the store: the summary counts it right, the filter form and the column
// headers narrow and order the table (and the refresh leaves a half-typed filter alone), the navigation reaches
// every page, a stored report opens under its CSP, and no page logs an error.
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type Page } from "playwright-core";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load.ts";
import { startService, type Service } from "../src/service/serve.ts";
import { readToolchainManifest } from "../src/toolchain/manifest.ts";
import { manifestPath, repoRoot } from "../src/toolchain/paths.ts";
import { createProgramRepo } from "./support/git.ts";
import { drift, pending, recordHistory } from "./support/history.ts";
import { until } from "./support/processes.ts";
import { pulumiStackYaml } from "./support/pulumi.ts";
import { launchChromium } from "./support/chromium.ts";
import { sharedCacheDir, tempDir } from "./support/tempdir.ts";
import { engineTimeout } from "./support/timeouts.ts";

const toolchain = readToolchainManifest(process.env.DRIFTWATCH_TOOLCHAIN ?? manifestPath());
const artifacts = join(repoRoot, "test-artifacts");
/** Waits for what the page will show (after its own refresh, or a navigation), on a machine that may be busy. */
const PATIENT = { timeout: 60_000, interval: 250 };

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
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
        ...pulumiStackYaml({ name: "web-files", repo, path: "stacks/app", stack: "dev", passphrase: "dashboard-test", world }),
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
    await service.scheduler.trigger("web-files", "api");
    await until(async () => (await service!.runner.store.listRuns({ stack: "web-files" })).length === 2, 120_000, "the triggered check recorded");
    // No reload: the page fetches itself again every few seconds.
    await expect.poll(() => row.textContent(), PATIENT).toContain("drifted");

    // The table's link (the fleet summary links the stack too, as the one with the oldest open episode).
    await row.getByRole("link", { name: "web-files" }).click();
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

/** Collects what the browser reports as errors (console errors, CSP violations, uncaught exceptions) on `page`. */
function browserErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`${page.url()}: ${message.text()}`);
  });
  page.on("pageerror", (error) => errors.push(`${page.url()}: ${error.message}`));
  return errors;
}

describe("the dashboard's fleet pages in a browser", () => {
  let service: Service | undefined;
  afterAll(async () => {
    await service?.stop();
  });

  it("summarises the fleet, filters and sorts the table, and leads to the audit log, approvals and reports", async () => {
    const root = tempDir();
    const repo = createProgramRepo(join(root, "repo"));
    const file = join(root, "driftwatch.yaml");
    const stack = (name: string, engine: "pulumi" | "terraform") =>
      engine === "pulumi" ? `  - { name: ${name}, engine: pulumi, source: { repo: ${repo}, path: stacks/app }, pulumi: { stack: dev } }` : `  - { name: ${name}, engine: terraform, source: { repo: ${repo}, path: stacks/app } }`;
    writeFileSync(
      file,
      [
        `dataDir: ${join(root, "data")}`,
        `cacheDir: ${sharedCacheDir}`,
        // Once a year: nothing runs by itself; the history below is all there is.
        'service: { runOnStart: false, schedule: "0 0 1 1 *", gitPollSeconds: 0, jitterSeconds: 0, http: { port: 0 } }',
        "stacks:",
        stack("alpha-web", "pulumi"),
        stack("beta-db", "terraform"),
        stack("gamma-queue", "terraform"),
        stack("delta-cache", "pulumi"),
        stack("epsilon-dns", "terraform"),
        stack("zeta-old", "pulumi"),
        stack("eta-new", "pulumi"),
        "",
      ].join("\n"),
    );
    const config = loadConfig(file, { env: process.env });
    service = await startService({ config, toolchain, logger: pino({ level: "warn" }), env: process.env });
    const store = service.runner.store;
    const byName = new Map(config.stacks.map((s) => [s.name, s]));
    const now = Date.now();
    const ago = (hours: number) => new Date(now - hours * 3_600_000).toISOString();
    const changed = [drift("local_file.motd", "local_file", "content")];
    // Open episodes (from the end of the run that found the drift, 30 s after it started): beta-db's about 3 days old, gamma-queue's 10 hours, alpha-web's 2 hours.
    const [, alphaDrift] = await recordHistory(store, byName.get("alpha-web")!, [{ startedAt: ago(5) }, { startedAt: ago(2), changes: changed }]);
    await recordHistory(store, byName.get("beta-db")!, [{ startedAt: ago(96) }, { startedAt: ago(72), changes: changed }, { startedAt: ago(1), changes: changed }]);
    await recordHistory(store, byName.get("gamma-queue")!, [{ startedAt: ago(10), changes: [...changed, pending("local_file.new", "local_file")] }]);
    await recordHistory(store, byName.get("delta-cache")!, [{ startedAt: ago(0.5) }]);
    await recordHistory(store, byName.get("epsilon-dns")!, [{ startedAt: ago(0.3), error: { kind: "EngineError", message: "the provider said no" } }]);
    // Checked two years ago on a yearly schedule: two ticks missed, stale.
    await recordHistory(store, byName.get("zeta-old")!, [{ startedAt: ago(2 * 366 * 24) }]);
    expect(await Promise.all(["alpha-web", "beta-db", "gamma-queue", "delta-cache"].map(async (s) => (await store.openEpisode(s)) !== undefined))).toEqual([true, true, true, false]);
    await store.requestApproval({ id: "apv-alpha-1", stack: "alpha-web", runId: alphaDrift!, commit: "0123456789abcdef0123456789abcdef01234567", planFingerprint: "fp-1", plan: changed, requestedAt: ago(1.9), expiresAt: new Date(now + 86_400_000).toISOString() });
    const auditId = await store.appendAudit({ at: ago(70), stack: "beta-db", runId: "r-beta", triggeredBy: "schedule", actor: "driftwatch", mode: "auto", planChanges: 12, guards: [{ guard: "maxResources", passed: false, reason: "the plan changes 12 resources; at most 10 allowed" }], decision: "refused", durationMs: 5 });
    // A produced report: a record and its self-contained file.
    const reportId = "weekly-20261123T0900Z";
    await store.recordReport({ id: reportId, name: "weekly", tickAt: ago(3), periodFrom: ago(171), periodTo: ago(3), createdAt: ago(3), digest: { period: { from: ago(171), to: ago(3) }, posture: { stacks: 7, byVerdict: { "in-sync": 2, drifted: 2, pending: 0, "drifted+pending": 1, error: 1, "never-checked": 1 }, inSyncShare: 2 / 7, openEpisodes: 3, awaitingApproval: 1, stale: 1 }, episodes: { opened: 3, resolved: 0, stillOpen: 3 }, checks: { runs: 9, errors: 1 }, remediation: { decisions: 1, applied: 0, refused: 1 }, topOffenders: [] } });
    mkdirSync(join(config.dataDir, "reports"), { recursive: true });
    writeFileSync(join(config.dataDir, "reports", `${reportId}.html`), '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Weekly drift report</title><style>h1 { color: #a40e26; }</style></head><body><h1>Weekly drift report</h1></body></html>');

    const page = await browser.newPage();
    const errors = browserErrors(page);
    await page.goto(service.url);

    // The summary: stacks per verdict, stale, open episodes and the oldest, approvals waiting, the plot.
    const count = (status: string) => page.locator(`#fleet-summary [data-status="${status}"] .count`).textContent();
    const expected = { "in-sync": "2", drifted: "2", pending: "0", "drifted+pending": "1", error: "1", "never-checked": "1", stale: "1" };
    await expect.poll(async () => Object.fromEntries(await Promise.all(Object.keys(expected).map(async (s) => [s, await count(s)]))), PATIENT).toEqual(expected);
    const summary = page.locator("#fleet-summary");
    expect(await summary.textContent()).toMatch(/3 drift episodes are open; the oldest, of beta-db, for 2d 23h/);
    expect(await summary.getByRole("link", { name: "beta-db" }).getAttribute("href")).toBe("/stacks/beta-db");
    expect(await summary.getByRole("link", { name: "1 remediation waits for approval" }).getAttribute("href")).toBe("/approvals");
    expect(await summary.locator("svg[role=img] path.area").count()).toBeGreaterThanOrEqual(3);
    expect(await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Stacks" }).getAttribute("aria-current")).toBe("page");

    // The filter form narrows the table: only the drifted stacks, then only those whose name has "web".
    const rows = () => page.locator("#stack-table tbody tr[data-stack]").evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-stack")));
    expect(await rows()).toEqual(["alpha-web", "beta-db", "delta-cache", "epsilon-dns", "eta-new", "gamma-queue", "zeta-old"]);
    const form = page.getByRole("form", { name: "Filter and sort stacks" });
    await form.getByLabel("Verdict").selectOption("drifted");
    await form.getByRole("button", { name: "Apply" }).click();
    await page.waitForURL(/verdict=drifted/, PATIENT);
    await expect.poll(rows, PATIENT).toEqual(["alpha-web", "beta-db"]);
    await form.getByLabel("Engine").selectOption("terraform");
    await form.getByRole("button", { name: "Apply" }).click();
    await page.waitForURL(/engine=terraform/, PATIENT);
    await expect.poll(rows, PATIENT).toEqual(["beta-db"]);
    await form.getByLabel("Engine").selectOption("");
    await form.getByLabel("Name contains").fill("WEB");
    await form.getByRole("button", { name: "Apply" }).click();
    await page.waitForURL(/q=WEB/, PATIENT);
    await expect.poll(rows, PATIENT).toEqual(["alpha-web"]);
    // Kept by the refresh, which fetches the page's own URL.
    expect(await form.getByLabel("Verdict").inputValue()).toBe("drifted");

    // The column headers sort: episode age, oldest first, then the other way round; the stacks without one last.
    await page.getByRole("link", { name: "Clear" }).click();
    await page.waitForURL(service.url, PATIENT);
    const ageHeader = page.getByRole("columnheader", { name: "Open episode" });
    await ageHeader.getByRole("link").click();
    await page.waitForURL(/sort=age/, PATIENT);
    await expect.poll(rows, PATIENT).toEqual(["beta-db", "gamma-queue", "alpha-web", "delta-cache", "epsilon-dns", "eta-new", "zeta-old"]);
    expect(await ageHeader.getAttribute("aria-sort")).toBe("descending");
    await ageHeader.getByRole("link").click();
    await page.waitForURL(/sort=age&order=asc/, PATIENT);
    await expect.poll(rows, PATIENT).toEqual(["alpha-web", "gamma-queue", "beta-db", "delta-cache", "epsilon-dns", "eta-new", "zeta-old"]);
    expect(await ageHeader.getAttribute("aria-sort")).toBe("ascending");
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, "dashboard-fleet.png"), fullPage: true });

    // A filter half typed survives the refresh that brings news: delta-cache drifts while someone types.
    const search = form.getByLabel("Name contains");
    await search.click();
    await search.pressSequentially("del");
    await recordHistory(store, byName.get("delta-cache")!, [{ startedAt: new Date().toISOString(), changes: changed }]);
    await expect.poll(() => page.locator('#stack-table tr[data-stack="delta-cache"]').textContent(), PATIENT).toContain("drifted");
    await expect.poll(() => count("drifted"), PATIENT).toBe("3");
    expect(await search.inputValue()).toBe("del");
    expect(await search.evaluate((input) => input.ownerDocument.activeElement === input)).toBe(true);

    // The navigation reaches the other pages, each marked as the current one.
    const navTo = async (name: string, path: string, heading: string) => {
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name }).click();
      await page.waitForURL(new URL(path, service!.url).href, PATIENT);
      await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent(), PATIENT).toBe(heading);
      expect(await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name }).getAttribute("aria-current")).toBe("page");
    };
    await navTo("Audit log", "/audit", "Audit log");
    const entry = page.locator(`#audit-${auditId}`);
    expect(await entry.textContent()).toContain("the plan changes 12 resources; at most 10 allowed");
    expect(await entry.textContent()).toContain("refused");
    await page.screenshot({ path: join(artifacts, "dashboard-audit.png"), fullPage: true });

    await navTo("Approvals", "/approvals", "Approvals");
    const waiting = page.locator("tr.awaiting");
    expect(await waiting.count()).toBe(1);
    expect(await waiting.textContent()).toContain("driftwatch approve apv-alpha-1");
    await page.screenshot({ path: join(artifacts, "dashboard-approvals.png"), fullPage: true });

    await navTo("Reports", "/reports", "Reports");
    await page.screenshot({ path: join(artifacts, "dashboard-reports.png"), fullPage: true });
    const report = page.getByRole("link", { name: "weekly" });
    const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith(`/reports/${reportId}`), PATIENT), report.click()]);
    expect(response.headers()["content-security-policy"]).toBe("default-src 'none'; style-src 'unsafe-inline'; img-src data:");
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent(), PATIENT).toBe("Weekly drift report");
    // Its inline style applies under that policy.
    expect(await page.getByRole("heading", { level: 1 }).evaluate((h1) => h1.ownerDocument.defaultView?.getComputedStyle(h1).color)).toBe("rgb(164, 14, 38)");

    // A stack's page leads to its decisions and approvals.
    await page.goto(new URL("/stacks/alpha-web", service.url).href);
    expect(await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Stacks" }).getAttribute("aria-current")).toBe("true");
    expect(await page.locator("main").textContent()).toContain("driftwatch approve apv-alpha-1");
    await page.getByRole("link", { name: "approvals", exact: true }).click();
    await page.waitForURL(/\/approvals\?stack=alpha-web$/, PATIENT);
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent(), PATIENT).toBe("Approvals of alpha-web");
    await page.goto(new URL("/stacks/beta-db", service.url).href);
    await page.getByRole("link", { name: "audit log entries" }).click();
    await page.waitForURL(/\/audit\?stack=beta-db$/, PATIENT);
    expect(await page.locator(`#audit-${auditId}`).count()).toBe(1);

    // Each page lived through at least one refresh above (the polls); none logged an error.
    expect(errors).toEqual([]);
  }, 300_000);
});
