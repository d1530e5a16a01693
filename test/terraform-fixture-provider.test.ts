// driftwatch/fixture, the tests' own provider (tools/terraform-provider-fixture), under the real CLIs: installed
// offline from its mirror through the toolchain's CLI config, its objects are JSON files, and editing or deleting
// a file is drift the CLI reports attribute by attribute. Once per installed CLI (tofu always, terraform when present).
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readToolchainManifest, type TerraformCli, terraformClis, toolchainEnv } from "../src/toolchain/manifest.ts";
import { manifestPath } from "../src/toolchain/paths.ts";
import { tempDir } from "./support/tempdir.ts";
import {
  deleteFixtureObject,
  editFixtureObject,
  fixtureObjectPath,
  fixtureObjectsModule,
  type FixtureObjectFile,
  readFixtureObject,
} from "./support/terraform-modules.ts";

const manifest = readToolchainManifest(process.env.DRIFTWATCH_TOOLCHAIN ?? manifestPath());

interface ResourceChange {
  address: string;
  change: { actions: string[]; before: Record<string, unknown> | null; after: Record<string, unknown> | null; importing?: { id: string } };
}
interface PlanJson {
  resource_drift?: ResourceChange[];
  resource_changes?: ResourceChange[];
}

/** A root module in a fresh directory, run by `cli` with the toolchain's CLI config and no way out to a registry. */
function workspace(cli: TerraformCli, module: string) {
  const root = tempDir(`driftwatch-fixture-${cli.flavor}-`);
  const world = join(root, "world");
  mkdirSync(world);
  writeFileSync(join(root, "main.tf"), module);
  // The config lists only filesystem mirrors; a proxy that refuses every connection proves nothing else is asked.
  const env = { ...toolchainEnv(manifest), HTTPS_PROXY: "http://127.0.0.1:9", HTTP_PROXY: "http://127.0.0.1:9", NO_PROXY: "" };
  const run = (...args: string[]) => execFileSync(cli.bin, args, { cwd: root, env, encoding: "utf8", stdio: "pipe" });
  const vars = [`-var=dir=${world}`];
  return {
    world,
    init: () => run("init", "-input=false", "-no-color"),
    apply: () => run("apply", "-auto-approve", "-input=false", "-no-color", ...vars),
    /** A saved plan read back through `show -json`, as the engine reads it. */
    plan: (...flags: string[]): PlanJson => {
      run("plan", "-input=false", "-no-color", "-out=plan.bin", ...flags, ...vars);
      return JSON.parse(run("show", "-json", "-no-color", "plan.bin")) as PlanJson;
    },
    lockFile: () => readFileSync(join(root, ".terraform.lock.hcl"), "utf8"),
  };
}

describe.each(terraformClis(manifest).map((cli) => [cli.flavor, cli] as const))("the fixture provider with %s", (flavor, cli) => {
  const fixture = manifest.terraform.fixtureProvider;
  const registry = flavor === "tofu" ? "registry.opentofu.org" : "registry.terraform.io";

  it("installs offline from its mirror; editing an object's file is drift of that attribute, deleting it a deletion", () => {
    expect(fixture, "npm test provisions the fixture provider").toBeDefined();
    const ws = workspace(cli, fixtureObjectsModule({ a: { content: "alpha\n", tags: { team: "core" }, size: 3, secret: "s3cr3t" } }));
    ws.init();
    expect(ws.lockFile()).toContain(`provider "${registry}/${fixture?.source}" {\n  version = "${fixture?.version}"`);

    ws.apply();
    const created: FixtureObjectFile = { content: "alpha\n", tags: { team: "core" }, size: 3, zone: null, label: "auto", secret: "s3cr3t", revision: 1 };
    expect(readFixtureObject(ws.world, "a")).toEqual(created);
    expect(ws.plan("-refresh-only").resource_drift ?? []).toEqual([]);

    editFixtureObject(ws.world, "a", { content: "edited by hand\n" });
    const edited = ws.plan("-refresh-only").resource_drift ?? [];
    expect(edited.map((d) => [d.address, d.change.actions])).toEqual([["fixture_object.a", ["update"]]]);
    const { before, after } = edited[0]!.change;
    expect(before).toMatchObject({ content: "alpha\n", label: "auto", revision: 1 });
    expect(after).toEqual({ ...before, content: "edited by hand\n" });

    deleteFixtureObject(ws.world, "a");
    const deleted = ws.plan("-refresh-only").resource_drift ?? [];
    expect(deleted.map((d) => [d.address, d.change.actions, d.change.after])).toEqual([["fixture_object.a", ["delete"], null]]);
  });

  it("imports an existing object by its path", () => {
    const importBlock = `import {\n  to = fixture_object.b\n  id = "\${var.dir}/b.json"\n}\n`;
    const ws = workspace(cli, fixtureObjectsModule({ b: { content: "made elsewhere\n" } }, importBlock));
    const path = fixtureObjectPath(ws.world, "b");
    const existing: FixtureObjectFile = { content: "made elsewhere\n", tags: null, size: null, zone: null, label: "found", secret: null, revision: 7 };
    writeFileSync(path, JSON.stringify(existing));
    ws.init();
    const changes = ws.plan().resource_changes ?? [];
    expect(changes.map((c) => [c.address, c.change.actions, c.change.importing?.id])).toEqual([["fixture_object.b", ["no-op"], path]]);
    expect(changes[0]!.change.after).toMatchObject({ id: path, path, content: "made elsewhere\n", label: "found", revision: 7 });
    ws.apply();
    expect(readFixtureObject(ws.world, "b")).toEqual(existing); // imported as it is, not rewritten
  });
});
