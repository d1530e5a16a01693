import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { initMemo, type InitInputs } from "./init-memo.ts";

describe("init memo", () => {
  const roots: string[] = [];
  afterEach(() => roots.splice(0).forEach((r) => rmSync(r, { recursive: true, force: true })));

  function setup() {
    const root = mkdtempSync(join(tmpdir(), "init-memo-"));
    roots.push(root);
    const home = join(root, "home");
    const dataDir = join(home, "data");
    const worktree = join(root, "worktree");
    mkdirSync(join(dataDir, "providers"), { recursive: true });
    mkdirSync(worktree);
    const inputs: InitInputs = { bin: "/bin/tofu", commit: "c1", path: "stacks/a", backendConfig: { bucket: "b" }, env: { TF_VAR_token: "t1", PATH: "/bin" } };
    return { home, dataDir, worktree, inputs };
  }

  it("matches only the inputs of the last successful init, with its providers in place", () => {
    const { home, dataDir, worktree, inputs } = setup();
    expect(initMemo(home, dataDir, inputs).matches()).toBe(false);
    initMemo(home, dataDir, inputs).remember(worktree);
    expect(initMemo(home, dataDir, inputs).matches()).toBe(true);
    for (const changed of [{ commit: "c2" }, { backendConfig: { bucket: "other" } }, { env: { ...inputs.env, TF_VAR_token: "t2" } }, { bin: "/bin/terraform" }]) {
      expect(initMemo(home, dataDir, { ...inputs, ...changed }).matches(), JSON.stringify(changed)).toBe(false);
    }
    // No commit, no knowing what the files were: never skipped.
    initMemo(home, dataDir, { ...inputs, commit: undefined }).remember(worktree);
    expect(initMemo(home, dataDir, { ...inputs, commit: undefined }).matches()).toBe(false);
    rmSync(join(dataDir, "providers"), { recursive: true });
    expect(initMemo(home, dataDir, inputs).matches()).toBe(false);
  });

  it("keeps a digest, never the settings themselves, and forgets on request", () => {
    const { home, dataDir, worktree, inputs } = setup();
    const memo = initMemo(home, dataDir, inputs);
    memo.remember(worktree);
    expect(readFileSync(join(home, "init.sha256"), "utf8")).toMatch(/^[0-9a-f]{64}$/);
    memo.forget();
    expect(memo.matches()).toBe(false);
  });

  it("puts back the lock file init wrote into a worktree that has none, and leaves a committed one alone", () => {
    const { home, dataDir, worktree, inputs } = setup();
    writeFileSync(join(worktree, ".terraform.lock.hcl"), "# written by init\n");
    initMemo(home, dataDir, inputs).remember(worktree);
    const fresh = join(worktree, "..", "fresh");
    mkdirSync(fresh);
    initMemo(home, dataDir, inputs).restore(fresh);
    expect(readFileSync(join(fresh, ".terraform.lock.hcl"), "utf8")).toBe("# written by init\n");
    const committed = join(worktree, "..", "committed");
    mkdirSync(committed);
    writeFileSync(join(committed, ".terraform.lock.hcl"), "# committed\n");
    initMemo(home, dataDir, inputs).restore(committed);
    expect(readFileSync(join(committed, ".terraform.lock.hcl"), "utf8")).toBe("# committed\n");
    // A link in the worktree is never followed: not to keep what it points at, nor to write through it.
    const outside = join(worktree, "..", "outside.txt");
    writeFileSync(outside, "not the repository's\n");
    const linked = join(worktree, "..", "linked");
    mkdirSync(linked);
    symlinkSync(join(worktree, "..", "nowhere.txt"), join(linked, ".terraform.lock.hcl"));
    initMemo(home, dataDir, inputs).restore(linked);
    expect(existsSync(join(worktree, "..", "nowhere.txt"))).toBe(false);
    const leaking = join(worktree, "..", "leaking");
    mkdirSync(leaking);
    symlinkSync(outside, join(leaking, ".terraform.lock.hcl"));
    initMemo(home, dataDir, inputs).remember(leaking);
    const afterLink = join(worktree, "..", "after-link");
    mkdirSync(afterLink);
    initMemo(home, dataDir, inputs).restore(afterLink);
    expect(existsSync(join(afterLink, ".terraform.lock.hcl"))).toBe(false);
    // An init that left no lock file: nothing to put back.
    rmSync(join(worktree, ".terraform.lock.hcl"));
    initMemo(home, dataDir, inputs).remember(worktree);
    const bare = join(worktree, "..", "bare");
    mkdirSync(bare);
    initMemo(home, dataDir, inputs).restore(bare);
    expect(existsSync(join(bare, ".terraform.lock.hcl"))).toBe(false);
  });
});
