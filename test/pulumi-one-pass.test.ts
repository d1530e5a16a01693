// A Pulumi check is one `preview --refresh`, read as two answers: the cases that pass makes tricky, on the real CLI
// (file:// backend), real git and real files. Each stack is also asked the two questions the old way (a
// previewRefresh and a plain preview, read as Driftwatch always read them): the one pass must say the same.
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type EngineEvent, LocalWorkspace, PulumiCommand } from "@pulumi/pulumi/automation/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultPulumiBackend } from "../src/config/load.ts";
import type { ResourceChange, StackResult } from "../src/core/types.ts";
import { changesFromEvents } from "../src/engines/pulumi/events.ts";
import { repoRoot } from "../src/toolchain/paths.ts";
import { driftwatch } from "./support/cli.ts";
import { commitFiles, createProgramRepo, git } from "./support/git.ts";
import { pulumiStackYaml } from "./support/pulumi.ts";
import { engineTimeout } from "./support/timeouts.ts";
import { testToolchain } from "./support/toolchain.ts";

const PASSPHRASE = "one-pass-test-passphrase";
const root = mkdtempSync(join(tmpdir(), "driftwatch-one-pass-"));
const repo = join(root, "repo");
const world = join(root, "world");
const dataDir = join(root, "data");
const config = join(root, "driftwatch.yaml");
const env = { TEST_PASSPHRASE: PASSPHRASE };
const STACKS = ["plain", "asked", "secret"];

/** A program of LocalFiles named after their files; secret contents are `pulumi.secret`s. */
function program(files: Record<string, string>, options: { secret?: boolean } = {}): string {
  const content = (value: string) => (options.secret ? `pulumi.secret(${JSON.stringify(value)})` : JSON.stringify(value));
  return [
    'import * as pulumi from "@pulumi/pulumi";',
    'import * as path from "node:path";',
    'import { LocalFile } from "./localFile";',
    "const dir = process.env.DEMO_FILES_DIR!;",
    "void pulumi;",
    ...Object.entries(files).map(([name, value]) => `new LocalFile(${JSON.stringify(name)}, { path: path.join(dir, ${JSON.stringify(`${name}.txt`)}), content: ${content(value)} });`),
    "",
  ].join("\n");
}

// Deployed from the first commit; the second commit is Git's change; the world is then changed behind Pulumi's back.
const plainBefore = { reverted: "as recorded\n", both: "recorded\n", kept: "kept\n", changed: "before\n", untouched: "untouched\n" };
const plainAfter = { reverted: "as recorded\n", both: "from Git\n", kept: "kept\n", changed: "after\n", untouched: "untouched\n" };
const askedBefore = { moot: "recorded\n", removed: "doomed\n", untouched: "untouched\n" };
const askedAfter = { moot: "the new value\n", untouched: "untouched\n" };
const SECRETS = ["s3cret-reverted", "s3cret-changed", "s3cret-kept", "s3cret-rotated", "hand-edited-s3cret"];
const secretBefore = { reverted: "s3cret-reverted\n", changed: "s3cret-changed\n", kept: "s3cret-kept\n" };
const secretAfter = { reverted: "s3cret-reverted\n", changed: "s3cret-rotated\n", kept: "s3cret-kept\n" };

function stackYaml(name: string): string {
  return pulumiStackYaml({ name, repo, path: `stacks/${name}`, passphrase: "${env:TEST_PASSPHRASE}", world: join(world, name) }).join("\n");
}

const results = (stdout: string) => Object.fromEntries((JSON.parse(stdout) as { results: StackResult[] }).results.map((r) => [r.stack, r]));
const nameOf = (change: ResourceChange) => change.address.split("::").at(-1)!;
const sorted = (changes: readonly ResourceChange[]) => [...changes].sort((a, b) => `${a.kind} ${a.address}`.localeCompare(`${b.kind} ${b.address}`));
/** The engine's fallback passes a check logged, by kind ("during the pass" for those asked while the pass ran). */
const fallbacks = (stderr: string, stack: string) =>
  stderr
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as { stack?: string; fallback?: string; during?: string; resources?: number })
    .filter((entry) => entry.stack === stack && entry.fallback)
    .map((entry) => `${entry.fallback}${entry.during ? " during the " + entry.during : ""} ${entry.resources}`);

/** What the two passes a check used to make (previewRefresh, preview) say about the stack at the checked-out commit. */
async function twoPassReading(name: string): Promise<ResourceChange[]> {
  const { manifest, env: toolchainEnv } = testToolchain();
  const workDir = join(repo, "stacks", name);
  const stack = await LocalWorkspace.selectStack(
    { stackName: name, workDir },
    {
      pulumiCommand: await PulumiCommand.get({ root: dirname(manifest.pulumi.binDir) }),
      envVars: {
        PATH: toolchainEnv.PATH!,
        PULUMI_HOME: join(root, "pulumi-home"),
        PULUMI_BACKEND_URL: `file://${defaultPulumiBackend(dataDir, name)}`,
        PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_NODEJS_TRANSPILE_ONLY: "true",
        DEMO_FILES_DIR: join(world, name),
      },
    },
  );
  const refreshEvents: EngineEvent[] = [];
  const previewEvents: EngineEvent[] = [];
  await stack.previewRefresh({ onEvent: (e) => refreshEvents.push(e), color: "never" });
  await stack.preview({ onEvent: (e) => previewEvents.push(e), color: "never" });
  return [...changesFromEvents("drift", refreshEvents), ...changesFromEvents("pending", previewEvents)];
}

describe("a Pulumi check in one pass", () => {
  let check: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    createProgramRepo(repo);
    for (const name of STACKS) cpSync(join(repo, "stacks", "app"), join(repo, "stacks", name), { recursive: true });
    writeFileSync(config, [`dataDir: ${dataDir}`, "stacks:", ...STACKS.map(stackYaml), ""].join("\n"));
    const deployed = { "stacks/plain/index.ts": program(plainBefore), "stacks/asked/index.ts": program(askedBefore), "stacks/secret/index.ts": program(secretBefore, { secret: true }) };
    commitFiles(repo, { ".gitignore": "node_modules\n", ...deployed }, "deployed");
    for (const name of STACKS) {
      const run = await driftwatch(["--config", config, "converge", name, "--json"], env);
      expect(run.code, run.stdout + run.stderr).toBe(0);
    }
    commitFiles(repo, { "stacks/plain/index.ts": program(plainAfter), "stacks/asked/index.ts": program(askedAfter), "stacks/secret/index.ts": program(secretAfter, { secret: true }) }, "Git's change");
    const plain = join(world, "plain");
    writeFileSync(join(plain, "reverted.txt"), "hand-edited\n");
    writeFileSync(join(plain, "both.txt"), "hand-edited\n");
    rmSync(join(plain, "kept.txt"));
    writeFileSync(join(world, "asked", "moot.txt"), "the new value\n");
    rmSync(join(world, "asked", "removed.txt"));
    writeFileSync(join(world, "secret", "reverted.txt"), "hand-edited-s3cret\n");
    check = await driftwatch(["--config", config, "check", "--json", ...STACKS], env);
    // The programs' dependencies, for the two old passes run on the repository's own checkout.
    for (const name of STACKS) symlinkSync(join(repoRoot, "node_modules"), join(repo, "stacks", name, "node_modules"));
    mkdirSync(join(root, "pulumi-home"), { recursive: true });
  }, engineTimeout(50)); // three stacks deployed, then one check of all

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("separates drift from pending in the one pass, with the recorded, refreshed and declared values on the right sides", () => {
    expect(check.code, check.stderr).toBe(2);
    const plain = results(check.stdout).plain!;
    expect(plain.verdict).toBe("drifted+pending");
    const by = (kind: string, name: string) => plain.changes.find((c) => c.kind === kind && nameOf(c) === name);

    // Drifted; the program, unchanged, would only put the recorded value back: drift, not pending.
    expect(by("drift", "reverted")).toMatchObject({ action: "update", properties: [{ path: "content", desired: "as recorded\n", actual: "hand-edited\n" }] });
    expect(by("pending", "reverted")).toBeUndefined();
    // Drifted and changed in Git, in the same property: drift = recorded vs refreshed, pending = declared vs recorded.
    expect(by("drift", "both")).toMatchObject({ action: "update", properties: [{ path: "content", desired: "recorded\n", actual: "hand-edited\n" }] });
    expect(by("pending", "both")).toMatchObject({ action: "update", properties: [{ path: "content", desired: "from Git\n", actual: "recorded\n" }] });
    // Deleted out of band, still declared as recorded: the pass creates it again, which is no pending change.
    expect(by("drift", "kept")).toMatchObject({ action: "delete" });
    expect(by("pending", "kept")).toBeUndefined();
    // Changed in Git only.
    expect(by("pending", "changed")).toMatchObject({ action: "update", properties: [{ path: "content", desired: "after\n", actual: "before\n" }] });
    expect(by("drift", "changed")).toBeUndefined();
    expect(plain.changes.filter((c) => nameOf(c) === "untouched")).toEqual([]);
    expect(plain.changes).toHaveLength(5);
    // All of it from the one `preview --refresh`: no second pass.
    expect(fallbacks(check.stderr, "plain")).toEqual([]);
  });

  it("asks the engine again where the events cannot tell: a moot drift, and a resource Git removed that vanished too", () => {
    const asked = results(check.stdout).asked!;
    const by = (kind: string, name: string) => asked.changes.find((c) => c.kind === kind && nameOf(c) === name);
    // Drifted to exactly Git's new value: drift (the state says otherwise) and pending (Git says otherwise).
    expect(by("drift", "moot")).toMatchObject({ action: "update", properties: [{ path: "content", desired: "recorded\n", actual: "the new value\n" }] });
    expect(by("pending", "moot")).toMatchObject({ action: "update", properties: [{ path: "content", desired: "the new value\n", actual: "recorded\n" }] });
    // Deleted out of band, and removed in Git too: a drift delete and a pending delete.
    expect(by("drift", "removed")).toMatchObject({ action: "delete" });
    expect(by("pending", "removed")).toMatchObject({ action: "delete" });
    expect(asked.changes).toHaveLength(4);
    // Refreshed as the program registers each resource, the pass never refreshes one Git removed: a preview-only
    // refresh of that one. A drift made moot reads like a property in ignoreChanges (the engine copies the refreshed
    // value into the declared inputs): a plain preview tells them apart.
    expect(fallbacks(check.stderr, "asked")).toEqual(["previewRefresh 1", "preview 1"]);
    // Whether a secret changed is in the engine's verdict only: a preview-only refresh of the three secret-bearing
    // files, asked as soon as the pass refreshes the first of them (the others in that question or, when it was
    // already under way, in the next one or after the pass), then a plain preview for the one that drifted (did Git
    // change it too?).
    const secret = fallbacks(check.stderr, "secret");
    expect(secret[0]).toMatch(/^previewRefresh during the pass \d$/);
    expect(secret.at(-1)).toBe("preview 1");
    const refreshed = secret.slice(0, -1).map((entry) => /^previewRefresh( during the pass)? (\d+)$/.exec(entry));
    expect(refreshed.every(Boolean), secret.join(", ")).toBe(true);
    expect(refreshed.reduce((sum, match) => sum + Number(match![2]), 0)).toBe(3);
  });

  it("masks secrets and reads secret-bearing resources right: a reverted drift is not pending, a rotated secret is", () => {
    const secret = results(check.stdout).secret!;
    expect(secret.verdict).toBe("drifted+pending");
    expect(secret.changes.map((c) => [c.kind, c.action, nameOf(c), c.properties])).toEqual([
      ["drift", "update", "reverted", [{ path: "content", desired: "[secret]", actual: "[secret]" }]],
      ["pending", "update", "changed", [{ path: "content", desired: "[secret]", actual: "[secret]" }]],
    ]);
    for (const value of SECRETS) {
      expect(check.stdout).not.toContain(value);
      expect(check.stderr).not.toContain(value);
    }
  });

  it("says what the two passes a check used to make say", async () => {
    const r = results(check.stdout);
    for (const name of STACKS) {
      expect(sorted(r[name]!.changes), name).toEqual(sorted(await twoPassReading(name)));
    }
  }, engineTimeout(20));
});
