// The CLI's contract without any engine work: bad input is a clear error, exit 1, and nothing runs.
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { driftwatch } from "./support/cli.ts";
import { tempDir } from "./support/tempdir.ts";

describe("driftwatch CLI", () => {
  it("refuses a malformed config naming the file, key path and stack, and runs nothing", async () => {
    const dir = tempDir();
    const file = join(dir, "driftwatch.yaml");
    writeFileSync(
      file,
      [
        "dataDir: data",
        "stacks:",
        "  - name: web",
        "    engine: pulumi",
        "    source: { repo: ., ref: main, path: app }",
        "    pulumi: { stack: dev, colour: blue }",
        "  - name: db",
        "    engine: pulumi",
        "    source: { repo: ., path: db }",
        "    pulumi: { stack: dev }",
        "    env:",
        "      PULUMI_CONFIG_PASSPHRASE: ${env:DRIFTWATCH_TEST_UNSET_VARIABLE}",
        "",
      ].join("\n"),
    );
    const run = await driftwatch(["--config", file, "check"], { DRIFTWATCH_TEST_UNSET_VARIABLE: undefined });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(file);
    expect(run.stderr).toMatch(/stacks\[0\] \(web\)\.pulumi.*colour/);
    expect(run.stderr).toMatch(/stacks\[1\] \(db\)\.env\.PULUMI_CONFIG_PASSPHRASE.*DRIFTWATCH_TEST_UNSET_VARIABLE/);
    expect(existsSync(join(dir, "data"))).toBe(false);
  });

  it("says which file is missing", async () => {
    const dir = tempDir();
    const run = await driftwatch(["--config", join(dir, "nope.yaml"), "check"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(join(dir, "nope.yaml"));
  });

  it("refuses an unknown stack name before running anything", async () => {
    const dir = tempDir();
    const file = join(dir, "driftwatch.yaml");
    writeFileSync(file, "dataDir: data\nstacks: []\n");
    const run = await driftwatch(["--config", file, "check", "ghost"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("no stack named 'ghost'");
    expect(existsSync(join(dir, "data"))).toBe(false);
  });

  it("prints an empty table and exits 0 when there is nothing to check", async () => {
    const dir = tempDir();
    const file = join(dir, "driftwatch.yaml");
    writeFileSync(file, "dataDir: data\nstacks: []\n");
    const run = await driftwatch(["--config", file, "check", "--json"]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ results: [] });
  });

  it("starts no stack once asked to stop (Ctrl-C), reporting each as interrupted", async () => {
    const dir = tempDir();
    const file = join(dir, "driftwatch.yaml");
    writeFileSync(file, ["dataDir: data", "stacks:", "  - name: web", "    engine: terraform", `    source: { repo: ${join(dir, "no-repo")} }`, ""].join("\n"));
    const stop = new AbortController();
    stop.abort();
    const run = await driftwatch(["--config", file, "check", "--json"], {}, stop.signal);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ results: [{ stack: "web", verdict: "error", error: { kind: "InterruptedError", message: "Driftwatch stopped before stack web started" } }] });
    expect(existsSync(join(dir, "data", "git"))).toBe(false); // not even fetched
  });
});
