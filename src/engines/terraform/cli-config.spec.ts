import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cliConfigMirrors, operatorCliConfig, readCliConfig } from "./cli-config.ts";

const temps: string[] = [];
afterEach(() => temps.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));
function home(files: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), "driftwatch-cli-config-"));
  temps.push(dir);
  for (const file of files) writeFileSync(join(dir, file), "disable_checkpoint = true\n");
  return dir;
}

describe("the operator's CLI configuration", () => {
  it("is the file TF_CLI_CONFIG_FILE names, else ~/.tofurc then ~/.terraformrc for OpenTofu, ~/.terraformrc for Terraform", () => {
    const both = home([".tofurc", ".terraformrc"]);
    expect(operatorCliConfig({ TF_CLI_CONFIG_FILE: "/etc/team.tfrc" }, both, "tofu")).toBe("/etc/team.tfrc");
    expect(operatorCliConfig({}, both, "tofu")).toBe(join(both, ".tofurc"));
    expect(operatorCliConfig({}, both, "terraform")).toBe(join(both, ".terraformrc"));
    const onlyTerraform = home([".terraformrc"]);
    expect(operatorCliConfig({}, onlyTerraform, "tofu")).toBe(join(onlyTerraform, ".terraformrc"));
    const onlyTofu = home([".tofurc"]);
    expect(operatorCliConfig({}, onlyTofu, "terraform")).toBeUndefined();
    expect(operatorCliConfig({ TF_CLI_CONFIG_FILE: "" }, home([]), "tofu")).toBeUndefined();
    expect(operatorCliConfig({}, undefined, "tofu")).toBeUndefined();
  });

  it("names the folders of its filesystem mirrors, for the sandbox to let init read", () => {
    const text = [
      "# comment",
      "plugin_cache_dir = \"/var/cache/tf\"",
      "provider_installation {",
      "  filesystem_mirror {",
      '    path    = "/opt/team mirror"',
      '    include = ["example.com/*/*"]',
      "  }",
      "  filesystem_mirror { path = \"/srv/\\u00e9t\\u00e9\" }",
      "  filesystem_mirror {",
      '    path = "relative/to/the/checkout"',
      "  }",
      '  network_mirror { url = "https://mirror.example.com/" }',
      "  direct { exclude = [\"example.com/*/*\"] }",
      "}",
    ].join("\n");
    expect(cliConfigMirrors(text)).toEqual(["/opt/team mirror", "/srv/été"]);
    expect(cliConfigMirrors('provider_installation {\n  direct {}\n}\n')).toEqual([]);

    const dir = home([]);
    const mirror = join(dir, "mirror");
    mkdirSync(mirror);
    const file = join(dir, "cli.tfrc");
    const content = `provider_installation {\n  filesystem_mirror {\n    path = ${JSON.stringify(mirror)}\n  }\n  filesystem_mirror {\n    path = ${JSON.stringify(join(dir, "gone"))}\n  }\n}\n`;
    writeFileSync(file, content);
    expect(readCliConfig(file)).toEqual({ readable: [file, mirror], text: content });
    expect(readCliConfig("/dev/null")).toEqual({ readable: [] });
    expect(readCliConfig(join(dir, "missing.tfrc"))).toEqual({ readable: [] });
  });
});
