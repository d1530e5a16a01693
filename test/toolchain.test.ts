// What the provisioner hands over: the pinned binaries, and the ways a user points it at their own.
import { chmodSync, readFileSync, readdirSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ProvisionError } from "../src/toolchain/errors.ts";
import { exec } from "../src/toolchain/exec.ts";
import { silentProgress } from "../src/toolchain/progress.ts";
import { terraformCli, terraformClis } from "../src/toolchain/manifest.ts";
import { provisionKubernetes } from "../src/toolchain/kubernetes.ts";
import { provisionPulumi } from "../src/toolchain/pulumi.ts";
import { provisionTerraform } from "../src/toolchain/terraform.ts";
import { loadPinnedVersions } from "../src/toolchain/versions.ts";
import { tempDir } from "./support/tempdir.ts";
import { testToolchain } from "./support/toolchain.ts";

const versions = loadPinnedVersions();

describe("the provisioned toolchain", () => {
  it("has a pulumi that prints its real version", async () => {
    const { manifest, env } = testToolchain();
    const result = await exec(manifest.pulumi.bin, ["version"], { env });
    expect(result.code).toBe(0);
    if (manifest.pulumi.origin === "built") expect(result.stdout.trim()).toBe(`v${versions.pulumi.version}`);
    expect(readdirSync(manifest.pulumi.binDir).sort()).toEqual(["pulumi", "pulumi-language-nodejs", "pulumi-resource-pulumi-nodejs"]);
  });

  it("always has OpenTofu first, and every Terraform-compatible CLI it lists runs as the flavor it claims", async () => {
    const { manifest, env } = testToolchain();
    expect(terraformClis(manifest)[0]?.flavor).toBe("tofu");
    for (const cli of terraformClis(manifest)) {
      const result = await exec(cli.bin, ["version"], { env });
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(cli.flavor === "tofu" ? `OpenTofu v${cli.version}` : `Terraform v${cli.version}`);
    }
    if (terraformCli(manifest, "tofu")?.origin === "built") expect(terraformCli(manifest, "tofu")?.version).toBe(versions.tofu.version);
  });

  it("configures terraform/tofu to install providers only from the local mirror, without update checks", () => {
    const { manifest } = testToolchain();
    const config = readFileSync(manifest.terraform.cliConfigFile, "utf8");
    expect(config).toContain("disable_checkpoint = true");
    expect(config).toContain(`filesystem_mirror {\n    path = ${JSON.stringify(manifest.terraform.providerMirror)}`);
    expect(config).not.toMatch(/\bdirect\b|network_mirror/);
    for (const registry of ["registry.opentofu.org", "registry.terraform.io"]) {
      expect(readdirSync(join(manifest.terraform.providerMirror, registry, "hashicorp")).sort()).toEqual(["local", "random"]);
    }
  });

  it("has kustomize, etcd and kube-apiserver that report the versions the manifest records", async () => {
    const { kustomize, etcd, kubeApiserver } = testToolchain().manifest.kubernetes;
    expect(etcd && kubeApiserver, "npm test provisions the local API server's binaries").toBeTruthy();
    const checks: [typeof etcd, string[], string][] = [
      [kustomize, ["version"], `v${kustomize.version}`],
      [etcd, ["--version"], `etcd Version: ${etcd?.version}`],
      [kubeApiserver, ["--version"], `Kubernetes v${kubeApiserver?.version}`],
    ];
    for (const [tool, args, banner] of checks) {
      const result = await exec(tool!.bin, args);
      expect(result.code, result.output).toBe(0);
      expect(result.stdout).toContain(banner);
    }
    if (kustomize.origin === "built") expect(kustomize.version).toBe(versions.kustomize.version);
    if (kubeApiserver?.origin === "built") expect(kubeApiserver.version).toBe(versions.kubeApiserver.version);
  });
});

describe("pointing Driftwatch at installed engines", () => {
  it("uses the pulumi named by DRIFTWATCH_PULUMI, with the language host beside it", async () => {
    const { manifest } = testToolchain();
    const tools = tempDir();
    const pulumi = await provisionPulumi({
      tools,
      versions,
      progress: silentProgress,
      env: { ...process.env, DRIFTWATCH_PULUMI: realpathSync(manifest.pulumi.bin) },
    });
    expect(pulumi.origin).toBe("env");
    expect(pulumi.binDir.startsWith(tools)).toBe(true);
    expect(realpathSync(join(pulumi.binDir, "pulumi"))).toBe(realpathSync(manifest.pulumi.bin));
    expect(realpathSync(join(pulumi.binDir, "pulumi-language-nodejs"))).toBe(realpathSync(manifest.pulumi.languageNodejs.bin));
  });

  it("refuses a DRIFTWATCH_PULUMI older than the supported floor, saying which", async () => {
    const dir = tempDir();
    const old = join(dir, "pulumi");
    writeFileSync(old, "#!/bin/sh\necho v3.1.0\n");
    chmodSync(old, 0o755);
    const attempt = provisionPulumi({ tools: dir, versions, progress: silentProgress, env: { ...process.env, DRIFTWATCH_PULUMI: old } });
    await expect(attempt).rejects.toBeInstanceOf(ProvisionError);
    await expect(attempt).rejects.toThrow(`pulumi: DRIFTWATCH_PULUMI: ${old} is pulumi 3.1.0; Driftwatch needs pulumi >= ${versions.pulumi.minimum}`);
  });

  it("says so when DRIFTWATCH_TOFU does not run", async () => {
    const tools = tempDir();
    const attempt = provisionTerraform({ tools, versions, progress: silentProgress, env: { ...process.env, DRIFTWATCH_TOFU: join(tools, "no-such-tofu") } });
    await expect(attempt).rejects.toThrow(/tofu: DRIFTWATCH_TOFU: .*no-such-tofu does not run 'tofu version'/);
  });

  it("refuses a DRIFTWATCH_TERRAFORM that is really OpenTofu", async () => {
    const tools = tempDir();
    const impostor = join(tools, "terraform");
    writeFileSync(impostor, "#!/bin/sh\necho OpenTofu v1.12.6\n");
    chmodSync(impostor, 0o755);
    const { manifest } = testToolchain();
    const tofu = terraformCli(manifest, "tofu");
    const env = { ...process.env, DRIFTWATCH_TOFU: tofu?.bin ?? "", DRIFTWATCH_TERRAFORM: impostor };
    const attempt = provisionTerraform({ tools, versions, progress: silentProgress, env });
    await expect(attempt).rejects.toThrow(`DRIFTWATCH_TERRAFORM: ${impostor} is tofu, not terraform`);
  });

  it("refuses a DRIFTWATCH_KUSTOMIZE older than the supported floor, and takes a recent enough one", async () => {
    const dir = tempDir();
    const fake = (name: string, version: string) => {
      const file = join(dir, name);
      writeFileSync(file, `#!/bin/sh\necho v${version}\n`);
      chmodSync(file, 0o755);
      return file;
    };
    const old = fake("kustomize-old", "4.5.7");
    const search = (bin: string) => ({ tools: dir, versions, progress: silentProgress, env: { ...process.env, DRIFTWATCH_KUSTOMIZE: bin } });
    const attempt = provisionKubernetes(search(old), { servers: false });
    await expect(attempt).rejects.toBeInstanceOf(ProvisionError);
    await expect(attempt).rejects.toThrow(`kustomize: DRIFTWATCH_KUSTOMIZE: ${old} is kustomize 4.5.7; Driftwatch needs kustomize >= ${versions.kustomize.minimum}`);
    const recent = fake("kustomize-new", "9.1.0");
    expect(await provisionKubernetes(search(recent), { servers: false })).toEqual({ kustomize: { bin: recent, version: "9.1.0", origin: "env" } });
  });
});
