import { join } from "node:path";
import { cacheKey, ensureCacheEntry } from "./cache.ts";
import { BuildError, RegistryError, ToolNotFoundError } from "./errors.ts";
import { exec, which } from "./exec.ts";
import type { ToolchainManifest } from "./manifest.ts";
import type { ToolSearch } from "./pulumi.ts";

const PIP_NETWORK_FAILURE = /(Could not find a version|No matching distribution|ConnectionError|Max retries exceeded|Temporary failure in name resolution|ProxyError|SSLError|HTTP error 40\d)/;

/** moto[server] (the AWS emulator the tests use) in its own virtualenv in the cache, from PyPI. */
export async function provisionMoto(search: ToolSearch): Promise<NonNullable<ToolchainManifest["moto"]>> {
  const version = search.versions.moto.version;
  const python3 = await which("python3", search.env);
  if (!python3) throw new ToolNotFoundError("moto", "python3", "Python >= 3.9 with the venv module is needed for the moto test server");
  const root = join(search.tools, `moto-${version}-${cacheKey([python3, version])}`);
  const python = join(root, "venv", "bin", "python");
  const cached = await ensureCacheEntry(root, async (staging) => {
    await search.progress.timed(`installing moto[server] ${version} from PyPI into a virtualenv`, async () => {
      const venv = await exec(python3, ["-m", "venv", join(staging, "venv")]);
      if (venv.code !== 0) throw new BuildError("moto", `${python3} -m venv`, venv.output);
      // The venv is built in staging and renamed afterwards; run pip through the interpreter, not its script
      // shebang, so nothing depends on the staging path.
      const pip = await exec(join(staging, "venv", "bin", "python"), ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", `moto[server]==${version}`]);
      if (pip.code !== 0) {
        if (PIP_NETWORK_FAILURE.test(pip.output)) throw new RegistryError("moto", "PyPI (pip's index)", pip.output.trim());
        throw new BuildError("moto", "pip install", pip.output.trim());
      }
    });
  });
  if (cached) search.progress.info(`moto ${version}: cached in ${root}`);
  return { python, version };
}
