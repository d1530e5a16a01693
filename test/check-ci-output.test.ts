// driftwatch check --format junit|markdown --out FILE on real Terraform/OpenTofu stacks: one in sync, one drifted
// (an attribute edited out of band, and a sensitive one), one whose configuration does not parse. The reports a
// CI reads are well-formed, counted right, name what drifted, and never hold a secret's value.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StackResult } from "../src/core/types.ts";
import { driftwatch, type CliRun } from "./support/cli.ts";
import { commitFiles, git } from "./support/git.ts";
import { editFixtureObject, fixtureObjectsModule, localFilesModule } from "./support/terraform-modules.ts";
import { parseJunit } from "./support/junit.ts";
import { engineTimeout } from "./support/timeouts.ts";

// Sensitive only by the provider's schema (fixture_object.secret): nothing masks these by name or by configuration.
const SECRET = "ci-secret-in-git-5be1";
const TAMPERED = "ci-secret-by-hand-77a0";

const BROKEN_MODULE = `variable "dir" { type = string }

resource "local_file" "oops" {
  filename = "\${var.dir}/oops.txt"
  content  = "never closed"
`;

describe("check --format junit|markdown --out", () => {
  const root = mkdtempSync(join(tmpdir(), "driftwatch-ci-output-"));
  const repo = join(root, "repo");
  const world = join(root, "world");
  const reports = join(root, "reports");
  const config = join(root, "driftwatch.yaml");
  const runs: CliRun[] = [];

  const stack = (name: string, path: string) => [`  - name: ${name}`, "    engine: terraform", `    source: { repo: ${repo}, path: ${path} }`, `    terraform: { vars: { dir: ${join(world, name)} } }`, `    sandbox: { readWrite: [${join(world, name)}] }`];
  const driftwatchRun = async (args: string[]) => {
    const run = await driftwatch(["--config", config, ...args]);
    runs.push(run);
    return run;
  };

  beforeAll(async () => {
    mkdirSync(repo, { recursive: true });
    mkdirSync(reports);
    git(repo, "init", "-q", "-b", "main");
    commitFiles(
      repo,
      {
        "stacks/ok/main.tf": localFilesModule({ a: "alpha\n" }),
        "stacks/fx/main.tf": fixtureObjectsModule({ a: { content: "alpha" }, s: { secret: SECRET } }),
        "stacks/broken/main.tf": BROKEN_MODULE,
      },
      "three modules",
    );
    writeFileSync(config, [`dataDir: ${join(root, "data")}`, "stacks:", ...stack("ok", "stacks/ok"), ...stack("fx", "stacks/fx"), ...stack("broken", "stacks/broken"), ""].join("\n"));
    for (const name of ["ok", "fx"]) {
      const converged = await driftwatchRun(["converge", name, "--json"]);
      expect(converged.code, converged.stdout + converged.stderr).toBe(0);
      expect((JSON.parse(converged.stdout) as { results: StackResult[] }).results[0]!.verdict).toBe("in-sync");
    }
    // Out of band: a plain attribute and a sensitive one of fx change.
    editFixtureObject(join(world, "fx"), "a", { content: "edited <by> hand & ]]>" });
    editFixtureObject(join(world, "fx"), "s", { secret: TAMPERED });
  }, engineTimeout(30));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("writes a JUnit report: 3 tests, the drifted stack a failure naming resource and property, the broken one an error", async () => {
    const file = join(reports, "driftwatch.xml");
    const run = await driftwatchRun(["check", "--format", "junit", "--out", file]);
    expect(run.code, run.stderr).toBe(1); // an error wins over drift, as ever
    // stdout keeps the table for the CI log.
    expect(run.stdout).toMatch(/^STACK\s+VERDICT/);
    expect(run.stdout).toMatch(/^fx\s+drifted\s/m);
    expect(statSync(file).mode & 0o777).toBe(0o644);
    expect(readdirSync(reports)).toEqual(["driftwatch.xml"]); // no temporary file left behind

    const xml = readFileSync(file, "utf8");
    const report = parseJunit(xml);
    expect(report.testsuites).toMatchObject({ tests: "3", failures: "1", errors: "1" });
    const suite = report.testsuites.testsuite[0]!;
    expect(suite).toMatchObject({ name: "driftwatch check", tests: "3", failures: "1", errors: "1" });
    const testcase = (name: string) => suite.testcase.find((t) => t.name === name)!;
    expect(suite.testcase.map((t) => [t.classname, t.name]).sort()).toEqual([
      ["driftwatch.terraform", "broken"],
      ["driftwatch.terraform", "fx"],
      ["driftwatch.terraform", "ok"],
    ]);

    expect(testcase("ok").failure).toBeUndefined();
    expect(testcase("ok").error).toBeUndefined();

    const failure = testcase("fx").failure![0]!;
    expect(failure).toMatchObject({ type: "drifted", message: "drifted: 2 drifted, 0 pending" });
    expect(failure["#text"]).toContain('  drift   update  fixture_object.a\n      content: "alpha" -> "edited <by> hand & ]]>"');
    expect(failure["#text"]).toContain('  drift   update  fixture_object.s\n      secret: "[secret]" -> "[secret]"');
    const properties = Object.fromEntries(testcase("fx").properties.property.map((p) => [p.name, p.value]));
    expect(properties).toMatchObject({ engine: "terraform", verdict: "drifted", commit: git(repo, "rev-parse", "main") });
    expect(properties.runId).toMatch(/\S/);

    const error = testcase("broken").error![0]!;
    expect(error.type).toBe("ProgramError");
    expect(error.message).toMatch(/^ProgramError: [\s\S]*stacks\/broken\/main\.tf:\d+:\d+: Unclosed configuration block/);
    expect(error["#text"]).toBe(error.message);
  }, engineTimeout(15));

  it("writes a Markdown summary: counts, a row per stack, the drift and the error in collapsed sections", async () => {
    const file = join(reports, "summary.md");
    const run = await driftwatchRun(["check", "--format", "markdown", "--out", file]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toMatch(/^STACK\s+VERDICT/);
    const md = readFileSync(file, "utf8");
    expect(md.split("\n")[0]).toBe("## Driftwatch check: 3 stacks — ❌ 1 error, ⚠️ 1 drifted, ✅ 1 in sync");
    const commit = git(repo, "rev-parse", "main").slice(0, 12);
    expect(md).toMatch(new RegExp(`^\\| ok \\| terraform \\| ✅ in-sync \\| 0 \\| 0 \\| <code>${commit}</code> \\| \\d+\\.\\ds \\|$`, "m"));
    expect(md).toMatch(new RegExp(`^\\| fx \\| terraform \\| ⚠️ drifted \\| 2 \\| 0 \\| <code>${commit}</code> \\| \\d+\\.\\ds \\|$`, "m"));
    expect(md).toMatch(/^\| broken \| terraform \| ❌ error \| 0 \| 0 \| /m);
    expect(md).toContain("<details><summary><strong>fx</strong> (terraform) — drifted: 2 drifted, 0 pending</summary>");
    expect(md).toContain('      content: "alpha" -> "edited <by> hand & ]]>"');
    expect(md).toContain('      secret: "[secret]" -> "[secret]"');
    expect(md).toContain("<details><summary><strong>broken</strong> (terraform) — error: ProgramError</summary>");
    expect(md).toMatch(/Unclosed configuration block/);
    expect(md).not.toContain("<summary><strong>ok</strong>");
  }, engineTimeout(15));

  it("with --format text --out, writes the table to the file and nothing to stdout", async () => {
    const file = join(reports, "table.txt");
    const run = await driftwatchRun(["check", "ok", "--format", "text", "--out", file]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe("");
    expect(readFileSync(file, "utf8")).toMatch(/^STACK\s+VERDICT[^\n]*\nok\s+in-sync\s/);
  }, engineTimeout(10));

  it("refuses --json beside another --format, and an --out file without a folder, before running anything", async () => {
    const both = await driftwatchRun(["check", "--json", "--format", "junit"]);
    expect(both.code).toBe(1);
    expect(both.stdout).toBe("");
    expect(both.stderr).toContain("driftwatch: check: --json means --format json; it cannot go with --format junit");
    const missing = join(root, "no-such-folder", "report.xml");
    const nowhere = await driftwatchRun(["check", "--format", "junit", "--out", missing]);
    expect(nowhere.code).toBe(1);
    expect(nowhere.stdout).toBe("");
    expect(nowhere.stderr).toContain(`driftwatch: check: --out ${missing}: the folder ${join(root, "no-such-folder")} does not exist`);
    expect(existsSync(join(root, "no-such-folder"))).toBe(false);
    const bad = await driftwatchRun(["check", "--format", "yaml"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--format.*yaml.*text, json, junit, markdown/);
  });

  it("never writes the sensitive value, from Git or from the world, anywhere", () => {
    const everything = [...runs.flatMap((r) => [r.stdout, r.stderr]), ...readdirSync(reports).map((f) => readFileSync(join(reports, f), "utf8"))].join("\n");
    expect(everything).toContain("[secret]");
    for (const value of [SECRET, TAMPERED]) expect(everything).not.toContain(value);
  });
});
