// What holding a Terraform stack's providers to the provisioned checksums costs (src/engines/terraform/
// provider-integrity.ts): a real `tofu init` of a module using hashicorp/local and hashicorp/random through a plugin
// cache, the stack's copy made as the engine makes it, then
// - that init itself again, for scale (a fresh data dir each time, the cache warm, no lock file),
// - recording the mirror's checksums (what provisioning does once per mirror build),
// - the check after every init (every file hashed),
// - the check before a plan whose init was skipped, when the files' states vouch for them (lstat only),
// - the same when they cannot (another stack's init linked the files, which moves their ctime): hashed again.
//
//   npm run bench -- provider-verification      (BENCH_RUNS, default 7)
import { linkSync, mkdirSync, mkdtempSync, readdirSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../src/core/logger.ts";
import { detachProviders } from "../src/engines/terraform/private-providers.ts";
import { providersStillVerified, verifyInstalledProviders } from "../src/engines/terraform/provider-integrity.ts";
import { exec } from "../src/toolchain/exec.ts";
import { readToolchainManifest, terraformCli, toolchainEnv } from "../src/toolchain/manifest.ts";
import { mirrorPackages, PACKAGE_DEPTH } from "../src/toolchain/provider-packages.ts";
import { median } from "./support.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const manifest = readToolchainManifest();
const tofu = terraformCli(manifest, "tofu");
if (!tofu) throw new Error("the toolchain has no tofu");
const logger = createLogger({ level: "warn" });

const root = mkdtempSync(join(tmpdir(), "driftwatch-bench-providers-"));
try {
  const module = join(root, "module");
  mkdirSync(module);
  writeFileSync(
    join(module, "main.tf"),
    'terraform {\n  required_providers {\n    local  = { source = "hashicorp/local" }\n    random = { source = "hashicorp/random" }\n  }\n}\n',
  );
  const dataDir = join(root, "data");
  const pluginCacheDir = join(root, "plugin-cache");
  mkdirSync(pluginCacheDir);
  const env = { ...toolchainEnv(manifest), TF_DATA_DIR: dataDir, TF_PLUGIN_CACHE_DIR: pluginCacheDir, TF_IN_AUTOMATION: "1" };
  const init = await exec(tofu.bin, ["init", "-input=false", "-no-color"], { cwd: module, env });
  if (init.code !== 0) throw new Error(`tofu init failed:\n${init.output}`);
  const providersDir = join(dataDir, "providers");
  await detachProviders(providersDir, join(root, "staging"));

  const ms = (values: number[]) => `median ${median(values).toFixed(1)} ms (${values.map((v) => v.toFixed(1)).join(", ")})`;
  async function times(work: () => Promise<unknown>, before: () => unknown = () => {}): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      await before();
      const started = performance.now();
      await work();
      out.push(performance.now() - started);
    }
    return out;
  }

  let fresh = 0;
  const inits = await times(async () => {
    const run = await exec(tofu.bin, ["init", "-input=false", "-no-color"], { cwd: module, env: { ...env, TF_DATA_DIR: join(root, `init-${fresh++}`) } });
    if (run.code !== 0) throw new Error(`tofu init failed:\n${run.output}`);
  }, () => rmSync(join(module, ".terraform.lock.hcl"), { force: true }));

  let providerPackages = await mirrorPackages(manifest.terraform.providerMirror);
  const recording = await times(async () => (providerPackages = await mirrorPackages(manifest.terraform.providerMirror)));
  const check = { toolchain: { terraform: { providerMirror: manifest.terraform.providerMirror, providerPackages } }, stack: "bench", providersDir, logger };
  const afterInit = await times(() => verifyInstalledProviders({ ...check, pluginCacheDir }));

  // Let the filesystem's clock pass the files' last change (the link detachProviders made; a second covers the
  // coarsest timestamps), so that their states can vouch for them.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  await providersStillVerified(check);
  const trusted = await times(() => providersStillVerified(check));

  // Another stack's init linking the same files: their ctime moves, the next check hashes them again.
  const binaries = readdirSync(providersDir, { recursive: true, encoding: "utf8" }).filter((p) => p.split("/").length === PACKAGE_DEPTH + 1);
  const rehashed = await times(
    () => providersStillVerified(check),
    () => {
      for (const [i, file] of binaries.entries()) {
        const other = join(root, `other-${i}`);
        linkSync(join(providersDir, file), other);
        unlinkSync(other);
      }
    },
  );

  const files = providerPackages.flatMap((p) => Object.keys(p.files)).length;
  process.stdout.write(`stack copy: ${binaries.length} provider files (${binaries.map((f) => f.split("/")[2]).join(", ")}); mirror: ${providerPackages.length} packages, ${files} files\n`);
  process.stdout.write(`tofu init (for scale):                                           ${ms(inits)}\n`);
  process.stdout.write(`recording the mirror's checksums (provisioning, once per build): ${ms(recording)}\n`);
  process.stdout.write(`check after init (every file hashed):                            ${ms(afterInit)}\n`);
  process.stdout.write(`check before a skipped-init plan, states vouch (lstat only):     ${ms(trusted)}\n`);
  process.stdout.write(`check before a skipped-init plan, after another init linked them: ${ms(rehashed)}\n`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
