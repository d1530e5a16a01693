// check --format junit|markdown: well-formed, counted right, and nothing in a stack's name or values can break
// out of an attribute, an element, a table cell or a code block.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { UsageError } from "../core/errors.ts";
import { formatValue } from "../core/present.ts";
import type { StackResult } from "../core/types.ts";
import { checkOutFile, fencedBlock, markdownCell, renderJunit, renderResultsAs, renderResultsMarkdown, resultsFormat } from "./ci-output.ts";
import { renderResults } from "./render.ts";
import { parseJunit } from "../../test/support/junit.ts";

// Hostile text: markup, an entity, the end of a CDATA section, control characters (one legal: tab), Markdown
// table and code syntax, a lone surrogate and a non-character (illegal in XML), and a real emoji (legal).
const HOSTILE = 'a<b>&amp;"q"\'s ]]> \u0001\u001b[31m\t| ``` `x` \uD800 \uFFFE 😀';
/** What an XML reader must get back for HOSTILE: the same, less what XML 1.0 cannot carry. */
const HOSTILE_IN_XML = 'a<b>&amp;"q"\'s ]]> [31m\t| ``` `x`   😀';

const at = { startedAt: "2026-11-23T11:00:00.000Z", finishedAt: "2026-11-23T11:00:03.000Z", durationMs: 3000 };

const results: StackResult[] = [
  { runId: "run-ok", stack: "web", engine: "terraform", verdict: "in-sync", commit: "0123456789abcdef0123456789abcdef01234567", changes: [], ...at },
  {
    runId: "run-drift",
    stack: "db",
    engine: "terraform",
    verdict: "drifted+pending",
    commit: "fedcba9876543210fedcba9876543210fedcba98",
    changes: [
      { kind: "drift", address: "fixture_object.a", type: "fixture_object", action: "update", properties: [{ path: "content", desired: "alpha", actual: HOSTILE }] },
      { kind: "drift", address: "fixture_object.s", type: "fixture_object", action: "update", properties: [{ path: "secret", desired: "[secret]", actual: "[secret]" }] },
      { kind: "pending", address: "fixture_object.c", type: "fixture_object", action: "create", properties: [{ path: "content", desired: "charlie", actual: null }] },
      { kind: "pending", address: "fixture_object.renamed", type: "fixture_object", action: "move", properties: [], previousAddress: "fixture_object.old" },
    ],
    notes: [`judged against ${HOSTILE}`],
    startedAt: "2026-11-23T11:00:01.000Z",
    finishedAt: "2026-11-23T11:00:05.500Z",
    durationMs: 4500,
  },
  {
    runId: "run-pending",
    stack: "app",
    engine: "pulumi",
    verdict: "pending",
    commit: "1111111111111111111111111111111111111111",
    changes: [{ kind: "pending", address: "urn:pulumi:dev::demo::pulumi-nodejs:dynamic:Resource::motd", type: "pulumi-nodejs:dynamic:Resource", action: "create", properties: [] }],
    staleSource: { error: "fetch failed: connection refused" },
    ...at,
  },
  {
    runId: "run-error",
    stack: "broken",
    engine: "terraform",
    verdict: "error",
    commit: "2222222222222222222222222222222222222222",
    changes: [],
    error: { kind: "ProgramError", message: `stacks/broken/main.tf:3:1: Unclosed configuration block\n${HOSTILE}` },
    ...at,
  },
];

/** `text` less what XML 1.0 cannot carry. */
const legal = (text: string) => text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "");

describe("renderJunit", () => {
  const xml = renderJunit(results, {});
  const report = parseJunit(xml);
  const suite = report.testsuites.testsuite[0]!;
  const testcase = (name: string) => suite.testcase.find((t) => t.name === name)!;

  it("is one suite with a test case per stack, counted: divergence a failure, an error an error", () => {
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')).toBe(true);
    expect(report.testsuites).toMatchObject({ name: "driftwatch", tests: "4", failures: "2", errors: "1" });
    expect(report.testsuites.testsuite).toHaveLength(1);
    // Wall clock from the first start (11:00:00) to the last finish (11:00:05.5): the stacks ran side by side.
    expect(report.testsuites.time).toBe("5.500");
    expect(suite).toMatchObject({ name: "driftwatch check", tests: "4", failures: "2", errors: "1", timestamp: "2026-11-23T11:00:00.000Z" });
    expect(suite.testcase.map((t) => [t.classname, t.name, t.time])).toEqual([
      ["driftwatch.terraform", "web", "3.000"],
      ["driftwatch.terraform", "db", "4.500"],
      ["driftwatch.pulumi", "app", "3.000"],
      ["driftwatch.terraform", "broken", "3.000"],
    ]);
    expect(testcase("web").failure).toBeUndefined();
    expect(testcase("web").error).toBeUndefined();
    expect(testcase("web")["system-out"]).toBeUndefined();
    expect(testcase("app").failure![0]).toMatchObject({ type: "pending", message: "pending: 0 drifted, 1 pending" });
  });

  it("names engine, verdict, commit and run id in each test case's properties", () => {
    const props = Object.fromEntries(testcase("db").properties.property.map((p) => [p.name, p.value]));
    expect(props).toMatchObject({ engine: "terraform", verdict: "drifted+pending", commit: "fedcba9876543210fedcba9876543210fedcba98", runId: "run-drift" });
  });

  it("lists every change and property diff in the failure, in the table's own lines", () => {
    const failure = testcase("db").failure![0]!;
    expect(failure).toMatchObject({ type: "drifted+pending", message: "drifted+pending: 2 drifted, 2 pending" });
    const body = failure["#text"];
    expect(body).toContain("  drift   update  fixture_object.a\n      content: \"alpha\" -> ");
    expect(body).toContain('      secret: "[secret]" -> "[secret]"');
    expect(body).toContain('  pending create  fixture_object.c\n      content: "charlie" -> (none)');
    expect(body).toContain("  pending move    fixture_object.renamed (was fixture_object.old)");
    expect(testcase("app").failure![0]!["#text"]).toBe("app:\n  pending create  pulumi-nodejs:dynamic:Resource::motd");
    // The same lines as the table, less what XML cannot carry.
    for (const line of body.split("\n")) expect(legal(renderResults(results))).toContain(line);
  });

  it("gives an error its kind as type and its whole message, line breaks and all", () => {
    const error = testcase("broken").error![0]!;
    expect(error.type).toBe("ProgramError");
    expect(error.message).toBe(`ProgramError: stacks/broken/main.tf:3:1: Unclosed configuration block\n${HOSTILE_IN_XML}`);
    expect(error["#text"]).toBe(error.message);
  });

  it("puts notes and a stale source in system-out", () => {
    expect(testcase("db")["system-out"]).toEqual([`db: note: judged against ${HOSTILE_IN_XML}`]);
    expect(testcase("app")["system-out"]![0]).toBe("app: stale source (remote unreachable): fetch failed: connection refused");
  });

  it("escapes markup and drops what XML 1.0 forbids: no raw ]]>, no CDATA, no control characters, no lone surrogates", () => {
    expect(xml).not.toContain("]]>");
    expect(xml).not.toContain("<![CDATA[");
    expect(xml).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/);
    expect(xml).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    expect(xml).toContain("😀");
    expect(xml).toContain("a&lt;b&gt;&amp;amp;");
    // Round trip: the reader gets the hostile value back as text.
    expect(testcase("db").failure![0]!["#text"]).toContain(`content: "alpha" -> ${legal(formatValue(HOSTILE))}`);
  });

  it("takes the suite's name and timestamp when given, and reports no stacks as zero tests", () => {
    const named = parseJunit(renderJunit(results.slice(0, 1), { suiteName: "nightly <drift>", timestamp: "2026-11-24T00:00:00Z" }));
    expect(named.testsuites.testsuite[0]).toMatchObject({ name: "nightly <drift>", timestamp: "2026-11-24T00:00:00Z", tests: "1", failures: "0", errors: "0" });
    const empty = parseJunit(renderJunit([], {}));
    expect(empty.testsuites).toMatchObject({ tests: "0", failures: "0", errors: "0", time: "0.000" });
  });

  it("keeps a hostile stack name and engine inside their attributes", () => {
    const hostile: StackResult = { ...results[1]!, stack: HOSTILE, engine: `x" y="1' <z>` };
    const parsed = parseJunit(renderJunit([hostile], {}));
    const tc = parsed.testsuites.testsuite[0]!.testcase[0]!;
    expect(tc.name).toBe(HOSTILE_IN_XML);
    expect(tc.classname).toBe(`driftwatch.x" y="1' <z>`);
    expect(Object.keys(tc).filter((k) => k !== "#text").sort()).toEqual(["classname", "failure", "name", "properties", "system-out", "time"]);
  });
});

describe("renderResultsMarkdown", () => {
  const md = renderResultsMarkdown(results);
  /** The table's rows: a cell separator is a `|` not escaped by a backslash (itself not escaped). */
  const cells = (row: string) => row.split(/(?<!(?:^|[^\\])(?:\\\\)*\\)\|/).slice(1, -1).map((c) => c.trim());
  const rows = md.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| ---"));

  it("heads with the counts, then a table row per stack: verdict with an emoji, counts, short commit, time", () => {
    expect(md.split("\n")[0]).toBe("## Driftwatch check: 4 stacks — ❌ 1 error, ⚠️ 1 drifted+pending, 🕓 1 pending, ✅ 1 in sync");
    expect(rows).toHaveLength(5);
    expect(cells(rows[0]!)).toEqual(["Stack", "Engine", "Verdict", "Drift", "Pending", "Commit", "Time"]);
    expect(cells(rows[1]!)).toEqual(["web", "terraform", "✅ in-sync", "0", "0", "<code>0123456789ab</code>", "3.0s"]);
    expect(cells(rows[2]!)).toEqual(["db", "terraform", "⚠️ drifted+pending", "2", "2", "<code>fedcba987654</code>", "4.5s"]);
    expect(cells(rows[3]!)).toEqual(["app", "pulumi", "🕓 pending (stale source)", "0", "1", "<code>111111111111</code>", "3.0s"]);
    expect(cells(rows[4]!)).toEqual(["broken", "terraform", "❌ error", "0", "0", "<code>222222222222</code>", "3.0s"]);
  });

  it("gives each divergent or failed stack a collapsed section with its diffs or its error in a code block", () => {
    const sections = md.split("<details>").slice(1);
    expect(sections.map((s) => /<strong>(.*?)<\/strong>/.exec(s)![1])).toEqual(["db", "app", "broken"]);
    expect(sections[0]).toContain("<summary><strong>db</strong> (terraform) — drifted+pending: 2 drifted, 2 pending</summary>");
    expect(sections[0]).toContain('      secret: "[secret]" -> "[secret]"');
    expect(sections[0]).toContain("  pending move    fixture_object.renamed (was fixture_object.old)");
    expect(sections[0]).toContain("note: judged against");
    expect(sections[2]).toContain("<summary><strong>broken</strong> (terraform) — error: ProgramError</summary>");
    expect(sections[2]).toContain("ProgramError: stacks/broken/main.tf:3:1: Unclosed configuration block");
  });

  it("fences a code block with more backticks than any run inside it", () => {
    // The hostile value holds ``` (and JSON keeps it as is): the fence must be four backticks at least.
    const db = md.split("<details>")[1]!;
    const fence = /\n(`{3,})text\n/.exec(db)![1]!;
    expect(fence.length).toBeGreaterThan(3);
    const body = db.slice(db.indexOf(`${fence}text\n`) + fence.length + 5, db.lastIndexOf(`\n${fence}\n`));
    for (const run of body.match(/`+/g) ?? []) expect(run.length).toBeLessThan(fence.length);
    expect(fencedBlock("a ````` b")).toBe("``````text\na ````` b\n``````");
    expect(fencedBlock("plain")).toBe("```text\nplain\n```");
  });

  it("keeps hostile names inside their table cell and their summary", () => {
    const hostile = renderResultsMarkdown([{ ...results[1]!, stack: `x | y\nz <img src=x> & \`c\`` }]);
    const row = hostile.split("\n").filter((l) => l.startsWith("| "))[2]!;
    expect(cells(row)).toHaveLength(7);
    expect(cells(row)[0]).toBe("x \\| y<br>z &lt;img src=x&gt; &amp; \\`c\\`");
    expect(hostile).not.toContain("<img");
    expect(hostile).toContain("<summary><strong>x | y z &lt;img src=x&gt; &amp; `c`</strong>");
    expect(markdownCell("a\\|b")).toBe("a\\\\\\|b");
    expect(hostile).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/);
  });

  it("says when no stack ran", () => {
    expect(renderResultsMarkdown([])).toBe("## Driftwatch check: 0 stacks\n\nNo stacks were run.\n");
  });
});

describe("--format and --out", () => {
  const dir = mkdtempSync(join(tmpdir(), "driftwatch-ci-output-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("takes --json as --format json, and refuses it beside another format", () => {
    expect(resultsFormat({}, "check")).toBe("text");
    expect(resultsFormat({ json: true }, "check")).toBe("json");
    expect(resultsFormat({ json: true, format: "json" }, "check")).toBe("json");
    expect(resultsFormat({ format: "junit" }, "check")).toBe("junit");
    expect(() => resultsFormat({ json: true, format: "markdown" }, "check")).toThrow(new UsageError("check: --json means --format json; it cannot go with --format markdown"));
  });

  it("renders each format", () => {
    expect(renderResultsAs("text", results, "check")).toBe(renderResults(results));
    expect(JSON.parse(renderResultsAs("json", results, "check"))).toEqual({ results });
    expect(renderResultsAs("junit", results, "converge")).toContain('<testsuite name="driftwatch converge"');
    expect(renderResultsAs("markdown", results, "converge")).toMatch(/^## Driftwatch converge: 4 stacks/);
  });

  it("refuses an --out file whose folder does not exist, or that is a folder", () => {
    expect(() => checkOutFile(join(dir, "report.xml"), "check")).not.toThrow();
    expect(() => checkOutFile(join(dir, "missing", "report.xml"), "check")).toThrow(UsageError);
    expect(() => checkOutFile(join(dir, "missing", "report.xml"), "check")).toThrow(`the folder ${join(dir, "missing")} does not exist`);
    expect(() => checkOutFile(dir, "check")).toThrow(`--out ${dir} is a folder`);
  });
});
