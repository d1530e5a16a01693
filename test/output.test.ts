// What a one-shot command prints where: its answer on stdout (a table, or JSON a parser reads, also through the
// README's `npm start --silent --`), and on stderr only what needs attention unless asked for progress.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StackResult } from "../src/core/types.ts";
import { PassThrough } from "node:stream";
import { runCli } from "../src/cli/main.ts";
import { manifestPath, repoRoot } from "../src/toolchain/paths.ts";
import { driftwatch } from "./support/cli.ts";
import { commitFiles, git } from "./support/git.ts";
import { localFilesModule } from "./support/terraform-modules.ts";
import { engineTimeout } from "./support/timeouts.ts";

/** The level of each JSON log line on stderr. */
const levels = (stderr: string) => stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => (JSON.parse(l) as { level: number }).level);
const INFO = 30;

describe("one-shot output", () => {
  const root = mkdtempSync(join(tmpdir(), "driftwatch-output-"));
  const repo = join(root, "repo");
  const config = join(root, "driftwatch.yaml");
  const quiet = { DRIFTWATCH_LOG_LEVEL: undefined };

  beforeAll(() => {
    mkdirSync(repo);
    git(repo, "init", "-q", "-b", "main");
    commitFiles(repo, { "files/main.tf": localFilesModule({ a: "alpha\n" }) }, "module");
    writeFileSync(
      config,
      [
        `dataDir: ${join(root, "data")}`,
        "stacks:",
        "  - name: files",
        "    engine: terraform",
        `    source: { repo: ${repo}, path: files }`,
        `    terraform: { vars: { dir: ${join(root, "world")} } }`,
        `    sandbox: { readWrite: [${join(root, "world")}] }`,
        "  - name: cfn",
        "    engine: terraform",
        "    requiresEnv: [DRIFTWATCH_TEST_UNSET_VARIABLE]",
        `    source: { repo: ${repo}, path: files }`,
        "",
      ].join("\n"),
    );
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("prints the answer on stdout and, by default, nothing below a warning on stderr; -v adds the progress", async () => {
    const table = await driftwatch(["--config", config, "check"], quiet);
    expect(table.code, table.stderr).toBe(2); // pending: never applied
    expect(table.stdout).toMatch(/^STACK\s+VERDICT/);
    expect(levels(table.stderr).filter((level) => level <= INFO)).toEqual([]);
    expect(table.stderr).toBe("");

    const verbose = await driftwatch(["--config", config, "-v", "check", "--json"], quiet);
    expect(JSON.parse(verbose.stdout)).toMatchObject({ results: [{ stack: "files", verdict: "pending" }] });
    expect(levels(verbose.stderr)).toContain(INFO);
    expect(verbose.stderr).toContain("stack cfn is skipped: none of DRIFTWATCH_TEST_UNSET_VARIABLE is set (requiresEnv)");
  }, engineTimeout(30));

  it("records what started each run: history shows it (the check command here)", async () => {
    await driftwatch(["--config", config, "check", "files"]);
    const history = await driftwatch(["--config", config, "history", "files", "--json"]);
    const runs = (JSON.parse(history.stdout) as { runs: { trigger?: string }[] }).runs;
    expect(runs.length).toBeGreaterThan(0);
    expect(runs.every((r) => r.trigger === "check")).toBe(true);
    const table = await driftwatch(["--config", config, "history", "files"]);
    expect(table.stdout).toMatch(/^STARTED\s+STACK\s+VERDICT\s+DRIFT\s+PENDING\s+COMMIT\s+TIME\s+TRIGGER\s+RUN\n.*\scheck\s/);
  }, engineTimeout(30));

  it("gives JSON a parser reads through the README's `npm start --silent -- … check --json`", () => {
    const run = spawnSync("npm", ["start", "--silent", "--", "--config", config, "check", "--json"], {
      cwd: repoRoot,
      env: { ...process.env, DRIFTWATCH_LOG_LEVEL: undefined },
      encoding: "utf8",
      timeout: engineTimeout(120),
    });
    expect(run.status, run.stderr).toBe(2);
    const { results } = JSON.parse(run.stdout) as { results: StackResult[] };
    expect(results).toMatchObject([{ stack: "files", verdict: "pending" }]);
    // where the run's time went: no program dependencies for Terraform, the rest measured
    expect(results[0]!.phases).toEqual({ git: expect.any(Number), worktree: expect.any(Number), dependencies: 0, engine: expect.any(Number), parse: expect.any(Number), store: expect.any(Number) });
    expect(results[0]!.phases!.engine).toBeGreaterThan(0);
  }, engineTimeout(150));

  it("converge says what it applied before the table of the check that follows", async () => {
    const first = await driftwatch(["--config", config, "converge", "files"], quiet);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^files: converge applied:\n  create  local_file\.a\n\nSTACK\s+VERDICT/);
    const again = await driftwatch(["--config", config, "converge", "files", "--json"], quiet);
    const [result] = (JSON.parse(again.stdout) as { results: StackResult[] }).results;
    expect(result).toMatchObject({ verdict: "in-sync", applied: [] });
    writeFileSync(join(root, "world", "a.txt"), "edited\n");
    const put = await driftwatch(["--config", config, "converge", "files", "--json"], quiet);
    const [back] = (JSON.parse(put.stdout) as { results: StackResult[] }).results;
    expect(back!.applied!.map((c) => [c.kind, c.action, c.address])).toEqual([["pending", "create", "local_file.a"]]);
    expect(back!.verdict).toBe("in-sync");
    const table = await driftwatch(["--config", config, "converge", "files"], quiet);
    expect(table.stdout).toMatch(/^files: converge applied nothing \(already as Git declares\)\n/);
  }, engineTimeout(30));

  it("keeps a pipe's stderr empty unless logs are asked for, and shows a terminal each stack as it finishes", async () => {
    // A drifted stack (converged by the test before): its check opens an episode, which the log channel reports.
    rmSync(join(root, "world", "a.txt"));
    const piped = await driftwatch(["--config", config, "check"], quiet);
    expect(piped.stdout).toMatch(/^STACK\s+VERDICT[^\n]*\nfiles\s+drifted/);
    expect(piped.stderr).toBe("");
    const logged = await driftwatch(["--config", config, "--log-format", "json", "--log-level", "info", "check"], quiet);
    const lines = logged.stderr.trim().split("\n");
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((line) => line.startsWith("{") && JSON.parse(line) !== undefined)).toBe(true);

    // On a terminal: how many stacks, then each as it finishes; log lines for people, none of them JSON.
    const stdout = new PassThrough();
    const stderr = Object.assign(new PassThrough(), { isTTY: true });
    const err: Buffer[] = [];
    stderr.on("data", (chunk: Buffer) => err.push(chunk));
    stdout.resume();
    const code = await runCli(["--config", config, "check"], { stdout, stderr, env: { ...process.env, DRIFTWATCH_TOOLCHAIN: process.env.DRIFTWATCH_TOOLCHAIN ?? manifestPath(), DRIFTWATCH_LOG_LEVEL: undefined } });
    const shown = Buffer.concat(err).toString("utf8");
    expect(code, shown).toBe(2);
    expect(shown).toMatch(/^checking 1 stack…\n {2}\[1\/1\] files: drifted, \d+\.\d s\n/);
    expect(shown.split("\n").filter((line) => line.startsWith("{"))).toEqual([]);
  }, engineTimeout(30));
});
