// The dashboard's routes through fastify (no port): the home page computes its summary from the real store and
// refuses filters it does not know; the audit, approvals and reports pages answer; a stored report's file is
// served only for an id of the expected shape that the store knows, with a CSP that lets it load nothing; the
// JSON twins list and show report records; and the read guard covers the new routes.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { DriftwatchConfig } from "../config/types.ts";
import { computeReport } from "../reports/compute.ts";
import { digestOf } from "../reports/digest.ts";
import type { Store } from "../store/api.ts";
import { openSqliteStore } from "../store/sqlite/index.ts";
import { drift, recordHistory } from "../../test/support/history.ts";
import { nowhereStacksConfig } from "../../test/support/nowhere-stacks.ts";
import { tempDir } from "../../test/support/tempdir.ts";
import { buildServer } from "./app.ts";
import { createMetrics } from "./metrics.ts";

const HOUR = 3_600_000;
let store: Store | undefined;
afterEach(() => store?.close());

async function setup(options: { token?: string } = {}) {
  const dir = tempDir();
  const config: DriftwatchConfig = nowhereStacksConfig(dir);
  if (options.token) {
    config.service.http.publicRead = false;
    config.service.http.apiToken = options.token;
  }
  const opened = await openSqliteStore(join(dir, "driftwatch.db"));
  store = opened;
  const [app, web] = config.stacks;
  const now = Date.now();
  const at = (hoursAgo: number) => new Date(now - hoursAgo * HOUR).toISOString();
  await recordHistory(opened, app!, [{ startedAt: at(30) }, { startedAt: at(20), changes: [drift("local_file.x", "local_file", "content")] }, { startedAt: at(0.5), changes: [drift("local_file.x", "local_file", "content")] }]);
  await recordHistory(opened, web!, [{ startedAt: at(0.5) }]);
  const server = buildServer({
    config,
    store: opened,
    metrics: createMetrics({ stacks: config.stacks, store: opened, logger: pino({ level: "silent" }) }),
    scheduler: { running: true, phases: () => ({}), trigger: () => "queued" },
    onPush: async () => [],
    approve: async () => {
      throw new Error("not in these tests");
    },
    logger: pino({ level: "silent" }),
  });
  return { dir, config, store: opened, server };
}

describe("dashboard routes", () => {
  it("refuses an API query parameter given twice with a 400 naming it", async () => {
    const { server } = await setup();
    for (const url of ["/api/runs?stack=app&stack=web", "/api/audit?limit=1&limit=2", "/api/reports?name=a&name=b", "/api/stacks?x=1&x=2"]) {
      const response = await server.inject({ url });
      expect(response.statusCode, url).toBe(400);
      expect(response.json(), url).toEqual({ error: `the query parameter '${new URL(url, "http://x").searchParams.keys().next().value}' may be given once` });
    }
    expect((await server.inject({ url: "/api/runs?stack=app&limit=2" })).statusCode).toBe(200);
  });

  it("serves the home page with the fleet summary and the filtered table; refuses unknown filters", async () => {
    const { server } = await setup();
    const home = await server.inject({ url: "/" });
    expect(home.statusCode).toBe(200);
    expect(home.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(home.body).toContain('data-status="drifted"><span class="count">1</span>');
    expect(home.body).toContain('data-status="in-sync"><span class="count">1</span>');
    expect(home.body).toContain('data-status="never-checked"><span class="count">1</span>');
    // Opened by the run 20 hours ago (when it finished, seconds later).
    expect(home.body).toMatch(/1 drift episode is open; the oldest, of <a href="\/stacks\/app">app<\/a>, for <strong>(19h 59m|20h)<\/strong>/);
    expect(home.body).toMatch(/<path class="area" data-verdict="drifted"/);

    const drifted = await server.inject({ url: "/?verdict=drifted&engine=&q=&sort=age&order=" });
    expect(drifted.statusCode).toBe(200);
    expect([...drifted.body.matchAll(/<tr data-stack="([^"]*)">/g)].map((m) => m[1])).toEqual(["app"]);

    for (const url of ["/?verdict=purple", "/?sort=size", "/?engine=chef", "/?order=sideways", "/?verdict=drifted&verdict=error"]) {
      const bad = await server.inject({ url });
      expect({ url, status: bad.statusCode }).toEqual({ url, status: 400 });
      expect(bad.headers["content-type"]).toBe("text/html; charset=utf-8");
      expect(bad.body).toContain("<h1>Bad request</h1>");
    }
  });

  it("serves the audit log, the approvals and the reports pages, each marked in the navigation", async () => {
    const { server, store } = await setup();
    await store.appendAudit({ at: new Date().toISOString(), stack: "web", runId: "r1", triggeredBy: "schedule", actor: "driftwatch", mode: "auto", guards: [], decision: "noop", durationMs: 1 });
    for (const [url, label] of [["/audit", "Audit log"], ["/audit?stack=web", "Audit log"], ["/approvals", "Approvals"], ["/approvals?stack=web", "Approvals"], ["/reports", "Reports"]] as const) {
      const res = await server.inject({ url });
      expect({ url, status: res.statusCode }).toEqual({ url, status: 200 });
      expect(res.body).toContain(`aria-current="page">${label}</a>`);
    }
    expect((await server.inject({ url: "/audit?stack=web" })).body).toMatch(/<tr id="audit-\d+">/);
    expect((await server.inject({ url: "/audit?stack=app" })).body).toContain("No remediation decision for app yet.");
    expect((await server.inject({ url: `/audit?stack=${"x".repeat(201)}` })).statusCode).toBe(400);
    expect((await server.inject({ url: "/stacks/nope" })).statusCode).toBe(404);
  });

  it("serves a stored report's file only for an id the store knows, with a CSP that loads nothing", async () => {
    const { server, store, config, dir } = await setup();
    const report = await computeReport({ store, stacks: config.stacks, from: new Date(Date.now() - 7 * 24 * HOUR), to: new Date(), name: "weekly" });
    const record = { id: "weekly-20261123T0900Z", name: "weekly", tickAt: "2026-11-23T09:00:00.000Z", periodFrom: report.period.from, periodTo: report.period.to, createdAt: new Date().toISOString(), digest: digestOf(report) };
    await store.recordReport(record);
    await store.recordReport({ ...record, id: "weekly-gone", tickAt: "2026-11-16T09:00:00.000Z" });
    mkdirSync(join(dir, "reports"), { recursive: true });
    writeFileSync(join(dir, "reports", `${record.id}.html`), "<!doctype html><title>weekly</title><p>the report</p>");
    // A file nobody recorded: never served, whatever its name.
    writeFileSync(join(dir, "reports", "stray.html"), "<p>stray</p>");
    writeFileSync(join(dir, "secret.html"), "<p>secret</p>");

    const ok = await server.inject({ url: `/reports/${record.id}` });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(ok.headers["content-security-policy"]).toBe("default-src 'none'; style-src 'unsafe-inline'; img-src data:");
    expect(ok.body).toBe("<!doctype html><title>weekly</title><p>the report</p>");

    for (const url of ["/reports/stray", "/reports/weekly-gone", "/reports/..%2Fsecret", "/reports/weekly.html", "/reports/weekly%00"]) {
      const res = await server.inject({ url });
      expect({ url, status: res.statusCode }).toEqual({ url, status: 404 });
      expect(res.body).not.toContain("secret");
      expect(res.body).not.toContain("stray");
    }

    // An id longer than any report's: fastify refuses params over 100 characters before the route (414).
    expect((await server.inject({ url: `/reports/${"a".repeat(201)}` })).statusCode).toBe(414);
    // Dots that resolve to the list page are the list page.
    expect((await server.inject({ url: "/reports/%2E%2E/secret" })).body).not.toContain("<p>secret</p>");
    const list = await server.inject({ url: "/reports" });
    expect(list.body).toContain(`<a href="/reports/${record.id}">weekly</a>`);
    const api = await server.inject({ url: "/api/reports" });
    expect(api.json()).toEqual({ reports: [record, { ...record, id: "weekly-gone", tickAt: "2026-11-16T09:00:00.000Z" }] });
    expect((await server.inject({ url: "/api/reports?limit=1" })).json().reports).toHaveLength(1);
    expect((await server.inject({ url: "/api/reports?name=weekly&limit=1" })).json().reports).toEqual([record]);
    expect((await server.inject({ url: "/api/reports?name=daily" })).json()).toEqual({ reports: [] });
    expect((await server.inject({ url: "/api/reports?limit=-1" })).statusCode).toBe(400);
    expect((await server.inject({ url: "/api/reports?name=a&name=b" })).statusCode).toBe(400);
    expect((await server.inject({ url: `/api/reports/${record.id}` })).json()).toEqual(record);
    expect((await server.inject({ url: "/api/reports/nope" })).statusCode).toBe(404);
    expect((await server.inject({ url: "/api/reports/..%2Fx" })).statusCode).toBe(404);
  });

  it("asks for the token on every new read route when reads are not public", async () => {
    const { server } = await setup({ token: "s3cret-token" });
    for (const url of ["/", "/audit", "/approvals", "/reports", "/reports/weekly-1", "/api/reports", "/api/reports/weekly-1"]) {
      expect({ url, status: (await server.inject({ url })).statusCode }).toEqual({ url, status: 401 });
    }
    expect((await server.inject({ url: "/reports", headers: { authorization: "Bearer s3cret-token" } })).statusCode).toBe(200);
  });
});
