// A stack that never finishes: its timeout stops the engine (interrupt, then kill), the lock it took is gone
// afterwards, nothing keeps running in its folder, and a second operation meanwhile is told the stack is locked.
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { StackResult } from "../src/core/types.ts";
import { driftwatch } from "./support/cli.ts";
import { commitFiles, createProgramRepo } from "./support/git.ts";
import { processesUnder, until } from "./support/processes.ts";
import { tempDir } from "./support/tempdir.ts";

const HANGING_PROGRAM = [
  'import * as path from "node:path";',
  'import { LocalFile } from "./localFile";',
  "// Keeps the process alive and never lets the resource's content resolve: `up` waits forever.",
  "setInterval(() => {}, 1 << 30);",
  'new LocalFile("never", { path: path.join(process.env.DEMO_FILES_DIR!, "never.txt"), content: new Promise<string>(() => {}) });',
  "",
].join("\n");

function lockFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".json"));
}

describe("per-stack timeout", () => {
  it("stops a hanging engine, releases its lock, and reports a concurrent operation as locked", async () => {
    const root = tempDir();
    const repo = createProgramRepo(join(root, "repo"));
    commitFiles(repo, { "stacks/app/index.ts": HANGING_PROGRAM }, "a program that never finishes");
    const dataDir = join(root, "data");
    const config = join(root, "driftwatch.yaml");
    writeFileSync(
      config,
      [
        `dataDir: ${dataDir}`,
        "stacks:",
        "  - name: hang",
        "    engine: pulumi",
        `    source: { repo: ${repo}, ref: main, path: stacks/app }`,
        "    pulumi: { stack: hang }",
        "    timeoutSeconds: 25",
        "    env:",
        "      PULUMI_CONFIG_PASSPHRASE: timeout-test",
        `      DEMO_FILES_DIR: ${join(root, "world")}`,
        "",
      ].join("\n"),
    );
    const locks = join(dataDir, "pulumi-backend", ".pulumi", "locks");
    const started = Date.now();
    const first = driftwatch(["--config", config, "converge", "hang", "--json"]);
    await until(() => lockFiles(locks).length > 0, 60_000);

    const second = await driftwatch(["--config", config, "converge", "hang", "--json"]);
    expect(second.code).toBe(1);
    const locked = (JSON.parse(second.stdout) as { results: StackResult[] }).results[0]!;
    expect(locked.error?.kind).toBe("StackLockedError");
    expect(locked.error?.message).toContain("stack hang is locked");

    const run = await first;
    expect(run.code).toBe(1);
    const timedOut = (JSON.parse(run.stdout) as { results: StackResult[] }).results[0]!;
    expect(timedOut.verdict).toBe("error");
    expect(timedOut.error).toMatchObject({ kind: "TimeoutError" });
    expect(timedOut.error!.message).toContain("did not finish within 25s");
    expect(Date.now() - started).toBeLessThan(90_000);
    expect(lockFiles(locks)).toEqual([]);
    expect(processesUnder(join(dataDir, "git", "worktrees"))).toEqual([]);
    expect(existsSync(join(root, "world", "never.txt"))).toBe(false);
  });
});
