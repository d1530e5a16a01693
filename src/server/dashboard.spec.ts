// The dashboard's pages as HTML: the navigation marks where the reader is; every value a stack name, a guard's
// reason or a report's name can carry is escaped (and URL-encoded in links); the stack table filters and sorts as
// its query says; the fleet summary shows a report's numbers; the remediation and report pages list what the
// store gave them. The stack page's flapping section: shown only for an open episode that flagged resources,
// escaped, with the ignore rule that would end the churn.
import { describe, expect, it } from "vitest";
import type { ReportConfig } from "../config/types.ts";
import type { FleetReport } from "../reports/model.ts";
import type { PostureVerdict, ReportDigest } from "../core/report-digest.ts";
import type { ApprovalRecord, AuditEntry, ReportRecord, RunSummary } from "../store/api.ts";
import { page, runPage, stackPage, type StackRow } from "./dashboard.ts";
import { FleetReportCache } from "./fleet-report-cache.ts";
import { approvalsPage, auditPage, parseStackFilter } from "./remediation-pages.ts";
import { reportsPage } from "./reports-page.ts";
import { parseStackQuery, selectRows, sortHref, stacksHref, type StackQuery } from "./stack-query.ts";
import { fleetSummary, stacksPage } from "./stacks-page.ts";
import { fleetSummaryOf, type FleetSummary } from "../reports/summary.ts";

const row = { name: "web", engine: "pulumi", phase: "idle" };
const flapping = [{ address: "aws_instance.<b>web</b>", type: "aws_instance", times: 4, since: "2026-11-23T08:00:00.000Z", paths: ["tags.LastScanned"] }];
const NOW = Date.parse("2026-11-23T12:00:00.000Z");
const HOSTILE = `<img src=x onerror="alert(1)">'&`;
const HOSTILE_HTML = "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&#39;&amp;";
const HOSTILE_URL = encodeURIComponent(HOSTILE);

function run(stack: string, verdict: RunSummary["verdict"], finishedAt: string, engine = "pulumi"): RunSummary {
  return { runId: `r-${stack}`, stack, engine, verdict, commit: "0123456789abcdef", startedAt: finishedAt, finishedAt, durationMs: 1000, driftCount: verdict === "in-sync" ? 0 : 1, pendingCount: 0, changes: undefined } as unknown as RunSummary;
}

/** Five stacks: two drifted (episodes 3h and 30h old), one in sync, one erroring Terraform stack, one never checked and stale. */
const ROWS: StackRow[] = [
  { name: "web-10", engine: "pulumi", phase: "idle", lastRun: run("web-10", "drifted", "2026-11-23T11:00:00.000Z"), openEpisode: { openedAt: "2026-11-23T09:00:00.000Z", seenCount: 2 } },
  { name: "web-9", engine: "pulumi", phase: "idle", lastRun: run("web-9", "in-sync", "2026-11-23T11:30:00.000Z") },
  { name: "db", engine: "terraform", phase: "idle", lastRun: run("db", "drifted", "2026-11-23T10:00:00.000Z", "terraform"), openEpisode: { openedAt: "2026-11-22T06:00:00.000Z", seenCount: 9 } },
  { name: "net", engine: "terraform", phase: "running", lastRun: run("net", "error", "2026-11-23T08:00:00.000Z", "terraform") },
  { name: "Queue", engine: "kubernetes", phase: "idle", stale: true },
];

const names = (rows: readonly StackRow[]) => rows.map((r) => r.name);
const query = (q: Record<string, unknown>): StackQuery => {
  const parsed = parseStackQuery(q);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.query;
};
/** The stack names of the table's rows, in order, as the page shows them. */
const tableOrder = (html: string) => [...html.matchAll(/<tr data-stack="([^"]*)">/g)].map((m) => m[1]);

function verdicts(values: Partial<Record<PostureVerdict, number>>): Record<PostureVerdict, number> {
  return { "in-sync": 0, drifted: 0, pending: 0, "drifted+pending": 0, error: 0, "never-checked": 0, ...values };
}

/** A hand-made fleet report of the five stacks above. */
const FLEET = {
  generatedAt: "2026-11-23T12:00:00.000Z",
  period: { from: "2026-11-16T12:00:00.000Z", to: "2026-11-23T12:00:00.000Z", durationMs: 7 * 86_400_000 },
  posture: {
    at: "2026-11-23T12:00:00.000Z",
    stacks: 5,
    byVerdict: verdicts({ "in-sync": 1, drifted: 2, error: 1, "never-checked": 1 }),
    inSyncShare: 0.2,
    resourcesDrifted: 2,
    resourcesPending: 0,
    stale: ["Queue"],
    openEpisodes: 2,
    oldestOpenEpisode: { stack: HOSTILE, episodeId: 4, openedAt: "2026-11-22T06:00:00.000Z", ageMs: 30 * 3_600_000 },
    awaitingApproval: 3,
    needsAttention: [HOSTILE],
    perStack: [],
  },
  series: {
    stepMs: 86_400_000,
    verdicts: [
      { at: "2026-11-16T12:00:00.000Z", byVerdict: verdicts({ "never-checked": 5 }) },
      { at: "2026-11-20T12:00:00.000Z", byVerdict: verdicts({ "in-sync": 3, drifted: 1, "never-checked": 1 }) },
      { at: "2026-11-23T12:00:00.000Z", byVerdict: verdicts({ "in-sync": 1, drifted: 2, error: 1, "never-checked": 1 }) },
    ],
    timeInDrift: [],
    timelines: [],
  },
} satisfies Pick<FleetReport, "generatedAt" | "period" | "posture" | "series">;

describe("navigation", () => {
  it("is on every page, its current section marked aria-current=page", () => {
    const html = page("Audit log", "<h1>x</h1>", "audit");
    expect(html).toContain('<nav aria-label="Main">');
    expect(html).toContain('<a href="/audit" aria-current="page">Audit log</a>');
    expect(html.match(/ aria-current="/g)).toHaveLength(1);
    for (const [href, label] of [["/", "Stacks"], ["/reports", "Reports"], ["/approvals", "Approvals"]]) expect(html).toContain(`<a href="${href}">${label}</a>`);
    expect(stacksPage([], { now: NOW })).toContain('<a href="/" aria-current="page">Stacks</a>');
    expect(reportsPage([], [])).toContain('<a href="/reports" aria-current="page">Reports</a>');
    expect(approvalsPage([], { stacks: [] })).toContain('<a href="/approvals" aria-current="page">Approvals</a>');
  });

  it("marks the section of a page within it, without claiming the page is the section's", () => {
    const html = stackPage(row, [], undefined, { now: NOW });
    expect(html).toContain('<a href="/" aria-current="true">Stacks</a>');
    expect(html).not.toContain('aria-current="page"');
    expect(page("x", "")).not.toContain(' aria-current="');
  });
});

describe("stack page", () => {
  it("shows the open episode's flapping resources and the suggested ignore rule, escaped", () => {
    const html = stackPage({ ...row, openEpisode: { openedAt: "2026-11-23T09:00:00.000Z", seenCount: 2, flapping } }, [], undefined);
    expect(html).toContain("<h2>Flapping</h2>");
    expect(html).toContain("<code>aws_instance.&lt;b&gt;web&lt;/b&gt;</code> started drifting 4 times since");
    expect(html).toContain("<pre>ignore:\n  - { type: &quot;aws_instance&quot;, paths: [&quot;tags.LastScanned&quot;] }</pre>");
    expect(html).not.toContain("<b>web</b>");
    expect(stackPage({ ...row, openEpisode: { openedAt: "2026-11-23T09:00:00.000Z", seenCount: 2 } }, [], undefined)).not.toContain("Flapping");
  });

  it("links to the stack's audit entries and approvals, and says how to approve the plan waiting", () => {
    const html = stackPage({ ...row, name: HOSTILE }, [], undefined, { now: NOW, awaitingApproval: { id: "ap-<1>", expiresAt: "2026-11-24T12:00:00.000Z" } });
    expect(html).toContain(`<a href="/audit?stack=${HOSTILE_URL}">audit log entries</a>`);
    expect(html).toContain(`<a href="/approvals?stack=${HOSTILE_URL}">approvals</a>`);
    expect(html).toContain("<code>driftwatch approve ap-&lt;1&gt;</code>");
    expect(html).toContain(`<h1>${HOSTILE_HTML} <span class="badge never-checked">never-checked</span></h1>`);
    expect(html).not.toContain(HOSTILE);
  });

  it("escapes a hostile stack name on the run page", () => {
    const html = runPage({ ...run(HOSTILE, "in-sync", "2026-11-23T11:00:00.000Z"), changes: [] });
    expect(html).toContain(`<a href="/stacks/${HOSTILE_URL}">${HOSTILE_HTML}</a>`);
    expect(html).not.toContain(HOSTILE);
  });
});

describe("the stack table's query", () => {
  it("takes the filters and the order, empty values as none", () => {
    expect(parseStackQuery({})).toEqual({ ok: true, query: { sort: "name" } });
    expect(parseStackQuery({ verdict: "drifted", engine: "pulumi", q: " web ", sort: "age", order: "desc" })).toEqual({
      ok: true,
      query: { verdict: "drifted", engine: "pulumi", q: "web", sort: "age", order: "desc" },
    });
    expect(parseStackQuery({ verdict: "", engine: "", q: "", sort: "", order: "" })).toEqual({ ok: true, query: { sort: "name" } });
    expect(parseStackQuery({ verdict: "drifted+pending" })).toEqual({ ok: true, query: { verdict: "drifted+pending", sort: "name" } });
  });

  it("refuses what it does not know, saying which parameter", () => {
    expect(parseStackQuery({ verdict: "purple" })).toEqual({ ok: false, error: expect.stringMatching(/^verdict must be one of in-sync, drifted, .*stale \(got "purple"\)$/) });
    expect(parseStackQuery({ engine: "ansible" })).toMatchObject({ ok: false, error: expect.stringContaining("engine must be one of") });
    expect(parseStackQuery({ sort: "size" })).toMatchObject({ ok: false, error: expect.stringContaining("sort must be one of name, verdict, engine, checked, age") });
    expect(parseStackQuery({ order: "up" })).toMatchObject({ ok: false, error: expect.stringContaining("order must be one of asc, desc") });
    expect(parseStackQuery({ verdict: ["drifted", "error"] })).toEqual({ ok: false, error: "verdict may be given once" });
    expect(parseStackQuery({ q: "x".repeat(201) })).toMatchObject({ ok: false, error: expect.stringContaining("at most 200") });
  });

  it("filters by verdict, stale, engine and part of the name (any case)", () => {
    expect(names(selectRows(ROWS, query({ verdict: "drifted" })))).toEqual(["db", "web-10"]);
    expect(names(selectRows(ROWS, query({ verdict: "never-checked" })))).toEqual(["Queue"]);
    expect(names(selectRows(ROWS, query({ verdict: "stale" })))).toEqual(["Queue"]);
    expect(names(selectRows(ROWS, query({ engine: "terraform" })))).toEqual(["db", "net"]);
    expect(names(selectRows(ROWS, query({ q: "WEB" })))).toEqual(["web-9", "web-10"]);
    expect(names(selectRows(ROWS, query({ verdict: "drifted", engine: "pulumi", q: "web" })))).toEqual(["web-10"]);
    expect(selectRows(ROWS, query({ verdict: "pending" }))).toEqual([]);
  });

  it("sorts by name (numbers as numbers), verdict, engine, last check and episode age, the stacks without one last", () => {
    expect(names(selectRows(ROWS, query({})))).toEqual(["db", "net", "Queue", "web-9", "web-10"]);
    expect(names(selectRows(ROWS, query({ order: "desc" })))).toEqual(["web-10", "web-9", "Queue", "net", "db"]);
    expect(names(selectRows(ROWS, query({ sort: "age" })))).toEqual(["db", "web-10", "net", "Queue", "web-9"]);
    expect(names(selectRows(ROWS, query({ sort: "age", order: "asc" })))).toEqual(["web-10", "db", "net", "Queue", "web-9"]);
    expect(names(selectRows(ROWS, query({ sort: "checked" })))).toEqual(["web-9", "web-10", "db", "net", "Queue"]);
    expect(names(selectRows(ROWS, query({ sort: "verdict" })))).toEqual(["web-9", "db", "web-10", "net", "Queue"]);
    expect(names(selectRows(ROWS, query({ sort: "engine", order: "desc" })))).toEqual(["db", "net", "web-9", "web-10", "Queue"]);
  });

  it("links keep the filters and leave out the defaults", () => {
    const q = query({ verdict: "drifted+pending", q: "a&b" });
    expect(stacksHref(q)).toBe("/?verdict=drifted%2Bpending&q=a%26b");
    expect(sortHref(q, "age")).toBe("/?verdict=drifted%2Bpending&q=a%26b&sort=age");
    expect(sortHref({ ...q, sort: "age" }, "age")).toBe("/?verdict=drifted%2Bpending&q=a%26b&sort=age&order=asc");
    expect(sortHref(q, "name")).toBe("/?verdict=drifted%2Bpending&q=a%26b&order=desc");
    expect(stacksHref(query({}))).toBe("/");
  });
});

describe("home page", () => {
  it("shows only the matching rows, in the asked order, the sorted column's header marked and its link reversing it", () => {
    const html = stacksPage(ROWS, { query: query({ engine: "terraform", sort: "age" }), now: NOW });
    expect(tableOrder(html)).toEqual(["db", "net"]);
    expect(html).toContain('<th scope="col" aria-sort="descending"><a href="/?engine=terraform&amp;sort=age&amp;order=asc">Open episode</a></th>');
    expect(html.match(/ aria-sort="/g)).toHaveLength(1);
    expect(html).toContain('<th scope="col"><a href="/?engine=terraform">Stack</a></th>');
    expect(html).toContain("2 of 5 stacks: engine terraform; sorted by episode age, descending.");
    expect(stacksPage(ROWS, { query: query({ sort: "name" }), now: NOW })).toContain('<th scope="col" aria-sort="ascending"><a href="/?order=desc">Stack</a></th>');
    expect(stacksPage(ROWS, { query: query({ q: "nothing" }), now: NOW })).toContain("No stack matches these filters.");
  });

  it("keeps the filters in a GET form that works without script, outside the parts the refresh swaps", () => {
    const html = stacksPage(ROWS, { query: query({ verdict: "drifted", engine: "pulumi", q: `"><b>`, sort: "checked", order: "asc" }), now: NOW });
    const form = html.slice(html.indexOf("<form"), html.indexOf("</form>"));
    expect(form).toContain('<form method="get" action="/"');
    expect(form).toContain('<option value="drifted" selected>drifted</option>');
    expect(form).toContain('<option value="pulumi" selected>pulumi</option>');
    expect(form).toContain('<input id="filter-q" type="search" name="q" value="&quot;&gt;&lt;b&gt;"');
    expect(form).toContain('<option value="checked" selected>last check</option>');
    expect(form).toContain('<option value="asc" selected>ascending</option>');
    // Only the engines the fleet has are offered.
    expect(form).not.toContain('value="cloudformation"');
    // The form is not inside a live part: the refresh never replaces what someone is typing.
    const live = [...html.matchAll(/<section id="([^"]+)" data-live/g)].map((m) => m[1]);
    expect(live).toEqual(["fleet-summary", "stack-table"]);
    expect(html.indexOf("<form")).toBeGreaterThan(html.indexOf("</section>"));
    expect(html.indexOf("<form")).toBeLessThan(html.indexOf('<section id="stack-table"'));
  });

  it("escapes hostile stack names in the table and in its links", () => {
    const html = stacksPage([{ ...ROWS[0]!, name: HOSTILE, engine: "pulumi" }], { now: NOW, fleet: FLEET });
    expect(html).toContain(`<tr data-stack="${HOSTILE_HTML}">`);
    expect(html).toContain(`<td><a href="/stacks/${HOSTILE_URL}">${HOSTILE_HTML}</a></td>`);
    expect(html).not.toContain(HOSTILE);
    expect(html).not.toMatch(/<img/);
  });

  it("summarises the fleet report: counts per verdict and stale, open episodes, the oldest's age, approvals waiting, the verdicts plot", () => {
    const html = fleetSummary(FLEET);
    const tiles = Object.fromEntries([...html.matchAll(/data-status="([^"]+)"><span class="count">(\d+)<\/span>/g)].map((m) => [m[1], Number(m[2])]));
    expect(tiles).toEqual({ "in-sync": 1, drifted: 2, pending: 0, "drifted+pending": 0, error: 1, "never-checked": 1, stale: 1 });
    expect(html).toContain('href="/?verdict=stale" data-status="stale"');
    expect(html).toContain('href="/?verdict=drifted%2Bpending"');
    expect(html).toContain(`2 drift episodes are open; the oldest, of <a href="/stacks/${HOSTILE_URL}">${HOSTILE_HTML}</a>, for <strong>1d 6h</strong>`);
    expect(html).toContain('<a href="/approvals">3 remediations wait for approval</a>');
    expect(html).toContain("Automatic remediation is paused until someone looks:");
    expect(html).not.toContain(HOSTILE);
    // The plot: one stacked area per verdict that occurs, titled with the period.
    expect([...html.matchAll(/<path class="area" data-verdict="([^"]+)"/g)].map((m) => m[1])).toEqual(["in-sync", "drifted", "error", "never-checked"]);
    expect(html).toContain("Stacks per verdict over the last 7 days");
    expect(html).toMatch(/^<section id="fleet-summary" data-live/);
  });

  it("keeps of a report only what the summary shows: not its per-stack posture and timelines", () => {
    const kept: FleetSummary = fleetSummaryOf(FLEET);
    expect(kept.posture).not.toHaveProperty("perStack");
    expect(kept.series).toEqual({ verdicts: FLEET.series.verdicts });
    expect(fleetSummary(kept)).toBe(fleetSummary(FLEET));
  });

  it("says so when nothing waits and no episode is open, and when the report is unavailable", () => {
    const quiet = fleetSummary({ ...FLEET, posture: { ...FLEET.posture, openEpisodes: 0, awaitingApproval: 0, needsAttention: [] } });
    expect(quiet).toContain("No drift episode is open.");
    expect(quiet).toContain('No remediation waits for approval (<a href="/approvals">approvals</a>).');
    expect(quiet).not.toContain("paused");
    expect(stacksPage(ROWS, { now: NOW })).toContain("The fleet summary is not available right now");
  });
});

const AUDIT: AuditEntry[] = [
  {
    id: 7,
    at: "2026-11-23T11:00:00.000Z",
    stack: HOSTILE,
    runId: "run/<7>",
    triggeredBy: "schedule",
    actor: "driftwatch",
    mode: "auto",
    planChanges: 3,
    guards: [
      { guard: "maxResources", passed: false, reason: "3 > <2>" },
      { guard: "window", passed: true, reason: "inside" },
    ],
    decision: "refused",
    reason: "a guard said <no>",
    durationMs: 10,
  },
  { id: 6, at: "2026-11-23T10:00:00.000Z", stack: "db", runId: "r6", triggeredBy: "approval", actor: "alice", mode: "approve", guards: [], decision: "applied", outcome: "in-sync", durationMs: 10 },
];

describe("audit log page", () => {
  it("lists the decisions, each row an anchor reports link to, hostile values escaped", () => {
    const html = auditPage(AUDIT, { stacks: ["db", "web"], limit: 200 });
    expect(html).toContain('<tr id="audit-7">');
    expect(html).toContain('<tr id="audit-6">');
    expect(html.indexOf("audit-7")).toBeLessThan(html.indexOf("audit-6"));
    expect(html).toContain("<li><strong>maxResources</strong>: 3 &gt; &lt;2&gt;</li>");
    expect(html).not.toContain("<strong>window</strong>");
    expect(html).toContain("a guard said &lt;no&gt;");
    expect(html).toContain(`<a href="/runs/${encodeURIComponent("run/<7>")}">run</a>`);
    expect(html).toContain(`<a href="/stacks/${HOSTILE_URL}">${HOSTILE_HTML}</a>`);
    expect(html).toContain('<span class="badge pending">refused</span>');
    expect(html).toContain("then in-sync");
    expect(html).not.toContain(HOSTILE);
  });

  it("filters by a stack, which stays selectable even when no longer configured", () => {
    const html = auditPage([], { stacks: ["db"], stack: HOSTILE, limit: 200 });
    expect(html).toContain(`<option value="${HOSTILE_HTML}" selected>${HOSTILE_HTML}</option>`);
    expect(html).toContain(`No remediation decision for ${HOSTILE_HTML} yet.`);
    expect(html).toContain('<a href="/audit">Every stack</a>');
    expect(parseStackFilter({ stack: "web" })).toEqual({ ok: true, stack: "web" });
    expect(parseStackFilter({ stack: "" })).toEqual({ ok: true });
    expect(parseStackFilter({ stack: ["a", "b"] })).toEqual({ ok: false, error: "stack may be given once" });
  });
});

function approval(id: string, state: ApprovalRecord["state"], requestedAt: string, expiresAt: string, extra: Partial<ApprovalRecord> = {}): ApprovalRecord {
  return { id, stack: "web", runId: `run-${id}`, commit: "0123456789abcdef0123", planFingerprint: "f", plan: [], requestedAt, expiresAt, state, ...extra };
}

describe("approvals page", () => {
  it("lists the plans waiting for a person first, highlighted, with the command that approves them", () => {
    const plan = Array.from({ length: 7 }, (_, i) => ({ kind: "drift" as const, address: `aws_s3_bucket.b${i}<x>`, type: "aws_s3_bucket", action: "update" as const, properties: [] }));
    const html = approvalsPage(
      [
        approval("ap-3", "applied", "2026-11-23T11:00:00.000Z", "2026-11-24T11:00:00.000Z", { decidedBy: "alice", decidedAt: "2026-11-23T11:05:00.000Z" }),
        approval("ap-2", "pending", "2026-11-23T10:00:00.000Z", "2026-11-24T10:00:00.000Z", { plan, stack: HOSTILE }),
        approval("ap-1", "pending", "2026-11-20T10:00:00.000Z", "2026-11-21T10:00:00.000Z"),
      ],
      { stacks: ["web"], now: NOW },
    );
    expect([...html.matchAll(/id="approval-([^"]+)"/g)].map((m) => m[1])).toEqual(["ap-2", "ap-3", "ap-1"]);
    expect(html).toContain('<tr class="awaiting" id="approval-ap-2">');
    expect(html.match(/class="awaiting"/g)).toHaveLength(1);
    expect(html).toContain("<code>driftwatch approve ap-2</code>");
    expect(html).not.toContain("driftwatch approve ap-1<");
    expect(html).toContain('<span class="badge neutral">expired</span>');
    expect(html).toContain("<li>update <code>aws_s3_bucket.b0&lt;x&gt;</code></li>");
    expect(html).toContain("<li>and 2 more</li>");
    expect(html).toContain("1 waiting for approval, listed first.");
    expect(html).not.toContain(HOSTILE);
  });
});

const DIGEST: ReportDigest = {
  name: "weekly",
  period: { from: "2026-11-16T00:00:00.000Z", to: "2026-11-23T00:00:00.000Z" },
  posture: { stacks: 12, byVerdict: verdicts({ "in-sync": 9, drifted: 3 }), inSyncShare: 0.75, openEpisodes: 3, awaitingApproval: 1, stale: 0, oldestOpenEpisode: { stack: "db", episodeId: 1, openedAt: "2026-11-20T00:00:00.000Z", ageMs: 3 * 86_400_000 } },
  episodes: { opened: 5, resolved: 4, stillOpen: 3 },
  checks: { runs: 2016, errors: 2 },
  remediation: { decisions: 3, applied: 2, refused: 1 },
  topOffenders: [],
};

describe("reports page", () => {
  it("lists the produced reports with a few digest numbers, linked to their file and JSON", () => {
    const record: ReportRecord = { id: "weekly-20261123T0000Z", name: `weekly<i>`, tickAt: "2026-11-23T00:00:00.000Z", periodFrom: DIGEST.period.from, periodTo: DIGEST.period.to, createdAt: "2026-11-23T00:00:05.000Z", digest: DIGEST };
    const configured: ReportConfig[] = [{ name: "weekly", schedule: { expression: "0 0 * * mon", timezone: "UTC" }, sinceMs: 7 * 86_400_000, stacks: ["*"], keep: 12 }];
    const html = reportsPage([record], configured);
    expect(html).toContain('<a href="/reports/weekly-20261123T0000Z">weekly&lt;i&gt;</a>');
    expect(html).toContain('<a href="/api/reports/weekly-20261123T0000Z">JSON</a>');
    expect(html).toContain("<td>75%</td>");
    expect(html).toContain("<td>5 / 4</td>");
    expect(html).toContain("<td>2016 (2 errors)</td>");
    expect(html).toContain("oldest 3d");
    expect(html).toContain("<strong>weekly</strong>: <code>0 0 * * mon</code> (UTC), the last 7d");
    expect(reportsPage([], [])).toContain("No report is scheduled.");
    expect(reportsPage([], [])).toContain("No report produced yet.");
  });
});

describe("the fleet report cache", () => {
  /**
   * A computation the test finishes by hand, and how many were started. `finish(costMs)` moves the stopwatch the
   * cache measures costs with by that much first: the cost is the test's to say, whatever the machine's load.
   */
  function computations() {
    const started: { now: Date; finish: (costMs?: number) => void }[] = [];
    let clock = 0;
    let stopwatch = 0;
    const compute = (now: Date) =>
      new Promise<FleetReport>((resolve) => {
        started.push({
          now,
          finish: (costMs = 0) => {
            stopwatch += costMs;
            resolve({ generatedAt: String(started.length) } as FleetReport);
          },
        });
      });
    return { started, compute, clock: () => clock, stopwatch: () => stopwatch, setClock: (ms: number) => (clock = ms) };
  }

  it("reuses a report for a few seconds, longer the more it cost; a stale one is shown while the next is computed", async () => {
    const c = computations();
    const cache = new FleetReportCache(c.compute, { minAgeMs: 4000, costFactor: 20, clock: c.clock, stopwatch: c.stopwatch });
    const first = cache.get();
    const alsoFirst = cache.get(); // one computation for both
    expect(c.started).toHaveLength(1);
    c.started[0]!.finish();
    expect((await first).generatedAt).toBe("1");
    expect((await alsoFirst).generatedAt).toBe("1");

    c.setClock(3999);
    expect((await cache.get()).generatedAt).toBe("1");
    expect(c.started).toHaveLength(1);

    // Past its time: the old report at once, the next computed in the background.
    c.setClock(4000);
    expect((await cache.get()).generatedAt).toBe("1");
    expect(c.started).toHaveLength(2);
    expect((await cache.get()).generatedAt).toBe("1"); // still computing: no second computation
    expect(c.started).toHaveLength(2);
    c.started[1]!.finish(300); // 300 ms: reused for 20 × that
    await new Promise((resolve) => setImmediate(resolve));
    c.setClock(4000 + 5999);
    expect((await cache.get()).generatedAt).toBe("2");
    expect(c.started).toHaveLength(2);
    c.setClock(4000 + 6000);
    expect((await cache.get()).generatedAt).toBe("2");
    expect(c.started).toHaveLength(3);
  });

  it("reuses even a costly report for at most maxAgeMs", async () => {
    const c = computations();
    const cache = new FleetReportCache(c.compute, { minAgeMs: 4000, costFactor: 20, maxAgeMs: 30_000, clock: c.clock, stopwatch: c.stopwatch });
    const first = cache.get();
    c.started[0]!.finish(3000); // 3 s: 20 × that would be a minute
    expect((await first).generatedAt).toBe("1");
    c.setClock(29_999);
    expect((await cache.get()).generatedAt).toBe("1");
    expect(c.started).toHaveLength(1);
    c.setClock(30_000);
    expect((await cache.get()).generatedAt).toBe("1");
    expect(c.started).toHaveLength(2);
  });

  it("keeps the last report when a background computation fails, and says so", async () => {
    const errors: unknown[] = [];
    let fail = false;
    let clock = 0;
    const cache = new FleetReportCache(async () => {
      if (fail) throw new Error("database gone");
      return { generatedAt: "ok" } as FleetReport;
    }, { clock: () => clock, onError: (e) => errors.push(e) });
    expect((await cache.get()).generatedAt).toBe("ok");
    fail = true;
    clock = 10_000;
    expect((await cache.get()).generatedAt).toBe("ok");
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors).toEqual([new Error("database gone")]);
  });
});
