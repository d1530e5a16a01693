// Small Terraform/OpenTofu root modules for tests and benchmarks: files under `var.dir`, managed by hashicorp/local.

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

/** The YAML lines of one Terraform stack under `stacks:`, for a module of `localFilesModule`. */
export function terraformStackYaml(s: TerraformStackEntry): string[] {
  const binary = s.binary ? `binary: ${s.binary}, ` : "";
  return [
    `  - name: ${s.name}`,
    "    engine: terraform",
    `    source: { repo: ${s.repo}, path: ${s.path} }`,
    `    terraform: { ${binary}vars: { dir: ${s.dir} } }`,
    ...(s.timeoutSeconds ? [`    timeoutSeconds: ${s.timeoutSeconds}`] : []),
  ];
}
