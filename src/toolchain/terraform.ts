import { chmodSync, copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { cacheKey, ensureCacheEntry, fileKeyParts } from "./cache.ts";
import { BuildError, ProvisionError } from "./errors.ts";
import { exec } from "./exec.ts";
import { goBuild, goInstall } from "./go.ts";
import { type EngineLookup, findInstalledEngine } from "./installed-engines.ts";
import { terraformProviderPackagesSchema, type TerraformCli, type TerraformFixtureProvider, type TerraformFlavor, type TerraformProviderPackage, type ToolchainManifest } from "./manifest.ts";
import { manifestPath, repoRoot } from "./paths.ts";
import { mirrorPackages } from "./provider-packages.ts";
import type { ToolSearch } from "./pulumi.ts";
import { versionString } from "./semver.ts";
import type { GoBuiltTool, PinnedVersions, TerraformProviderPin } from "./versions.ts";

/** Both registries a configuration may name its providers by; the mirror answers for each. */
export const MIRRORED_REGISTRIES = ["registry.opentofu.org", "registry.terraform.io"] as const;

async function describe(bin: string): Promise<{ version: string; flavor: TerraformFlavor } | undefined> {
  // An empty CLI config keeps the probe from warning about ~/.terraformrc or reading the user's one.
  const result = await exec(bin, ["version"], { env: { ...process.env, TF_CLI_CONFIG_FILE: "/dev/null", CHECKPOINT_DISABLE: "1" } });
  const version = versionString(result.stdout);
  if (result.code !== 0 || !version) return undefined;
  return { version, flavor: /OpenTofu/.test(result.stdout) ? "tofu" : "terraform" };
}

/** How an installed tofu or terraform is found and held to its floor (installed-engines.ts). */
export function terraformLookup(versions: PinnedVersions, flavor: TerraformFlavor): EngineLookup {
  return {
    name: flavor,
    minimum: flavor === "tofu" ? versions.tofu.minimum : versions.terraform.minimum,
    report: async (bin) => {
      const found = await describe(bin);
      if (!found) return { problem: `does not run '${flavor} version'` };
      return found.flavor === flavor ? { version: found.version } : { problem: `is ${found.flavor}, not ${flavor}` };
    },
  };
}

export async function findInstalledCli(search: ToolSearch, flavor: TerraformFlavor): Promise<TerraformCli | undefined> {
  const found = await findInstalledEngine(search, terraformLookup(search.versions, flavor));
  return found && { ...found, flavor };
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

/** OS_ARCH as the CLIs name a platform in a mirror's layout. */
function mirrorTarget(): string {
  return `${process.platform}_${goArch()}`;
}

/**
 * The CLI configuration: only the local filesystem mirrors install providers (OpenTofu and Terraform both take
 * several `filesystem_mirror` blocks and look a provider up in each), and no update checks.
 */
export function cliConfig(mirrors: readonly string[]): string {
  return [
    `# Written by Driftwatch's provisioning: providers come only from the local ${mirrors.length > 1 ? "mirrors" : "mirror"} below.`,
    "disable_checkpoint = true",
    "provider_installation {",
    ...mirrors.flatMap((mirror) => ["  filesystem_mirror {", `    path = ${JSON.stringify(mirror)}`, "  }"]),
    "}",
    "",
  ].join("\n");
}

/**
 * Puts the provider executable `built` into an unpacked filesystem mirror
 * (HOST/NAMESPACE/NAME/VERSION/OS_ARCH/terraform-provider-NAME_vVERSION) for every registry a configuration may
 * name it by: one copy, hard links for the others.
 */
function layOutProvider(mirror: string, provider: { namespace: string; name: string; version: string }, built: string): void {
  const executable = `terraform-provider-${provider.name}_v${provider.version}`;
  let first: string | undefined;
  for (const registry of MIRRORED_REGISTRIES) {
    const dir = join(mirror, registry, provider.namespace, provider.name, provider.version, mirrorTarget());
    mkdirSync(dir, { recursive: true });
    const file = join(dir, executable);
    if (first) linkSync(first, file);
    else {
      copyFileSync(built, file);
      chmodSync(file, 0o755);
    }
    first ??= file;
  }
}

/**
 * Builds each pinned provider with `go install module@commit` and lays it out as an unpacked filesystem mirror
 * for both registries.
 */
async function provisionProviders(search: ToolSearch, pins: readonly TerraformProviderPin[]): Promise<{ mirror: string; cliConfigFile: string; built: boolean }> {
  const key = cacheKey([mirrorTarget(), ...pins.map((p) => `${p.name}@${p.version}=${p.module}@${p.moduleVersion}`)]);
  const root = join(search.tools, `terraform-providers-${key}`);
  const mirror = join(root, "mirror");
  const cliConfigFile = join(root, "cli.tfrc");
  const cached = await ensureCacheEntry(root, async (staging) => {
    const gobin = join(staging, "gobin");
    for (const pin of pins) {
      await search.progress.timed(`building terraform provider hashicorp/${pin.name} ${pin.version} from the Go module proxy`, () =>
        goInstall(`terraform-provider-${pin.name}`, `${pin.module}@${pin.moduleVersion}`, gobin),
      );
      layOutProvider(join(staging, "mirror"), { namespace: "hashicorp", ...pin }, join(gobin, `terraform-provider-${pin.name}`));
    }
    writeFileSync(join(staging, "cli.tfrc"), cliConfig([mirror]));
  });
  if (cached) search.progress.info(`terraform providers (${pins.map((p) => `${p.name} ${p.version}`).join(", ")}): cached in ${root}`);
  return { mirror, cliConfigFile, built: !cached };
}

/** The tests' provider, whose `fixture_object` resources are JSON files: what a module's required_providers names. */
export const FIXTURE_PROVIDER = { namespace: "driftwatch", name: "fixture" } as const;

/**
 * Where the fixture provider's current sources are built: the cache key covers go.mod, go.sum and every .go
 * file of its module, so editing the provider builds a new entry without a version bump.
 */
export function fixtureProviderEntry(tools: string, pin: GoBuiltTool): { moduleDir: string; root: string; mirror: string; bin: string } {
  const moduleDir = resolve(repoRoot, pin.goModule);
  const sources = readdirSync(moduleDir)
    .filter((file) => file === "go.mod" || file === "go.sum" || file.endsWith(".go"))
    .sort();
  const key = cacheKey([pin.version, mirrorTarget(), ...sources.flatMap((file) => [file, ...fileKeyParts([join(moduleDir, file)])])]);
  const root = join(tools, `terraform-provider-fixture-${pin.version}-${key}`);
  const mirror = join(root, "mirror");
  const { namespace, name } = FIXTURE_PROVIDER;
  const bin = join(mirror, MIRRORED_REGISTRIES[0], namespace, name, pin.version, mirrorTarget(), `terraform-provider-${name}_v${pin.version}`);
  return { moduleDir, root, mirror, bin };
}

/**
 * Builds driftwatch/fixture through its module in tools/ into a mirror of its own, so the product's provider
 * mirror (and its cache key) knows nothing of a test tool.
 */
async function provisionFixtureProvider(search: ToolSearch): Promise<{ provider: TerraformFixtureProvider; built: boolean }> {
  const pin = search.versions.terraformFixtureProvider;
  const { moduleDir, root, mirror, bin } = fixtureProviderEntry(search.tools, pin);
  const source = `${FIXTURE_PROVIDER.namespace}/${FIXTURE_PROVIDER.name}`;
  const cached = await ensureCacheEntry(root, async (staging) => {
    const out = join(staging, "build", "terraform-provider-fixture");
    await search.progress.timed(`building terraform provider ${source} ${pin.version} (test fixture)`, () =>
      goBuild({ tool: "terraform-provider-fixture", moduleDir, pkg: pin.package, out, ldflags: `-X main.version=${pin.version}` }),
    );
    layOutProvider(join(staging, "mirror"), { ...FIXTURE_PROVIDER, version: pin.version }, out);
    rmSync(join(staging, "build"), { recursive: true, force: true });
  });
  if (cached) search.progress.info(`terraform provider ${source} ${pin.version}: cached in ${root}`);
  return { provider: { source, version: pin.version, bin, mirror }, built: !cached };
}

/**
 * A fixture provider from an earlier manifest that is still there and is what the current sources build, so
 * `npm start` keeps what `npm test` provisioned.
 */
export function keptFixtureProvider(previous: TerraformFixtureProvider | undefined, tools: string, versions: PinnedVersions): TerraformFixtureProvider | undefined {
  if (!previous || !existsSync(previous.bin)) return undefined;
  // An installed package has no fixture sources (they are the tests'): nothing to compare with, nothing kept.
  if (!existsSync(join(repoRoot, versions.terraformFixtureProvider.goModule))) return undefined;
  return previous.bin === fixtureProviderEntry(tools, versions.terraformFixtureProvider).bin ? previous : undefined;
}

/** The provider packages the manifest being replaced recorded (none when it has no such record, or is unreadable). */
export function recordedProviderPackages(tools: string): TerraformProviderPackage[] {
  try {
    // Only this part is read: the rest of an older manifest may not match today's schema.
    const previous = JSON.parse(readFileSync(manifestPath(tools), "utf8")) as { terraform?: { providerPackages?: unknown } };
    const parsed = terraformProviderPackagesSchema.safeParse(previous.terraform?.providerPackages);
    return parsed.success ? parsed.data : [];
  } catch {
    return [];
  }
}

/**
 * The SHA-256 of every file of every package in `mirror`: taken when the mirror was built just now, or when the
 * manifest being replaced has no record of it (a cache built before Driftwatch recorded them); otherwise kept as
 * recorded. Never taken again from an entry already recorded: a mirror changed after its build (through a plugin
 * cache entry, which links to it) stays detectably changed instead of being blessed by the next provisioning.
 */
export async function mirrorChecksums(search: Pick<ToolSearch, "progress">, mirror: string, builtNow: boolean, recorded: readonly TerraformProviderPackage[]): Promise<TerraformProviderPackage[]> {
  const kept = builtNow ? [] : recorded.filter((p) => p.mirror === mirror);
  if (kept.length > 0) return kept;
  // A tenth of a second: said, not announced as a build (a first `check` of an installed package prints builds only).
  const started = Date.now();
  const packages = await mirrorPackages(mirror);
  search.progress.info(`recorded the SHA-256 of every provider file in ${mirror} (${Date.now() - started} ms)`);
  return packages;
}

/** A CLI config naming several mirrors, in a cache entry of its own: it depends on every mirror's entry. */
async function sharedCliConfig(tools: string, mirrors: readonly string[]): Promise<string> {
  const root = join(tools, `terraform-cli-config-${cacheKey(mirrors)}`);
  await ensureCacheEntry(root, async (staging) => writeFileSync(join(staging, "cli.tfrc"), cliConfig(mirrors)));
  return join(root, "cli.tfrc");
}

/** Which CLIs the configuration's Terraform stacks ask for: by name, or (either) whichever the machine has. */
export interface TerraformNeeds {
  tofu: boolean;
  terraform: boolean;
  either: boolean;
}

/**
 * The CLIs found installed (both flavors are looked for), and OpenTofu built when it is asked for, or when `either`
 * is and neither is installed. HashiCorp Terraform cannot be built from the proxy under its licence terms: asked
 * for and not found, that is an error naming the setting.
 */
export async function provisionTerraformClis(search: ToolSearch, needs: TerraformNeeds): Promise<TerraformCli[]> {
  const clis: TerraformCli[] = [];
  for (const flavor of ["tofu", "terraform"] as const) {
    const installed = await findInstalledCli(search, flavor);
    if (installed) {
      search.progress.info(`${flavor} ${installed.version}: using ${installed.bin} (${installed.origin})`);
      clis.push(installed);
    }
  }
  const has = (flavor: TerraformFlavor) => clis.some((cli) => cli.flavor === flavor);
  if (needs.terraform && !has("terraform")) {
    throw new ProvisionError("terraform", `a stack asks for terraform (terraform.binary), and none is installed: put terraform >= ${search.versions.terraform.minimum} on PATH or set engines.terraform.path`);
  }
  if ((needs.tofu && !has("tofu")) || (needs.either && clis.length === 0)) clis.unshift(await buildTofu(search));
  return clis;
}

export interface TerraformProvisionOptions {
  /** Also build driftwatch/fixture (the test tools); otherwise `kept` is passed on as it is. */
  fixtureProvider: boolean;
  kept?: TerraformFixtureProvider;
}

/**
 * OpenTofu always (installed, else built: it is the engine's default), HashiCorp Terraform when one is installed
 * (it cannot be built from the proxy under its own licence terms), and the provider mirror both use; with the test
 * tools, also the fixture provider, whose mirror the CLI config then lists as well. Records the SHA-256 of every
 * file of every package in those mirrors (see mirrorChecksums), which the engine holds a stack's providers to.
 */
export async function provisionTerraform(
  search: ToolSearch,
  options: TerraformProvisionOptions = { fixtureProvider: false },
): Promise<ToolchainManifest["terraform"]> {
  const clis = await provisionTerraformClis(search, { tofu: true, terraform: false, either: false });
  const pins = search.versions.terraformProviders;
  const recorded = recordedProviderPackages(search.tools);
  const { mirror, cliConfigFile, built } = await provisionProviders(search, pins);
  const providers = pins.map((p) => ({ name: p.name, version: p.version }));
  const products = await mirrorChecksums(search, mirror, built, recorded);
  const fixture = options.fixtureProvider ? await provisionFixtureProvider(search) : options.kept && { provider: options.kept, built: false };
  if (!fixture) return { clis, cliConfigFile, providerMirror: mirror, providers, providerPackages: products };
  const fixtureProvider = fixture.provider;
  const providerPackages = [...products, ...(await mirrorChecksums(search, fixtureProvider.mirror, fixture.built, recorded))];
  const shared = await sharedCliConfig(search.tools, [mirror, fixtureProvider.mirror]);
  return { clis, cliConfigFile: shared, providerMirror: mirror, providers, fixtureProvider, providerPackages };
}
