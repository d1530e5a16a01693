// Chromium for the dashboard's browser test: the Debian package (what playwright-core drives with
// executablePath), found on PATH or named by DRIFTWATCH_CHROMIUM, else installed with apt-get when provisioning
// runs as root (CI machines, containers). apt keeps the downloaded packages in its own cache between runs.
import { BuildError, ToolNotFoundError } from "./errors.ts";
import { exec, which } from "./exec.ts";
import type { ToolchainManifest } from "./manifest.ts";
import type { ToolSearch } from "./pulumi.ts";
import { versionString } from "./semver.ts";

async function describe(bin: string): Promise<string | undefined> {
  const result = await exec(bin, ["--version"], { env: quietEnv() });
  return result.code === 0 ? versionString(result.stdout) : undefined;
}

/** chromium's launcher script warns about odd environments; a plain environment keeps `--version` quiet. */
function quietEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME };
}

export async function provisionChromium(search: ToolSearch): Promise<NonNullable<ToolchainManifest["chromium"]>> {
  const named = search.env.DRIFTWATCH_CHROMIUM;
  if (named) {
    const version = await describe(named);
    if (!version) throw new ToolNotFoundError("chromium", named, `DRIFTWATCH_CHROMIUM=${named} does not run '${named} --version'`);
    return { bin: named, version, origin: "env" };
  }
  const found = (await which("chromium", search.env)) ?? (await which("chromium-browser", search.env));
  const foundVersion = found ? await describe(found) : undefined;
  if (found && foundVersion) {
    search.progress.info(`chromium ${foundVersion}: using ${found}`);
    return { bin: found, version: foundVersion, origin: "path" };
  }
  const aptGet = await which("apt-get", search.env);
  if (!aptGet || process.getuid?.() !== 0) {
    throw new ToolNotFoundError("chromium", "chromium", "the dashboard test drives Chromium: install it (apt-get install chromium) or set DRIFTWATCH_CHROMIUM");
  }
  await search.progress.timed("installing chromium from Debian (apt-get)", async () => {
    const env = { ...search.env, DEBIAN_FRONTEND: "noninteractive" };
    const install = () => exec(aptGet, ["install", "-y", "--no-install-recommends", "chromium"], { env });
    let result = await install();
    if (result.code !== 0) {
      // A fresh machine may not have the package lists yet.
      const update = await exec(aptGet, ["update"], { env });
      if (update.code !== 0) throw new BuildError("chromium", "apt-get update", update.output);
      result = await install();
    }
    if (result.code !== 0) throw new BuildError("chromium", "apt-get install chromium", result.output);
  });
  const bin = (await which("chromium", search.env)) ?? "/usr/bin/chromium";
  const version = await describe(bin);
  if (!version) throw new BuildError("chromium", "chromium --version", `${bin} does not run after installation`);
  return { bin, version, origin: "installed" };
}
