import { chmodSync, copyFileSync, linkSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cacheKey, ensureCacheEntry, fileKeyParts } from "./cache.ts";
import { BuildError, ProvisionError } from "./errors.ts";
import { exec, which } from "./exec.ts";
import { goBuild, goInstall } from "./go.ts";
import type { TerraformCli, TerraformFlavor, ToolchainManifest } from "./manifest.ts";
import { repoRoot } from "./paths.ts";
import type { ToolSearch } from "./pulumi.ts";
import { versionString } from "./semver.ts";
import type { TerraformProviderPin } from "./versions.ts";

/** Both registries a configuration may name its providers by; the mirror answers for each. */
export const MIRRORED_REGISTRIES = ["registry.opentofu.org", "registry.terraform.io"] as const;

async function describe(bin: string): Promise<{ version: string; flavor: TerraformFlavor } | undefined> {
  // An empty CLI config keeps the probe from warning about ~/.terraformrc or reading the user's one.
  const result = await exec(bin, ["version"], { env: { ...process.env, TF_CLI_CONFIG_FILE: "/dev/null", CHECKPOINT_DISABLE: "1" } });
  const version = versionString(result.stdout);
  if (result.code !== 0 || !version) return undefined;
  return { version, flavor: /OpenTofu/.test(result.stdout) ? "tofu" : "terraform" };
}

const ENV_OVERRIDE: Record<TerraformFlavor, string> = { tofu: "DRIFTWATCH_TOFU", terraform: "DRIFTWATCH_TERRAFORM" };

/**
 * The installed CLI of one flavor: the binary its env variable names (DRIFTWATCH_TOFU, DRIFTWATCH_TERRAFORM),
 * else the one on PATH (unless DRIFTWATCH_IGNORE_PATH_TOOLS). A named binary of the other flavor is an error.
 */
async function findInstalledCli(search: ToolSearch, flavor: TerraformFlavor): Promise<TerraformCli | undefined> {
  const variable = ENV_OVERRIDE[flavor];
  const named = search.env[variable];
  if (named) {
    const found = await describe(named);
    if (!found) throw new ProvisionError(flavor, `${variable}=${named} does not run '${named} version'`);
    if (found.flavor !== flavor) throw new ProvisionError(flavor, `${variable}=${named} is ${found.flavor}, not ${flavor}`);
    return { bin: named, ...found, origin: "env" };
  }
  if (search.env.DRIFTWATCH_IGNORE_PATH_TOOLS) return undefined;
  const bin = await which(flavor, search.env);
  const found = bin ? await describe(bin) : undefined;
  return bin && found?.flavor === flavor ? { bin, ...found, origin: "path" } : undefined;
}

async function buildTofu(search: ToolSearch): Promise<TerraformCli> {
  const pin = search.versions.tofu;
  const moduleDir = join(repoRoot, pin.goModule);
  const key = cacheKey([pin.version, `${process.platform}-${process.arch}`, ...fileKeyParts([join(moduleDir, "go.mod"), join(moduleDir, "go.sum")])]);
  const root = join(search.tools, `tofu-${pin.version}-${key}`);
  const bin = join(root, "bin", "tofu");
  const cached = await ensureCacheEntry(root, async (staging) => {
    const out = join(staging, "bin", "tofu");
    await search.progress.timed(`building tofu ${pin.version} from the Go module proxy (a few minutes)`, () =>
      goBuild({ tool: "tofu", moduleDir, pkg: pin.package, out, ldflags: "-X github.com/opentofu/opentofu/version.dev=no" }),
    );
    const built = await describe(out);
    if (built?.version !== pin.version) {
      throw new BuildError("tofu", "version check", `built binary reports '${built?.version ?? ""}', expected ${pin.version}`);
    }
  });
  if (cached) search.progress.info(`tofu ${pin.version}: cached in ${root}`);
  return { bin, version: pin.version, flavor: "tofu", origin: "built" };
}

function goArch(): string {
  const arches: Record<string, string> = { x64: "amd64", arm64: "arm64", ia32: "386", arm: "arm" };
  return arches[process.arch] ?? process.arch;
}

/** The CLI configuration: only the local filesystem mirror installs providers, and no update checks. */
export function cliConfig(mirror: string): string {
  return [
    "# Written by Driftwatch's provisioning: providers come only from the local mirror below.",
    "disable_checkpoint = true",
    "provider_installation {",
    "  filesystem_mirror {",
    `    path = ${JSON.stringify(mirror)}`,
    "  }",
    "}",
    "",
  ].join("\n");
}

/**
 * Builds each pinned provider with `go install module@commit` and lays it out as an unpacked filesystem mirror
 * (HOST/hashicorp/NAME/VERSION/OS_ARCH/terraform-provider-NAME_vVERSION) for both registries.
 */
async function provisionProviders(search: ToolSearch, pins: readonly TerraformProviderPin[]): Promise<{ mirror: string; cliConfigFile: string }> {
  const target = `${process.platform}_${goArch()}`;
  const key = cacheKey([target, ...pins.map((p) => `${p.name}@${p.version}=${p.module}@${p.moduleVersion}`)]);
  const root = join(search.tools, `terraform-providers-${key}`);
  const mirror = join(root, "mirror");
  const cliConfigFile = join(root, "cli.tfrc");
  const cached = await ensureCacheEntry(root, async (staging) => {
    const gobin = join(staging, "gobin");
    for (const pin of pins) {
      await search.progress.timed(`building terraform provider hashicorp/${pin.name} ${pin.version} from the Go module proxy`, () =>
        goInstall(`terraform-provider-${pin.name}`, `${pin.module}@${pin.moduleVersion}`, gobin),
      );
      const executable = `terraform-provider-${pin.name}_v${pin.version}`;
      let first: string | undefined;
      for (const registry of MIRRORED_REGISTRIES) {
        const dir = join(staging, "mirror", registry, "hashicorp", pin.name, pin.version, target);
        mkdirSync(dir, { recursive: true });
        const file = join(dir, executable);
        if (first) linkSync(first, file);
        else {
          copyFileSync(join(gobin, `terraform-provider-${pin.name}`), file);
          chmodSync(file, 0o755);
        }
        first ??= file;
      }
    }
    writeFileSync(join(staging, "cli.tfrc"), cliConfig(mirror));
  });
  if (cached) search.progress.info(`terraform providers (${pins.map((p) => `${p.name} ${p.version}`).join(", ")}): cached in ${root}`);
  return { mirror, cliConfigFile };
}

/**
 * OpenTofu always (installed, else built: it is the engine's default), HashiCorp Terraform when one is installed
 * (it cannot be built from the proxy under its own licence terms), and the provider mirror both use.
 */
export async function provisionTerraform(search: ToolSearch): Promise<ToolchainManifest["terraform"]> {
  const clis: TerraformCli[] = [];
  for (const flavor of ["tofu", "terraform"] as const) {
    const installed = await findInstalledCli(search, flavor);
    if (installed) search.progress.info(`${flavor} ${installed.version}: using ${installed.bin} (${installed.origin})`);
    else if (flavor === "terraform") search.progress.info("terraform: none installed; the Terraform tests run on tofu only");
    const cli = installed ?? (flavor === "tofu" ? await buildTofu(search) : undefined);
    if (cli) clis.push(cli);
  }
  const pins = search.versions.terraformProviders;
  const { mirror, cliConfigFile } = await provisionProviders(search, pins);
  return { clis, cliConfigFile, providerMirror: mirror, providers: pins.map((p) => ({ name: p.name, version: p.version })) };
}
