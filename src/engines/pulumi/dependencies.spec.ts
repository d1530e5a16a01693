// The program dependency cache, with a stand-in npm (DRIFTWATCH_NPM): installed once per package.json, linked
// into each worktree, never replaced under the programs of another process that shares the cache, and installed
// again when a program changed it.
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pino } from "pino";
import { describe, expect, it, vi } from "vitest";
import { defaultSandbox, sandboxFor } from "../../../test/support/sandbox.ts";
import { pulumiStackConfig } from "../../../test/support/stack-config.ts";
import { tempDir } from "../../../test/support/tempdir.ts";
import type { StackConfig } from "../../config/types.ts";
import { UnsafePathError } from "../../core/worktree-file.ts";
import type { SandboxLevel } from "../../sandbox/types.ts";
import { ensureDependencies } from "./dependencies.ts";

const logger = pino({ level: "silent" });

/** A fake npm that "installs" a marker package, after running `extra` (shell) to play another process. */
function fakeNpm(dir: string, extra = ""): string {
  const npm = join(dir, "npm");
  writeFileSync(npm, `#!/bin/sh\nmkdir -p node_modules/dep && echo "$$" > node_modules/dep/by\n${extra}\n`);
  chmodSync(npm, 0o755);
  return npm;
}

function program(dir: string): string {
  const project = join(dir, "program");
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, "package.json"), '{ "name": "p", "dependencies": { "dep": "1.0.0" } }\n');
  return project;
}

/** A Pulumi stack whose program is `project` (relative to the worktree `root`), its sandbox at `level`. */
function stackOf(root: string, project: string, env: NodeJS.ProcessEnv, level: SandboxLevel): StackConfig {
  // The stand-in npm is a script of the test's: the sandbox lets it run, as an operator's DRIFTWATCH_NPM.
  const sandbox = defaultSandbox({ level, readOnly: env.DRIFTWATCH_NPM ? [env.DRIFTWATCH_NPM] : [] });
  return pulumiStackConfig("app", { repo: root, ref: "main", path: project.slice(root.length + 1) }, { stack: "dev", backendUrl: `file://${join(root, "backend")}` }, { sandbox });
}

/**
 * The options for the program folder `project` of the worktree `root`. The cache's own logic is what most of these
 * tests are about, and some play a second process through the stand-in npm: they run it unconfined; the last test
 * runs it in the sandbox.
 */
function options(root: string, project: string, env: NodeJS.ProcessEnv, level: SandboxLevel = "off") {
  const sandbox = sandboxFor(stackOf(root, project, env, level), project, join(root, "data"));
  return { folder: { dir: project, root }, stack: "app", cacheDir: join(root, "cache"), env, logger, sandbox, signal: AbortSignal.timeout(60_000) };
}

/** How ensureDependencies went, without the entry's path. */
async function how(pending: ReturnType<typeof ensureDependencies>): Promise<string> {
  return (await pending).how;
}

describe("ensureDependencies", () => {
  it("installs once per package.json and links each program folder to the cache entry", async () => {
    const root = tempDir();
    const cacheDir = join(root, "cache");
    const env = { ...process.env, DRIFTWATCH_NPM: fakeNpm(root) };
    const project = program(root);
    expect(await how(ensureDependencies(options(root, project, env)))).toBe("installed");
    expect(await how(ensureDependencies(options(root, project, env)))).toBe("cached");
    const [entry] = readdirSync(join(cacheDir, "npm"));
    expect(readlinkSync(join(project, "node_modules"))).toBe(join(cacheDir, "npm", entry!, "node_modules"));
  });

  it("keeps the entry another process finished first, rather than replacing it under its programs", async () => {
    const root = tempDir();
    const cacheDir = join(root, "cache");
    const project = program(root);
    // While "our" npm runs, another process finishes the same entry (its files differ: a sentinel says whose).
    const other = `entry=$(dirname "$PWD")/$(basename "$PWD" | sed 's/\\.partial-.*//'); mkdir -p "$entry/node_modules/dep" && echo other > "$entry/node_modules/dep/by" && echo done > "$entry/.driftwatch-installed"`;
    const env = { ...process.env, DRIFTWATCH_NPM: fakeNpm(root, other) };
    expect(await how(ensureDependencies(options(root, project, env)))).toBe("installed");
    const entries = readdirSync(join(cacheDir, "npm"));
    expect(entries).toHaveLength(1); // no staging folder left behind
    expect(readFileSync(join(cacheDir, "npm", entries[0]!, "node_modules", "dep", "by"), "utf8")).toBe("other\n");
    expect(existsSync(join(project, "node_modules", "dep", "by"))).toBe(true);
  });

  it.each([
    ["rewrites a file", (tree: string) => writeFileSync(join(tree, "dep", "by"), "evil\n")],
    ["adds a file", (tree: string) => writeFileSync(join(tree, "dep", "extra.js"), "evil\n")],
    ["makes a file executable", (tree: string) => chmodSync(join(tree, "dep", "by"), 0o755)],
    ["removes a file", (tree: string) => rmSync(join(tree, "dep", "by"))],
  ])("installs again when a program %s in the shared entry, before the next program runs from it", async (_what, tamper) => {
    const root = tempDir();
    const env = { ...process.env, DRIFTWATCH_NPM: fakeNpm(root) };
    const project = program(root);
    expect(await how(ensureDependencies(options(root, project, env)))).toBe("installed");
    tamper(join(project, "node_modules")); // through the link, as the program would
    expect(await how(ensureDependencies(options(root, project, env)))).toBe("installed");
    expect(readFileSync(join(project, "node_modules", "dep", "by"), "utf8")).not.toBe("evil\n");
    expect(existsSync(join(project, "node_modules", "dep", "extra.js"))).toBe(false);
    expect(await how(ensureDependencies(options(root, project, env)))).toBe("cached");
  });

  it("checks the content of an entry the first time a process uses it, and trusts no marker without a fingerprint", async () => {
    const root = tempDir();
    const env = { ...process.env, DRIFTWATCH_NPM: fakeNpm(root) };
    const project = program(root);
    expect(await how(ensureDependencies(options(root, project, env)))).toBe("installed");
    /** ensureDependencies as a new process has it: nothing verified yet. */
    const freshProcess = async () => {
      vi.resetModules();
      return (await import("./dependencies.ts")).ensureDependencies;
    };
    expect(await how((await freshProcess())(options(root, project, env)))).toBe("cached");
    writeFileSync(join(project, "node_modules", "dep", "by"), "evil\n");
    expect(await how((await freshProcess())(options(root, project, env)))).toBe("installed");
    const [entry] = readdirSync(join(root, "cache", "npm"));
    writeFileSync(join(root, "cache", "npm", entry!, ".driftwatch-installed"), "2026-01-01T00:00:00.000Z"); // an older Driftwatch's
    expect(await how((await freshProcess())(options(root, project, env)))).toBe("installed");
  });

  it("keeps an entry's state beside it, so a new process checks that instead of hashing every file again", async () => {
    const root = tempDir();
    const env = { ...process.env, DRIFTWATCH_NPM: fakeNpm(root) };
    const project = program(root);
    expect(await how(ensureDependencies(options(root, project, env)))).toBe("installed");
    const [name] = readdirSync(join(root, "cache", "npm"));
    const entry = join(root, "cache", "npm", name!);
    const freshProcess = async () => {
      vi.resetModules();
      return (await import("./dependencies.ts")).ensureDependencies;
    };
    // A content fingerprint that no longer matches: a process that hashed the files would install again.
    const marker = join(entry, ".driftwatch-installed");
    writeFileSync(marker, JSON.stringify({ ...JSON.parse(readFileSync(marker, "utf8")), content: "0".repeat(64) }));
    expect(await how((await freshProcess())(options(root, project, env)))).toBe("cached");
    // Without the kept state, the content is checked again.
    rmSync(join(entry, ".driftwatch-state"));
    expect(await how((await freshProcess())(options(root, project, env)))).toBe("installed");
    // A change to the tree changes its state: the content is checked, and the entry installed again.
    expect(await how((await freshProcess())(options(root, project, env)))).toBe("cached");
    writeFileSync(join(project, "node_modules", "dep", "by"), "evil\n");
    expect(await how((await freshProcess())(options(root, project, env)))).toBe("installed");
    expect(readFileSync(join(project, "node_modules", "dep", "by"), "utf8")).not.toBe("evil\n");
  });

  it("refuses a package.json linked to a file outside the worktree", async () => {
    const root = tempDir();
    const outside = tempDir();
    writeFileSync(join(outside, "package.json"), '{ "name": "outside" }\n');
    const project = join(root, "program");
    mkdirSync(project, { recursive: true });
    symlinkSync(join(outside, "package.json"), join(project, "package.json"));
    await expect(ensureDependencies(options(root, project, { ...process.env, DRIFTWATCH_NPM: fakeNpm(root) }))).rejects.toBeInstanceOf(UnsafePathError);
  });

  it("runs npm in the sandbox: it writes its staging folder only, and gets none of the stack's settings but npm's", async () => {
    const root = tempDir();
    const escaped = join(root, "escaped");
    // An install script as a committer would write it: try to leave something outside, and to read the stack's env.
    const npm = fakeNpm(root, `echo out > ${escaped} 2>/dev/null; env > node_modules/dep/env`);
    const env = { ...process.env, DRIFTWATCH_NPM: npm, STACK_CREDENTIAL: "stack-credential-5e1f", npm_config_registry: "https://registry.npmjs.org/" };
    const project = program(root);
    const outcome = await ensureDependencies(options(root, project, env, "strict"));
    expect(outcome.how).toBe("installed");
    expect(existsSync(escaped)).toBe(false);
    const installEnv = readFileSync(join(outcome.entry!, "dep", "env"), "utf8");
    expect(installEnv).toContain("npm_config_registry=https://registry.npmjs.org/");
    expect(installEnv).not.toContain("stack-credential-5e1f");
    // Its scratch home and temp folder are not kept in the entry.
    expect(readdirSync(join(outcome.entry!, ".."))).not.toContain(".home");
  });
});
