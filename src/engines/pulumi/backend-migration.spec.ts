// Moving a stack's state out of the shared file backend of earlier Driftwatch versions into its own folder: every
// file of the stack moves (checkpoint, its backups, history), nothing of another stack does, and it happens once.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test/support/tempdir.ts";
import { migrateSharedBackend, sharedBackend } from "./backend-migration.ts";

const logger = pino({ level: "silent" });

function write(path: string, content: string): void {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, content);
}

function setUp() {
  const root = tempDir();
  const dataDir = join(root, "data");
  const old = join(sharedBackend(dataDir), ".pulumi");
  write(join(old, "meta.yaml"), "version: 1\n");
  write(join(old, "stacks", "demo", "dev.json"), '{"checkpoint":"dev"}');
  write(join(old, "stacks", "demo", "dev.json.bak"), '{"checkpoint":"dev-before"}');
  write(join(old, "stacks", "demo", "prod.json"), '{"checkpoint":"prod"}');
  write(join(old, "stacks", "other", "dev.json"), '{"checkpoint":"other project"}');
  write(join(old, "history", "demo", "dev", "dev-1.history.json"), "{}");
  write(join(old, "backups", "demo", "dev", "dev.1.json"), "{}");
  const folder = { dir: join(root, "worktree", "app"), root: join(root, "worktree") };
  write(join(folder.dir, "Pulumi.yaml"), "name: demo\nruntime: nodejs\n");
  const backend = join(dataDir, "pulumi", "app-dev", "backend");
  return { dataDir, old, folder, backend, options: { dataDir, backend, folder, pulumiStack: "dev", stack: "app-dev", logger } };
}

describe("migrateSharedBackend", () => {
  it("moves the stack's checkpoint, backups and history into its own backend, and nothing else", async () => {
    const t = setUp();
    await migrateSharedBackend(t.options);
    const moved = join(t.backend, ".pulumi");
    expect(readFileSync(join(moved, "stacks", "demo", "dev.json"), "utf8")).toBe('{"checkpoint":"dev"}');
    expect(existsSync(join(moved, "stacks", "demo", "dev.json.bak"))).toBe(true);
    expect(readdirSync(join(moved, "history", "demo", "dev"))).toEqual(["dev-1.history.json"]);
    expect(readdirSync(join(moved, "backups", "demo", "dev"))).toEqual(["dev.1.json"]);
    expect(readFileSync(join(moved, "meta.yaml"), "utf8")).toBe("version: 1\n");
    // The shared backend keeps the other stacks, and no longer has this one.
    expect(readdirSync(join(t.old, "stacks", "demo"))).toEqual(["prod.json"]);
    expect(existsSync(join(t.old, "stacks", "other", "dev.json"))).toBe(true);
    expect(existsSync(join(moved, "stacks", "other"))).toBe(false);
  });

  it("does nothing for a stack its own backend has already, or one that names its backend itself", async () => {
    const t = setUp();
    write(join(t.backend, ".pulumi", "stacks", "demo", "dev.json"), '{"checkpoint":"newer"}');
    await migrateSharedBackend(t.options);
    expect(readFileSync(join(t.backend, ".pulumi", "stacks", "demo", "dev.json"), "utf8")).toBe('{"checkpoint":"newer"}');
    expect(existsSync(join(t.old, "stacks", "demo", "dev.json"))).toBe(true);
    const elsewhere = join(t.dataDir, "..", "my-backend");
    await migrateSharedBackend({ ...t.options, backend: elsewhere });
    expect(existsSync(elsewhere)).toBe(false);
  });
});
