// The parts of the provisioned toolchain a sandboxed process may read and execute: each engine's own folder, the
// provider mirrors and the CLI configuration naming them. Never the tool cache as a whole: it also holds the local
// test cluster's credentials, the PostgreSQL binaries' data and the manifest.
import { realpathSync } from "node:fs";
import { dirname } from "node:path";
import type { EngineToolchain } from "../toolchain/manifest.ts";

function withRealPath(path: string): string[] {
  try {
    const real = realpathSync(path);
    return real === path ? [path] : [path, real];
  } catch {
    return [path];
  }
}

/** The folder of each binary (and of what it links to). */
function folderOf(bin: string): string[] {
  return withRealPath(bin).map((path) => dirname(path));
}

export function toolchainReadOnly(manifest: EngineToolchain): string[] {
  const { terraform, pulumi } = manifest;
  const paths = [
    // node's own folder: the binary, and npm beside it when it came with one
    ...folderOf(manifest.node.bin),
    ...(pulumi ? [...withRealPath(pulumi.binDir), ...folderOf(pulumi.bin), ...folderOf(pulumi.languageNodejs.bin)] : []),
    ...terraform.clis.flatMap((cli) => folderOf(cli.bin)),
    ...(terraform.providerMirror ? withRealPath(terraform.providerMirror) : []),
    ...(terraform.cliConfigFile ? withRealPath(terraform.cliConfigFile) : []),
    ...(terraform.fixtureProvider ? withRealPath(terraform.fixtureProvider.mirror) : []),
    ...(manifest.kubernetes ? folderOf(manifest.kubernetes.kustomize.bin) : []),
  ];
  return [...new Set(paths)];
}
