// One plan with refresh per check: the cases where telling drift from pending in a single pass is tricky, on
// the real CLIs with driftwatch/fixture, whose objects drift attribute by attribute. Each stack is converged at
// the first commit, then changed out of band and/or in Git (branch `next`), then checked once.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ResourceChange, StackResult } from "../src/core/types.ts";
import { localStateFile } from "../src/engines/terraform/index.ts";
import { driftFromPlan, plannedChanges, type PlanJson, UNKNOWN_VALUE } from "../src/engines/terraform/plan.ts";
import { readToolchainManifest, terraformClis, toolchainEnv } from "../src/toolchain/manifest.ts";
import { manifestPath } from "../src/toolchain/paths.ts";
import { driftwatch } from "./support/cli.ts";
import { commitFiles, git } from "./support/git.ts";
import { deleteFixtureObject, editFixtureObject, fixtureObjectsModule, type FixtureObjectConfig } from "./support/terraform-modules.ts";

const manifest = readToolchainManifest(process.env.DRIFTWATCH_TOOLCHAIN ?? manifestPath());

// Sensitive only by the provider's schema: nothing masks these by name or by configuration.
const SECRET_V1 = "fx-secret-one-7d1e";
const SECRET_V2 = "fx-secret-two-9a4c";
const TAMPERED = "fx-secret-by-hand-33f0";

const V1: Record<string, FixtureObjectConfig> = { a: { content: "alpha", tags: { env: "prod" } }, b: { content: "bravo" }, s: { secret: SECRET_V1 } };
const V2: Record<string, FixtureObjectConfig> = { a: { content: "gamma", tags: { env: "prod" } }, s: { secret: SECRET_V2 } };

/** Every stack: its module folder, its ref, and what happens to its objects out of band after it is converged. */
const STACKS: { name: string; path: string; ref: "main" | "next"; outOfBand?: (dir: string) => void }[] = [
  { name: "revert", path: "stacks/fx", ref: "main", outOfBand: (dir) => editFixtureObject(dir, "a", { content: "edited" }) },
  { name: "both", path: "stacks/fx", ref: "next", outOfBand: (dir) => editFixtureObject(dir, "a", { content: "edited" }) },
  { name: "moot", path: "stacks/fx", ref: "next", outOfBand: (dir) => editFixtureObject(dir, "a", { content: "gamma" }) },
  { name: "unmanaged", path: "stacks/fx", ref: "main", outOfBand: (dir) => editFixtureObject(dir, "a", { label: "by-hand" }) },
  { name: "gone", path: "stacks/fx", ref: "next", outOfBand: (dir) => deleteFixtureObject(dir, "b") },
  { name: "recreated", path: "stacks/fx", ref: "main", outOfBand: (dir) => deleteFixtureObject(dir, "b") },
  { name: "secret", path: "stacks/fx", ref: "next", outOfBand: (dir) => editFixtureObject(dir, "s", { secret: TAMPERED }) },
  { name: "zone", path: "stacks/zone", ref: "next" },
  { name: "moved", path: "stacks/moved", ref: "next" },
];

describe.each(terraformClis(manifest).map((cli) => [cli.flavor, cli.bin] as const))("one plan per check with %s", (flavor, bin) => {
  const root = mkdtempSync(join(tmpdir(), `driftwatch-one-pass-${flavor}-`));
  const repo = join(root, "repo");
  const world = join(root, "world");
  const config = join(root, "driftwatch.yaml");
  let results: Record<string, StackResult> = {};
  let output = "";

  const changes = (stack: string, kind: ResourceChange["kind"]) => results[stack]!.changes.filter((c) => c.kind === kind);
  const summary = (stack: string) => results[stack]!.changes.map((c) => [c.kind, c.action, c.address]);

  beforeAll(async () => {
    mkdirSync(repo, { recursive: true });
    git(repo, "init", "-q", "-b", "main");
    commitFiles(
      repo,
      {
        "stacks/fx/main.tf": fixtureObjectsModule(V1),
        "stacks/zone/main.tf": fixtureObjectsModule({ z: { content: "zed", zone: "eu" } }),
        "stacks/moved/main.tf": fixtureObjectsModule({ old: { content: "moving" } }),
      },
      "fixture objects",
    );
    git(repo, "branch", "next");
    const lines = [`dataDir: ${join(root, "data")}`, "stacks:"];
    for (const s of STACKS) {
      lines.push(
        `  - name: ${s.name}`,
        "    engine: terraform",
        `    source: { repo: ${repo}, ref: ${s.ref}, path: ${s.path} }`,
        `    terraform: { binary: ${flavor}, vars: { dir: ${join(world, s.name)} } }`,
        `    sandbox: { readWrite: [${join(world, s.name)}] }`,
      );
    }
    writeFileSync(config, `${lines.join("\n")}\n`);
    for (const s of STACKS) {
      const converged = await driftwatch(["--config", config, "converge", "--json", s.name]);
      expect(converged.code, converged.stdout + converged.stderr).toBe(0);
    }
    git(repo, "checkout", "-q", "next");
    commitFiles(
      repo,
      {
        "stacks/fx/main.tf": fixtureObjectsModule(V2),
        "stacks/zone/main.tf": fixtureObjectsModule({ z: { content: "zed", zone: "us" } }),
        // The same object under a new name (its file keeps the old name): a move, nothing else.
        "stacks/moved/main.tf": fixtureObjectsModule(
          {},
          'resource "fixture_object" "renamed" {\n  path    = "${var.dir}/old.json"\n  content = "moving"\n}\nmoved {\n  from = fixture_object.old\n  to   = fixture_object.renamed\n}\n',
        ),
      },
      "Git's changes",
    );
    git(repo, "checkout", "-q", "main");
    for (const s of STACKS) s.outOfBand?.(join(world, s.name));
    const checked = await driftwatch(["--config", config, "check", "--json"]);
    expect(checked.code, checked.stderr).toBe(2);
    results = Object.fromEntries((JSON.parse(checked.stdout) as { results: StackResult[] }).results.map((r) => [r.stack, r]));
    const table = await driftwatch(["--config", config, "check"]);
    const history = await driftwatch(["--config", config, "history", "--json"]);
    output = [checked.stdout, checked.stderr, table.stdout, table.stderr, history.stdout].join("\n");
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("calls a plan that only puts a drifted property back drift, not pending", () => {
    expect(results.revert!.verdict).toBe("drifted");
    expect(changes("revert", "drift")).toEqual([{ kind: "drift", address: "fixture_object.a", type: "fixture_object", action: "update", properties: [{ path: "content", desired: "alpha", actual: "edited" }] }]);
  });

  it("reports a property drifted and changed in Git on both sides: drift from the record, pending against the record", () => {
    expect(results.both!.verdict).toBe("drifted+pending");
    expect(changes("both", "drift").find((c) => c.address === "fixture_object.a")!.properties).toEqual([{ path: "content", desired: "alpha", actual: "edited" }]);
    const a = changes("both", "pending").find((c) => c.address === "fixture_object.a")!;
    expect(a.action).toBe("update");
    expect(a.properties).toContainEqual({ path: "content", desired: "gamma", actual: "alpha" });
  });

  it("reports a drift Git's change makes moot as drift and pending, like two passes would", () => {
    expect(changes("moot", "drift").find((c) => c.address === "fixture_object.a")!.properties).toEqual([{ path: "content", desired: "alpha", actual: "gamma" }]);
    expect(changes("moot", "pending").find((c) => c.address === "fixture_object.a")!.properties).toEqual([{ path: "content", desired: "gamma", actual: "alpha" }]);
  });

  it("does not make drift of an attribute Git does not set pending", () => {
    expect(results.unmanaged!.verdict).toBe("drifted");
    expect(summary("unmanaged")).toEqual([["drift", "update", "fixture_object.a"]]);
    expect(changes("unmanaged", "drift")[0]!.properties).toEqual([{ path: "label", desired: "auto", actual: "by-hand" }]);
  });

  it("reports a resource deleted out of band that Git also removes as a drift delete and a pending delete", () => {
    expect(changes("gone", "drift").filter((c) => c.address === "fixture_object.b").map((c) => c.action)).toEqual(["delete"]);
    expect(changes("gone", "pending").filter((c) => c.address === "fixture_object.b").map((c) => c.action)).toEqual(["delete"]);
  });

  it("does not make an object deleted out of band that Git still declares pending", () => {
    expect(summary("recreated")).toEqual([["drift", "delete", "fixture_object.b"]]);
  });

  it("masks a sensitive attribute drifted and changed in Git on both sides, and leaks none of its values", () => {
    expect(changes("secret", "drift").find((c) => c.address === "fixture_object.s")!.properties).toEqual([{ path: "secret", desired: "[secret]", actual: "[secret]" }]);
    expect(changes("secret", "pending").find((c) => c.address === "fixture_object.s")!.properties).toContainEqual({ path: "secret", desired: "[secret]", actual: "[secret]" });
    for (const value of [SECRET_V1, SECRET_V2, TAMPERED]) expect(output).not.toContain(value);
    const db = join(root, "data");
    for (const file of readdirSync(db).filter((f) => f.startsWith("driftwatch.db"))) {
      for (const value of [SECRET_V1, SECRET_V2, TAMPERED]) expect(readFileSync(join(db, file)).includes(value), file).toBe(false);
    }
  });

  it("reports a replacement Git asks for with the property that forces it", () => {
    expect(summary("zone")).toEqual([["pending", "replace", "fixture_object.z"]]);
    const z = changes("zone", "pending")[0]!;
    expect(z.replacePaths).toEqual(["zone"]);
    expect(z.properties).toContainEqual({ path: "zone", desired: "us", actual: "eu" });
  });

  it("reports a moved resource as pending, with the address it had", () => {
    expect(results.moved!.changes).toEqual([
      { kind: "pending", address: "fixture_object.renamed", type: "fixture_object", action: "move", properties: [], previousAddress: "fixture_object.old" },
    ]);
    expect(output).toContain("fixture_object.renamed (was fixture_object.old)");
  });

  it("says for every stack what the two plans it replaces say (-refresh-only for drift, -refresh=false for pending)", () => {
    const byAddress = (list: ResourceChange[]) => [...list].sort((x, y) => (x.address < y.address ? -1 : 1));
    for (const s of STACKS) {
      // The stack's folder at its ref, initialised on its own, planned twice against the stack's recorded state.
      const dir = join(root, "two-pass", s.name);
      mkdirSync(dir, { recursive: true });
      execFileSync("tar", ["-x", "-C", dir], { input: execFileSync("git", ["archive", s.ref, s.path], { cwd: repo }) });
      const cwd = join(dir, s.path);
      const env = { ...toolchainEnv(manifest), TF_DATA_DIR: join(dir, ".data"), TF_VAR_dir: join(world, s.name), TF_IN_AUTOMATION: "1" };
      const run = (...args: string[]) => execFileSync(bin, args, { cwd, env, encoding: "utf8", stdio: "pipe", maxBuffer: 64 * 1024 * 1024 });
      run("init", "-input=false", "-no-color");
      const plan = (mode: string): PlanJson => {
        run("plan", mode, "-lock=false", "-input=false", "-no-color", `-state=${localStateFile(join(root, "data"), s.name)}`, "-out=p.bin");
        return JSON.parse(run("show", "-json", "-no-color", "p.bin")) as PlanJson;
      };
      expect(byAddress(changes(s.name, "drift")), `${s.name}: drift`).toEqual(byAddress(driftFromPlan(plan("-refresh-only"))));
      // One difference, by design: where the world already is what Git declares (moot), the one plan updates
      // nothing, so it cannot say which computed values an update from the record would leave unknown.
      const moot = (c: ResourceChange) => s.name === "moot" && c.address === "fixture_object.a";
      const known = (list: ResourceChange[]) => list.map((c) => (moot(c) ? { ...c, properties: c.properties.filter((p) => p.desired !== UNKNOWN_VALUE) } : c));
      expect(byAddress(changes(s.name, "pending")), `${s.name}: pending`).toEqual(byAddress(known(plannedChanges(plan("-refresh=false")))));
    }
  });
});
