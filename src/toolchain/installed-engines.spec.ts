import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { StackConfig } from "../config/types.ts";
import { engineNeeds } from "./engine-toolchain.ts";
import { EngineNotUsableError, findInstalledEngine } from "./installed-engines.ts";
import { kustomizeLookup } from "./kubernetes.ts";
import type { Progress } from "./progress.ts";
import { pulumiLookup } from "./pulumi.ts";
import { terraformLookup } from "./terraform.ts";
import { loadPinnedVersions } from "./versions.ts";

const root = mkdtempSync(join(tmpdir(), "installed-engines-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const versions = loadPinnedVersions();

/** An executable named `name` in its own folder that prints `banner` for any arguments (or fails: exit 3). */
function fakeEngine(folder: string, name: string, banner: string | undefined): string {
  const dir = join(root, folder);
  mkdirSync(dir, { recursive: true });
  const bin = join(dir, name);
  writeFileSync(bin, banner === undefined ? "#!/bin/sh\nexit 3\n" : `#!/bin/sh\nprintf '%s\\n' '${banner}'\n`);
  chmodSync(bin, 0o755);
  return bin;
}

function recording(): Progress & { said: string[] } {
  const said: string[] = [];
  return { said, info: (m: string) => said.push(m), timed: async <T>(_m: string, fn: () => Promise<T>) => fn() } as Progress & { said: string[] };
}

describe("installed engines", () => {
  it("takes engines.<name>.path first, and refuses one below the floor naming the setting", async () => {
    const good = fakeEngine("config-good", "tofu", "OpenTofu v1.9.1\non linux_amd64");
    const old = fakeEngine("config-old", "tofu", "OpenTofu v1.5.7\non linux_amd64");
    const onPath = fakeEngine("path-tofu", "tofu", "OpenTofu v1.12.0");
    const env = { PATH: join(root, "path-tofu") };
    const lookup = terraformLookup(versions, "tofu");
    expect(await findInstalledEngine({ env, progress: recording(), paths: { tofu: good } }, lookup)).toEqual({ bin: good, version: "1.9.1", origin: "config" });
    const refused = await findInstalledEngine({ env, progress: recording(), paths: { tofu: old } }, lookup).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(EngineNotUsableError);
    expect((refused as Error).message).toBe(`tofu: engines.tofu.path: ${old} is tofu 1.5.7; Driftwatch needs tofu >= ${versions.tofu.minimum} (install a newer one, or remove the setting to use another)`);
    expect(await findInstalledEngine({ env, progress: recording() }, lookup)).toEqual({ bin: onPath, version: "1.12.0", origin: "path" });
  });

  it("says when the named binary is another program or does not run", async () => {
    const terraform = fakeEngine("named-terraform", "terraform", "Terraform v1.9.0");
    const broken = fakeEngine("named-broken", "pulumi", undefined);
    const tofu = await findInstalledEngine({ env: { DRIFTWATCH_TOFU: terraform }, progress: recording() }, terraformLookup(versions, "tofu")).catch((e: unknown) => e);
    expect((tofu as EngineNotUsableError).setting).toBe("DRIFTWATCH_TOFU");
    expect((tofu as Error).message).toBe(`tofu: DRIFTWATCH_TOFU: ${terraform} is terraform, not tofu`);
    const pulumi = await findInstalledEngine({ env: {}, progress: recording(), paths: { pulumi: broken } }, pulumiLookup(versions)).catch((e: unknown) => e);
    expect((pulumi as Error).message).toBe(`pulumi: engines.pulumi.path: ${broken} does not run 'pulumi version'`);
  });

  it("passes over one on PATH below the floor, saying so, and ignores PATH when told to", async () => {
    fakeEngine("old-kustomize", "kustomize", "v4.5.7");
    const env = { PATH: join(root, "old-kustomize") };
    const progress = recording();
    expect(await findInstalledEngine({ env, progress }, kustomizeLookup(versions))).toBeUndefined();
    expect(progress.said).toEqual([`kustomize on PATH (${join(root, "old-kustomize", "kustomize")}) is 4.5.7, need >= ${versions.kustomize.minimum}: not used`]);
    fakeEngine("new-kustomize", "kustomize", "v5.8.2");
    const newer = { PATH: join(root, "new-kustomize") };
    expect(await findInstalledEngine({ env: newer, progress }, kustomizeLookup(versions))).toMatchObject({ version: "5.8.2", origin: "path" });
    expect(await findInstalledEngine({ env: { ...newer, DRIFTWATCH_IGNORE_PATH_TOOLS: "1" }, progress }, kustomizeLookup(versions))).toBeUndefined();
  });
});

describe("the engines a configuration needs", () => {
  const stack = (engine: string, settings: Record<string, unknown> = {}) => ({ name: engine, engine, ...settings }) as unknown as StackConfig;

  it("is only what its stacks use", () => {
    expect(engineNeeds([])).toEqual({ pulumi: false, terraform: { tofu: false, terraform: false, either: false }, kustomize: false });
    expect(engineNeeds([stack("terraform", { terraform: {} }), stack("cloudformation")])).toEqual({ pulumi: false, terraform: { tofu: false, terraform: false, either: true }, kustomize: false });
    expect(engineNeeds([stack("pulumi"), stack("terraform", { terraform: { binary: "terraform" } }), stack("terraform", { terraform: { binary: "/opt/tf/terraform" } })])).toEqual({
      pulumi: true,
      terraform: { tofu: false, terraform: true, either: false },
      kustomize: false,
    });
    expect(engineNeeds([stack("kubernetes", { kubernetes: { render: "plain" } })]).kustomize).toBe(false);
    expect(engineNeeds([stack("kubernetes", { kubernetes: { render: "auto" } })]).kustomize).toBe(true);
  });
});

describe("what installed engines said of themselves", () => {
  it("is asked once per version of the file, and again when the file changes", async () => {
    const dir = join(root, "counted");
    mkdirSync(dir);
    const counter = join(dir, "runs");
    const bin = join(dir, "tofu");
    const write = (version: string) => {
      writeFileSync(bin, `#!/bin/sh\necho run >> '${counter}'\necho 'OpenTofu v${version}'\n`);
      chmodSync(bin, 0o755);
    };
    write("1.9.0");
    const tools = join(root, "counted-tools");
    mkdirSync(tools);
    const search = { env: { PATH: dir }, progress: recording(), tools };
    const runs = () => readFileSync(counter, "utf8").split("\n").filter(Boolean).length;
    expect(await findInstalledEngine(search, terraformLookup(versions, "tofu"))).toMatchObject({ version: "1.9.0" });
    expect(await findInstalledEngine(search, terraformLookup(versions, "tofu"))).toMatchObject({ version: "1.9.0" });
    expect(runs()).toBe(1);
    write("1.10.2"); // an upgrade in place: new content, new mtime and ctime
    expect(await findInstalledEngine(search, terraformLookup(versions, "tofu"))).toMatchObject({ version: "1.10.2" });
    expect(runs()).toBe(2);
    // Asked as another engine, the same file is asked again (and is refused as what it is not).
    await expect(findInstalledEngine({ ...search, paths: { terraform: bin } }, terraformLookup(versions, "terraform"))).rejects.toThrow("is tofu, not terraform");
    expect(runs()).toBe(3);
  });
});
