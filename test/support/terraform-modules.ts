// Small Terraform/OpenTofu root modules for tests and benchmarks: files under `var.dir`, managed by hashicorp/local.
// fixtureObjectsModule's are JSON files managed by driftwatch/fixture (tools/terraform-provider-fixture), whose
// attributes drift one by one when a test edits a file with editFixtureObject.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * A module managing one `local_file` per entry (resource name → content) at `${var.dir}/<name>.txt`, followed by
 * `extra` HCL.
 */
export function localFilesModule(files: Record<string, string>, extra = ""): string {
  const resources = Object.entries(files).map(
    ([name, content]) => `resource "local_file" "${name}" {\n  filename = "\${var.dir}/${name}.txt"\n  content  = ${JSON.stringify(content)}\n}\n`,
  );
  return `terraform {
  required_providers {
    local = { source = "hashicorp/local" }
  }
}
variable "dir" { type = string }
${resources.join("")}${extra}`;
}

export interface TerraformStackEntry {
  name: string;
  repo: string;
  /** The root module's folder in the repository. */
  path: string;
  /** The module's `dir` variable: where its files go. */
  dir: string;
  binary?: string;
  timeoutSeconds?: number;
}

/**
 * The YAML lines of one Terraform stack under `stacks:`, for a module of `localFilesModule`. Its files are its
 * "world": the one folder outside its own that its sandbox may write.
 */
export function terraformStackYaml(s: TerraformStackEntry): string[] {
  const binary = s.binary ? `binary: ${s.binary}, ` : "";
  return [
    `  - name: ${s.name}`,
    "    engine: terraform",
    `    source: { repo: ${s.repo}, path: ${s.path} }`,
    `    terraform: { ${binary}vars: { dir: ${s.dir} } }`,
    `    sandbox: { readWrite: [${s.dir}] }`,
    ...(s.timeoutSeconds ? [`    timeoutSeconds: ${s.timeoutSeconds}`] : []),
  ];
}

/** What one `fixture_object` of fixtureObjectsModule sets; what is left out stays null (label: the provider's "auto"). */
export interface FixtureObjectConfig {
  content?: string;
  tags?: Record<string, string>;
  size?: number;
  /** Changing it, in Git or in the file, replaces the object. */
  zone?: string;
  /** Optional and Computed: left out, the provider writes "auto" on create and keeps whatever the file says after. */
  label?: string;
  /** A sensitive attribute. */
  secret?: string;
}

const HCL_ESCAPES: Record<string, string> = { "\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** An HCL quoted string that means `value` as it is: no template interpolation or directive in it. */
function hclString(value: string): string {
  const escaped = [...value]
    .map((ch) => HCL_ESCAPES[ch] ?? (ch.charCodeAt(0) < 0x20 ? `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}` : ch))
    .join("");
  // A function, since a replacement string would read "$$" as one "$".
  return `"${escaped.replaceAll("${", () => "$${").replaceAll("%{", () => "%%{")}"`;
}

function fixtureObjectResource(name: string, config: FixtureObjectConfig): string {
  const lines = [`resource "fixture_object" "${name}" {`, `  path = "\${var.dir}/${name}.json"`];
  for (const key of ["content", "zone", "label", "secret"] as const) {
    const value = config[key];
    if (value !== undefined) lines.push(`  ${key} = ${hclString(value)}`);
  }
  if (config.size !== undefined) lines.push(`  size = ${config.size}`);
  if (config.tags !== undefined) {
    const entries = Object.entries(config.tags).map(([key, value]) => `${hclString(key)} = ${hclString(value)}`);
    lines.push(`  tags = { ${entries.join(", ")} }`);
  }
  return `${lines.join("\n")}\n}\n`;
}

/**
 * A module managing one `fixture_object` per entry (resource name → attributes) at `${var.dir}/<name>.json`,
 * followed by `extra` HCL (an `import` block, another resource).
 */
export function fixtureObjectsModule(objects: Record<string, FixtureObjectConfig>, extra = ""): string {
  const resources = Object.entries(objects).map(([name, config]) => fixtureObjectResource(name, config));
  return `terraform {
  required_providers {
    fixture = { source = "driftwatch/fixture" }
  }
}
variable "dir" { type = string }
${resources.join("")}${extra}`;
}

/** A fixture_object's file: every attribute but path and id, null where unset; revision counts creates and updates. */
export interface FixtureObjectFile {
  content: string | null;
  tags: Record<string, string> | null;
  size: number | null;
  zone: string | null;
  label: string | null;
  secret: string | null;
  revision: number;
}

/** The file of the object fixtureObjectsModule names `name`, for the module's `dir`. */
export function fixtureObjectPath(dir: string, name: string): string {
  return join(dir, `${name}.json`);
}

export function readFixtureObject(dir: string, name: string): FixtureObjectFile {
  return JSON.parse(readFileSync(fixtureObjectPath(dir, name), "utf8")) as FixtureObjectFile;
}

/**
 * Changes the object out of band, as another tool changing the real object would: `changes` replace those
 * attributes in its file (null unsets one). Returns what the file holds now.
 */
export function editFixtureObject(dir: string, name: string, changes: Partial<FixtureObjectFile>): FixtureObjectFile {
  const edited = { ...readFixtureObject(dir, name), ...changes };
  writeFileSync(fixtureObjectPath(dir, name), `${JSON.stringify(edited, null, 2)}\n`);
  return edited;
}

/** Deletes the object out of band. */
export function deleteFixtureObject(dir: string, name: string): void {
  rmSync(fixtureObjectPath(dir, name));
}
