// The HTML fleet report in a real headless Chromium (the Debian package, driven by playwright-core), opened from a
// file as someone would open a downloaded artifact: it loads without a console error and without a single
// request besides the file itself, each plot draws one mark per datum and is an image with an accessible name,
// and hostile text from the report stays text. A screenshot is kept in test-artifacts/report.png.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeReport } from "../src/reports/compute.ts";
import { renderReportHtml } from "../src/reports/render-html.ts";
import { MAX_TIMELINE_ROWS, timelineRows } from "../src/reports/svg.ts";
import type { FleetReport } from "../src/reports/model.ts";
import { repoRoot } from "../src/toolchain/paths.ts";
import { fleetReport, HOSTILE_STACK, presentVerdicts, sampleReport, spanCount } from "./support/report-sample.ts";
import { recordSampleFleet, SAMPLE_FROM, SAMPLE_TO } from "./support/sample-fleet.ts";
import { launchChromium } from "./support/chromium.ts";
import { tempDir } from "./support/tempdir.ts";

const artifacts = join(repoRoot, "test-artifacts");

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

interface Opened {
  page: Page;
  /** Console errors and uncaught page errors. */
  errors: string[];
  /** Every request besides the report file itself (each one aborted). */
  requests: string[];
}

/** Writes the report's HTML to a file and opens it, recording errors and blocking and recording any other request. */
async function open(report: FleetReport): Promise<Opened> {
  const file = join(tempDir(), "report.html");
  writeFileSync(file, renderReportHtml(report, { baseUrl: "https://driftwatch.example.com" }));
  const url = pathToFileURL(file).href;
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  // Chromium routes file:// loads too; anything else (a font, an image, a prefetch) is aborted and recorded.
  page.on("request", (request) => {
    if (request.url() !== url) requests.push(request.url());
  });
  await context.route("**/*", (route) => (route.request().url() === url ? route.continue() : route.abort()));
  await page.goto(url, { waitUntil: "load" });
  return { page, errors, requests };
}

describe("the HTML report in a browser", () => {
  it("opens from a file with no error and no request, draws every datum, and names every plot", async () => {
    const report = sampleReport();
    const { page, errors, requests } = await open(report);
    try {
      expect(await page.title()).toBe('Driftwatch fleet report: weekly <ops> & "platform"');

      expect(await page.locator("#plot-verdicts path.area").count()).toBe(presentVerdicts(report.series.verdicts).length);
      expect(await page.locator("#plot-time-in-drift rect.bar").count()).toBe(report.series.timeInDrift.length);
      expect(await page.locator("#plot-timelines rect.span").count()).toBe(spanCount(report.series.timelines));

      for (const name of ["Stacks per verdict over the period", "Time in drift of the episodes resolved in the period", "Each stack's verdict over the period"]) {
        expect(await page.getByRole("img", { name }).count(), name).toBe(1);
      }
      for (const id of ["plot-verdicts", "plot-time-in-drift", "plot-timelines"]) {
        const box = await page.locator(`#${id} svg`).boundingBox();
        expect(box?.width, id).toBeGreaterThan(300);
        expect(box?.height, id).toBeGreaterThan(50);
      }

      // The hostile stack name is text in the table, not markup in the page.
      expect(await page.locator("script").count()).toBe(0);
      const row = page.locator("#posture-stacks").getByRole("row", { name: /net-<script>/ });
      expect(await row.count()).toBe(1);
      expect(await row.getByRole("link").first().textContent()).toBe(HOSTILE_STACK);
      expect(await page.getByRole("link", { name: "#104" }).getAttribute("href")).toBe("https://driftwatch.example.com/audit#audit-104");

      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, "report.png"), fullPage: true });
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
    } finally {
      await page.context().close();
    }
  });

  it("draws a report computed from a recorded history: one mark per verdict, bin and span", async () => {
    const { config, store } = await recordSampleFleet(tempDir());
    const report = await computeReport({ store, stacks: config.stacks, from: SAMPLE_FROM, to: SAMPLE_TO, generatedAt: SAMPLE_TO });
    await store.close();
    const { page, errors, requests } = await open(report);
    try {
      // in sync, drifted, drifted+pending, error and never checked occur; pending never does.
      expect(await page.locator("#plot-verdicts path.area").count()).toBe(5);
      expect(await page.locator("#plot-verdicts path.area[data-verdict=pending]").count()).toBe(0);
      expect(await page.locator("#plot-time-in-drift rect.bar").count()).toBe(7);
      expect(await page.locator('#plot-time-in-drift rect.bar[data-count="1"]').count()).toBe(2);
      // app: drifted, in sync, drifted, in sync; cluster: never checked; net: never checked, error;
      // web: never checked, drifted+pending, error, drifted+pending.
      expect(await page.locator("#plot-timelines rect.span").count()).toBe(11);
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
    } finally {
      await page.context().close();
    }
  });

  it(`keeps a 1,000-stack report to ${MAX_TIMELINE_ROWS} timeline rows and lists every stack`, async () => {
    const report = fleetReport(1000);
    const { page, errors, requests } = await open(report);
    try {
      expect(await page.locator("#plot-timelines rect.span").count()).toBe(spanCount(timelineRows(report.series.timelines)));
      expect(await page.locator("#plot-timelines g.row").count()).toBe(MAX_TIMELINE_ROWS);
      expect(await page.locator("#plot-timelines").textContent()).toContain("…and 800 more stacks");
      expect(await page.locator("#posture-stacks tbody tr").count()).toBe(1000);
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
    } finally {
      await page.context().close();
    }
  });
});
