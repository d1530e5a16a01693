// A Pulumi stack that never finishes. Two orderings, each forced rather than left to whichever timer fires first:
// - while one operation holds the stack's lock (its timeout far away), a second is told the stack is locked;
//   then Driftwatch is asked to stop (Ctrl-C), and the first is cancelled cleanly: lock released, nothing left;
// - an operation that holds the lock when its stack's timeout expires is stopped (interrupt, then kill), its
//   lock released, nothing left running in its folder.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultPulumiBackend } from "../src/config/load.ts";
import type { StackResult } from "../src/core/types.ts";
import { driftwatch } from "./support/cli.ts";
import { commitFiles, createProgramRepo } from "./support/git.ts";
import { beforeDeadline, processesUnder, until } from "./support/processes.ts";
import { pulumiStackYaml } from "./support/pulumi.ts";
import { sharedCacheDir } from "./support/tempdir.ts";
import { engineTimeout } from "./support/timeouts.ts";

const HANGING_PROGRAM = [
  'import * as path from "node:path";',
  'import { LocalFile } from "./localFile";',
  "// Keeps the process alive and never lets the resource's content resolve: `up` waits forever.",
  "setInterval(() => {}, 1 << 30);",
  'new LocalFile("never", { path: path.join(process.env.DEMO_FILES_DIR!, "never.txt"), content: new Promise<string>(() => {}) });',
  "",
].join("\n");

/**
 * The stack's timeout in the second ordering. From the start of the run to the engine holding its lock (git, the
 * dependency link, Pulumi's start) took 1.6 s on a 2-core machine running the whole suite beside two CPU hogs,
 * so 20 s leaves a wide margin; the test checks that the lock was held before the timeout expired.
 */
const TIMEOUT_SECONDS = 20;

function lockFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".json"));
}

const resultOf = (stdout: string) => (JSON.parse(stdout) as { results: StackResult[] }).results[0]!;

describe("a Pulumi stack that never finishes", () => {
  const root = mkdtempSync(join(tmpdir(), "driftwatch-timeout-"));
  const dataDir = join(root, "data");
  const locks = join(defaultPulumiBackend(dataDir, "hang"), ".pulumi", "locks");
  const world = join(root, "world");
  /** A config for the stack `hang` of `repo` with this timeout. */
  const configWith = (name: string, timeoutSeconds: number) => {
    const file = join(root, `${name}.yaml`);
    writeFileSync(
      file,
      [
        `dataDir: ${dataDir}`,
        `cacheDir: ${sharedCacheDir}`,
        "stacks:",
        ...pulumiStackYaml({ name: "hang", repo: join(root, "repo"), path: "stacks/app", passphrase: "timeout-test", world, timeoutSeconds }),
        "",
      ].join("\n"),
    );
    return file;
  };
  const patient = configWith("patient", 3600);
  const impatient = configWith("impatient", TIMEOUT_SECONDS);

  beforeAll(async () => {
    // Deployed once with the demo program (dependencies installed, stack created), then Git's program hangs.
    const repo = createProgramRepo(join(root, "repo"));
    const deployed = await driftwatch(["--config", patient, "converge", "hang"]);
    expect(deployed.code, deployed.stderr).toBe(0);
    commitFiles(repo, { "stacks/app/index.ts": HANGING_PROGRAM }, "a program that never finishes");
  }, engineTimeout(10));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("tells a second operation the stack is locked, and cancels the first cleanly when asked to stop", async () => {
    const stop = new AbortController();
    const first = driftwatch(["--config", patient, "converge", "hang", "--json"], {}, stop.signal);
    await until(() => lockFiles(locks).length > 0, 240_000);

    // The first cannot end on its own (its timeout is an hour away): the lock is held for as long as this takes.
    const second = await driftwatch(["--config", patient, "converge", "hang", "--json"]);
    expect(second.code).toBe(1);
    expect(resultOf(second.stdout).error).toMatchObject({ kind: "StackLockedError", message: expect.stringContaining("stack hang is locked") });

    stop.abort(); // Ctrl-C
    const run = await first;
    expect(run.code).toBe(1);
    expect(resultOf(run.stdout)).toMatchObject({ verdict: "error", error: { kind: "InterruptedError" } });
    expect(lockFiles(locks)).toEqual([]);
    expect(processesUnder(join(dataDir, "git", "worktrees"))).toEqual([]);
    expect(existsSync(join(world, "never.txt"))).toBe(false);
  }, engineTimeout(5));

  it("stops an operation holding the lock when the stack's timeout expires, and releases the lock", async () => {
    const started = Date.now();
    const run = driftwatch(["--config", impatient, "converge", "hang", "--json"]);
    // The ordering under test: the engine held its lock before the timeout expired.
    await beforeDeadline(run, () => lockFiles(locks).length > 0, started, TIMEOUT_SECONDS * 1000, "the engine took its lock");

    const timedOut = await run;
    expect(timedOut.code).toBe(1);
    expect(resultOf(timedOut.stdout)).toMatchObject({ verdict: "error", error: { kind: "TimeoutError", message: expect.stringContaining(`did not finish within ${TIMEOUT_SECONDS}s`) } });
    expect(lockFiles(locks)).toEqual([]);
    expect(processesUnder(join(dataDir, "git", "worktrees"))).toEqual([]);
    expect(existsSync(join(world, "never.txt"))).toBe(false);
  }, engineTimeout(23));
});
