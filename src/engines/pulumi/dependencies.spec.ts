// The program dependency cache, with a stand-in npm (DRIFTWATCH_NPM): installed once per package.json, linked
// into each worktree, and never replaced under the programs of another process that shares the cache.
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test/support/tempdir.ts";
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

describe("ensureDependencies", () => {
  it("installs once per package.json and links each program folder to the cache entry", async () => {
    const root = tempDir();
    const cacheDir = join(root, "cache");
    const env = { ...process.env, DRIFTWATCH_NPM: fakeNpm(root) };
    const project = program(root);
    expect(await ensureDependencies({ dir: project, cacheDir, env, logger })).toBe("installed");
    expect(await ensureDependencies({ dir: project, cacheDir, env, logger })).toBe("cached");
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
    expect(await ensureDependencies({ dir: project, cacheDir, env, logger })).toBe("installed");
    const entries = readdirSync(join(cacheDir, "npm"));
    expect(entries).toHaveLength(1); // no staging folder left behind
    expect(readFileSync(join(cacheDir, "npm", entries[0]!, "node_modules", "dep", "by"), "utf8")).toBe("other\n");
    expect(existsSync(join(project, "node_modules", "dep", "by"))).toBe(true);
  });
});
