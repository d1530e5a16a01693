import { chmodSync, copyFileSync, existsSync, mkdirSync, symlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { cacheKey, ensureCacheEntry, fileKeyParts } from "./cache.ts";
import { BuildError, ProvisionError } from "./errors.ts";
import { exec, which } from "./exec.ts";
import { goBuild } from "./go.ts";
import type { ToolchainManifest } from "./manifest.ts";
import { repoRoot } from "./paths.ts";
import { type EngineLookup, type EngineSearchContext, findInstalledEngine, type InstalledEngine } from "./installed-engines.ts";
import { versionString } from "./semver.ts";
import type { PinnedVersions } from "./versions.ts";

const DYNAMIC_PROVIDER_SCRIPT = "pulumi-resource-pulumi-nodejs";

export interface ToolSearch extends EngineSearchContext {
  tools: string;
  versions: PinnedVersions;
}

async function pulumiVersion(bin: string): Promise<string | undefined> {
  const result = await exec(bin, ["version"], { env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" } });
  return result.code === 0 ? versionString(result.stdout) : undefined;
}

/**
 * The dynamic provider launcher ships inside the @pulumi/pulumi npm package; the CLI looks for it on PATH. Found
 * where Node resolves the package from here: nested in an installed Driftwatch, or hoisted beside it.
 */
function dynamicProviderScript(): string {
  let script: string;
  try {
    script = join(dirname(createRequire(import.meta.url).resolve("@pulumi/pulumi/package.json")), DYNAMIC_PROVIDER_SCRIPT);
  } catch {
    throw new ProvisionError("pulumi", "the @pulumi/pulumi package cannot be found; run 'npm ci' (Driftwatch depends on it)");
  }
  if (!existsSync(script)) {
    throw new ProvisionError("pulumi", `${script} is missing; run 'npm ci' (it ships in the @pulumi/pulumi package)`);
  }
  return script;
}

function installScript(binDir: string): void {
  const target = join(binDir, DYNAMIC_PROVIDER_SCRIPT);
  copyFileSync(dynamicProviderScript(), target);
  chmodSync(target, 0o755);
}

/** An installed pulumi (engines.pulumi.path, DRIFTWATCH_PULUMI or PATH) with its language host beside it or on PATH. */
interface InstalledPulumi extends InstalledEngine {
  host: string;
}

export const pulumiLookup = (versions: PinnedVersions): EngineLookup => ({
  name: "pulumi",
  minimum: versions.pulumi.minimum,
  report: async (bin) => {
    const version = await pulumiVersion(bin);
    return version ? { version } : { problem: "does not run 'pulumi version'" };
  },
});

async function findInstalledPulumi(search: ToolSearch): Promise<InstalledPulumi | undefined> {
  const found = await findInstalledEngine(search, pulumiLookup(search.versions));
  if (!found) return undefined;
  const sibling = join(dirname(found.bin), "pulumi-language-nodejs");
  const host = existsSync(sibling) ? sibling : await which("pulumi-language-nodejs", search.env);
  if (!host) {
    if (found.origin !== "path") throw new ProvisionError("pulumi", `no pulumi-language-nodejs next to ${found.bin} or on PATH (it ships with the Pulumi CLI)`);
    return undefined;
  }
  return { ...found, host };
}

/**
 * The Pulumi CLI, the Node.js language host and the dynamic provider launcher, together in one bin directory
 * (what PulumiCommand.get({ root }) expects as <root>/bin): either links to an installed Pulumi, or built from
 * the Go module proxy through the wrapper modules in tools/.
 */
export async function provisionPulumi(search: ToolSearch): Promise<ToolchainManifest["pulumi"]> {
  const pins = search.versions;
  const installed = await findInstalledPulumi(search);
  if (installed) {
    const { version } = installed;
    // A cache entry like a build's, made once and never replaced in place: a serve running from it is not disturbed
    // by a one-shot check that resolves the same engines.
    const root = join(search.tools, `pulumi-linked-${cacheKey([installed.bin, installed.host, ...fileKeyParts([dynamicProviderScript()])])}`);
    const binDir = join(root, "bin");
    await ensureCacheEntry(root, async (staging) => {
      const stagingBin = join(staging, "bin");
      mkdirSync(stagingBin);
      symlinkSync(installed.bin, join(stagingBin, "pulumi"));
      symlinkSync(installed.host, join(stagingBin, "pulumi-language-nodejs"));
      installScript(stagingBin);
    });
    search.progress.info(`pulumi ${version}: using ${installed.bin} (${installed.origin})`);
    return {
      bin: join(binDir, "pulumi"),
      version,
      origin: installed.origin,
      binDir,
      languageNodejs: { bin: join(binDir, "pulumi-language-nodejs"), version: "unknown", origin: installed.origin },
    };
  }

  const cliModule = join(repoRoot, pins.pulumi.goModule);
  const hostModule = join(repoRoot, pins.pulumiLanguageNodejs.goModule);
  const key = cacheKey([
    pins.pulumi.version,
    pins.pulumiLanguageNodejs.version,
    `${process.platform}-${process.arch}`,
    ...fileKeyParts([join(cliModule, "go.mod"), join(cliModule, "go.sum"), join(hostModule, "go.mod"), join(hostModule, "go.sum"), dynamicProviderScript()]),
  ]);
  const root = join(search.tools, `pulumi-${pins.pulumi.version}-${key}`);
  const binDir = join(root, "bin");
  const cached = await ensureCacheEntry(root, async (staging) => {
    const stagingBin = join(staging, "bin");
    mkdirSync(stagingBin);
    await search.progress.timed(`building pulumi ${pins.pulumi.version} from the Go module proxy (a few minutes)`, () =>
      goBuild({
        tool: "pulumi",
        moduleDir: cliModule,
        pkg: pins.pulumi.package,
        out: join(stagingBin, "pulumi"),
        // Without a version the Automation API refuses the binary.
        ldflags: `-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v${pins.pulumi.version}`,
      }),
    );
    await search.progress.timed(`building pulumi-language-nodejs ${pins.pulumiLanguageNodejs.version}`, () =>
      goBuild({
        tool: "pulumi-language-nodejs",
        moduleDir: hostModule,
        pkg: pins.pulumiLanguageNodejs.package,
        out: join(stagingBin, "pulumi-language-nodejs"),
        ldflags: `-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v${pins.pulumiLanguageNodejs.version}`,
      }),
    );
    installScript(stagingBin);
    const built = await pulumiVersion(join(stagingBin, "pulumi"));
    if (built !== pins.pulumi.version) {
      throw new BuildError("pulumi", "version check", `built binary reports '${built ?? ""}', expected ${pins.pulumi.version}`);
    }
  });
  if (cached) search.progress.info(`pulumi ${pins.pulumi.version}: cached in ${root}`);
  return {
    bin: join(binDir, "pulumi"),
    version: pins.pulumi.version,
    origin: "built",
    binDir,
    languageNodejs: { bin: join(binDir, "pulumi-language-nodejs"), version: pins.pulumiLanguageNodejs.version, origin: "built" },
  };
}
