// The CLI configuration a stack's OpenTofu or Terraform reads: the operator's own, found as the CLI itself would
// find it, so that providers install the way `tofu init` / `terraform init` install them on this machine (the
// registries, `provider_installation` with its mirrors, `credentials` blocks, `host` blocks).
//
// A run's engine gets a private HOME (engine-env.ts), where the CLI would find no configuration of the service
// user's: so the file is looked up here, in the service user's home, and named to the CLI with TF_CLI_CONFIG_FILE.
// The order is the CLI's own: TF_CLI_CONFIG_FILE in the stack's or the service's environment; then, for OpenTofu,
// `~/.tofurc`, else `~/.terraformrc`; for Terraform, `~/.terraformrc`. A stack that must not use it sets
// `env: { TF_CLI_CONFIG_FILE: /dev/null }`. Not followed: the implied local mirror folders of the service user's
// home (`~/.terraform.d/plugins`, `~/.local/share/…/plugins`) and `credentials.tfrc.json` (`terraform login`):
// name a `filesystem_mirror` and a `credentials` block, or set `TF_TOKEN_<host>`, instead.
//
// The sandbox lets a run read the file, and the folders of its `filesystem_mirror` blocks: cliConfigMirrors reads
// them from the file's text. It reads no other HCL: a path it cannot read as a plain string is not granted, and
// init then says the mirror has no such provider.
import { existsSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, join } from "node:path";

/** The largest CLI configuration file read for its mirrors; a larger one is still given to the CLI. */
const MAX_CONFIG_BYTES = 1024 * 1024;

export type CliFlavor = "tofu" | "terraform";

/**
 * The CLI configuration file the CLI would read for the service user, or undefined for none. `env` is the run's
 * environment (the stack's `env` over the service's allow-listed one), `home` the service user's home.
 */
export function operatorCliConfig(env: NodeJS.ProcessEnv, home: string | undefined, flavor: CliFlavor): string | undefined {
  const named = env.TF_CLI_CONFIG_FILE;
  if (named !== undefined && named !== "") return named;
  if (!home) return undefined;
  const candidates = flavor === "tofu" ? [".tofurc", ".terraformrc"] : [".terraformrc"];
  return candidates.map((name) => join(home, name)).find((file) => isFile(file));
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** A double-quoted HCL string at the start of `text` (escapes as JSON has them), or undefined. */
function quotedString(text: string): string | undefined {
  const match = /^"((?:[^"\\\n]|\\.)*)"/.exec(text);
  if (!match) return undefined;
  try {
    return JSON.parse(`"${match[1]!}"`) as string;
  } catch {
    return undefined;
  }
}

/**
 * The `path` of every `filesystem_mirror` block in a CLI configuration's text (absolute paths only: a relative one
 * is relative to the CLI's working folder, the checkout, which the run reads anyway).
 */
export function cliConfigMirrors(text: string): string[] {
  const mirrors: string[] = [];
  const block = /filesystem_mirror\s*\{([^{}]*)\}/g;
  for (let found = block.exec(text); found; found = block.exec(text)) {
    const body = found[1]!;
    const attribute = /(?:^|\n)\s*path\s*=\s*/.exec(body);
    if (!attribute) continue;
    const path = quotedString(body.slice(attribute.index + attribute[0].length));
    if (path && isAbsolute(path)) mirrors.push(path);
  }
  return mirrors;
}

export interface CliConfigFile {
  /** What a run may read: the file and the mirror folders it names (those that exist). */
  readable: string[];
  /** Its content (undefined: no such file, or too large to read), which init's outcome depends on. */
  text?: string;
}

export function readCliConfig(file: string): CliConfigFile {
  if (file === "/dev/null" || !isFile(file)) return { readable: [] };
  try {
    if (statSync(file).size > MAX_CONFIG_BYTES) return { readable: [file] };
    const text = readFileSync(file, "utf8");
    return { readable: [file, ...cliConfigMirrors(text).filter((path) => existsSync(path))], text };
  } catch {
    return { readable: [file] };
  }
}
